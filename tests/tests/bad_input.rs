//! Acceptance: bad input gets a clear error (exit status 1) and nothing is written:
//! no database row, no certificate file. A CSR with a broken signature, a 1024-bit
//! key, garbage bytes, an IIN with a wrong check digit, an applicant under 16; also
//! the same key for AUTH and SIGN, and a key certified before.

use e2e::{ca, ca_json, fresh_authority, openssl_csr, run_ok, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

fn count(data: &Path) -> usize {
    e2e::holders_certificates(data)
}

/// `ca issue` with these requests and IIN; asserts refusal with `expected` in the
/// message and that nothing changed.
fn refused(ca_dir: &Scratch, iin: &str, auth: &Path, sign: &Path, expected: &str) -> String {
    let data = ca_dir.join("data");
    let before = count(&data);
    let out_dir = ca_dir.join("refused-out");
    let (a, s, o) = (auth.display().to_string(), sign.display().to_string(), out_dir.display().to_string());
    let args = ["issue", "--iin", iin, "--surname", "Тестов", "--name", "Тест", "--auth-csr", &a, "--sign-csr", &s, "--out", &o];
    let out = ca(&data, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "expected refusal, got {:?}: {stderr}", out.status);
    assert!(stderr.contains(expected), "error should mention {expected:?}, got: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(count(&data), before, "a refused request must not write to the database");
    assert!(!out_dir.exists() || std::fs::read_dir(&out_dir).unwrap().next().is_none(), "no certificate file may be written");
    stderr.into_owned()
}

const GOOD_IIN: &str = "880515300120";

fn two_csrs(dir: &Path) -> (PathBuf, PathBuf) {
    (openssl_csr(dir, "a", 2048), openssl_csr(dir, "s", 2048))
}

#[test]
fn broken_csr_signature() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    let der = ca.join("broken.der");
    run_ok(Command::new("openssl").args(["req", "-in"]).arg(&sign).args(["-outform", "DER", "-out"]).arg(&der));
    let mut bytes = std::fs::read(&der).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&der, bytes).unwrap();
    refused(&ca, GOOD_IIN, &auth, &der, "SIGN request refused: the request's signature does not verify");
}

#[test]
fn small_key() {
    let ca = fresh_authority();
    let auth = openssl_csr(ca.path(), "small", 1024);
    let sign = openssl_csr(ca.path(), "s", 2048);
    refused(&ca, GOOD_IIN, &auth, &sign, "AUTH request refused: the RSA key has 1024 bits; at least 2048 are required");
}

#[test]
fn unsupported_key_and_signature_algorithms() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    let ec = ca.join("ec.csr");
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x", "-keyout"])
            .arg(ca.join("ec.key"))
            .arg("-out")
            .arg(&ec),
    );
    refused(&ca, GOOD_IIN, &ec, &sign, "key algorithm 1.2.840.10045.2.1 is not supported");
    let sha1 = ca.join("sha1.csr");
    run_ok(Command::new("openssl").args(["req", "-new", "-sha1", "-subj", "/CN=x", "-key"]).arg(ca.join("s.key")).arg("-out").arg(&sha1));
    refused(&ca, GOOD_IIN, &auth, &sha1, "request signature algorithm 1.2.840.113549.1.1.5 is not accepted");
}

#[test]
fn garbage_bytes() {
    let ca = fresh_authority();
    let (auth, _) = two_csrs(ca.path());
    let junk = ca.join("junk.csr");
    std::fs::write(&junk, b"\x30\x82\xff\xffnot a request at all").unwrap();
    refused(&ca, GOOD_IIN, &auth, &junk, "not a PKCS#10 certificate request");
    std::fs::write(&junk, b"").unwrap();
    refused(&ca, GOOD_IIN, &auth, &junk, "not a PKCS#10 certificate request");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n-----END CERTIFICATE REQUEST-----\n").unwrap();
    refused(&ca, GOOD_IIN, &auth, &junk, "not a PKCS#10 certificate request");
}

#[test]
fn iin_with_wrong_check_digit() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    // Mistyped, without a hint of the "right" check digit: the typo may be anywhere.
    let said = refused(&ca, "880515300121", &auth, &sign, "IIN is mistyped");
    assert!(!said.contains("is 0"), "{said}");
    refused(&ca, "88051530012", &auth, &sign, "IIN must be 12 digits, got 11 characters");
    // The authority's own test IIN is readable in certificates but not enrollable.
    refused(&ca, "123456789011", &auth, &sign, "IIN is mistyped");
}

#[test]
fn applicant_under_16() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    // Born 2020-01-01.
    refused(&ca, "200101500013", &auth, &sign, "certificates are issued from age 16");
    // Born 2040-01-01: a birth date in the future is said to be so, not "0 years old".
    let said = refused(&ca, "400101500015", &auth, &sign, "birth date 2040-01-01 is in the future");
    assert!(!said.contains("years old"), "{said}");
}

#[test]
fn same_key_for_both_certificates() {
    let ca = fresh_authority();
    let (auth, _) = two_csrs(ca.path());
    refused(&ca, GOOD_IIN, &auth, &auth, "the AUTH and SIGN requests carry the same key");
}

#[test]
fn a_key_certified_before() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    let data = ca.join("data");
    let (a, s, o) = (auth.display().to_string(), sign.display().to_string(), ca.join("first").display().to_string());
    ca_json(&data, &["issue", "--iin", GOOD_IIN, "--surname", "A", "--name", "B", "--auth-csr", &a, "--sign-csr", &s, "--out", &o]);
    assert_eq!(count(&data), 2);
    let fresh = openssl_csr(ca.path(), "fresh", 2048);
    refused(&ca, GOOD_IIN, &fresh, &sign, "the SIGN key was already certified");
}

#[test]
fn wrong_passphrase_and_missing_authority() {
    let ca = fresh_authority();
    let (auth, sign) = two_csrs(ca.path());
    let data = ca.join("data");
    let out = Command::new(e2e::program("ca"))
        .arg("--data")
        .arg(&data)
        .args(["issue", "--iin", GOOD_IIN, "--surname", "A", "--name", "B", "--auth-csr"])
        .arg(&auth)
        .arg("--sign-csr")
        .arg(&sign)
        .env("CA_PASSPHRASE", "not the right passphrase")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong passphrase"));
    assert_eq!(count(&data), 0);
    let nowhere = ca.join("nowhere");
    let out = e2e::ca(&nowhere, &["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `ca init` first"));
    assert!(!nowhere.exists(), "listing must not create an authority");
}

#[test]
fn usage_errors_exit_2() {
    let ca = fresh_authority();
    let data = ca.join("data");
    assert_eq!(e2e::ca(&data, &["issue", "--iin", GOOD_IIN]).status.code(), Some(2));
    assert_eq!(e2e::ca(&data, &["list", "--status", "lost"]).status.code(), Some(2));
    // A BIN without organization and role is a usage error, too.
    let out = e2e::ca(
        &data,
        &["issue", "--iin", GOOD_IIN, "--surname", "A", "--name", "B", "--bin", "040840000124", "--auth-csr", "a", "--sign-csr", "b"],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_refuses_to_overwrite() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let before = std::fs::read(data.join("issuing.pem")).unwrap();
    let out = e2e::ca(&data, &["init"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already holds a certification authority"));
    assert_eq!(std::fs::read(data.join("issuing.pem")).unwrap(), before);
}
