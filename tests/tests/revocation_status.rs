//! Acceptance: CRLs and OCSP through the real server, checked by real clients —
//! `openssl ocsp`, `openssl crl`, `openssl verify -crl_check`, pkilint and Python
//! `cryptography` — plus bad requests, idle connections and `kill -9`.

use e2e::{ca, ca_json, eventually, fresh_authority, issue, pkilint_findings, reference, run_ok, Scratch, Server};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A fresh authority whose server publishes a delta CRL every second and looks
/// for status changes every 200 ms.
fn quick_authority() -> Scratch {
    let s = fresh_authority();
    let data = s.join("data");
    e2e::configure(&data, "crl", serde_json::json!({ "full_interval_seconds": 3600, "delta_interval_seconds": 1 }));
    e2e::configure(&data, "ocsp", serde_json::json!({ "validity_seconds": 600, "status_poll_ms": 200 }));
    s
}

/// Issue a pair; returns (AUTH file, SIGN file, AUTH serial, SIGN serial).
fn pair(data: &Path, work: &Path, tag: &str) -> (PathBuf, PathBuf, String, String) {
    let v = issue(data, work, &e2e::individual(), tag);
    let files: Vec<PathBuf> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()).collect();
    let auth = files.iter().find(|f| f.file_name().unwrap().to_string_lossy().starts_with("AUTH_")).unwrap().clone();
    let sign = files.iter().find(|f| !f.file_name().unwrap().to_string_lossy().starts_with("AUTH_")).unwrap().clone();
    (auth, sign, v["auth"]["serial"].as_str().unwrap().into(), v["sign"]["serial"].as_str().unwrap().into())
}

fn chain(data: &Path, work: &Path) -> PathBuf {
    let path = work.join("chain.pem");
    let mut pem = std::fs::read(data.join("root.pem")).unwrap();
    pem.extend(std::fs::read(data.join("issuing.pem")).unwrap());
    std::fs::write(&path, pem).unwrap();
    path
}

/// `openssl ocsp` against the server; returns its combined output.
fn openssl_ocsp(server: &Server, issuer: &Path, cafile: &Path, cert: &Path, extra: &[&str], respout: Option<&Path>) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["ocsp", "-url", &format!("{}/ocsp/", server.url()), "-timeout", "10"]).arg("-issuer").arg(issuer);
    cmd.arg("-CAfile").arg(cafile).arg("-cert").arg(cert).args(extra);
    if let Some(out) = respout {
        cmd.arg("-respout").arg(out);
    }
    let out = cmd.output().expect("run openssl ocsp");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn serious_crl_findings(file: &Path) -> Vec<String> {
    pkilint_findings(&["lint_crl", "lint", "-t", "CRL", "-p", "PKIX"], file)
}

fn serious_ocsp_findings(file: &Path) -> Vec<String> {
    pkilint_findings(&["lint_ocsp_response", "lint"], file)
}

fn get(url: &str) -> Vec<u8> {
    let resp = ureq::get(url).timeout(Duration::from_secs(10)).call().unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    body
}

/// Python `cryptography` reads a CRL and the OCSP responses and prints what it sees.
const PY_READ: &str = r#"
import sys, json
from cryptography import x509
from cryptography.x509 import ocsp
out = {}
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    if path.endswith(".crl"):
        crl = x509.load_der_x509_crl(data)
        entries = {}
        for r in crl:
            try:
                reason = r.extensions.get_extension_for_class(x509.CRLReason).value.reason.value
            except x509.ExtensionNotFound:
                reason = None
            entries[format(r.serial_number, "x")] = reason
        out[path] = {"entries": entries}
    else:
        resp = ocsp.load_der_ocsp_response(data)
        if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            out[path] = {"status": resp.response_status.name}
            continue
        reason = resp.revocation_reason.value if resp.revocation_reason else None
        out[path] = {"status": resp.certificate_status.name, "serial": format(resp.serial_number, "x"), "reason": reason}
print(json.dumps(out))
"#;

fn python_reads(files: &[&Path]) -> serde_json::Value {
    let out = run_ok(Command::new("python3").arg("-c").arg(PY_READ).args(files));
    serde_json::from_str(&out).unwrap()
}

/// Serial in the form Python prints it (no leading zeros).
fn py_serial(hex: &str) -> String {
    hex.trim_start_matches('0').to_string()
}

