//! Acceptance of the application workflow through the real `ca-server` and the real
//! `ca` binaries: apply online with keys made on the applicant's side, approval by
//! a legal entity's head, confirmation by an operator, download into PKCS#12 files
//! that openssl and Python open, renewal, revocation, the operator API's
//! credentials, the audit log, and schemathesis against the OpenAPI document.

use ca_core::api::SignedAction;
use ca_core::identity::Bin;
use e2e::{
    apply, ca, ca_json, enroll, fresh_authority, iin, issue, key_store_from_openssl, openssl_csr, p, p12, run_ok, sign_as, Person, Scratch,
    Server, KEY_PASSWORD,
};
use e2e::db::Param;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// A valid BIN with sequence number `seq`.
fn bin(seq: u32) -> String {
    (0..10).map(|d| format!("0408400{seq:04}{d}")).find(|s| Bin::parse(s).is_ok()).expect("a check digit")
}

/// Run `ca` expecting refusal (exit 1); returns stderr.
fn refused(data: &Path, args: &[&str]) -> String {
    let out = ca(data, args);
    assert_eq!(out.status.code(), Some(1), "ca {args:?} should be refused; stdout: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn openssl_p12(file: &Path, extra: &[&str], out: &Path) {
    run_ok(
        Command::new("openssl")
            .arg("pkcs12")
            .arg("-in")
            .arg(file)
            .args(["-passin", &format!("pass:{KEY_PASSWORD}")])
            .args(extra)
            .arg("-out")
            .arg(out),
    );
}

fn serial_of(cert_pem: &Path) -> String {
    let out = run_ok(Command::new("openssl").args(["x509", "-noout", "-serial", "-in"]).arg(cert_pem));
    out.trim().trim_start_matches("serial=").to_ascii_lowercase()
}

#[test]
fn individual_applies_is_confirmed_and_fetches_pkcs12_files_openssl_and_python_open() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let (ks, number) = apply(&data, &server, &t.join("ks"), iin(1), None);
    // Keys were made here, encrypted; the server got CSRs only.
    for k in ["auth.key", "sign.key"] {
        assert!(std::fs::read_to_string(ks.join("pending").join(k)).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    }
    assert_eq!(number.len(), 16);
    let status = ca_json(&data, &["enroll", "status", "--server", &server.url(), &number, "--dir", &p(&ks)]);
    assert_eq!(status["state"], "awaiting_identity");
    // Before confirmation there is nothing to fetch.
    let early = refused(&data, &["enroll", "fetch", "--server", &server.url(), &number, "--dir", &p(&ks)]);
    assert!(early.contains("not_issued"), "{early}");

    let confirmed = ca_json(&data, &["application", "confirm", &number]);
    assert_eq!(confirmed["state"], "issued");
    let fetched = ca_json(&data, &["enroll", "fetch", "--server", &server.url(), &number, "--dir", &p(&ks)]);
    assert_eq!(fetched["files"].as_array().unwrap().len(), 2);
    assert!(!ks.join("pending").exists(), "the keys live in the PKCS#12 files only");

    let root = data.join("root.pem");
    let issuing = data.join("issuing.pem");
    for (prefix, purpose) in [("AUTH_RSA256_", "sslclient"), ("RSA256_", "smimesign")] {
        let file = p12(&ks, prefix);
        let key_id = file.file_stem().unwrap().to_string_lossy().trim_start_matches(prefix).to_string();
        assert_eq!(key_id.len(), 40);
        let cert = t.join(&format!("{prefix}cert.pem"));
        let key = t.join(&format!("{prefix}key.pem"));
        openssl_p12(&file, &["-nokeys", "-clcerts"], &cert);
        openssl_p12(&file, &["-nocerts", "-noenc"], &key);
        let verified = run_ok(
            Command::new("openssl")
                .args(["verify", "-x509_strict", "-purpose", purpose, "-CAfile"])
                .arg(&root)
                .arg("-untrusted")
                .arg(&issuing)
                .arg(&cert),
        );
        assert!(verified.trim().ends_with("OK"), "{verified}");
        // The key in the file is the certificate's key.
        let from_cert = run_ok(Command::new("openssl").args(["x509", "-noout", "-pubkey", "-in"]).arg(&cert));
        let from_key = run_ok(Command::new("openssl").args(["pkey", "-pubout", "-in"]).arg(&key));
        assert_eq!(from_cert, from_key);
        // friendlyName and localKeyID carry the key id; the encryption is PBES2 AES-256.
        let info = Command::new("openssl")
            .args(["pkcs12", "-info", "-nokeys", "-passin", &format!("pass:{KEY_PASSWORD}"), "-in"])
            .arg(&file)
            .output()
            .unwrap();
        let info = String::from_utf8_lossy(&info.stderr).to_string() + &String::from_utf8_lossy(&info.stdout);
        assert!(info.contains("PBES2, PBKDF2, AES-256-CBC"), "{info}");
        assert!(info.contains(&format!("friendlyName: {key_id}")), "{info}");
        let wrong =
            Command::new("openssl").args(["pkcs12", "-noout", "-passin", "pass:wrong password", "-in"]).arg(&file).output().unwrap();
        assert!(!wrong.status.success(), "a wrong password must not open the file");
        // Python cryptography opens it with the password and sees the same certificate.
        let script = "import sys\nfrom cryptography.hazmat.primitives.serialization import pkcs12\n\
            k, c, extra = pkcs12.load_key_and_certificates(open(sys.argv[1],'rb').read(), sys.argv[2].encode())\n\
            assert k.public_key().public_numbers() == c.public_key().public_numbers()\n\
            print(format(c.serial_number, 'x'), len(extra))";
        let out = run_ok(Command::new("python3").args(["-c", script]).arg(&file).arg(KEY_PASSWORD));
        let mut words = out.split_whitespace();
        assert_eq!(words.next().unwrap().trim_start_matches('0'), serial_of(&cert).trim_start_matches('0'));
        assert_eq!(words.next(), Some("2"), "the chain (issuing CA, root) is in the file");
    }
}

#[test]
fn an_employee_waits_for_the_head_and_wrong_approvers_are_refused() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let company = bin(1);
    let ceo = enroll(&data, &server, &t.join("ceo"), iin(10), Some((&company, "ceo")));
    let stranger = enroll(&data, &server, &t.join("stranger"), iin(11), Some((&bin(2), "ceo")));
    let former = enroll(&data, &server, &t.join("former"), iin(12), Some((&company, "ceo")));
    // The former head left: their SIGN certificate is revoked by an operator.
    let former_sign = t.join("former-sign.pem");
    openssl_p12(&p12(&former, "RSA256_"), &["-nokeys", "-clcerts"], &former_sign);
    ca_json(&data, &["revoke", &serial_of(&former_sign), "--reason", "affiliationChanged"]);
    // A key store whose "SIGN" file is really the head's AUTH key.
    let auth_only = t.join("auth-only");
    std::fs::create_dir(&auth_only).unwrap();
    std::fs::copy(p12(&ceo, "AUTH_RSA256_"), auth_only.join("AUTH_RSA256_x.p12")).unwrap();
    std::fs::copy(p12(&ceo, "AUTH_RSA256_"), auth_only.join("RSA256_x.p12")).unwrap();

    let (_, number) = apply(&data, &server, &t.join("employee"), iin(20), Some((&company, "employee")));
    let show = || ca_json(&data, &["application", "show", &number])["state"].clone();
    assert_eq!(show(), "awaiting_head_approval");
    let early = refused(&data, &["application", "confirm", &number]);
    assert!(early.contains("the head must approve it first"), "the operator is told what to wait for: {early}");
    let code = ca(&data, &["--json", "application", "confirm", &number]);
    assert_eq!(e2e::json_of(&code)["error"]["code"], "awaiting_head_approval");

    let approve = |ks: &Path| refused(&data, &["enroll", "approve", "--server", &url, &number, "--dir", &p(ks)]);
    assert!(approve(&stranger).contains("represents BIN"), "another entity's head");
    assert!(approve(&former).contains("revoked"), "a revoked head");
    assert!(approve(&auth_only).contains("AUTH"), "an AUTH key");
    assert_eq!(show(), "awaiting_head_approval", "refusals change nothing");

    let approved = ca_json(&data, &["enroll", "approve", "--server", &url, &number, "--dir", &p(&ceo)]);
    assert_eq!(approved["state"], "awaiting_identity");
    ca_json(&data, &["application", "confirm", &number]);
    assert_eq!(show(), "issued");
}

