//! The operator's view: `ca issue` writes the files named after the key id, and
//! `ca show` / `ca list` report what the database holds.

use e2e::{ca_json, fresh_authority, issue};
use std::path::Path;

#[test]
fn issued_pair_is_listed_and_shown() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let v = issue(&data, ca.path(), &e2e::ceo(), "op");
    let auth_serial = v["auth"]["serial"].as_str().unwrap().to_string();
    let files: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let key_id = v["auth"]["key_id"].as_str().unwrap();
    assert_eq!(key_id.len(), 40);
    assert_eq!(Path::new(files[0]).file_name().unwrap().to_str().unwrap(), format!("AUTH_RSA256_{key_id}.cer"));
    let sign_id = v["sign"]["key_id"].as_str().unwrap();
    assert_eq!(Path::new(files[1]).file_name().unwrap().to_str().unwrap(), format!("RSA256_{sign_id}.cer"));

    let shown = ca_json(&data, &["show", &auth_serial.to_uppercase()]);
    assert_eq!(shown["serial"], auth_serial);
    assert_eq!(shown["key_type"], "AUTH");
    assert_eq!(shown["status"]["status"], "valid");
    assert_eq!(shown["owner"]["bin"], "040840000124");
    assert_eq!(shown["roles"], serde_json::json!(["ceo"]));
    assert_eq!(shown["identification"], "in_person");
    assert_eq!(shown["iin_check_digit_valid"], true);
    // The stored certificate is the one written to the file.
    assert_eq!(shown["pem"].as_str().unwrap(), std::fs::read_to_string(files[0]).unwrap());

    assert_eq!(e2e::holders_certificates(&data), 2, "the pair, besides the administrator's");
    assert_eq!(ca_json(&data, &["list", "--iin", "880515300120"]).as_array().unwrap().len(), 2);
    assert_eq!(ca_json(&data, &["list", "--bin", "040840000124", "--status", "valid"]).as_array().unwrap().len(), 2);
    assert_eq!(ca_json(&data, &["list", "--iin", "950101300036"]).as_array().unwrap().len(), 0);
    assert_eq!(ca_json(&data, &["list", "--status", "revoked"]).as_array().unwrap().len(), 0);
    assert_eq!(ca_json(&data, &["list", "--status", "expired"]).as_array().unwrap().len(), 0);
    let missing = e2e::ca(&data, &["show", "00"]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn a_hold_and_a_revocation_show_their_reason_and_time_and_are_listed_apart() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let v = issue(&data, ca.path(), &e2e::individual(), "hold");
    let auth = v["auth"]["serial"].as_str().unwrap().to_string();
    let sign = v["sign"]["serial"].as_str().unwrap().to_string();
    ca_json(&data, &["revoke", &auth, "--reason", "certificateHold"]);
    ca_json(&data, &["revoke", &sign, "--reason", "keyCompromise", "--invalidity-date", "2026-01-02T03:04:05Z"]);

    let held = ca_json(&data, &["show", &auth]);
    assert_eq!(held["status"]["status"], "hold");
    assert_eq!(held["status"]["reason"], "certificateHold");
    let revoked = ca_json(&data, &["show", &sign]);
    assert_eq!(revoked["status"]["status"], "revoked");
    assert_eq!(revoked["status"]["invalidity_date"], "2026-01-02T03:04:05Z");
    let at = revoked["status"]["revoked_at"].as_str().unwrap().to_string();

    // The text says which, why and when.
    let text = |args: &[&str]| String::from_utf8_lossy(&e2e::ca(&data, args).stdout).into_owned();
    let shown = text(&["show", &sign]);
    assert!(shown.contains(&format!("revoked (keyCompromise) at {at}, key invalid since 2026-01-02T03:04:05Z")), "{shown}");
    let shown = text(&["show", &auth]);
    assert!(shown.contains("hold (certificateHold) since "), "{shown}");
    let listed = text(&["list", "--iin", "880515300120"]);
    assert!(listed.contains("hold (certificateHold) since") && listed.contains("revoked (keyCompromise) at"), "{listed}");

    // `--status hold` selects the hold; `--status revoked` the revocation for good.
    let serials = |status: &str| -> Vec<String> {
        let list = ca_json(&data, &["list", "--iin", "880515300120", "--status", status]);
        list.as_array().unwrap().iter().map(|c| c["serial"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(serials("hold"), vec![auth.clone()]);
    assert_eq!(serials("revoked"), vec![sign]);
    ca_json(&data, &["unhold", &auth]);
    assert!(serials("hold").is_empty());
    assert_eq!(ca_json(&data, &["show", &auth])["status"]["status"], "valid");
}