#[test]
fn ocsp_and_crls_with_openssl_pkilint_and_python() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    let (good, _, good_serial, _) = pair(&data, &work, "good");
    let (held_auth, bad, held_serial, bad_serial) = pair(&data, &work, "bad");
    let chain = chain(&data, &work);
    let issuer = data.join("issuing.pem");
    let server = Server::on(&data);

    // Good, with and without nonce, over POST.
    for extra in [&[][..], &["-no_nonce"][..]] {
        let out = openssl_ocsp(&server, &issuer, &chain, &good, extra, Some(&work.join("good.ocsp")));
        assert!(out.contains("Response verify OK"), "{out}");
        assert!(out.contains(": good"), "{out}");
    }
    // A revocation made while the server runs, by another process, shows within the poll delay.
    ca_json(&data, &["revoke", &bad_serial, "--reason", "keyCompromise", "--invalidity-date", "2026-01-01T00:00:00Z"]);
    assert!(
        eventually(Duration::from_secs(10), || openssl_ocsp(&server, &issuer, &chain, &bad, &["-no_nonce"], None).contains(": revoked")),
        "the revocation did not show in OCSP"
    );
    for extra in [&[][..], &["-no_nonce"][..]] {
        let out = openssl_ocsp(&server, &issuer, &chain, &bad, extra, Some(&work.join("revoked.ocsp")));
        assert!(out.contains("Response verify OK") && out.contains(": revoked"), "{out}");
        assert!(out.contains("Reason: keyCompromise"), "{out}");
    }
    // Unknown: a serial we never issued, for our issuer.
    let mut cmd = Command::new("openssl");
    // -issuer must come before -serial.
    cmd.args(["ocsp", "-url", &format!("{}/ocsp/", server.url()), "-issuer"]).arg(&issuer);
    cmd.args(["-serial", "0x0123456789abcdef", "-respout"]).arg(work.join("unknown.ocsp")).arg("-CAfile").arg(&chain);
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Response verify OK") && text.contains(": unknown"), "{text}");
    // Another CA's certificate: unauthorized.
    let nca = reference("nca_rsa_test.pem");
    let out = openssl_ocsp(&server, &nca, &nca, &reference("individual_sign_rsa.pem"), &[], None);
    assert!(out.contains("unauthorized"), "{out}");

    // GET (RFC 5019): the request base64 in the path; cacheable headers.
    let req = work.join("req.der");
    run_ok(Command::new("openssl").args(["ocsp", "-no_nonce", "-issuer"]).arg(&issuer).arg("-cert").arg(&good).arg("-reqout").arg(&req));
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&std::fs::read(&req).unwrap());
    let url = format!("{}/ocsp/{}", server.url(), b64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"));
    let resp = ureq::get(&url).timeout(Duration::from_secs(10)).call().unwrap();
    assert_eq!(resp.header("content-type"), Some("application/ocsp-response"));
    let cache_control = resp.header("cache-control").unwrap_or("").to_string();
    let validators = resp.header("expires").is_some() && resp.header("last-modified").is_some();
    let etag = resp.header("etag").unwrap_or("").to_string();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    assert!(cache_control.contains("max-age=") && validators, "{cache_control} for GET {url}, error status {:?}", ocsp_status(&body));
    // The entity tag names these bytes, and a second GET gets the same cached answer.
    assert_eq!(etag, format!("\"{}\"", hex::encode(<sha1::Sha1 as sha1::Digest>::digest(&body))));
    let again = ureq::get(&url).timeout(Duration::from_secs(10)).call().unwrap();
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    let mut body_again = Vec::new();
    again.into_reader().read_to_end(&mut body_again).unwrap();
    assert_eq!(body_again, body, "a second GET within the validity is answered from the cache");
    std::fs::write(work.join("get.ocsp"), &body).unwrap();
    let inspected = ca_json(&data, &["inspect", work.join("get.ocsp").to_str().unwrap(), "--issuer", issuer.to_str().unwrap()]);
    assert_eq!(inspected["responses"][0]["status"], "good");
    assert_eq!(inspected["signature_valid"], true);

    // Hold, a full CRL, then lift the hold: the next delta says removeFromCRL.
    ca_json(&data, &["revoke", &held_serial, "--reason", "certificateHold"]);
    let full = work.join("full.crl");
    let issued = ca_json(&data, &["crl", "--out", full.to_str().unwrap()]);
    assert_eq!(issued["entries"], 2, "{issued}");
    ca_json(&data, &["unhold", &held_serial]);
    let delta = work.join("delta.crl");
    assert!(
        eventually(Duration::from_secs(10), || {
            std::fs::write(&delta, get(&format!("{}/crl/nca_d_rsa.crl", server.url()))).unwrap();
            let v = ca_json(&data, &["inspect", delta.to_str().unwrap()]);
            v["delta_base"] == issued["number"].to_string().as_str() && v["entry_count"] == 1
        }),
        "no delta CRL on the new base with the lifted hold"
    );
    let d = ca_json(&data, &["inspect", delta.to_str().unwrap(), "--issuer", issuer.to_str().unwrap()]);
    assert_eq!(d["entries"][0]["serial"], held_serial.as_str());
    assert_eq!(d["entries"][0]["reason"], "removeFromCRL");
    let served_full = work.join("served_full.crl");
    std::fs::write(&served_full, get(&format!("{}/crl/nca_rsa.crl", server.url()))).unwrap();

    // openssl: both CRLs verify; -crl_check rejects the revoked and accepts the good.
    for crl in [&full, &delta, &served_full] {
        let out =
            Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-in"]).arg(crl).arg("-CAfile").arg(&chain).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && text.contains("verify OK"), "{}: {text}", crl.display());
    }
    let full_pem = work.join("full.pem");
    run_ok(Command::new("openssl").args(["crl", "-inform", "DER", "-in"]).arg(&full).arg("-out").arg(&full_pem));
    let verify = |check: &str, crls: &[&Path], cert: &Path| {
        let mut cmd = Command::new("openssl");
        cmd.args(["verify", check]);
        for crl in crls {
            cmd.arg("-CRLfile").arg(crl);
        }
        cmd.arg("-CAfile").arg(&chain).arg(cert).output().unwrap()
    };
    assert!(verify("-crl_check", &[&full_pem], &good).status.success(), "the good certificate must pass -crl_check");
    let rejected = verify("-crl_check", &[&full_pem], &bad);
    assert!(!rejected.status.success(), "the revoked certificate passed -crl_check");
    let said = String::from_utf8_lossy(&rejected.stdout).into_owned() + &String::from_utf8_lossy(&rejected.stderr);
    assert!(said.contains("certificate revoked"), "{said}");
    // With the root's CRL too, the whole chain is checked (-crl_check_all).
    let root_crl = work.join("root.crl");
    std::fs::write(&root_crl, get(&format!("{}/crl/root_rsa.crl", server.url()))).unwrap();
    let root_pem = work.join("root_crl.pem");
    run_ok(Command::new("openssl").args(["crl", "-inform", "DER", "-in"]).arg(&root_crl).arg("-out").arg(&root_pem));
    let all = |cert: &Path| verify("-crl_check_all", &[&full_pem, &root_pem], cert);
    assert!(all(&good).status.success(), "{}", String::from_utf8_lossy(&all(&good).stderr));
    assert!(!all(&bad).status.success());
    assert_eq!(serious_crl_findings(&root_crl), Vec::<String>::new(), "root CRL");
    // The held certificate is on this full CRL too (as certificateHold).
    assert!(
        !verify("-crl_check", &[&full_pem], &held_auth).status.success(),
        "the held certificate passed -crl_check against the full CRL"
    );

    // pkilint: nothing at WARNING or above on CRLs (full, delta) and OCSP responses (good, revoked, unknown).
    for crl in [&full, &delta, &served_full] {
        assert_eq!(serious_crl_findings(crl), Vec::<String>::new(), "{}", crl.display());
    }
    for r in ["good.ocsp", "revoked.ocsp", "unknown.ocsp"] {
        assert_eq!(serious_ocsp_findings(&work.join(r)), Vec::<String>::new(), "{r}");
    }

    // Python cryptography reads the same statuses.
    let (g, r, u) = (work.join("good.ocsp"), work.join("revoked.ocsp"), work.join("unknown.ocsp"));
    let v = python_reads(&[&full, &delta, &g, &r, &u]);
    let full_entries = &v[full.to_str().unwrap()]["entries"];
    assert_eq!(full_entries[py_serial(&bad_serial)], "keyCompromise");
    assert_eq!(full_entries[py_serial(&held_serial)], "certificateHold");
    assert_eq!(v[delta.to_str().unwrap()]["entries"][py_serial(&held_serial)], "removeFromCRL");
    assert_eq!(v[g.to_str().unwrap()]["status"], "GOOD");
    assert_eq!(v[g.to_str().unwrap()]["serial"], py_serial(&good_serial));
    assert_eq!(v[r.to_str().unwrap()]["status"], "REVOKED");
    assert_eq!(v[r.to_str().unwrap()]["reason"], "keyCompromise");
    assert_eq!(v[u.to_str().unwrap()]["status"], "UNKNOWN");
}