fn post(server: &Server, path: &str, body: &Value) -> (u16, Value) {
    let r = ureq::post(&format!("{}{path}", server.url())).send_json(body);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("POST {path}: {e}"),
    };
    let status = resp.status();
    (status, resp.into_json().unwrap_or(Value::Null))
}

fn renew_action() -> SignedAction {
    let csr = |tag: &str| {
        let dir = Scratch::new(tag);
        let path = openssl_csr(dir.path(), tag, 2048);
        let pem = std::fs::read_to_string(path).unwrap();
        der::pem::decode_vec(pem.as_bytes()).unwrap().1
    };
    SignedAction::Renew { auth_csr: csr("renew-auth"), sign_csr: csr("renew-sign") }
}

#[test]
fn renewal_supersedes_the_old_pair_and_refuses_revoked_replayed_and_remote() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let ks = enroll(&data, &server, &t.join("me"), iin(30), None);
    let old_sign = t.join("old-sign.pem");
    openssl_p12(&p12(&ks, "RSA256_"), &["-nokeys", "-clcerts"], &old_sign);
    let old_auth = t.join("old-auth.pem");
    openssl_p12(&p12(&ks, "AUTH_RSA256_"), &["-nokeys", "-clcerts"], &old_auth);

    let renewed = ca_json(&data, &["enroll", "renew", "--server", &url, "--dir", &p(&ks)]);
    assert_eq!(renewed["files"].as_array().unwrap().len(), 2);
    for old in [&old_sign, &old_auth] {
        let shown = ca_json(&data, &["show", &serial_of(old)]);
        assert_eq!(shown["status"]["status"], "revoked");
        assert_eq!(shown["status"]["reason"], "superseded");
    }
    let new_sign = t.join("new-sign.pem");
    openssl_p12(&p12(&ks, "RSA256_"), &["-nokeys", "-clcerts"], &new_sign);
    assert_eq!(ca_json(&data, &["show", &serial_of(&new_sign)])["status"]["status"], "valid");

    // The superseded key renews nothing.
    let old_store = ks.join("superseded");
    let again = refused(&data, &["enroll", "renew", "--server", &url, "--dir", &p(&old_store)]);
    assert!(again.contains("revoked"), "{again}");

    // The same signed request twice: the second is a replay.
    let env = sign_as(&ks, renew_action());
    assert_eq!(post(&server, "/api/v1/renewals", &env).0, 201);
    let (status, body) = post(&server, "/api/v1/renewals", &env);
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("replayed_request")), "{body}");

    // Identity proven remotely: renewal refused, apply again instead.
    let remote =
        Person { iin: iin(31), flags: vec!["--surname", "Удалённый", "--name", "Тест", "--identification", "remote"] };
    let issued = issue(&data, t.path(), &remote, "remote");
    let remote_ks = t.join("remote-ks");
    key_store_from_openssl(t.path(), &issued, "remote", &remote_ks);
    let refusal = refused(&data, &["enroll", "renew", "--server", &url, "--dir", &p(&remote_ks)]);
    assert!(refusal.contains("not proven in person"), "{refusal}");
}

