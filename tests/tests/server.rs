//! Acceptance: `ca-server` on first start initialises `./ca-data` and serves the root
//! certificate (at the path the issuing CA's AIA names) and a health endpoint; a
//! second start reuses what the first made. Talks raw HTTP/1.1 over loopback.

use e2e::{Scratch, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn start(cwd: &std::path::Path) -> Server {
    Server::start(cwd, &[], &[])
}

fn get(port: u16, path: &str) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

fn pem_to_der(path: &std::path::Path) -> Vec<u8> {
    let out = Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(path).output().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[test]
fn first_start_creates_the_authority_and_serves_the_root() {
    let dir = Scratch::new("server");
    let started = Instant::now();
    let server = start(dir.path());
    let data = dir.join("ca-data");
    for f in ["config.json", "ca.sqlite", "root.pem", "root.key", "issuing.pem", "issuing.key", "ocsp.pem", "ocsp.key", "passphrase"] {
        assert!(data.join(f).exists(), "first start did not create {f}");
    }
    let (status, body) = get(server.port, "/cert/root_rsa.cer");
    assert_eq!(status, 200);
    assert_eq!(body, pem_to_der(&data.join("root.pem")));
    let (status, body) = get(server.port, "/cert/nca_rsa.cer");
    assert_eq!(status, 200);
    assert_eq!(body, pem_to_der(&data.join("issuing.pem")));
    let (status, body) = get(server.port, "/health");
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["status"], "ok");
    for service in ["publication", "crl", "ocsp", "issuance", "time_stamping", "database"] {
        assert_eq!(health["services"][service], "ok", "{health}");
    }
    assert_eq!(get(server.port, "/cert/other.cer").0, 404);
    // The issuing CA points at the URL the root is served from.
    let issuing = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(data.join("issuing.pem")).output().unwrap();
    let text = String::from_utf8_lossy(&issuing.stdout);
    assert!(text.contains(&format!("CA Issuers - URI:http://127.0.0.1:{}/cert/root_rsa.cer", server.port)), "{text}");
    // Its log goes to a pipe here, not a terminal: plain text, no colour codes.
    let log = server.log().join("\n");
    assert!(log.contains("/health"), "the access log names the requests: {log}");
    assert!(!log.contains('\u{1b}'), "ANSI escape codes in a log that is not a terminal: {log:?}");
    drop(server);

    // Second start: same authority, nothing re-created.
    let root_before = std::fs::read(data.join("root.pem")).unwrap();
    let again = start(dir.path());
    assert_eq!(std::fs::read(data.join("root.pem")).unwrap(), root_before);
    assert_eq!(get(again.port, "/cert/root_rsa.cer").1, pem_to_der(&data.join("root.pem")));
    assert!(started.elapsed() < Duration::from_secs(300));
}

#[test]
fn without_the_passphrase_the_server_publishes_but_refuses_to_issue() {
    let t = e2e::fresh_authority(); // made with CA_PASSPHRASE: no passphrase file in it
    let data = t.join("data").display().to_string();
    let server = Server::start(std::path::Path::new("."), &["--data", &data], &[]);
    // /health says what works and what does not, and is not "ok".
    let (status, body) = get(server.port, "/health");
    let health: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, health["status"].as_str()), (503, Some("degraded")), "{health}");
    for service in ["publication", "database"] {
        assert_eq!(health["services"][service], "ok", "{health}");
    }
    // Made by `ca init` and never served unlocked: no CRL was ever signed.
    assert!(health["services"]["crl"].as_str().unwrap().contains("no CRL issued yet"), "{health}");
    for service in ["ocsp", "issuance", "time_stamping"] {
        assert!(health["services"][service].as_str().unwrap().contains("without the CA passphrase"), "{health}");
    }
    assert_eq!(get(server.port, "/cert/root_rsa.cer").0, 200);
    // Issuing is refused with a typed 503 before any signature is looked at.
    let answer = ureq::post(&format!("{}/api/v1/renewals", server.url())).send_json(serde_json::json!({"request": "", "signature": ""}));
    let Err(ureq::Error::Status(status, resp)) = answer else { panic!("a locked server accepted a renewal") };
    assert_eq!(status, 503);
    let body: serde_json::Value = resp.into_json().unwrap();
    assert_eq!(body["error"]["code"], "authority_locked", "{body}");
    // OCSP answers tryLater (status 3) rather than guessing.
    let ocsp = ureq::post(&format!("{}/ocsp", server.url())).send_bytes(&[0x30, 0x00]).unwrap();
    let mut der = Vec::new();
    ocsp.into_reader().read_to_end(&mut der).unwrap();
    assert_eq!(der, [0x30, 0x03, 0x0a, 0x01, 0x03]);
}