/// POST raw bytes to the responder; returns (HTTP status, body).
fn post(server: &Server, body: &[u8]) -> (u16, Vec<u8>) {
    let result = ureq::post(&format!("{}/ocsp/", server.url()))
        .timeout(Duration::from_secs(10))
        .set("Content-Type", "application/ocsp-request")
        .send_bytes(body);
    let resp = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST failed: {e}"),
    };
    let status = resp.status();
    let mut out = Vec::new();
    resp.into_reader().read_to_end(&mut out).unwrap();
    (status, out)
}

/// The OCSP response status byte of an error response (malformedRequest is 1).
fn ocsp_status(body: &[u8]) -> Option<u8> {
    (body.len() >= 5 && body[0] == 0x30 && body[2] == 0x0a && body[3] == 1).then(|| body[4])
}

#[test]
fn bad_requests_and_idle_connections_do_not_stop_the_responder() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    let (good, _, _, _) = pair(&data, &work, "good");
    let server = Server::on(&data);
    let req = work.join("req.der");
    run_ok(
        Command::new("openssl").args(["ocsp", "-issuer"]).arg(data.join("issuing.pem")).arg("-cert").arg(&good).arg("-reqout").arg(&req),
    );
    let request = std::fs::read(&req).unwrap();
    let answers_good = |server: &Server| {
        let (status, body) = post(server, &request);
        status == 200 && ocsp_status(&body).is_none() && body.len() > 100
    };
    assert!(answers_good(&server));

    // Garbage, truncated, empty, a nonce too long, oversized: malformedRequest or 4xx.
    let truncated = &request[..request.len() / 2];
    for (what, body) in [("garbage", &b"hello, responder"[..]), ("truncated", truncated), ("empty", &[][..])] {
        let (status, resp) = post(&server, body);
        assert!((400..500).contains(&status) || (status == 200 && ocsp_status(&resp) == Some(1)), "{what}: HTTP {status}, {resp:?}");
    }
    // Oversized: refused from the Content-Length alone (the server may close before reading the body).
    let mut big = TcpStream::connect(format!("127.0.0.1:{}", server.port)).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    big.write_all(b"POST /ocsp/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\nContent-Length: 1048576\r\n\r\n").unwrap();
    let _ = big.write_all(&vec![0x30; 1 << 20]);
    let mut head = [0u8; 12];
    big.read_exact(&mut head).expect("a response to the oversized request");
    assert_eq!(&head, b"HTTP/1.1 413", "oversized request");
    let (status, resp) = post(&server, &nonce_request(&request, 129));
    assert!(status == 200 && ocsp_status(&resp) == Some(1), "129-byte nonce: HTTP {status}");
    let (status, resp) = post(&server, &nonce_request(&request, 128));
    assert!(status == 200 && ocsp_status(&resp).is_none(), "128-byte nonce must be answered: HTTP {status}");
    let bad_get = ureq::get(&format!("{}/ocsp/not-base64!", server.url())).timeout(Duration::from_secs(10)).call().unwrap();
    let mut body = Vec::new();
    bad_get.into_reader().read_to_end(&mut body).unwrap();
    assert_eq!(ocsp_status(&body), Some(1), "a GET that is not base64 is malformed");

    // 1,000 idle connections held open, and 300 that connect and close without a word.
    let addr = format!("127.0.0.1:{}", server.port);
    let idle: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(&addr).expect("connect")).collect();
    for _ in 0..300 {
        drop(TcpStream::connect(&addr).expect("connect"));
    }
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"POST /ocsp/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123").unwrap(); // and never finish
    let start = Instant::now();
    for _ in 0..20 {
        assert!(answers_good(&server), "the responder stopped answering");
    }
    assert!(start.elapsed() < Duration::from_secs(10), "20 answers took {:?}", start.elapsed());
    drop(idle);
    drop(half);
    assert!(answers_good(&server));
}