#[test]
fn operator_endpoints_need_an_operator_and_secrets_reveal_nothing() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let holder = enroll(&data, &server, &t.join("holder"), iin(40), None);
    let (_, number) = apply(&data, &server, &t.join("waiting"), iin(41), None);
    let audit_before = ca_json(&data, &["audit", "verify"])["records"].as_i64().unwrap();
    let confirm = format!("/api/v1/operator/applications/{number}/confirm");

    // No credential, garbage, a non-operator's signature: nothing changes; the
    // refusals of a holder's signatures are audited under the holder's certificate.
    assert_eq!(post(&server, &confirm, &json!({})).0, 401);
    let garbage = json!({ "request": "eyJ9", "signature": "MAA=" });
    assert_eq!(post(&server, &confirm, &garbage).0, 401);
    let (status, body) = post(&server, &confirm, &sign_as(&holder, SignedAction::Confirm { application: number.clone() }));
    assert_eq!(status, 403, "{body}");
    let (status, _) = post(
        &server,
        "/api/v1/operator/applications/pending",
        &sign_as(&holder, SignedAction::ListPending { center: None, after: None, limit: None }),
    );
    assert_eq!(status, 403);
    assert_eq!(ca_json(&data, &["application", "show", &number])["state"], "awaiting_identity");
    assert_eq!(ca_json(&data, &["audit", "verify"])["records"].as_i64().unwrap(), audit_before + 2);

    // Another applicant's number with a wrong secret: 404, and nothing about it.
    let resp = ureq::get(&format!("{url}/api/v1/applications/{number}")).set("X-Application-Secret", "guess").call();
    let Err(ureq::Error::Status(404, resp)) = resp else { panic!("expected 404") };
    let text = resp.into_string().unwrap();
    assert!(!text.contains(iin(41)) && !text.contains("awaiting"), "{text}");
    // The access log has a line per request (method, path, status, latency,
    // client) and no IIN, name or secret.
    let access: Vec<String> = server.log().into_iter().filter(|l| l.contains("access")).collect();
    let line = access.iter().find(|l| l.contains(&format!("/api/v1/applications/{number}"))).expect("the status request is logged");
    for field in ["method=GET", "status=404", "client=127.0.0.1", "micros="] {
        assert!(line.contains(field), "{field} in {line}");
    }
    assert!(access.iter().any(|l| l.contains("status=401") && l.contains("method=POST")), "{access:#?}");
    let all = server.log().join("\n");
    assert!(!all.contains(iin(41)) && !all.contains(iin(40)) && !all.contains("Тестов") && !all.contains("guess"), "{all}");

    // A real operator: certificate with the operator role, key store from openssl.
    let operator =
        Person { iin: iin(42), flags: vec!["--surname", "Операторов", "--name", "Оператор", "--staff", "ca_operator"] };
    let issued = issue(&data, t.path(), &operator, "operator");
    assert!(issued["sign"]["roles"].as_array().unwrap().contains(&json!("ca_operator")));
    let op_ks = t.join("operator-ks");
    key_store_from_openssl(t.path(), &issued, "operator", &op_ks);
    let remote = ["--server", &url, "--key-dir", &p(&op_ks)];
    let mut list = vec!["application", "list", "--center", "ЦОН Астана"];
    list.extend(remote);
    let pending = ca_json(&data, &list);
    assert!(pending.as_array().unwrap().iter().any(|a| a["number"] == number.as_str()), "{pending}");
    let mut confirm_cmd = vec!["application", "confirm", &number];
    confirm_cmd.extend(remote);
    let pair = ca_json(&data, &confirm_cmd);
    assert!(pair["sign"].as_str().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(ca_json(&data, &["application", "show", &number])["state"], "issued");
}

