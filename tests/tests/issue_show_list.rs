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