/// `request` (an openssl request with a nonce) with its nonce replaced by one of `len` bytes.
fn nonce_request(request: &[u8], len: usize) -> Vec<u8> {
    use der::{Decode, Encode};
    let mut req = x509_ocsp_request(request);
    let exts = req.tbs_request.request_extensions.as_mut().expect("openssl sends a nonce");
    let nonce = der::asn1::OctetString::new(vec![7u8; len]).unwrap().to_der().unwrap();
    exts[0].extn_value = der::asn1::OctetString::new(nonce).unwrap();
    let out = req.to_der().unwrap();
    let _ = x509_ocsp::OcspRequest::from_der(&out).unwrap();
    out
}

fn x509_ocsp_request(der: &[u8]) -> x509_ocsp::OcspRequest {
    use der::Decode;
    x509_ocsp::OcspRequest::from_der(der).unwrap()
}

#[test]
fn a_revocation_survives_kill_9_and_restart() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    let (good, bad, _, bad_serial) = pair(&data, &work, "k");
    let chain = chain(&data, &work);
    let issuer = data.join("issuing.pem");
    let server = Server::on(&data);
    assert!(openssl_ocsp(&server, &issuer, &chain, &bad, &["-no_nonce"], None).contains(": good"));
    let out = ca(&data, &["revoke", &bad_serial, "--reason", "affiliationChanged"]);
    assert!(out.status.success());
    // kill -9 right after the revocation returned.
    let pid = server.pid();
    run_ok(Command::new("kill").args(["-9", &pid.to_string()]));
    drop(server);
    let server = Server::on(&data);
    let out = openssl_ocsp(&server, &issuer, &chain, &bad, &[], None);
    assert!(out.contains(": revoked") && out.contains("Reason: affiliationChanged"), "{out}");
    assert!(openssl_ocsp(&server, &issuer, &chain, &good, &[], None).contains(": good"));
    let delta = work.join("delta.crl");
    assert!(
        eventually(Duration::from_secs(10), || {
            std::fs::write(&delta, get(&format!("{}/crl/nca_d_rsa.crl", server.url()))).unwrap();
            ca_json(&data, &["inspect", delta.to_str().unwrap()])["entries"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["serial"] == bad_serial.as_str() && e["reason"] == "affiliationChanged"))
        }),
        "the revocation is not in the delta CRL after the restart"
    );
    // CRL numbers never went backwards across the kill.
    let n: u64 = ca_json(&data, &["inspect", delta.to_str().unwrap()])["number"].as_str().unwrap().parse().unwrap();
    let again = ca_json(&data, &["crl", "--delta", "--out", work.join("d2.crl").to_str().unwrap()]);
    assert!(again["number"].as_u64().unwrap() > n);
}