#[test]
fn editing_one_audit_record_makes_audit_verify_fail_and_name_it() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let ks = enroll(&data, &server, &t.join("me"), iin(50), None);
    ca_json(&data, &["enroll", "revoke", "--server", &server.url(), "--dir", &p(&ks), "--reason", "keyCompromise"]);
    drop(server);
    let ok = ca_json(&data, &["audit", "verify"]);
    assert_eq!(ok["records"], 4, "the administrator's pair, submitted, confirmed, revoked: {ok}");
    e2e::db::Db::open(&data).execute("UPDATE audit_log SET detail = 'cessationOfOperation' WHERE seq = 4", &[]);
    let err = refused(&data, &["audit", "verify"]);
    assert!(err.contains("record 4"), "{err}");
}

#[test]
fn an_application_left_thirty_days_expires_and_cannot_be_confirmed() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let (ks, number) = apply(&data, &server, &t.join("late"), iin(60), None);
    // Thirty days pass: move the submission back rather than the clock.
    let moved = e2e::db::Db::open(&data)
        .execute("UPDATE applications SET submitted_at = submitted_at - 30 * 86400 WHERE number = ?1", &[Param::Text(&number)]);
    assert_eq!(moved, 1);
    let refusal = refused(&data, &["application", "confirm", &number]);
    assert!(refusal.contains("expired"), "{refusal}");
    assert_eq!(ca_json(&data, &["application", "show", &number])["state"], "expired");
    let status = ca_json(&data, &["enroll", "status", "--server", &server.url(), &number, "--dir", &p(&ks)]);
    assert_eq!(status["state"], "expired");
    assert!(status["expires_at"].is_null());
    assert_eq!(ca_json(&data, &["list", "--iin", iin(60)]).as_array().unwrap().len(), 0, "nothing issued");
}

