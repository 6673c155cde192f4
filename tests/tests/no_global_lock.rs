//! Acceptance: no part of the server waits for another's lock. An applicant's status
//! request is answered in under 50 ms (p99) while the server signs a
//! 1,000,000-entry CRL, measured through the real server with a bounded loop; the
//! same loop after the CRL is out gives the baseline beside it.

use e2e::{ca_json, fresh_authority, Server};
use std::path::Path;
use std::time::{Duration, Instant};

const ENTRIES: u64 = 1_000_000;
/// The most status requests sent while the CRL is being signed: enough to outlast
/// the signing even when a request takes under 0.1 ms (20,000 did not: the CRL came
/// out after the loop had ended).
const MAX_REQUESTS: usize = 300_000;
/// The longest the whole measurement may take.
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// The target.
const P99_LIMIT_MS: f64 = 50.0;

/// `ENTRIES` revoked certificates, written straight into the database (synthetic
/// rows: the CRL needs only serial, time and reason).
fn fill(db: &Path) {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let tx = conn.transaction().unwrap();
    let base = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM pairs", [], |r| r.get::<_, i64>(0)).unwrap() + 1;
    {
        let mut pair =
            tx.prepare("INSERT INTO pairs (id, subject_kind, iin, issued_at) VALUES (?1, 'individual', '880515300120', 0)").unwrap();
        let mut cert = tx
            .prepare(
                "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der,
                 revoked_at, revocation_reason) VALUES (?1, ?2, ?3, 'BENCH', 0, 4000000000, '00', ?4, X'3000', 1700000000, 1)",
            )
            .unwrap();
        for i in 0..ENTRIES {
            let pair_id = base + (i / 2) as i64;
            if i % 2 == 0 {
                pair.execute([pair_id]).unwrap();
            }
            let mut fingerprint = [0xEEu8; 32];
            fingerprint[..8].copy_from_slice(&i.to_be_bytes());
            let kind = if i % 2 == 0 { "AUTH" } else { "SIGN" };
            cert.execute(rusqlite::params![format!("01{i:038x}"), pair_id, kind, &fingerprint[..]]).unwrap();
        }
    }
    tx.commit().unwrap();
}

fn p99(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[((samples.len() as f64 * 0.99).ceil() as usize).saturating_sub(1).min(samples.len() - 1)]
}

/// Time `n` status requests at most (stopping early when `stop` says so); milliseconds each.
fn timed_status(agent: &ureq::Agent, url: &str, secret: &str, n: usize, mut stop: impl FnMut(usize) -> bool) -> Vec<f64> {
    let mut samples = Vec::new();
    let started = Instant::now();
    for i in 0..n {
        if stop(i) || started.elapsed() > TIME_LIMIT {
            break;
        }
        let t = Instant::now();
        let resp = agent.get(url).set("X-Application-Secret", secret).call().expect("status request");
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.into_json().unwrap();
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(body["state"], "awaiting_identity");
    }
    samples
}

#[test]
fn a_status_request_is_answered_in_under_50_ms_while_a_million_entry_crl_is_signed() {
    let t = fresh_authority();
    let data = t.join("data");
    // An application to ask about, submitted through the server.
    let (number, secret) = {
        let server = Server::on(&data);
        let ks = t.join("ks").display().to_string();
        ca_json(&data, &["enroll", "keygen", "--dir", &ks]);
        let args = ["enroll", "apply", "--server", &server.url(), "--dir", &ks, "--iin", "880515300120", "--surname", "А", "--name", "Б"];
        let receipt = ca_json(&data, &[&args[..], &["--center", "ЦОН"]].concat());
        let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(t.join("ks/application.json")).unwrap()).unwrap();
        (receipt["number"].as_str().unwrap().to_string(), saved["secret"].as_str().unwrap().to_string())
    };
    fill(&data.join("ca.sqlite"));
    // The published full CRL's file is gone: the server signs one for a million
    // entries as it starts (and serves the small one until then).
    let _ = std::fs::remove_file(data.join("crl/nca_rsa.crl"));
    let server = Server::on(&data);
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let status_url = format!("{}/api/v1/applications/{number}", server.url());
    let crl_url = format!("{}/crl/nca_rsa.crl", server.url());
    let served_len = || {
        let crl = agent.get(&crl_url).call().expect("a full CRL is served");
        crl.header("Content-Length").and_then(|l| l.parse().ok()).unwrap_or(0)
    };
    let big = 30 * ENTRIES as usize;
    let crl_out = |i: usize| i.is_multiple_of(10) && served_len() > big;
    let mut during = timed_status(&agent, &status_url, &secret, MAX_REQUESTS, crl_out);
    let len: usize = served_len();
    assert!(len > big, "the served CRL has {len} bytes: not the million-entry one");
    assert!(!during.is_empty(), "no status request was answered while the CRL was signed");
    let mut after = timed_status(&agent, &status_url, &secret, during.len().max(100), |_| false);
    let (p99_during, p99_after) = (p99(&mut during), p99(&mut after));
    eprintln!(
        "status GET while signing a {ENTRIES}-entry CRL: {} requests, p99 {p99_during:.2} ms, max {:.2} ms; afterwards: p99 {p99_after:.2} ms",
        during.len(),
        during.last().copied().unwrap_or(0.0)
    );
    assert!(p99_during < P99_LIMIT_MS, "p99 {p99_during:.2} ms while the CRL was signed; the target is under {P99_LIMIT_MS} ms");
    // Enough requests overlapped the signing for the figure to mean something.
    assert!(during.len() >= 50, "only {} status requests overlapped the CRL signing: nothing measured", during.len());
}