/// The CRL served at `path`, as `ca inspect --json` reads it; null while none is (503).
fn served_crl(server: &Server, data: &Path, work: &Path, path: &str) -> serde_json::Value {
    let Ok(resp) = ureq::get(&format!("{}{path}", server.url())).timeout(Duration::from_secs(10)).call() else {
        return serde_json::Value::Null;
    };
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    let file = work.join(format!("served-{}", path.replace('/', "_")));
    std::fs::write(&file, body).unwrap();
    ca_json(data, &["inspect", file.to_str().unwrap()])
}

#[test]
fn a_crl_made_by_ca_crl_is_served_and_deltas_build_on_it() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    let (_, _, auth_serial, sign_serial) = pair(&data, &work, "stale");
    let server = Server::on(&data);
    assert!(
        eventually(Duration::from_secs(10), || served_crl(&server, &data, &work, "/crl/nca_rsa.crl")["number"].is_string()),
        "no full CRL served"
    );
    // The operator revokes and issues a full CRL from the console while the server runs.
    ca_json(&data, &["revoke", &auth_serial, "--reason", "keyCompromise"]);
    ca_json(&data, &["revoke", &sign_serial, "--reason", "keyCompromise"]);
    let made = ca_json(&data, &["crl", "--out", work.join("console.crl").to_str().unwrap()]);
    assert_eq!(made["entries"], 2);
    let number = made["number"].as_u64().unwrap().to_string();
    // Within the status poll interval the server serves that very CRL...
    assert!(
        eventually(Duration::from_secs(10), || served_crl(&server, &data, &work, "/crl/nca_rsa.crl")["number"] == number.as_str()),
        "the server still serves an older full CRL than {number}"
    );
    let full = served_crl(&server, &data, &work, "/crl/nca_rsa.crl");
    assert_eq!(full["entry_count"], 2, "{full}");
    // ...and its deltas name it as their base, a CRL anyone can fetch.
    assert!(
        eventually(Duration::from_secs(10), || served_crl(&server, &data, &work, "/crl/nca_d_rsa.crl")["delta_base"] == number.as_str()),
        "the served delta is not built on the published full CRL {number}"
    );
    // A restart serves the same, from the database.
    drop(server);
    let server = Server::on(&data);
    let after = served_crl(&server, &data, &work, "/crl/nca_rsa.crl");
    assert!(after["number"].as_str().unwrap().parse::<u64>().unwrap() >= number.parse::<u64>().unwrap());
    assert_eq!(after["entry_count"], 2);
}

