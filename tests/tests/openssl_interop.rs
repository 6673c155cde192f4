//! Acceptance: `openssl verify` accepts our certificates against our root and issuing
//! CA, and `openssl x509 -text` shows what NCA-PROFILE.md says. Also: the CA keys at
//! rest open with `openssl pkey` and the passphrase, and not without it.

use e2e::{fresh_authority, issue, run_ok, PASSPHRASE};
use std::process::Command;

fn text(path: &str) -> String {
    run_ok(Command::new("openssl").args(["x509", "-noout", "-text", "-nameopt", "utf8,sep_multiline,show_type", "-in", path]))
}

#[test]
fn openssl_verifies_the_chain_and_shows_the_profile() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let v = issue(&data, ca.path(), &e2e::ceo(), "le");
    let files: Vec<String> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
    let root = data.join("root.pem").display().to_string();
    let issuing = data.join("issuing.pem").display().to_string();
    let ocsp = data.join("ocsp.pem").display().to_string();
    for f in files.iter().chain([&ocsp]) {
        let out = run_ok(Command::new("openssl").args(["verify", "-x509_strict", "-CAfile", &root, "-untrusted", &issuing, f]));
        assert_eq!(out.trim(), format!("{f}: OK"));
    }
    // Purpose checks: AUTH is a TLS client certificate, SIGN an S/MIME signer.
    let auth_ok =
        run_ok(Command::new("openssl").args(["verify", "-purpose", "sslclient", "-CAfile", &root, "-untrusted", &issuing, &files[0]]));
    assert!(auth_ok.trim().ends_with("OK"));
    let sign_as_client = Command::new("openssl")
        .args(["verify", "-purpose", "sslclient", "-CAfile", &root, "-untrusted", &issuing, &files[1]])
        .output()
        .unwrap();
    assert!(!sign_as_client.status.success(), "a SIGN certificate must not pass as a TLS client certificate");

    let auth = text(&files[0]);
    for needle in [
        "Digital Signature, Key Encipherment",
        "TLS Web Client Authentication, 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1, 1.2.398.3.3.4.3.1",
        "Policy: 1.2.398.3.3.2.2",
        "CN=UTF8STRING:ТЕСТОВ ТЕСТ",
        "SN=UTF8STRING:ТЕСТОВ",
        "serialNumber=PRINTABLESTRING:IIN880515300120",
        "C=PRINTABLESTRING:KZ",
        "O=UTF8STRING:АО \"ТЕСТ\"",
        "OU=UTF8STRING:BIN040840000124",
        "GN=UTF8STRING:ТЕСТОВИЧ",
        "URI:http://pki.test.kz/crl/nca_rsa.crl",
        "URI:http://pki.test.kz/crl/nca_d_rsa.crl",
        "CA Issuers - URI:http://pki.test.kz/cert/nca_rsa.cer",
        "OCSP - URI:http://pki.test.kz/ocsp/",
        "CPS: http://pki.test.kz/cps",
        "Public-Key: (2048 bit)",
        "Signature Algorithm: sha256WithRSAEncryption",
    ] {
        assert!(auth.contains(needle), "AUTH certificate lacks {needle:?}:\n{auth}");
    }
    let sign = text(&files[1]);
    for needle in
        ["Digital Signature, Non Repudiation", "E-mail Protection, 1.2.398.3.3.4.1.2, 1.2.398.3.3.4.1.2.1", "Policy: 1.2.398.3.3.2.1"]
    {
        assert!(sign.contains(needle), "SIGN certificate lacks {needle:?}:\n{sign}");
    }
    let issuing_text = text(&issuing);
    for needle in [
        "CA:TRUE",
        "Certificate Sign, CRL Sign",
        "Policy: 1.2.398.3.3.1.1",
        "Public-Key: (4096 bit)",
        "URI:http://pki.test.kz/crl/root_rsa.crl",
        "CA Issuers - URI:http://pki.test.kz/cert/root_rsa.cer",
    ] {
        assert!(issuing_text.contains(needle), "issuing CA lacks {needle:?}");
    }
    assert!(!issuing_text.contains("pathlen"), "the issuing CA has no path length constraint, like the authority's");
    let ocsp_text = text(&ocsp);
    for needle in ["OCSP Signing", "OCSP No Check", "Public-Key: (2048 bit)", "Digital Signature"] {
        assert!(ocsp_text.contains(needle), "OCSP responder lacks {needle:?}");
    }
}

#[test]
fn ca_keys_at_rest_need_the_passphrase() {
    let ca = fresh_authority();
    let key = ca.join("data/issuing.key").display().to_string();
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let params = run_ok(Command::new("openssl").args(["asn1parse", "-in", &key]));
    assert!(
        params.contains("PBES2") && params.contains("PBKDF2") && params.contains("aes-256-cbc") && params.contains("hmacWithSHA256"),
        "{params}"
    );
    let opened =
        run_ok(Command::new("openssl").args(["pkey", "-in", &key, "-passin", &format!("pass:{PASSPHRASE}"), "-noout", "-text_pub"]));
    assert!(opened.contains("4096 bit"), "{opened}");
    let wrong = Command::new("openssl").args(["pkey", "-in", &key, "-passin", "pass:wrong passphrase", "-noout"]).output().unwrap();
    assert!(!wrong.status.success());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for k in ["root.key", "issuing.key", "ocsp.key"] {
            let mode = std::fs::metadata(ca.join("data").join(k)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{k} must be readable by its owner only");
        }
    }
}
