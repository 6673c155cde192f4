//! Every request example in the OpenAPI document is accepted by the server: the
//! new application as it stands; each signed request's example signed by a holder,
//! head or operator of the kind the operation wants (an application number taken
//! from an application that exists); the verification examples (the national
//! authority's real signatures) with its test CA trusted. A client built from the
//! document alone sends what these send.

use ca_core::api::{SignedAction, SignedRequest};
use e2e::{administrator, apply, ca_as, ca_json, configure, enroll, fresh_authority, iin, reference, sign_as, Server};
use serde_json::Value;

/// The document as the server serves it.
fn doc(base: &str) -> Value {
    ureq::get(&format!("{base}/api/v1/openapi.json")).call().unwrap().into_json().unwrap()
}

fn post(url: &str, body: &Value) -> (u16, Value) {
    match ureq::post(url).send_json(body.clone()) {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or_default()),
        Err(e) => panic!("POST {url}: {e}"),
    }
}

/// The signed request example of `schema`, with `application` put in when it names one.
fn signed_example(doc: &Value, schema: &str, application: Option<&str>) -> SignedAction {
    let mut example = doc["components"]["schemas"][schema]["example"].clone();
    if let Some(number) = application {
        example["application"] = Value::from(number);
    }
    serde_json::from_value::<SignedRequest>(example).unwrap_or_else(|e| panic!("{schema}'s example: {e}")).action
}

#[test]
fn every_request_example_in_the_api_document_is_accepted() {
    let t = fresh_authority();
    let data = t.join("data");
    // The verification examples are the national authority's real documents.
    configure(&data, "verify", serde_json::json!({"trust": [reference("nca_rsa_test.pem")]}));
    let server = Server::on(&data);
    let base = server.url();
    let doc = doc(&base);
    let schemas = &doc["components"]["schemas"];
    let url = |path: &str, number: Option<&str>| format!("{base}{}", path.replace("{number}", number.unwrap_or("")));

    // A new application, exactly as the example has it; followed with the parameters' form.
    let (status, receipt) = post(&url("/api/v1/applications", None), &schemas["NewApplication"]["example"]);
    assert_eq!(status, 201, "{receipt}");
    let number = receipt["number"].as_str().unwrap().to_string();
    let view = ureq::get(&url("/api/v1/applications/{number}", Some(&number)))
        .set("X-Application-Secret", receipt["secret"].as_str().unwrap())
        .call()
        .unwrap();
    assert_eq!(view.status(), 200);

    // An operator, a head with an employee waiting, two holders.
    let operator = t.join("operator");
    let add = ["operator", "add", "--role", "ca_operator", "--iin", iin(100), "--surname", "Операторов", "--name", "Тест", "--out"];
    assert!(ca_as(&data, administrator(&data).as_deref(), &add, Some(&operator)).status.success());
    let bin = "040840000124";
    let head = enroll(&data, &server, &t.join("head"), iin(101), Some((bin, "ceo")));
    let (_, employee) = apply(&data, &server, &t.join("employee"), iin(106), Some((bin, "employee")));
    let (_, to_reject) = apply(&data, &server, &t.join("rejected"), iin(103), None);
    let renewing = enroll(&data, &server, &t.join("renewing"), iin(104), None);
    let revoking = enroll(&data, &server, &t.join("revoking"), iin(105), None);

    let cases: [(&str, &str, Option<&str>, &std::path::Path, u16); 6] = [
        ("/api/v1/operator/applications/pending", "SignedRequestListPending", None, &operator, 200),
        ("/api/v1/operator/applications/{number}/confirm", "SignedRequestConfirm", Some(&number), &operator, 200),
        ("/api/v1/operator/applications/{number}/reject", "SignedRequestReject", Some(&to_reject), &operator, 200),
        ("/api/v1/applications/{number}/approval", "SignedRequestApprove", Some(&employee), &head, 200),
        ("/api/v1/renewals", "SignedRequestRenew", None, &renewing, 201),
        ("/api/v1/revocations", "SignedRequestRevoke", None, &revoking, 200),
    ];
    for (path, schema, application, signer, expected) in cases {
        let op = doc["paths"][path].as_object().unwrap().values().next().unwrap();
        assert_eq!(op["x-signed-request"]["$ref"], format!("#/components/schemas/{schema}").as_str(), "{path}");
        let envelope = sign_as(signer, signed_example(&doc, schema, application));
        let (status, answer) = post(&url(path, application), &envelope);
        assert_eq!(status, expected, "{path} with {schema}'s example: {answer}");
    }
    assert_eq!(ca_json(&data, &["application", "show", &number])["state"], "issued");
    assert_eq!(ca_json(&data, &["application", "show", &employee])["state"], "awaiting_identity");

    // The verification examples: accepted, and valid.
    for (path, schema) in
        [("/api/v1/verify/certificate", "CertificateCheck"), ("/api/v1/verify/cms", "CmsCheck"), ("/api/v1/verify/xml", "XmlCheck")]
    {
        let (status, verdict) = post(&url(path, None), &schemas[schema]["example"]);
        assert_eq!(status, 200, "{path}: {verdict}");
        assert_eq!(verdict["valid"], true, "{path}: {verdict}");
    }
}
