//! GOST 34.10-2015 512-bit signatures per second on one core, for the benchmark:
//! signing (Streebog-512 of a short message, a fresh nonce, k·G from the base
//! point's table) and verification, with a repeated key and with a fresh key each
//! time. Prints one JSON line.

use ca_core::gost::{self, GostSigner};
use ca_core::signing::Signer;
use std::time::{Duration, Instant};

fn rate(budget: Duration, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        op();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let signer = GostSigner::generate();
    let message = b"the to-be-signed bytes of an OCSP response, about this long".to_vec();
    let sig = signer.sign(&message).expect("sign");
    let alg = signer.algorithm();
    let sign = rate(Duration::from_secs(secs), || {
        signer.sign(&message).expect("sign");
    });
    // The same key again and again: after its second use the key has its own
    // fixed-base table (CA, responder and frequent signers' keys).
    let verify_repeated = rate(Duration::from_secs(secs), || {
        gost::verify(signer.public_key(), &alg, &message, &sig).expect("verify");
    });
    // A different key each time (a bank checking many citizens' signatures): made
    // beforehand, outside the timing.
    let fresh: Vec<(GostSigner, Vec<u8>)> = (0..1000 * secs)
        .map(|_| {
            let s = GostSigner::generate();
            let sig = s.sign(&message).expect("sign");
            (s, sig)
        })
        .collect();
    let mut i = 0;
    // Each key used once (more keys than the rate times the budget).
    let verify_fresh = rate(Duration::from_secs(secs), || {
        let (s, sig) = &fresh[i.min(fresh.len() - 1)];
        i += 1;
        gost::verify(s.public_key(), &alg, &message, sig).expect("verify");
    });
    println!(
        "{}",
        serde_json::json!({ "sign_per_second": sign, "verify_repeated_key_per_second": verify_repeated, "verify_fresh_key_per_second": verify_fresh, "fresh_keys": fresh.len(), "fresh_rounds": i })
    );
}