/// The request `request` (one CertID, no nonce) for another serial.
fn request_for_serial(request: &[u8], serial: &[u8]) -> Vec<u8> {
    use der::Encode;
    let mut req = x509_ocsp_request(request);
    req.tbs_request.request_list[0].req_cert.serial_number = x509_cert::serial_number::SerialNumber::new(serial).unwrap();
    req.to_der().unwrap()
}

#[test]
fn a_flood_of_unknown_serials_does_not_push_out_real_certificates_answers() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    // A small cache: 64 KiB, of which 8 KiB for unknown serials (some four answers).
    e2e::configure(&data, "ocsp", serde_json::json!({ "cache_bytes": 64 * 1024 }));
    e2e::configure(&data, "limits", serde_json::json!({ "ocsp_live_per_minute": 600_000, "ocsp_live_burst": 10_000 }));
    let (good, _, _, _) = pair(&data, &work, "cached");
    let server = Server::on(&data);
    let req = work.join("req.der");
    run_ok(
        Command::new("openssl")
            .args(["ocsp", "-no_nonce", "-issuer"])
            .arg(data.join("issuing.pem"))
            .arg("-cert")
            .arg(&good)
            .arg("-reqout")
            .arg(&req),
    );
    let request = std::fs::read(&req).unwrap();
    let (status, first) = post(&server, &request);
    assert_eq!(status, 200);
    // 300 serials this CA never issued, each answered (unknown) and signed.
    for i in 0..300u32 {
        let serial = [&[0x42u8][..], &i.to_be_bytes()[..], &[7u8; 11][..]].concat();
        let (status, body) = post(&server, &request_for_serial(&request, &serial));
        assert!(status == 200 && ocsp_status(&body).is_none(), "unknown serial {i}: {status}");
    }
    // The real certificate's answer is still the one signed first: served from the cache.
    let (_, again) = post(&server, &request);
    assert_eq!(again, first, "the answer for a real certificate was pushed out by unknown serials");
}

#[test]
fn live_signatures_are_limited_per_client_and_cached_answers_are_not() {
    let s = quick_authority();
    let (data, work) = (s.join("data"), s.path().to_path_buf());
    // Two live signatures at once, then one a minute.
    e2e::configure(&data, "limits", serde_json::json!({ "ocsp_live_per_minute": 1, "ocsp_live_burst": 2 }));
    let (good, _, _, _) = pair(&data, &work, "limited");
    let server = Server::on(&data);
    let req = work.join("req.der");
    run_ok(
        Command::new("openssl").args(["ocsp", "-issuer"]).arg(data.join("issuing.pem")).arg("-cert").arg(&good).arg("-reqout").arg(&req),
    );
    let with_nonce = std::fs::read(&req).unwrap();
    let plain = {
        use der::{Decode, Encode};
        let mut r = x509_ocsp::OcspRequest::from_der(&with_nonce).unwrap();
        r.tbs_request.request_extensions = None;
        r.to_der().unwrap()
    };
    let signed = |body: &[u8]| {
        let (status, resp) = post(&server, body);
        assert_eq!(status, 200);
        ocsp_status(&resp)
    };
    assert_eq!(signed(&plain), None, "first live signature (then cached)");
    assert_eq!(signed(&nonce_request(&with_nonce, 16)), None, "second live signature");
    // The allowance is used up: a third live signature is tryLater (3), not signed.
    assert_eq!(signed(&nonce_request(&with_nonce, 20)), Some(3), "over the limit: tryLater");
    let unknown = request_for_serial(&plain, &[0x55; 16]);
    assert_eq!(signed(&unknown), Some(3), "a random serial needs a signature too: tryLater");
    // The cached answer is served whatever the allowance.
    for _ in 0..20 {
        assert_eq!(signed(&plain), None, "a cached answer must never be limited");
    }
}
