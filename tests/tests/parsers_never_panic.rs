//! Property tests over every parser that reads outside input: PKCS#10 requests,
//! OCSP requests (as the responder reads them) and responses (as a relying party
//! reads them), PKCS#12 key files, CMS signatures (as the RA and as a relying party
//! read them), XML documents and their signatures, CRLs, time-stamp requests (as
//! our authority reads them) and responses, and the API's JSON bodies.
//! Each starts from real files (made by openssl, by the national authority, by
//! us) and mutates them: bytes replaced, inserted, deleted, the file cut short.
//! Whatever comes in, the parser answers with a value or an error, never a panic;
//! 100,000 cases each (`PARSER_CASES` overrides, for a quick run). Each seed must
//! first be accepted as it is, so a broken seed cannot make every case fail at the
//! first check while the test passes.

use base64ct::Encoding;
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
/// `parse` says whether it accepted its input; every seed, unmutated, must be.
fn never_panics(what: &str, seeds: Vec<Vec<u8>>, parse: impl Fn(&[u8]) -> bool) {
    for (i, seed) in seeds.iter().enumerate() {
        assert!(parse(seed), "{what}: seed {i} is not accepted as it is, so its mutations would test nothing past the first check");
    }
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
    never_panics("CSR", vec![data("fuzz/openssl.csr.der"), ours, pem], |b| ca_core::csr::verify_csr(b).is_ok());
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

/// The authority's test SIGN key file (password Qwerty12): a key and its certificate.
fn nca_key_file() -> ca_core::pkcs12::KeyStore {
    ca_core::pkcs12::read(&data("nca-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12"), "Qwerty12").unwrap()
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
        // Accepted: anything but malformedRequest.
        let answer = responder.respond_within(b, 1_800_000_000, &|| false);
        <x509_ocsp::OcspResponse as der::Decode>::from_der(&answer.der)
            .is_ok_and(|r| r.response_status != x509_ocsp::OcspResponseStatus::MalformedRequest)
    });
}

#[test]
fn ocsp_response_reader() {
    let ca = nca_ca();
    never_panics("OCSP response", vec![data("nca-test/ocsp_good_rsa.der")], |b| {
        ocsp::read_response(b, Some(&ca)).is_ok_and(|r| r.signature_valid == Some(true))
    });
}

#[test]
fn pkcs12_reader() {
    let seeds = vec![data("fuzz/openssl-iter1.p12"), data("fuzz/nca-legacy.p12")];
    never_panics("PKCS#12", seeds, |b| {
        let fuzz = ca_core::pkcs12::read(b, "fuzz").is_ok();
        let nca = ca_core::pkcs12::read(b, "Qwerty12").is_ok();
        fuzz || nca
    });
}

#[test]
fn cms_verifier() {
    let request = br#"{"action":"confirm","application":"1234567890123456","nonce":"00112233445566778899aabbccddeeff"}"#;
    let ours = our_envelope(request);
    // The authority's file is base64: the RA reads DER.
    let nca = ca_core::pem::read_der(&data("fuzz/nca.cms")).unwrap();
    let seeds = vec![data("fuzz/openssl-detached.p7s"), nca, ours];
    never_panics("CMS", seeds, |b| {
        // Accepted: it verifies, or it was read whole and refused by a later check (a
        // signature over other content, without signingCertificateV2, or attached).
        use ca_core::cms::CmsError;
        matches!(
            ca_core::cms::verify_detached(b, request),
            Ok(_) | Err(CmsError::DigestMismatch | CmsError::Attribute(_) | CmsError::NotDetached)
        )
    });
}

/// A relying party trusting the authority's RSA and GOST test CAs.
fn relying_verifier() -> ca_core::verify::Verifier {
    use ca_core::verify::{RevocationChecker, TrustStore, Verifier};
    use der::DecodePem;
    let gost = Certificate::from_pem(data("nca-test/nca_gost_test.pem")).unwrap();
    Verifier::new(TrustStore::new(vec![nca_ca(), gost]), RevocationChecker::none())
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
        ca_core::cms::verify_document(b, None, &verifier, ca_core::verify::Purpose::Sign, Some(june_2020())).is_ok_and(|d| d.is_valid())
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
        let verdicts = ca_core::xml::dsig::verify_document(b, &verifier, ca_core::verify::Purpose::Sign, Some(june_2020()));
        verdicts.is_ok_and(|v| !v.is_empty() && v.iter().all(|s| s.verdict.is_ok()))
    });
}

#[test]
fn crl_and_ocsp_status_checks() {
    use ca_core::verify::revocation::{check_ocsp_response, Crl, OcspProblem, RevocationPolicy};
    let ca = nca_ca();
    let policy = RevocationPolicy::default();
    let cert = {
        use der::DecodePem;
        Certificate::from_pem(data("nca-test/individual_sign_rsa.pem")).unwrap()
    };
    never_panics("status", vec![data("nca-test/ocsp_good_rsa.der"), data("nca-test/nca_rsa_test.crl")], |b| {
        // Accepted: a signed answer about this certificate (the real one echoes no
        // nonce of ours and is years old, so it is read, then refused for that), or
        // a CRL whose signature verifies.
        let answer = check_ocsp_response(b, &cert, &ca, Some(b"nonce"), june_2020(), &policy);
        let read = matches!(answer, Ok(_) | Err(OcspProblem::NonceMismatch | OcspProblem::Stale(_) | OcspProblem::ResponderExpired(_)));
        let crl = Crl::verified(b, &ca).is_ok();
        read || crl
    });
}

