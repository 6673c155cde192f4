//! Second opinion: Python `cryptography` reads our certificates and sees the national
//! profile — key usage, EKU, policies, subject attribute order and string types,
//! signatures verifying up to our root.

use e2e::{fresh_authority, issue, run_ok};
use std::process::Command;

const SCRIPT: &str = r#"
import sys, json
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtensionOID
from cryptography.x509.name import _ASN1Type
load = lambda p: x509.load_pem_x509_certificate(open(p, 'rb').read())
root, issuing, auth, sign = map(load, sys.argv[1:5])
for child, parent in [(issuing, root), (auth, issuing), (sign, issuing), (root, root)]:
    child.verify_directly_issued_by(parent)
out = {}
for name, c in [("auth", auth), ("sign", sign)]:
    ku = c.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE)
    eku = c.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    pol = c.extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value
    out[name] = {
        "ku_critical": ku.critical,
        "digital_signature": ku.value.digital_signature,
        "non_repudiation": ku.value.content_commitment,
        "key_encipherment": ku.value.key_encipherment,
        "eku": [o.dotted_string for o in eku],
        "policies": [p.policy_identifier.dotted_string for p in pol],
        "subject": [(a.oid.dotted_string, a._type.name, a.value) for a in c.subject],
        "serial_bytes": (c.serial_number.bit_length() + 7) // 8,
        "days": (c.not_valid_after_utc - c.not_valid_before_utc).days,
    }
print(json.dumps(out))
"#;

#[test]
fn python_cryptography_reads_the_profile() {
    let ca = fresh_authority();
    let data = ca.join("data");
    let v = issue(&data, ca.path(), &e2e::individual(), "py");
    let files: Vec<&str> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let out = run_ok(Command::new("python3").args(["-c", SCRIPT]).arg(data.join("root.pem")).arg(data.join("issuing.pem")).args(&files));
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let auth = &r["auth"];
    assert_eq!(auth["ku_critical"], true);
    assert_eq!(
        (auth["digital_signature"].as_bool(), auth["key_encipherment"].as_bool(), auth["non_repudiation"].as_bool()),
        (Some(true), Some(true), Some(false))
    );
    assert_eq!(auth["eku"], serde_json::json!(["1.3.6.1.5.5.7.3.2", "1.2.398.3.3.4.1.1", "1.2.398.3.3.4.3.1"]));
    assert_eq!(auth["policies"], serde_json::json!(["1.2.398.3.3.2.4"]));
    let sign = &r["sign"];
    assert_eq!(
        (sign["digital_signature"].as_bool(), sign["key_encipherment"].as_bool(), sign["non_repudiation"].as_bool()),
        (Some(true), Some(false), Some(true))
    );
    assert_eq!(sign["eku"][0], "1.3.6.1.5.5.7.3.4");
    assert_eq!(sign["policies"], serde_json::json!(["1.2.398.3.3.2.3"]));
    assert_eq!(
        sign["subject"],
        serde_json::json!([
            ["2.5.4.3", "UTF8String", "ТЕСТОВ ТЕСТ"],
            ["2.5.4.4", "UTF8String", "ТЕСТОВ"],
            ["2.5.4.5", "PrintableString", "IIN880515300120"],
            ["2.5.4.6", "PrintableString", "KZ"],
            ["2.5.4.42", "UTF8String", "ТЕСТОВИЧ"]
        ])
    );
    assert_eq!(sign["serial_bytes"], 20);
    let days = sign["days"].as_i64().unwrap();
    assert!(days == 365 || days == 366, "{days}");
}