#[test]
fn schemathesis_finds_no_server_error_and_no_schema_violation() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let spec = format!("{}/api/v1/openapi.json", server.url());
    let out = Command::new("timeout")
        .current_dir(t.path()) // its cache (.schemathesis/) goes with the temporary directory
        .args(["600", "schemathesis", "run", &spec])
        .args(["--checks", "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"])
        .args(["--max-examples", "25", "--seed", "1", "--request-timeout", "30", "--no-color"])
        .output()
        .expect("run schemathesis (scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "schemathesis failed:\n{text}");
    assert!(text.contains("9 passed") || text.contains("passed"), "{text}");
}

#[test]
fn submissions_are_limited_per_client_and_the_queue_comes_in_pages() {
    let t = fresh_authority();
    let data = t.join("data");
    e2e::configure(&data, "limits", json!({ "submissions_per_minute": 1, "submissions_burst": 3 }));
    let server = Server::on(&data);
    // Each application with keys of its own: a key may wait in one pending application only.
    let application = |seq: u32| {
        let csr = |kind: &str| std::fs::read_to_string(openssl_csr(t.path(), &format!("limit-{seq}-{kind}"), 2048)).unwrap();
        json!({
            "applicant": { "iin": iin(seq), "surname": "Тестов", "name": "Тест", "storage": "pc", "registration_center": "ЦОН Астана" },
            "auth_csr": csr("auth"), "sign_csr": csr("sign"),
        })
    };
    let mut numbers = Vec::new();
    for seq in 60..63 {
        let (status, receipt) = post(&server, "/api/v1/applications", &application(seq));
        assert_eq!(status, 201, "{receipt}");
        numbers.push(receipt["number"].as_str().unwrap().to_string());
    }
    // The fourth from the same address within the minute: 429 with Retry-After, nothing recorded.
    let over = ureq::post(&format!("{}/api/v1/applications", server.url())).send_json(application(63));
    let Err(ureq::Error::Status(429, resp)) = over else { panic!("expected 429, got {over:?}") };
    let wait: u64 = resp.header("Retry-After").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    assert_eq!(resp.into_json::<Value>().unwrap()["error"]["code"], "rate_limited");
    let queue = ca_json(&data, &["application", "list"]);
    assert_eq!(queue.as_array().unwrap().len(), 3, "{queue}");

    // The operator reads the queue a page at a time, oldest first.
    let operator =
        Person { iin: iin(64), flags: vec!["--surname", "Операторов", "--name", "Оператор", "--staff", "ca_operator"] };
    let issued = issue(&data, t.path(), &operator, "pager");
    let op_ks = t.join("pager-ks");
    key_store_from_openssl(t.path(), &issued, "pager", &op_ks);
    let page = |after: Option<&str>, limit: Option<u32>| {
        let action = SignedAction::ListPending { center: None, after: after.map(str::to_string), limit };
        post(&server, "/api/v1/operator/applications/pending", &sign_as(&op_ks, action))
    };
    let numbers_of = |page: &Value| -> Vec<String> {
        page["applications"].as_array().unwrap().iter().map(|a| a["number"].as_str().unwrap().to_string()).collect()
    };
    let (status, first) = page(None, Some(2));
    assert_eq!(status, 200, "{first}");
    let first_numbers = numbers_of(&first);
    assert_eq!(first_numbers.len(), 2);
    assert_eq!(first["next"], first_numbers[1].as_str(), "next is the page's last application");
    let (_, second) = page(first["next"].as_str(), Some(2));
    let mut all = [first_numbers, numbers_of(&second)].concat();
    assert_eq!(all.len(), 3, "three applications in two pages: {second}");
    assert_eq!(second["next"], Value::Null, "the last page has no next");
    all.sort();
    numbers.sort();
    assert_eq!(all, numbers, "every application once");
    for limit in [0, 501] {
        let (status, body) = page(None, Some(limit));
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("invalid_request")), "limit {limit}: {body}");
    }
    // The CLI follows the pages.
    let listed = ca_json(&data, &["application", "list", "--server", &server.url(), "--key-dir", &p(&op_ks)]);
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
}

