//! Acceptance for input that came from outside, each a failure once observed: PEM
//! wrapped at 76 columns was refused; RSA public exponent 3 was accepted; a name
//! with a right-to-left override was issued. Requests are made by `openssl`.

use base64ct::Encoding;
use e2e::{ca, ca_json, fresh_authority, openssl_csr, run_ok, Scratch};
use std::path::{Path, PathBuf};
use std::process::Command;

fn count(data: &Path) -> usize {
    e2e::holders_certificates(data)
}

fn issue_args<'a>(iin: &'a str, surname: &'a str, auth: &'a str, sign: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["issue", "--iin", iin, "--surname", surname, "--name", "Тест", "--auth-csr", auth, "--sign-csr", sign, "--out", out]
}

/// The same request, its base64 wrapped at `width` columns (MIME tools use 76).
fn rewrapped(csr: &Path, width: usize) -> PathBuf {
    let pem = std::fs::read_to_string(csr).unwrap();
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let b64 = base64ct::Base64::encode_string(&der);
    let lines: Vec<&str> = b64.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
    let path = csr.with_extension(format!("w{width}.csr"));
    std::fs::write(&path, format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))).unwrap();
    path
}

#[test]
fn pem_of_any_line_length_is_read() {
    let t = fresh_authority();
    let data = t.join("data");
    let auth = rewrapped(&openssl_csr(t.path(), "a", 2048), 76);
    let sign = rewrapped(&openssl_csr(t.path(), "s", 2048), 200);
    let (a, s, o) = (auth.display().to_string(), sign.display().to_string(), t.join("out").display().to_string());
    let issued = ca_json(&data, &issue_args("880515300120", "Тестов", &a, &s, &o));
    assert_eq!(issued["files"].as_array().unwrap().len(), 2);
    // And `ca inspect` reads such a request too.
    let seen = ca_json(&data, &["inspect", &a]);
    assert_eq!(seen["kind"], "certificate_request");
    assert_eq!(seen["acceptable"], true);
}

#[test]
fn an_rsa_key_with_public_exponent_3_is_refused() {
    let t = fresh_authority();
    let data = t.join("data");
    let key = t.join("e3.key");
    run_ok(Command::new("openssl").args(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]).args([
        "-pkeyopt",
        "rsa_keygen_pubexp:3",
        "-out",
        key.to_str().unwrap(),
    ]));
    let e3 = t.join("e3.csr");
    run_ok(Command::new("openssl").args(["req", "-new", "-key", key.to_str().unwrap(), "-subj", "/CN=x", "-out", e3.to_str().unwrap()]));
    let sign = openssl_csr(t.path(), "s", 2048);
    let (a, s, o) = (e3.display().to_string(), sign.display().to_string(), t.join("out").display().to_string());
    let out = ca(&data, &issue_args("880515300120", "Тестов", &a, &s, &o));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("AUTH request refused: the RSA public exponent 3 is not accepted"), "{stderr}");
    assert_eq!(count(&data), 0);
    assert!(!t.join("out").exists() || std::fs::read_dir(t.join("out")).unwrap().next().is_none());
}

#[test]
fn a_name_with_a_direction_override_or_invisible_character_is_refused() {
    let t = fresh_authority();
    let data = t.join("data");
    let work = Scratch::new("names");
    let (a, s) = (openssl_csr(work.path(), "a", 2048), openssl_csr(work.path(), "s", 2048));
    let (a, s, o) = (a.display().to_string(), s.display().to_string(), work.join("out").display().to_string());
    for surname in ["ТЕСТОВ ТЕСТ\u{202E}ВОТСЕТ", "ТЕС\u{200B}ТОВ", "\u{2067}ТЕСТОВ"] {
        let out = ca(&data, &issue_args("880515300120", surname, &a, &s, &o));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{surname:?}: {stderr}");
        assert!(stderr.contains("surname contains"), "{stderr}");
    }
    assert_eq!(count(&data), 0, "nothing issued");
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_the_database_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let t = Scratch::new("modes");
    let data = t.join("ca-data");
    let out = ca(&data, &["init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let server = e2e::Server::on(&data); // keeps the database open: its WAL and shm exist
    let mode = |p: &Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data directory");
    for f in ["ca.sqlite", "ca.sqlite-wal", "ca.sqlite-shm", "root.key", "issuing.key", "ocsp.key"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    drop(server);
}

#[test]
fn an_offline_root_key_never_sits_with_the_server() {
    use std::os::unix::fs::PermissionsExt;
    let t = Scratch::new("offline-root");
    let (data, usb) = (t.join("ca-data"), t.join("usb"));
    let out = ca(&data, &["init", "--base-url", "http://pki.test.kz", "--offline-root", usb.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!data.join("root.key").exists(), "the root key must not be in the authority's directory");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&usb), mode(&usb.join("root.key"))), (0o700, 0o600));
    // A second init may not overwrite an offline root key.
    let again = t.join("other-data");
    let out = ca(&again, &["init", "--offline-root", usb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    // The server runs on the issuing and responder keys alone and publishes the root CRL signed at init.
    let server = e2e::Server::on(&data);
    let crl = ureq::get(&format!("{}/crl/root_rsa.crl", server.url())).call().unwrap();
    assert_eq!(crl.status(), 200);
    drop(server);

    // The root CRL is signed with the offline key only when it is given.
    let out_file = t.join("root.crl");
    let out = ca(&data, &["crl", "--root", "--out", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept offline"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!out_file.exists());
    ca_json(&data, &["crl", "--root", "--root-key", usb.to_str().unwrap(), "--out", out_file.to_str().unwrap()]);
    let root = data.join("root.pem");
    let checked = ca(&data, &["inspect", "--issuer", root.to_str().unwrap(), out_file.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
}
