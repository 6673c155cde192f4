//! GOST 34.10-2015 512-bit signatures per second, for the benchmark: signing
//! (Streebog-512 of a short message, a fresh nonce, k·G from the base point's
//! table) and verification on one core, with a repeated key and with a fresh key
//! each time; and, given a thread count, signing on that many threads at once
//! (the ceiling for a responder signing on all cores). Prints one JSON line.
//!
//! Usage: gost-speed [SECONDS [THREADS]]

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

const MESSAGE: &[u8] = b"the to-be-signed bytes of an OCSP response, about this long";

/// Signatures per second on `threads` threads at once, one key shared as a
/// responder's is.
fn signing_on(threads: usize, budget: Duration) -> f64 {
    let signer = GostSigner::generate();
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    rate(budget, || {
                        signer.sign(MESSAGE).expect("sign");
                    })
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().expect("a signing thread")).sum()
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let threads: Option<usize> = args.next().and_then(|s| s.parse().ok());
    let budget = Duration::from_secs(secs);
    if let Some(threads) = threads {
        println!("{}", serde_json::json!({ "threads": threads, "sign_per_second": signing_on(threads, budget) }));
        return;
    }
    let signer = GostSigner::generate();
    let message = MESSAGE.to_vec();
    let sig = signer.sign(&message).expect("sign");
    let alg = signer.algorithm();
    let sign = rate(budget, || {
        signer.sign(&message).expect("sign");
    });
    // The same key again and again: after its second use the key has its own
    // fixed-base table (CA, responder and frequent signers' keys).
    let verify_repeated = rate(budget, || {
        gost::verify(signer.public_key(), &alg, &message, &sig).expect("verify");
    });
    // A different key each time (a bank checking many citizens' signatures): made
    // beforehand, outside the timing, and each used once: the run stops early if
    // they run out (a key seen twice would get a table of its own).
    let fresh: Vec<(GostSigner, Vec<u8>)> = (0..3000 * secs)
        .map(|_| {
            let s = GostSigner::generate();
            let sig = s.sign(&message).expect("sign");
            (s, sig)
        })
        .collect();
    let start = Instant::now();
    let mut used = 0;
    for (s, sig) in &fresh {
        if start.elapsed() >= budget {
            break;
        }
        gost::verify(s.public_key(), &alg, &message, sig).expect("verify");
        used += 1;
    }
    let verify_fresh = used as f64 / start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "sign_per_second": sign, "verify_repeated_key_per_second": verify_repeated, "verify_fresh_key_per_second": verify_fresh, "fresh_keys": fresh.len(), "fresh_rounds": used })
    );
}