#[test]
fn fetch_legacy_writes_key_files_as_the_authority_does() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let (ks, number) = apply(&data, &server, &t.join("legacy"), iin(90), None);
    ca_json(&data, &["application", "confirm", &number]);
    ca_json(&data, &["enroll", "fetch", "--server", &server.url(), &number, "--dir", &p(&ks), "--legacy"]);
    for prefix in ["AUTH_RSA256_", "RSA256_"] {
        let file = p12(&ks, prefix);
        let v = ca_json(&data, &["inspect", "--password", KEY_PASSWORD, &p(&file)]);
        assert_eq!((v["encryption"].as_str(), v["entries"][0]["key_matches_certificate"].as_bool()), (Some("legacy"), Some(true)), "{v}");
        let text = e2e::openssl_pkcs12_info(&file, KEY_PASSWORD);
        assert!(text.contains("pbeWithSHA1And3-KeyTripleDES-CBC") && text.contains("MAC: sha1"), "{text}");
    }
}

#[test]
fn the_key_store_keeps_its_application_a_hold_keeps_the_pair_current_and_a_second_revocation_says_why() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let (ks, number) = apply(&data, &server, &t.join("me"), iin(60), None);
    ca_json(&data, &["application", "confirm", &number]);
    ca_json(&data, &["enroll", "fetch", "--server", &url, &number, "--dir", &p(&ks)]);
    // After fetching, the application is still there to be asked about, without --secret.
    assert!(ks.join("application.json").exists(), "fetch removed application.json");
    assert_eq!(ca_json(&data, &["enroll", "status", "--server", &url, &number, "--dir", &p(&ks)])["state"], "issued");

    // A hold by the owner: the files stay current; once a manager lifts it, they work.
    let sign = t.join("sign.pem");
    openssl_p12(&p12(&ks, "RSA256_"), &["-nokeys", "-clcerts"], &sign);
    ca_json(&data, &["enroll", "revoke", "--server", &url, "--dir", &p(&ks), "--reason", "certificateHold"]);
    assert!(!ks.join("revoked").exists(), "a hold moved the pair to revoked/");
    assert_eq!(ca_json(&data, &["show", &serial_of(&sign)])["status"]["status"], "hold");
    ca_json(&data, &["unhold", &serial_of(&sign)]);
    let renewed = ca_json(&data, &["enroll", "renew", "--server", &url, "--dir", &p(&ks)]);
    assert_eq!(renewed["files"].as_array().unwrap().len(), 2, "{renewed}");

    // Revoked for good: the files move to revoked/, and a second revocation says so.
    ca_json(&data, &["enroll", "revoke", "--server", &url, "--dir", &p(&ks), "--reason", "keyCompromise"]);
    let again = refused(&data, &["enroll", "revoke", "--server", &url, "--dir", &p(&ks), "--reason", "keyCompromise"]);
    assert!(again.contains("was revoked") && again.contains("apply for a new pair") && !again.contains("fetch"), "{again}");

    // A new application from the same key store replaces the finished one.
    let (_, second) = apply(&data, &server, &ks, iin(60), None);
    assert_ne!(second, number);
}