#[test]
fn time_stamp_requests_and_responses() {
    use ca_core::tsp::{self, TimeStampAuthority};
    // A key and its certificate: the authority's test key file.
    let store = nca_key_file();
    let signer = ca_core::signing::SigningKey::from_pkcs8(&store.key_pkcs8).unwrap();
    let tsa = TimeStampAuthority::new(Box::new(signer), store.certificate, vec![], ca_core::oid::POLICY_REGULATIONS);
    let (request, nonce) = tsp::request(b"stamped").unwrap();
    let now = ca_core::calendar::now();
    let response = tsa.respond(&request, now);
    never_panics("time-stamp", vec![request, response], |b| {
        // Accepted: a request the TSA grants, or a response that checks.
        let granted = tsp::check_response(&tsa.respond(b, now), b"stamped", Some(&nonce)).is_ok();
        let checks = tsp::check_response(b, b"stamped", Some(&nonce)).is_ok();
        granted || checks
    });
}

/// A detached CMS over `content` as our holders sign one: the authority's test key
/// file's key and certificate.
fn our_envelope(content: &[u8]) -> Vec<u8> {
    let store = nca_key_file();
    let signer = ca_core::signing::RsaSigner::from_pkcs8(&store.key_pkcs8).unwrap();
    ca_core::cms::sign_detached(content, &signer, &store.certificate, ca_core::calendar::now()).unwrap()
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
        r#"{"action":"renew","auth_csr":"MIIB","sign_csr":"MIIC","nonce":"0"}"#,
    ];
    let mut seeds = vec![application, envelope];
    seeds.extend(requests.iter().map(|r| r.as_bytes().to_vec()));
    never_panics("JSON bodies", seeds, |b| {
        let mut accepted = false;
        if let Ok(app) = serde_json::from_slice::<NewApplication>(b) {
            let details = ca_core::registration::ApplicantDetails::from(app.applicant.clone());
            let _ = ca_core::registration::Submission::try_from(app);
            accepted = ca_core::registration::applicant_of(&details, ca_core::calendar::Date::of(&ca_core::calendar::now())).is_ok();
        }
        accepted |= serde_json::from_slice::<Envelope>(b).is_ok();
        if let Ok(r) = serde_json::from_slice::<SignedRequest>(b) {
            let _ = r.action.staff_action();
            accepted = true;
        }
        accepted
    });
}

/// An XML document of a hostile shape: `attributes` on the document element,
/// `declarations` of namespaces in scope of `elements` children that use them, and
/// a signature holding `references` whole-document references.
fn xml_of_shape(attributes: usize, declarations: usize, elements: usize, references: usize) -> String {
    let mut xml = String::from("<r");
    for i in 0..attributes {
        xml.push_str(&format!(" a{i}=\"v\""));
    }
    for i in 0..declarations {
        xml.push_str(&format!(" xmlns:p{i}=\"urn:{i}\""));
    }
    xml.push('>');
    for i in 0..elements {
        match declarations {
            0 => xml.push_str("<c/>"),
            d => xml.push_str(&format!("<p{}:c p{}:x=\"1\"/>", i % d, (i + 1) % d)),
        }
    }
    let reference = "<ds:Reference URI=\"\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/></ds:Transforms>\
        <ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference>";
    xml.push_str(&format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>\
         <ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>{}</ds:SignedInfo>\
         <ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature></r>",
        reference.repeat(references),
        base64ct::Base64::encode_string(&der::Encode::to_der(&nca_ca()).unwrap()),
    ));
    xml
}

/// Shapes that once cost quadratic time (many attributes on one element, many
/// namespaces in scope of many elements, many references): reading, canonicalising
/// (inclusive and exclusive) and checking each is answered within a budget linear
/// in its size, and never panics. `PARSER_CASES / 1,000` cases (16 to 100).
#[test]
fn xml_shapes_cost_time_linear_in_their_size() {
    use ca_core::xml::c14n::{self, Method};
    use std::time::{Duration, Instant};
    let cases = (cases() / 1_000).clamp(16, 100);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let shapes = (0..50_000usize, 0..5_000usize, 0..5_000usize, 0..2_000usize);
    let exclusive = Method::Exclusive { comments: false, inclusive_prefixes: vec![None, Some("p1".into())] };
    runner
        .run(&shapes, |(attributes, declarations, elements, references)| {
            let xml = xml_of_shape(attributes, declarations, elements, references);
            let budget = Duration::from_millis(200) + Duration::from_micros(2) * xml.len() as u32;
            let started = Instant::now();
            if let Ok(doc) = ca_core::xml::Document::parse(xml.as_bytes()) {
                let _ = c14n::document(&doc, &Method::Inclusive { comments: false }, None, false);
                let _ = c14n::document(&doc, &exclusive, None, false);
            }
            let checked = ca_core::xml::dsig::check_signatures(xml.as_bytes());
            let took = started.elapsed();
            prop_assert!(checked.is_err(), "a signature of AAAA verified");
            prop_assert!(took <= budget, "{} bytes took {took:?}, more than {budget:?}", xml.len());
            Ok(())
        })
        .unwrap_or_else(|e| panic!("XML shapes: {e}"));
    // The largest shapes at once, each alone.
    for (a, d, e, r) in [(100_000, 0, 0, 1), (0, 20_000, 20_000, 1), (0, 0, 0, 5_000)] {
        let xml = xml_of_shape(a, d, e, r);
        let budget = Duration::from_millis(200) + Duration::from_micros(2) * xml.len() as u32;
        let started = Instant::now();
        let doc = ca_core::xml::Document::parse(xml.as_bytes()).unwrap();
        let _ = c14n::document(&doc, &Method::Inclusive { comments: false }, None, false);
        assert!(ca_core::xml::dsig::check_signatures(xml.as_bytes()).is_err());
        assert!(started.elapsed() <= budget, "{a} attributes, {d} namespaces, {e} elements, {r} references took {:?}", started.elapsed());
    }
}
