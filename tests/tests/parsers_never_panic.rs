//! Property tests over every parser that reads outside input: PKCS#10 requests,
//! OCSP requests (as the responder reads them) and responses (as a relying party
//! reads them), PKCS#12 key files, CMS signatures (as the RA and as a relying party
//! read them), XML documents and their signatures, CRLs, time-stamp requests (as
//! our authority reads them) and responses, and the API's JSON bodies.
//! Each starts from real files (made by openssl, by the national authority, by
//! us) and mutates them: bytes replaced, inserted, deleted, the file cut short.
//! Whatever comes in, the parser answers with a value or an error, never a panic;
//! 100,000 cases each (`PARSER_CASES` overrides, for a quick run).

use ca_core::api::{Envelope, NewApplication, SignedRequest};
use ca_core::signing::{Signer, SigningError};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::PathBuf;
use x509_cert::Certificate;

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases() -> u32 {
    std::env::var("PARSER_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(100_000)
}

/// One edit of a file.
#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Replace(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<usize>().prop_map(Edit::Delete),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for e in edits {
        let len = out.len().max(1);
        match *e {
            Edit::Replace(i, b) if !out.is_empty() => out[i % len] = b,
            Edit::Insert(i, b) => out.insert(i % (out.len() + 1), b),
            Edit::Delete(i) if !out.is_empty() => {
                out.remove(i % len);
            }
            Edit::Truncate(i) => out.truncate(i % len),
            _ => {}
        }
    }
    out
}