#[test]
fn the_same_requests_again_are_refused_at_submission_not_at_confirmation() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let (ks, first) = apply(&data, &server, &t.join("me"), iin(61), None);
    let csr = |name: &str| std::fs::read_to_string(ks.join("pending").join(name)).unwrap();
    let body = serde_json::json!({
        "applicant": { "iin": iin(61), "surname": "Тестов", "name": "Тест", "storage": "pc", "registration_center": "ЦОН Астана" },
        "auth_csr": csr("auth.csr"),
        "sign_csr": csr("sign.csr"),
    });
    let post = |body: &Value| -> (u16, Value) {
        match ureq::post(&format!("{}/api/v1/applications", server.url())).send_json(body.clone()) {
            Ok(r) => (r.status(), r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (status, error) = post(&body);
    assert_eq!(status, 400, "the same keys were accepted twice: {error}");
    assert_eq!(error["error"]["code"], "key_reused", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("already in a pending application"), "{error}");
    // One of the two keys again, with a new other: refused all the same.
    let other = e2e::openssl_csr(t.path(), "other", 2048);
    let mixed = serde_json::json!({
        "applicant": body["applicant"], "auth_csr": std::fs::read_to_string(other).unwrap(), "sign_csr": csr("sign.csr"),
    });
    assert_eq!(post(&mixed).0, 400, "the SIGN key is pending");
    // Once the first application is rejected, its keys are free for a new one.
    ca_json(&data, &["application", "reject", &first, "--reason", "the photo does not match"]);
    assert_eq!(post(&body).0, 201);
}

#[test]
fn markup_bidi_and_addresses_that_are_no_mailbox_are_refused_before_anything_is_stored() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let csr = |kind: &str| std::fs::read_to_string(openssl_csr(t.path(), &format!("markup-{kind}"), 2048)).unwrap();
    let (auth, sign) = (csr("auth"), csr("sign"));
    let application = |email: Option<&str>, center: &str| {
        serde_json::json!({
            "applicant": { "iin": iin(71), "surname": "Тестов", "name": "Тест", "email": email, "storage": "pc", "registration_center": center },
            "auth_csr": auth, "sign_csr": sign,
        })
    };
    let refusals = [
        (application(Some("<script>alert(1)</script>@x.kz"), "ЦОН Астана"), "bad_email", "email"),
        (application(Some("a..b@x.kz"), "ЦОН Астана"), "bad_email", "email"),
        (application(None, "<b>ЦОН</b> Астана"), "bad_character", "registration_center"),
        (application(None, "ЦОН \u{202e}анатсА"), "bad_character", "registration_center"),
        (application(None, "ЦОН\u{7}Астана"), "bad_character", "registration_center"),
    ];
    for (body, reason, field) in refusals {
        let (status, error) = post(&server, "/api/v1/applications", &body);
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["code"], "invalid_application", "{error}");
        assert_eq!((error["error"]["reason"].as_str(), error["error"]["field"].as_str()), (Some(reason), Some(field)), "{error}");
    }
    // Nothing was stored; the same keys with good data go through.
    assert_eq!(ca_json(&data, &["application", "list"]).as_array().map(Vec::len), Some(0));
    let (status, receipt) = post(&server, "/api/v1/applications", &application(Some("o'neil+kz@mail.kz"), "ЦОН Астана"));
    assert_eq!(status, 201, "{receipt}");
    // An operator's reason for a rejection is held to the same rule.
    let number = receipt["number"].as_str().unwrap();
    let out = ca(&data, &["application", "reject", number, "--reason", "<img src=x onerror=alert(1)>"]);
    assert!(!out.status.success(), "markup accepted as a reason");
    assert_eq!(ca_json(&data, &["application", "show", number])["state"], "awaiting_identity");
}
