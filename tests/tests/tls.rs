//! Acceptance: the API over HTTPS. `openssl s_client` completes a TLS 1.3
//! handshake with the server's own certificate (issued by our CA at first start),
//! `curl --cacert` reaches the API, the whole applicant flow runs over HTTPS with
//! `ca`, the plain listener refuses the API but still publishes CRLs and OCSP, and
//! operators can be required to show their AUTH certificate in the handshake.

use ca_core::api::SignedAction;
use e2e::{ca, ca_json, fresh_authority, iin, issue, key_store_from_openssl, p, pkilint_findings, run_ok, sign_as, Person, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};

/// `curl` with the authority's root as the only trust anchor; (HTTP status, body).
fn curl(root: &Path, extra: &[&str], url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(root)
        .args(extra)
        .args(["-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn the_api_over_tls_with_openssl_curl_and_the_whole_applicant_flow() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on_tls(&data);
    let root = data.join("root.pem");
    let port = server.tls_port.unwrap();

    // openssl completes a TLS 1.3 handshake and verifies the chain to our root.
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-tls1_3", "-verify_return_error", "-verify_ip", "127.0.0.1"])
        .arg("-CAfile")
        .arg(&root)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "s_client failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("TLSv1.3"), "{text}");
    assert!(text.contains("Verify return code: 0 (ok)"), "{text}");
    // The server's own certificate passes pkilint's PKIX linter ("localhost" is
    // not a domain name to it, but it is what a local client connects to).
    let leaf = t.join("server.pem");
    run_ok(Command::new("openssl").arg("x509").arg("-in").arg(data.join("tls/server.pem")).arg("-out").arg(&leaf));
    let findings: Vec<String> =
        pkilint_findings(&["lint_pkix_cert", "lint"], &leaf).into_iter().filter(|f| !f.contains("\"localhost\"")).collect();
    assert!(findings.is_empty(), "{findings:#?}");

    // curl reaches the API with our root, by address and by name, and not without it.
    let (status, body) = curl(&root, &[], &format!("{}/api/v1/openapi.json", server.https_url()));
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["openapi"], "3.0.3");
    assert_eq!(curl(&root, &[], &format!("https://localhost:{port}/health")).0, 200);
    // Browsers are told to come back only over HTTPS (HSTS, RFC 6797), on every
    // answer of the HTTPS listener and never on plain HTTP, where it means nothing.
    for path in ["/", "/health", "/api/v1/openapi.json", "/api/v1/nothing"] {
        let (_, head) = curl(&root, &["-D", "-", "-o", "/dev/null"], &format!("{}{path}", server.https_url()));
        let hsts = head.lines().find_map(|l| l.strip_prefix("strict-transport-security: ")).map(str::trim);
        assert_eq!(hsts, Some("max-age=31536000"), "{path}: {head}");
    }
    let plain = ureq::get(&format!("{}/health", server.url())).call().unwrap();
    assert_eq!(plain.header("strict-transport-security"), None);
    let untrusted = Command::new("curl").args(["-sS", "--max-time", "20", &format!("{}/health", server.https_url())]).output().unwrap();
    assert_eq!(untrusted.status.code(), Some(60), "curl must not trust the server without our root");

    // The plain listener refuses the API and names where it is, but publishes.
    let refused = ureq::get(&format!("{}/api/v1/applications/1", server.url())).call();
    let Err(ureq::Error::Status(403, resp)) = refused else { panic!("the plain API must be refused: {refused:?}") };
    let body: Value = resp.into_json().unwrap();
    assert_eq!(body["error"]["code"], "https_required");
    assert!(body["error"]["message"].as_str().unwrap().contains(&server.https_url()), "{body}");
    assert_eq!(ureq::get(&format!("{}/cert/root_rsa.cer", server.url())).call().unwrap().status(), 200);

    // The whole applicant flow over HTTPS: keys, application, confirmation, download.
    let https = server.https_url();
    let ks = t.join("applicant");
    let cacert = ["--cacert", root.to_str().unwrap()];
    ca_json(&data, &["enroll", "keygen", "--dir", &p(&ks)]);
    let mut apply = vec!["enroll", "apply", "--server", &https, "--dir"];
    let ks_s = p(&ks);
    apply.push(&ks_s);
    apply.extend(["--iin", iin(70), "--surname", "Тестов", "--name", "Тест", "--center", "ЦОН Астана"]);
    // Without our root the client refuses the server's certificate, and nothing is sent.
    let out = ca(&data, &apply);
    assert_ne!(out.status.code(), Some(0), "an untrusted server must be refused");
    assert!(ca_json(&data, &["application", "list"]).as_array().unwrap().is_empty());
    apply.extend(cacert);
    let number = ca_json(&data, &apply)["number"].as_str().unwrap().to_string();
    ca_json(&data, &["application", "confirm", &number]);
    let mut fetch = vec!["enroll", "fetch", "--server", &https, &number, "--dir", &ks_s];
    fetch.extend(cacert);
    let fetched = ca_json(&data, &fetch);
    assert_eq!(fetched["files"].as_array().unwrap().len(), 2, "{fetched}");
    assert_eq!(ca_json(&data, &["application", "show", &number])["state"], "issued");
}

#[test]
fn operators_can_be_required_to_show_their_auth_certificate() {
    let t = fresh_authority();
    let data = t.join("data");
    e2e::configure(&data, "tls", json!({ "operator_client_certificates": true }));
    let server = Server::on_tls(&data);
    let root = data.join("root.pem");
    let pending = format!("{}/api/v1/operator/applications/pending", server.https_url());

    let operator =
        Person { iin: iin(71), flags: vec!["--surname", "Операторов", "--name", "Оператор", "--staff", "ca_operator"] };
    let issued = issue(&data, t.path(), &operator, "op");
    let op_ks = t.join("op-ks");
    key_store_from_openssl(t.path(), &issued, "op", &op_ks);
    let other = issue(&data, t.path(), &Person { iin: iin(72), flags: vec!["--surname", "Другой", "--name", "Тест"] }, "other");

    // `ca` over HTTPS shows the operator's AUTH certificate: the queue is read.
    let https = server.https_url();
    let listed = ca_json(&data, &["--cacert", root.to_str().unwrap(), "application", "list", "--server", &https, "--key-dir", &p(&op_ks)]);
    assert!(listed.is_array(), "{listed}");

    // A correctly signed request without a client certificate: 401.
    let body = t.join("signed.json");
    let signed = |ks: &Path| {
        let action = SignedAction::ListPending { center: None, after: None, limit: None };
        std::fs::write(&body, serde_json::to_vec(&sign_as(ks, action)).unwrap()).unwrap();
    };
    let post = ["-H", "Content-Type: application/json", "--data-binary"];
    let at_body = format!("@{}", body.display());
    signed(&op_ks);
    let (status, answer) = curl(&root, &[&post[..], &[&at_body]].concat(), &pending);
    assert_eq!(status, 401, "{answer}");
    assert!(answer.contains("client_certificate_required"), "{answer}");

    // Another person's AUTH certificate with the operator's signature: 403.
    let other_cert = other["files"][0].as_str().unwrap();
    let other_key = t.join("other-auth.key");
    signed(&op_ks);
    fn with<'a>(post: &[&'a str], body: &'a str, cert: &'a str, key: &'a Path) -> Vec<&'a str> {
        [post, &[body, "--cert", cert, "--key", key.to_str().unwrap()]].concat()
    }
    let (status, answer) = curl(&root, &with(&post, &at_body, other_cert, &other_key), &pending);
    assert_eq!(status, 403, "{answer}");

    // The operator's own AUTH certificate: 200.
    signed(&op_ks);
    let op_key = t.join("op-auth.key");
    let (status, answer) = curl(&root, &with(&post, &at_body, issued["files"][0].as_str().unwrap(), &op_key), &pending);
    assert_eq!(status, 200, "{answer}");
}
