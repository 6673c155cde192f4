//! Acceptance: the authority's staff are certificate holders. Every state-changing
//! console command is signed with the staff member's own key and checked against
//! their role and status, like the API's operator endpoints; a refusal is audited
//! under the signer's certificate; the first administrator alone is added by the
//! CA passphrase holder; no user name from the environment names anyone.

use ca_core::api::SignedAction;
use e2e::{administrator, ca_as, ca_json, fresh_authority, iin, individual, issue, p, sign_as, Server};
use std::path::Path;

/// (actor, action, object) of every audit record, in order.
fn audit_log(data: &Path) -> Vec<(String, String, String)> {
    let rows = e2e::db::Db::open(data).rows("SELECT actor, action, object FROM audit_log ORDER BY seq", &[]);
    rows.iter().map(|r| (r[0].text(), r[1].text(), r[2].text())).collect()
}

fn refused(out: std::process::Output, says: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "should be refused: {err}");
    assert!(err.contains(says), "expected {says:?} in: {err}");
}

#[test]
fn console_actions_are_signed_by_staff_checked_by_role_and_audited_by_certificate() {
    let t = fresh_authority();
    let data = t.join("data");
    let admin = administrator(&data).unwrap();
    let add = |role: &str, seq: u32, surname: &'static str, out: &Path, key: Option<&Path>| {
        let args = ["operator", "add", "--role", role, "--iin", iin(seq), "--surname", surname, "--name", "Тест", "--out"];
        ca_as(&data, key, &[&["--json"][..], &args].concat(), Some(out))
    };

    // The key holder alone added the first administrator; a second needs an administrator.
    refused(add("ca_administrator", 80, "Второй", &t.join("admin2"), None), "an administrator exists");
    let op_ks = t.join("operator");
    let mgr_ks = t.join("manager");
    let serial_of = |out: std::process::Output| -> String {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["sign"].as_str().unwrap().to_string()
    };
    let op = serial_of(add("ca_operator", 81, "Операторов", &op_ks, Some(&admin)));
    let mgr = serial_of(add("ca_manager", 82, "Менеджеров", &mgr_ks, Some(&admin)));
    // An operator cannot add staff.
    refused(add("ca_operator", 83, "Лишний", &t.join("extra"), Some(&op_ks)), "may not manage staff");
    let staff = ca_json(&data, &["operator", "list"]);
    let roles: Vec<&str> = staff.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles.len(), 3, "{staff}");
    for role in ["ca_administrator", "ca_operator", "ca_manager"] {
        assert!(roles.contains(&role), "{staff}");
    }

    // A holder's certificate to revoke.
    let issued = issue(&data, t.path(), &individual(), "holder");
    let target = issued["auth"]["serial"].as_str().unwrap().to_string();
    let revoke = ["revoke", target.as_str(), "--reason", "keyCompromise"];
    // No staff key: refused, whatever $USER says.
    refused(ca_as(&data, None, &revoke, None), "--operator-key");
    // An operator's role does not allow it: refused and audited under the operator's certificate.
    refused(ca_as(&data, Some(&op_ks), &revoke, None), "may not revoke");
    let log = audit_log(&data);
    let last = log.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str(), last.2.as_str()),
        (format!("operator:{op}").as_str(), "staff_refused", "revoke_certificate")
    );
    assert_eq!(ca_json(&data, &["show", &target])["status"]["status"], "valid");
    // A manager's is allowed, and the record names the manager's certificate.
    assert!(ca_as(&data, Some(&mgr_ks), &revoke, None).status.success());
    let last = audit_log(&data).pop().unwrap();
    assert_eq!((last.0, last.1, last.2), (format!("operator:{mgr}"), "certificate_revoked".into(), target.clone()));
    assert!(audit_log(&data).iter().all(|(actor, ..)| !actor.starts_with("console:")), "nobody is named by a user name");

    // The administrator revokes the operator: the operator's next action is refused
    // and audited, on the console and through the API.
    let revoked = ca_json(&data, &["operator", "revoke", &op]);
    assert_eq!(revoked.as_array().unwrap().len(), 2, "both certificates of the pair: {revoked}");
    refused(ca_as(&data, Some(&op_ks), &["application", "confirm", "1234567890123456"], None), "revoked");
    let server = Server::on(&data);
    let before = audit_log(&data).len();
    let body = sign_as(&op_ks, SignedAction::ListPending { center: None, after: None, limit: None });
    let resp = ureq::post(&format!("{}/api/v1/operator/applications/pending", server.url())).send_json(body);
    let Err(ureq::Error::Status(403, _)) = resp else { panic!("a revoked operator must be refused: {resp:?}") };
    let log = audit_log(&data);
    assert_eq!(log.len(), before + 1);
    assert_eq!((log[before].0.as_str(), log[before].1.as_str()), (format!("operator:{op}").as_str(), "staff_refused"));
    // The key store `ca operator add` wrote works for the operator API as it is (a manager's).
    let listed = ca_json(&data, &["application", "list", "--server", &server.url(), "--key-dir", &p(&mgr_ks)]);
    assert!(listed.is_array(), "{listed}");
}

#[test]
fn one_command_gives_an_operator_a_working_credential_and_its_sign_key_file_alone_will_do() {
    let t = fresh_authority();
    let data = t.join("data");
    let admin = administrator(&data).unwrap();
    let server = Server::on(&data);
    let url = server.url();
    // `ca operator add`: keys, pair and key store in one step.
    let op_ks = t.join("operator");
    let args = ["operator", "add", "--role", "ca_operator", "--iin", iin(90), "--surname", "Операторов", "--name", "Тест", "--out"];
    assert!(ca_as(&data, Some(&admin), &args, Some(&op_ks)).status.success());
    let list = |ks: &Path| ca_as(&data, None, &["--json", "application", "list", "--server", &url, "--key-dir", &p(ks)], None);
    assert!(list(&op_ks).status.success(), "{}", String::from_utf8_lossy(&list(&op_ks).stderr));

    // A folder holding only the SIGN key file is enough over HTTP: requests are signed with it.
    let sign_only = t.join("sign-only");
    std::fs::create_dir(&sign_only).unwrap();
    let sign = std::fs::read_dir(&op_ks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|f| f.file_name().unwrap().to_string_lossy().starts_with("RSA256_"));
    let sign = sign.expect("the SIGN key file");
    std::fs::copy(&sign, sign_only.join(sign.file_name().unwrap())).unwrap();
    let out = list(&sign_only);
    assert!(out.status.success(), "one SIGN file must do: {}", String::from_utf8_lossy(&out.stderr));

    // What is wrong with a folder is said as it is.
    let empty = t.join("empty");
    std::fs::create_dir(&empty).unwrap();
    refused(list(&empty), "holds no SIGN key file (RSA256_*.p12 or GOSTKNCA_*.p12)");
    std::fs::copy(&sign, sign_only.join("RSA256_other.p12")).unwrap();
    refused(list(&sign_only), "holds 2 SIGN key files");

    // `ca issue --staff` writes certificates only, and says where a key store comes from.
    let issued = issue(
        &data,
        t.path(),
        &e2e::Person { iin: iin(91), flags: vec!["--surname", "Б", "--name", "В", "--staff", "ca_operator"] },
        "staff",
    );
    assert!(
        issued["note"].as_str().unwrap().contains("`ca operator add` makes the keys, the pair and the key store in one step"),
        "{issued}"
    );
}
