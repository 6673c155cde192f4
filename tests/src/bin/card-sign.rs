//! Sign on a card, many times, and check every signature: the tool behind the test
//! of two programs signing at once and the card benchmark.
//!
//! ```text
//! CA_TOKEN_PIN=… card-sign --reader NAME --slot N --count K [--bare]
//! ```
//! Prints one JSON line: signatures made, signatures that verify, latency p50/p99
//! (ms), signatures per second, the round trip of the cheapest operation, and the
//! bare RSA-2048 signature time of the card emulator's own code.

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};
use token_drivers::{Pin, Token};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn bare_signature_ms(rounds: usize) -> f64 {
    let key = rsa::RsaPrivateKey::new(&mut rand_core(), 2048).expect("RSA key");
    let info = token_drivers::applet::digest_info_sha256(&[7; 32]);
    let start = Instant::now();
    for _ in 0..rounds {
        fixtures::card::sign(&key, &info).expect("sign");
    }
    start.elapsed().as_secs_f64() * 1000.0 / rounds as f64
}

fn rand_core() -> rsa::rand_core::OsRng {
    rsa::rand_core::OsRng
}

fn main() {
    let reader = arg("--reader");
    let slot: u8 = arg("--slot").and_then(|s| s.parse().ok()).unwrap_or(1);
    let count: usize = arg("--count").and_then(|s| s.parse().ok()).unwrap_or(100);
    let pin = Pin::new(&std::env::var("CA_TOKEN_PIN").expect("set CA_TOKEN_PIN"));
    let mut token = Token::open(reader.as_deref(), Duration::from_secs(10)).expect("open the card");
    token.verify_pin(&pin).expect("verify the PIN");
    let spki = token.public_key(slot).expect("the slot's public key");
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki.subject_public_key.raw_bytes().to_vec());
    let tag = std::process::id();
    let mut latencies = Vec::with_capacity(count);
    let (mut verified, mut failed) = (0usize, Vec::new());
    let start = Instant::now();
    for i in 0..count {
        let message = format!("card-sign {tag} {i}");
        let digest: [u8; 32] = Sha256::digest(message.as_bytes()).into();
        let t = Instant::now();
        match token.sign_digest(slot, &digest) {
            Ok(sig) => {
                latencies.push(t.elapsed());
                if public.verify(message.as_bytes(), &sig).is_ok() {
                    verified += 1;
                }
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let total = start.elapsed();
    let mut round_trips: Vec<Duration> = (0..50)
        .map(|_| {
            let t = Instant::now();
            token.free_slots().expect("GET DATA");
            t.elapsed()
        })
        .collect();
    latencies.sort();
    round_trips.sort();
    let report = serde_json::json!({
        "signatures": latencies.len(),
        "verified": verified,
        "errors": failed,
        "p50_ms": percentile(&latencies, 0.5),
        "p99_ms": percentile(&latencies, 0.99),
        "per_second": latencies.len() as f64 / total.as_secs_f64(),
        "round_trip_ms": percentile(&round_trips, 0.5),
        "bare_rsa_2048_ms": if std::env::args().any(|a| a == "--bare") { bare_signature_ms(50) } else { 0.0 },
    });
    println!("{report}");
}