/// Run `parse` over mutations of `seeds`: it must return (whatever it returns).
fn never_panics(what: &str, seeds: Vec<Vec<u8>>, parse: impl Fn(&[u8])) {
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let strategy = (0..seeds.len(), prop::collection::vec(edit(), 0..6));
    runner
        .run(&strategy, |(seed, edits)| {
            let input = apply(&seeds[seed], &edits);
            parse(&input);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

#[test]
fn csr_parser() {
    let ours = fixtures::ApplicantKey::generate(2048).csr_der("ТЕСТОВ ТЕСТ");
    let pem = fixtures::ApplicantKey::generate(2048).csr_pem("x").into_bytes();
    never_panics("CSR", vec![data("fuzz/openssl.csr.der"), ours, pem], |b| {
        let _ = ca_core::csr::verify_csr(b);
    });
}

/// A signer that is never asked to sign: the responder refuses before it would.
struct NoSigner(SubjectPublicKeyInfoOwned);

impl Signer for NoSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        ca_core::signing::sha256_with_rsa()
    }
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.0
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, SigningError> {
        Err(SigningError::Sign)
    }
}

struct AllGood;

impl ocsp::StatusSource for AllGood {
    fn status(&self, _: ca_core::model::Family, _: &[u8]) -> Result<ocsp::CertState, ocsp::StatusUnavailable> {
        Ok(ocsp::CertState::Good)
    }
}

fn nca_ca() -> Certificate {
    use der::DecodePem;
    Certificate::from_pem(data("nca-test/nca_rsa_test.pem")).unwrap()
}

#[test]
fn ocsp_request_parser() {
    let ca = nca_ca();
    let signer = NoSigner(ca.tbs_certificate.subject_public_key_info.clone());
    let responder = ocsp::Responder::new(
        vec![ocsp::ResponderCa { issuer: ca.clone(), responder: ca.clone(), signer: Box::new(signer) }],
        Box::new(AllGood),
        std::time::Duration::from_secs(60),
        1 << 20,
    )
    .unwrap();
    let seeds = vec![data("fuzz/openssl-nonce.ocsp-request.der"), data("fuzz/openssl-sha256.ocsp-request.der")];
    never_panics("OCSP request", seeds, |b| {
        // No signature: the parsing, checks and status lookup are what is tried.
        let _ = responder.respond_within(b, 1_800_000_000, &|| false);
    });
}

#[test]
fn ocsp_response_reader() {
    let ca = nca_ca();
    never_panics("OCSP response", vec![data("nca-test/ocsp_good_rsa.der")], |b| {
        let _ = ocsp::read_response(b, Some(&ca));
    });
}

#[test]
fn pkcs12_reader() {
    let seeds = vec![data("fuzz/openssl-iter1.p12"), data("fuzz/nca-legacy.p12")];
    never_panics("PKCS#12", seeds, |b| {
        let _ = ca_core::pkcs12::read(b, "fuzz");
        let _ = ca_core::pkcs12::read(b, "Qwerty12");
    });
}

#[test]
fn cms_verifier() {
    let key = fixtures::ApplicantKey::generate(2048);
    let request = br#"{"action":"confirm","application":"1234567890123456","nonce":"00112233445566778899aabbccddeeff"}"#;
    let ours = our_envelope(&key, request);
    let seeds = vec![data("fuzz/openssl-detached.p7s"), data("fuzz/nca.cms"), ours];
    never_panics("CMS", seeds, |b| {
        let _ = ca_core::cms::verify_detached(b, request);
    });
}

fn relying_verifier() -> ca_core::verify::Verifier {
    use ca_core::verify::{RevocationChecker, TrustStore, Verifier};
    Verifier::new(TrustStore::new(vec![nca_ca()]), RevocationChecker::none())
}

fn june_2020() -> der::DateTime {
    der::DateTime::new(2020, 6, 1, 0, 0, 0).unwrap()
}

#[test]
fn relying_party_cms_verifier() {
    let verifier = relying_verifier();
    let seeds = ["RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9", "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b"]
        .iter()
        .map(|n| ca_core::pem::read_der(&data(&format!("nca-test/{n}.cms"))).unwrap())
        .collect();
    never_panics("CMS document", seeds, |b| {
        let _ = ca_core::cms::verify_document(b, None, &verifier, ca_core::verify::Purpose::Sign, Some(june_2020()));
    });
}

#[test]
fn xml_signature_verifier() {
    let verifier = relying_verifier();
    let seeds = ["RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9", "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b"]
        .iter()
        .map(|n| data(&format!("nca-test/{n}.xml")))
        .collect();
    let exclusive = ca_core::xml::c14n::Method::Exclusive { comments: true, inclusive_prefixes: vec![None] };
    never_panics("XML", seeds, |b| {
        if let Ok(doc) = ca_core::xml::Document::parse(b) {
            let _ = ca_core::xml::c14n::document(&doc, &exclusive, None, true);
        }
        let _ = ca_core::xml::dsig::verify_document(b, &verifier, ca_core::verify::Purpose::Sign, Some(june_2020()));
    });
}

#[test]
fn crl_and_ocsp_status_checks() {
    use ca_core::verify::revocation::{check_ocsp_response, Crl, RevocationPolicy};
    let ca = nca_ca();
    let policy = RevocationPolicy::default();
    let cert = {
        use der::DecodePem;
        Certificate::from_pem(data("nca-test/individual_sign_rsa.pem")).unwrap()
    };
    never_panics("status", vec![data("nca-test/ocsp_good_rsa.der"), data("nca-test/nca_rsa_test.crl")], |b| {
        let _ = check_ocsp_response(b, &cert, &ca, Some(b"nonce"), june_2020(), &policy);
        let _ = Crl::verified(b, &ca);
    });
}

#[test]
fn time_stamp_requests_and_responses() {
    use ca_core::tsp::{self, TimeStampAuthority};
    let key = fixtures::ApplicantKey::generate(2048);
    let signer = ca_core::signing::SigningKey::from_pkcs8(key.pkcs8_der()).unwrap();
    let cert = {
        use der::DecodePem;
        Certificate::from_pem(data("fuzz/openssl-self.pem")).unwrap()
    };
    let tsa = TimeStampAuthority::new(Box::new(signer), cert, vec![], ca_core::oid::POLICY_REGULATIONS);
    let (request, nonce) = tsp::request(b"stamped").unwrap();
    let now = ca_core::calendar::now();
    let response = tsa.respond(&request, now);
    never_panics("time-stamp", vec![request, response], |b| {
        let _ = tsa.respond(b, now);
        let _ = tsp::check_response(b, b"stamped", Some(&nonce));
    });
}

/// A detached CMS over `content` from our signer (the certificate need not match).
fn our_envelope(key: &fixtures::ApplicantKey, content: &[u8]) -> Vec<u8> {
    use der::DecodePem;
    let cert = Certificate::from_pem(data("fuzz/openssl-self.pem")).unwrap();
    let signer = ca_core::signing::RsaSigner::from_pkcs8(key.pkcs8_der()).unwrap();
    ca_core::cms::sign_detached(content, &signer, &cert, ca_core::calendar::now()).unwrap()
}

#[test]
fn api_json_bodies() {
    let application = r#"{"applicant":{"iin":"880515300120","surname":"Тестов","name":"Тест","patronymic":null,"email":"a@b.kz",
        "entity":{"bin":"040840000124","organization":"ТОО","role":"ceo"},"storage":"pc","registration_center":"ЦОН"},
        "auth_csr":"MIIB","sign_csr":"-----BEGIN CERTIFICATE REQUEST-----"}"#
        .as_bytes()
        .to_vec();
    let envelope = br#"{"request":"eyJhY3Rpb24iOiJjb25maXJtIn0=","signature":"MIIBAAA="}"#.to_vec();
    let requests = [
        r#"{"action":"list_pending","center":"ЦОН","after":"1","limit":500,"nonce":"00112233445566778899aabbccddeeff"}"#,
        r#"{"action":"revoke_certificate","serial":"0a1b","reason":"keyCompromise","invalidity_date":null,"nonce":"00"}"#,
        r#"{"action":"issue_pair","iin":"1","staff":"ca_operator","auth_csr_sha256":"","sign_csr_sha256":"","nonce":"0"}"#,
        r#"{"action":"renew","auth_csr":"A","sign_csr":"B","nonce":"0"}"#,
    ];
    let mut seeds = vec![application, envelope];
    seeds.extend(requests.iter().map(|r| r.as_bytes().to_vec()));
    never_panics("JSON bodies", seeds, |b| {
        if let Ok(app) = serde_json::from_slice::<NewApplication>(b) {
            let _ = ca_core::registration::csr_bytes("auth_csr", &app.auth_csr);
            let _ = ca_core::registration::applicant_of(&app.applicant, ca_core::calendar::Date::of(&ca_core::calendar::now()));
        }
        let _ = serde_json::from_slice::<Envelope>(b);
        if let Ok(r) = serde_json::from_slice::<SignedRequest>(b) {
            let _ = r.action.staff_action();
        }
    });
}
