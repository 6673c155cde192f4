//! CMS verifications per second on one core, for the benchmark: a signed document
//! (attached), its signer's path through the given intermediate to the trust
//! anchor, and OCSP at the given responder — asked once, then answered from the
//! verifier's cache, as a relying party verifying many documents would. Every
//! verification is the whole check: the CMS signature and attributes, both
//! certificate signatures on the path, dates, purpose, status. Prints one JSON line.
//!
//! Usage: verify-speed CMS TRUST INTERMEDIATE OCSP_URL SECONDS

use ca_core::verify::HttpFetch;
use ca_core::verify::{Purpose, RevocationChecker, RevocationMode, RevocationPolicy, StatusSource, TrustStore, Verifier};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cms, trust, intermediate, ocsp_url, seconds] = args.as_slice() else {
        eprintln!("usage: verify-speed CMS TRUST INTERMEDIATE OCSP_URL SECONDS");
        std::process::exit(2);
    };
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut store = TrustStore::new(ca_core::pem::certificates(&read(trust)).expect("trust anchor"));
    for c in ca_core::pem::certificates(&read(intermediate)).expect("intermediate") {
        store.add_intermediate(c);
    }
    let policy = RevocationPolicy {
        mode: RevocationMode::Ocsp,
        ocsp_url: Some(ocsp_url.clone()),
        ocsp_cache_seconds: 3600,
        ..RevocationPolicy::default()
    };
    let verifier = Verifier::new(store, RevocationChecker::new(policy, Some(Box::new(HttpFetch::new(Duration::from_secs(10))))));
    let cms = ca_core::pem::read_der(&read(cms)).expect("CMS");
    // The first verification asks the responder; it must be a valid one, by OCSP.
    let first = ca_core::cms::verify_document(&cms, None, &verifier, Purpose::Sign, None).expect("the document verifies");
    let verdict = first.signers[0].verdict.as_ref().expect("the signer's certificate is valid");
    assert_eq!(verdict.statuses[0].source, Some(StatusSource::Ocsp));
    let bits: Vec<usize> = std::iter::once(&first.signers[0].signed.certificate)
        .chain(verdict.path.certificates().iter().skip(1))
        .filter_map(|c| ca_core::verify::rsa_modulus_bits(&c.tbs_certificate.subject_public_key_info))
        .collect();
    let budget = Duration::from_secs_f64(seconds.parse().expect("seconds"));
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        let doc = ca_core::cms::verify_document(&cms, None, &verifier, Purpose::Sign, None).expect("verify");
        assert!(doc.is_valid());
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    // Signature checks per verification, by the key that makes each: the document's
    // by the signer's, the signer's certificate by the issuing CA's, the issuing CA's
    // by the root's (the anchor's own signature is not checked).
    println!("{}", serde_json::json!({ "verifications_per_second": rate, "check_key_bits": bits, "document_bytes": cms.len() }));
}
