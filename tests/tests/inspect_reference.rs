//! Acceptance: `ca inspect --json` on each of the authority's real certificates,
//! its CRL and its OCSP response reports what `reference/nca-test/README.md` lists.

use e2e::{ca, reference, Scratch};
use serde_json::Value;

fn inspect(file: &str, extra: &[&str]) -> Value {
    let none = Scratch::new("inspect");
    let path = reference(file).display().to_string();
    let mut args = vec!["--json", "inspect", path.as_str()];
    args.extend_from_slice(extra);
    let out = ca(&none.join("no-authority-needed"), &args);
    assert!(out.status.success(), "inspect {file}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn assert_test_person(v: &Value) {
    assert_eq!(v["kind"], "certificate");
    assert_eq!(v["owner"]["surname"], "ТЕСТОВ");
    assert_eq!(v["owner"]["name"], "ТЕСТ");
    assert_eq!(v["owner"]["patronymic"], "ТЕСТОВИЧ");
    assert_eq!(v["owner"]["iin"], "123456789011");
    // The authority's test IIN fails its check digit: reported, not refused.
    assert_eq!(v["iin_check_digit_valid"], false);
}

#[test]
fn individual_sign() {
    let v = inspect("individual_sign_rsa.pem", &["--issuer", &reference("nca_rsa_test.pem").display().to_string()]);
    assert_test_person(&v);
    assert_eq!(v["subject_kind"], "individual");
    assert_eq!(v["key_type"], "SIGN");
    assert_eq!(v["public_key"], "RSA-2048");
    assert_eq!(v["owner"]["bin"], Value::Null);
    assert_eq!(v["roles"], serde_json::json!([]));
    assert_eq!(v["serial"], "41e45cc8a04c705963e5cd6769848a934d8eaef5");
    assert_eq!(v["not_before"], "2022-01-18T04:38:50Z");
    assert_eq!(v["not_after"], "2023-01-18T04:38:50Z");
    // Chains to the RSA test CA: the signature verifies.
    assert_eq!(v["signature_valid"], true);
}

#[test]
fn individual_auth() {
    let v = inspect("individual_auth_rsa.pem", &["--issuer", &reference("nca_rsa_test.pem").display().to_string()]);
    assert_test_person(&v);
    assert_eq!(v["key_type"], "AUTH");
    assert_eq!(v["signature_valid"], true);
    // Not signed by the SIGN certificate's key: a wrong issuer is caught, in the
    // document and in the exit status (1), so a script cannot accept it.
    let none = Scratch::new("inspect");
    let (cert, wrong_issuer) = (reference("individual_auth_rsa.pem"), reference("individual_sign_rsa.pem"));
    let args = ["--json", "inspect", cert.to_str().unwrap(), "--issuer", wrong_issuer.to_str().unwrap()];
    let out = ca(&none.join("no-authority-needed"), &args);
    assert_eq!(out.status.code(), Some(1), "a signature that does not verify must fail the command");
    let wrong: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(wrong["signature_valid"], false);
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
}

#[test]
fn legal_entity_ceo_gost_2004() {
    let v = inspect("ceo_sign_gost2004.pem", &[]);
    assert_test_person(&v);
    assert_eq!(v["subject_kind"], "legal_entity");
    assert_eq!(v["key_type"], "SIGN");
    assert_eq!(v["owner"]["bin"], "123456789021");
    assert_eq!(v["owner"]["organization"], "АО \"ТЕСТ\"");
    assert_eq!(v["roles"], serde_json::json!(["ceo"]));
    assert_eq!(v["public_key"], "GOST-2004-256");
}

#[test]
fn issuing_cas() {
    let rsa = inspect("nca_rsa_test.pem", &[]);
    assert_eq!(rsa["key_type"], "CA");
    assert_eq!(rsa["public_key"], "RSA-4096");
    assert_eq!(rsa["subject"], "C=KZ, CN=ҰКО 3.0 (RSA TEST)");
    assert_eq!(rsa["owner"]["iin"], Value::Null);
    assert_eq!(rsa["iin_check_digit_valid"], Value::Null);
    let gost = inspect("nca_gost2022_test.der", &[]);
    assert_eq!(gost["key_type"], "CA");
    assert_eq!(gost["public_key"], "GOST-2015-512");
    assert_eq!(gost["signature_algorithm"], "GOST 34.10-2015-512 with Streebog-512");
}

#[test]
fn the_real_crl_with_its_126_entries() {
    let issuer = reference("nca_rsa_test.pem").display().to_string();
    let v = inspect("nca_rsa_test.crl", &["--issuer", &issuer]);
    assert_eq!(v["kind"], "crl");
    assert_eq!(v["entry_count"], 126);
    assert_eq!(v["entries"].as_array().unwrap().len(), 126);
    assert_eq!(v["signature_valid"], true);
    assert_eq!(v["issuer"], "C=KZ, CN=ҰКО 3.0 (RSA TEST)");
    let known = [
        "keyCompromise",
        "cACompromise",
        "affiliationChanged",
        "superseded",
        "cessationOfOperation",
        "certificateHold",
        "privilegeWithdrawn",
    ];
    let reasons: Vec<&str> = v["entries"].as_array().unwrap().iter().filter_map(|e| e["reason"].as_str()).collect();
    assert!(!reasons.is_empty(), "no reason codes decoded");
    assert!(reasons.iter().all(|r| known.contains(r) || *r == "unspecified"), "{reasons:?}");
    // Under the wrong issuer the CRL's signature is refused.
    let none = Scratch::new("inspect");
    let wrong = reference("individual_sign_rsa.pem").display().to_string();
    let out = ca(&none.join("x"), &["inspect", &reference("nca_rsa_test.crl").display().to_string(), "--issuer", &wrong]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("signature"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_real_ocsp_response_verifies_with_its_responder_certificate() {
    let issuer = reference("nca_rsa_test.pem").display().to_string();
    let v = inspect("ocsp_good_rsa.der", &["--issuer", &issuer]);
    assert_eq!(v["kind"], "ocsp_response");
    assert_eq!(v["status"], "successful");
    assert_eq!(v["signature_valid"], true);
    assert_eq!(v["responses"][0]["status"], "good");
    assert!(v["responder"].as_str().is_some_and(|r| !r.is_empty()));
}

#[test]
fn not_yet_supported_kinds_are_refused_clearly() {
    let none = Scratch::new("inspect");
    std::fs::write(none.join("p12"), [0x30, 0x03, 0x02, 0x01, 0x03]).unwrap();
    let out = ca(&none.join("x"), &["inspect", &none.join("p12").display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inspected yet"));
}

#[test]
fn the_authoritys_key_files_open_with_their_key_and_certificate() {
    for (file, key_algorithm, matches) in [
        ("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12", "1.2.840.113549.1.1.1", Some(true)),
        ("AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.p12", "1.2.840.113549.1.1.1", Some(true)),
        ("AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790.p12", "1.2.840.113549.1.1.1", Some(true)),
        // GOST keys: matched by deriving d·G on the national curves.
        ("GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12", "1.2.398.3.10.1.1.1.1", Some(true)),
        ("gost2015_sign_individual.p12", "1.2.398.3.10.1.1.2.2", Some(true)),
    ] {
        let v = inspect(file, &["--password", "Qwerty12"]);
        assert_eq!((v["kind"].as_str(), v["encryption"].as_str()), (Some("pkcs12"), Some("legacy")), "{file}: {v}");
        let entry = &v["entries"][0];
        assert_eq!(entry["key_algorithm"], key_algorithm, "{file}");
        assert_eq!(entry["key_matches_certificate"].as_bool(), matches, "{file}");
        assert_eq!(entry["local_key_id"], entry["key_id"], "{file}: the authority names the key by its key id");
        // The certificate inside is the one published beside the file.
        let beside = inspect(&file.replace(".p12", ".cer"), &[]);
        assert_eq!(entry["serial"], beside["serial"], "{file}");
    }
    let v = inspect("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12", &["--password", "Qwerty12"]);
    assert_test_person(&v["entries"][0]);
    // A wrong password is refused, and said so.
    let none = Scratch::new("inspect");
    let path = reference("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12").display().to_string();
    let out = ca(&none.join("x"), &["inspect", "--password", "Qwerty13", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"), "{}", String::from_utf8_lossy(&out.stderr));
    // Not a key file at all: refused as such.
    let cert = reference("nca_rsa_test.pem").display().to_string();
    let out = ca(&none.join("x"), &["inspect", "--password", "Qwerty12", &cert]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a readable PKCS#12"), "{}", String::from_utf8_lossy(&out.stderr));
    // Three different refusals, each with its own code.
    let damaged = none.join("damaged.p12");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01; // in the MAC's salt, near the end: the contents still decrypt
    std::fs::write(&damaged, &bytes).unwrap();
    let damaged_s = damaged.display().to_string();
    for (password, file, code) in
        [("Qwerty13", &path, "wrong_password"), ("Qwerty12", &cert, "not_pkcs12"), ("Qwerty12", &damaged_s, "damaged_file")]
    {
        let out = ca(&none.join("x"), &["--json", "inspect", "--password", password, file]);
        let body: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((out.status.code(), body["error"]["code"].as_str()), (Some(1), Some(code)), "{file}: {body}");
    }
    // A damaged file's password is not changed, and nothing is written.
    let out = passwd(&damaged, "Qwerty12", "a new secret", false);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&damaged).unwrap(), bytes);
    assert_eq!(std::fs::read_dir(none.path()).unwrap().count(), 1, "no temporary file left beside it");
}

/// `ca keystore passwd FILE [--legacy]` with the current and new passwords in the environment.
fn passwd(file: &std::path::Path, old: &str, new: &str, legacy: bool) -> std::process::Output {
    let mut cmd = std::process::Command::new(e2e::program("ca"));
    cmd.args(["--json", "keystore", "passwd"]).arg(file).env("CA_KEY_PASSWORD", old).env("CA_NEW_KEY_PASSWORD", new);
    if legacy {
        cmd.arg("--legacy");
    }
    cmd.output().unwrap()
}

#[test]
fn a_key_files_password_is_changed_and_the_old_file_replaced_only_when_the_new_one_opens() {
    let t = Scratch::new("passwd");
    let file = t.join("RSA256_11c7.p12");
    std::fs::copy(reference("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12"), &file).unwrap();
    let original = std::fs::read(&file).unwrap();
    let opens = |password: &str| {
        let out = ca(&t.join("x"), &["--json", "inspect", "--password", password, file.to_str().unwrap()]);
        out.status.success().then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap())
    };
    // A wrong current password: refused, the file untouched.
    let out = passwd(&file, "Qwerty13", "a new secret", false);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&file).unwrap(), original);
    // PBES2 by default: opens with the new password only, same key and certificate.
    assert!(passwd(&file, "Qwerty12", "a new secret", false).status.success());
    let v = opens("a new secret").expect("opens with the new password");
    assert_eq!((v["encryption"].as_str(), v["entries"][0]["key_matches_certificate"].as_bool()), (Some("pbes2"), Some(true)));
    assert!(opens("Qwerty12").is_none(), "the old password no longer opens it");
    // --legacy: the authority's algorithms, which openssl reads with -legacy.
    assert!(passwd(&file, "a new secret", "legacy secret", true).status.success());
    assert_eq!(opens("legacy secret").unwrap()["encryption"], "legacy");
    let text = e2e::openssl_pkcs12_info(&file, "legacy secret");
    assert!(
        text.contains("MAC: sha1") && text.contains("pbeWithSHA1And3-KeyTripleDES-CBC") && text.contains("pbeWithSHA1And40BitRC2-CBC"),
        "{text}"
    );
    // No temporary file is left beside it.
    assert_eq!(
        std::fs::read_dir(t.path()).unwrap().filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with('.')).count(),
        0
    );
}

/// Key files made by other tools open: `openssl pkcs12 -export -legacy` (RC2-40
/// certificates, 3DES key, SHA-1 MAC) and Python `cryptography`, both in its modern
/// form and with the legacy 3DES algorithms.
#[test]
fn key_files_made_by_openssl_legacy_and_python_open() {
    let t = Scratch::new("foreign-p12");
    let (key, cert) = (t.join("key.pem"), t.join("cert.pem"));
    e2e::run_ok(
        std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=foreign", "-days", "2", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let openssl_legacy = t.join("openssl-legacy.p12");
    e2e::run_ok(
        std::process::Command::new("openssl")
            .args(["pkcs12", "-export", "-legacy", "-passout", "pass:Qwerty12", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&cert)
            .arg("-out")
            .arg(&openssl_legacy),
    );
    let script = "import sys\n\
from cryptography.hazmat.primitives.serialization import pkcs12, load_pem_private_key, BestAvailableEncryption, PrivateFormat\n\
from cryptography import x509\n\
key = load_pem_private_key(open(sys.argv[1], 'rb').read(), None)\n\
cert = x509.load_pem_x509_certificate(open(sys.argv[2], 'rb').read())\n\
open(sys.argv[3], 'wb').write(pkcs12.serialize_key_and_certificates(b'py', key, cert, None, BestAvailableEncryption(b'Qwerty12')))\n\
legacy = PrivateFormat.PKCS12.encryption_builder().key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).build(b'Qwerty12')\n\
open(sys.argv[4], 'wb').write(pkcs12.serialize_key_and_certificates(b'py', key, cert, None, legacy))\n";
    let (python_modern, python_legacy) = (t.join("python.p12"), t.join("python-legacy.p12"));
    e2e::run_ok(std::process::Command::new("python3").args(["-c", script]).arg(&key).arg(&cert).arg(&python_modern).arg(&python_legacy));
    for (file, encryption) in [(&openssl_legacy, "legacy"), (&python_modern, "pbes2"), (&python_legacy, "legacy")] {
        let out = ca(&t.join("x"), &["--json", "inspect", "--password", "Qwerty12", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["encryption"], encryption, "{}: {v}", file.display());
        assert_eq!(v["entries"][0]["key_matches_certificate"], true, "{}: {v}", file.display());
        assert!(v["entries"][0]["subject"].as_str().unwrap_or_default().contains("foreign"), "{v}");
        let wrong = ca(&t.join("x"), &["--json", "inspect", "--password", "Qwerty13", file.to_str().unwrap()]);
        let body: Value = serde_json::from_slice(&wrong.stdout).unwrap();
        assert_eq!(body["error"]["code"], "wrong_password", "{}: {body}", file.display());
    }
}

#[test]
fn what_openssl_pkcs12_exports_is_inspected_and_an_owner_without_patronymic_has_no_dash() {
    let t = e2e::Scratch::new("inspect-export");
    // `openssl pkcs12` writes "Bag Attributes", "subject=" and "issuer=" lines before the PEM.
    let p12 = e2e::reference("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12");
    let exported = t.join("exported.pem");
    let out = std::process::Command::new("openssl")
        .args(["pkcs12", "-legacy", "-nokeys", "-clcerts", "-passin", "pass:Qwerty12", "-in"])
        .arg(&p12)
        .arg("-out")
        .arg(&exported)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&exported).unwrap();
    assert!(text.starts_with("Bag Attributes"), "{text}");
    let v = e2e::json_of(&e2e::ca_anywhere(&["--json", "inspect", &exported.display().to_string()]));
    assert_eq!(v["owner"]["surname"], "ТЕСТОВ", "{v}");

    // An owner without a patronymic: the name, and nothing after it.
    let ca = e2e::fresh_authority();
    let data = ca.join("data");
    let who = e2e::Person { iin: e2e::iin(96), flags: vec!["--surname", "Сейткали", "--name", "Айгерим"] };
    let issued = e2e::issue(&data, ca.path(), &who, "nopatronymic");
    let file = issued["files"][0].as_str().unwrap().to_string();
    let text = String::from_utf8_lossy(&e2e::ca_anywhere(&["inspect", &file]).stdout).into_owned();
    let owner = text.lines().find(|l| l.trim_start().starts_with("owner:")).unwrap();
    assert_eq!(owner.trim(), "owner:      СЕЙТКАЛИ АЙГЕРИМ", "{text}");
}
