//! Acceptance: pkilint reports nothing of severity WARNING or above on our root,
//! issuing CA, OCSP responder and end-entity certificates — as for the authority's
//! real certificates, which get only NOTICE and INFO.

use e2e::{fresh_authority, issue, reference};
use std::path::Path;

fn serious_findings(file: &Path) -> Vec<String> {
    e2e::pkilint_findings(&["lint_pkix_cert", "lint"], file)
}

#[test]
fn the_real_certificates_are_the_baseline() {
    for f in ["individual_sign_rsa.pem", "individual_auth_rsa.pem", "nca_rsa_test.pem"] {
        assert_eq!(serious_findings(&reference(f)), Vec::<String>::new(), "{f}");
    }
}

#[test]
fn our_certificates_lint_clean() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let mut files = vec![data.join("root.pem"), data.join("issuing.pem"), data.join("ocsp.pem")];
    for (who, tag) in [(e2e::individual(), "ind"), (e2e::ceo(), "ceo")] {
        let v = issue(&data, ca.path(), &who, tag);
        files.extend(v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()));
    }
    // With an e-mail address in the subject, too.
    let mut with_email = e2e::individual();
    with_email.flags.extend(["--email", "Test@Mail.kz"]);
    with_email.iin = "950101300036";
    let v = issue(&data, ca.path(), &with_email, "mail");
    files.extend(v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()));
    assert_eq!(files.len(), 9);
    for f in &files {
        assert_eq!(serious_findings(f), Vec::<String>::new(), "{}", f.display());
    }
}
