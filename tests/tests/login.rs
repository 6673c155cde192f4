//! Acceptance for logging in with a national AUTH certificate, through the example
//! service in `examples/login-service`: a signed challenge and TLS client
//! authentication, against our authority's OCSP.

use e2e::{ca, ca_anywhere, fresh_authority, issue, key_store_from_openssl, p, run_ok, Server, KEY_PASSWORD};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn get_json(url: &str) -> Value {
    ureq::get(url).timeout(Duration::from_secs(10)).call().unwrap().into_json().unwrap()
}

/// POST `body` to `/login`: the status and the JSON answer.
fn login(service: &Server, body: &[u8]) -> (u16, Value) {
    let r = ureq::post(&format!("{}/login", service.url())).timeout(Duration::from_secs(20)).send_bytes(body);
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap()),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap()),
        Err(e) => panic!("POST /login: {e}"),
    }
}

/// `ca cms sign` of `text` with the key file `key_file`, attached; the DER.
fn sign(work: &Path, text: &str, key_file: &Path) -> Vec<u8> {
    let (doc, sig, pw) = (work.join("challenge.txt"), work.join("answer.cms"), work.join("pw"));
    std::fs::write(&doc, text).unwrap();
    std::fs::write(&pw, KEY_PASSWORD).unwrap();
    let out = ca_anywhere(&["cms", "sign", &p(&doc), "--key-file", &p(key_file), "--password-file", &p(&pw), "--out", &p(&sig)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(&sig).unwrap()
}

/// `curl` to `/whoami` with a client certificate: its JSON, or `None` when the handshake failed.
fn whoami(service: &Server, cert: &str, key: &Path) -> Option<Value> {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-k", "--cert", cert, "--key"])
        .arg(key)
        .arg(format!("{}/whoami", service.https_url()))
        .output()
        .expect("run curl");
    out.status.success().then(|| serde_json::from_slice(&out.stdout).expect("JSON"))
}

#[test]
fn the_example_service_logs_in_good_auth_certificates_only() {
    let s = fresh_authority();
    let data = s.join("data");
    let work = s.join("work");
    std::fs::create_dir_all(&work).unwrap();
    e2e::configure(&data, "ocsp", serde_json::json!({ "validity_seconds": 600, "status_poll_ms": 200 }));
    let ca_server = Server::on(&data);
    let good = issue(&data, &work, &e2e::individual(), "good");
    let gone = issue(&data, &work, &e2e::individual(), "gone");
    let ks = s.join("ks");
    key_store_from_openssl(&work, &good, "good", &ks);
    key_store_from_openssl(&work, &gone, "gone", &ks);
    let serial = gone["auth"]["serial"].as_str().unwrap();
    assert!(ca(&data, &["revoke", serial, "--reason", "keyCompromise"]).status.success());

    // The service's own TLS certificate: any will do for the test client (-k).
    run_ok(Command::new("openssl").current_dir(&work).args([
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-days",
        "2",
        "-keyout",
        "server.key",
        "-out",
        "server.pem",
    ]));
    let (root, issuing) = (p(&data.join("root.pem")), p(&data.join("issuing.pem")));
    let ocsp_url = format!("{}/ocsp/", ca_server.url());
    let (server_pem, server_key) = (p(&work.join("server.pem")), p(&work.join("server.key")));
    let service = Server::start_program(
        "login-service",
        &work,
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-cert",
            &server_pem,
            "--tls-key",
            &server_key,
            "--trust",
            &root,
            "--intermediate",
            &issuing,
            "--ocsp-url",
            &ocsp_url,
        ],
    );
    let challenge = || get_json(&format!("{}/challenge", service.url()))["challenge"].as_str().unwrap().to_string();
    let key_file = |prefix: &str, tag: &str| -> PathBuf { ks.join(format!("{prefix}{tag}.p12")) };

    // A good AUTH certificate: logged in, with who they are.
    let answer = sign(&work, &challenge(), &key_file("AUTH_RSA256_", "good"));
    let (status, who) = login(&service, &answer);
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["iin"], "880515300120");
    assert_eq!(who["surname"], "ТЕСТОВ");
    assert_eq!(who["serial"], good["auth"]["serial"]);
    // The same answer again: the challenge is used up.
    let (status, why) = login(&service, &answer);
    assert_eq!((status, why["error"]["code"].as_str()), (401, Some("unknown_challenge")));
    // A challenge the service never issued.
    let (status, why) = login(&service, &sign(&work, "made up by the client", &key_file("AUTH_RSA256_", "good")));
    assert_eq!((status, why["error"]["code"].as_str()), (401, Some("unknown_challenge")));
    // A SIGN certificate is not for logging in.
    let (status, why) = login(&service, &sign(&work, &challenge(), &key_file("RSA256_", "good")));
    assert_eq!((status, why["error"]["code"].as_str()), (401, Some("extended_key_usage")), "{why}");
    // A revoked AUTH certificate (OCSP says so).
    let (status, why) = login(&service, &sign(&work, &challenge(), &key_file("AUTH_RSA256_", "gone")));
    assert_eq!((status, why["error"]["code"].as_str()), (401, Some("revoked")), "{why}");
    // Not a signature at all.
    let (status, _) = login(&service, b"hello");
    assert_eq!(status, 401);

    // TLS client authentication: the good AUTH certificate gets in, the revoked and
    // the SIGN one do not get through the handshake.
    let cert = |tag: &str, i: usize| -> String {
        let v = if tag == "good" { &good } else { &gone };
        v["files"][i].as_str().unwrap().to_string()
    };
    let who = whoami(&service, &cert("good", 0), &work.join("good-auth.key")).expect("the good AUTH certificate logs in over TLS");
    assert_eq!(who["iin"], "880515300120");
    assert_eq!(who["serial"], good["auth"]["serial"]);
    assert!(whoami(&service, &cert("gone", 0), &work.join("gone-auth.key")).is_none(), "a revoked certificate logged in");
    assert!(whoami(&service, &cert("good", 1), &work.join("good-sign.key")).is_none(), "a SIGN certificate logged in");
}
