//! Acceptance: `ca` exits 0 on success, 1 on a refusal, 2 on a usage error and 3 on
//! an internal failure; with `--json` every outcome, an error included, is one JSON
//! document on stdout.

use e2e::{ca, fresh_authority};
use serde_json::Value;

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {:?}", out.stdout))
}

#[test]
fn exit_codes_and_json_errors_follow_the_contract() {
    let t = fresh_authority();
    let data = t.join("data");

    // 0: success, a typed document.
    let ok = ca(&data, &["--json", "list", "--status", "revoked"]);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(json_of(&ok), serde_json::json!([]));

    // 1: refused — an unknown certificate, with the error as JSON on stdout and in words on stderr.
    let unknown = ca(&data, &["--json", "show", "0123"]);
    assert_eq!(unknown.status.code(), Some(1));
    let e = json_of(&unknown);
    assert_eq!(e["error"]["code"], "unknown_certificate");
    assert!(e["error"]["message"].as_str().unwrap().contains("no certificate with serial 0123"), "{e}");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no certificate with serial 0123"));
    // Refused too: revoking what does not exist changes nothing.
    assert_eq!(ca(&data, &["revoke", "0123", "--reason", "keyCompromise"]).status.code(), Some(1));

    // 2: usage — a reason, a serial and a state that are not one.
    assert_eq!(ca(&data, &["revoke", "0123", "--reason", "lostIt"]).status.code(), Some(2));
    assert_eq!(ca(&data, &["show", "not-hex"]).status.code(), Some(2));
    assert_eq!(ca(&data, &["application", "list", "--state", "pending"]).status.code(), Some(2));
    // A server named without its scheme: a usage error that says what to write, not a URL parser's complaint.
    let bare = ca(&data, &["--json", "enroll", "status", "--server", "127.0.0.1:8080", "1", "--secret", "x"]);
    assert_eq!(bare.status.code(), Some(2), "{}", String::from_utf8_lossy(&bare.stderr));
    let said = json_of(&bare)["error"]["message"].as_str().unwrap().to_string();
    assert!(said.contains("write http://127.0.0.1:8080") && !said.contains("RelativeUrl"), "{said}");

    // 3: internal — the database is damaged, which no input of the user's caused.
    std::fs::write(data.join("ca.sqlite"), b"this is not a database, it was overwritten").unwrap();
    let _ = std::fs::remove_file(data.join("ca.sqlite-wal"));
    let _ = std::fs::remove_file(data.join("ca.sqlite-shm"));
    let broken = ca(&data, &["--json", "list"]);
    assert_eq!(broken.status.code(), Some(3), "stderr: {}", String::from_utf8_lossy(&broken.stderr));
    assert_eq!(json_of(&broken)["error"]["code"], "database");
    assert!(!String::from_utf8_lossy(&broken.stderr).contains("panicked"));
}

#[test]
fn applicants_help_lists_only_what_they_can_use_and_odd_arguments_do_not_panic() {
    let help = |args: &[&str]| String::from_utf8_lossy(&e2e::ca_anywhere(args).stdout).into_owned();
    for args in [&["enroll", "--help"][..], &["enroll", "keygen", "--help"], &["--json", "verify", "--help"], &["inspect", "--help"]] {
        let text = help(args);
        assert!(text.contains("Usage: ca"), "{args:?}: {text}");
        for flag in ["--data", "--operator-key", "--passphrase-file", "--operator-password-file"] {
            assert!(!text.contains(flag), "{args:?} lists the authority's {flag}:\n{text}");
        }
    }
    // The authority's commands still list them, and the options still work anywhere.
    let text = help(&["list", "--help"]);
    assert!(text.contains("--data") && text.contains("--operator-key"), "{text}");
    let out = e2e::ca_anywhere(&["enroll", "status", "--server", "http://127.0.0.1:1", "1", "--secret", "x", "--data", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(3), "accepted, then the server is unreachable: {}", String::from_utf8_lossy(&out.stderr));

    // An argument that is not UTF-8 is a usage error, not a panic.
    use std::os::unix::ffi::OsStrExt;
    let odd = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    let out = std::process::Command::new(e2e::program("ca")).arg("enroll").arg(odd).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
