//! Two servers on one database (run on SQLite, and on PostgreSQL in the suite's
//! second pass): both answer; the jobs (CRLs, audit checkpoints, expiry) run on the
//! one that holds the lease; when it is killed, the other takes them over within
//! 10 s, CRL numbers keep growing with none used twice, the audit log stays one
//! tree whoever signs its checkpoints, and a revocation acknowledged by one is
//! answered `revoked` by the other's OCSP within 2 s.

use e2e::{ca_json, enroll, eventually, fresh_authority, iin, ocsp_status, p, p12, Server, KEY_PASSWORD};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS_JOBS: &str = "this server runs the jobs now";

/// The CRL numbers a server's log says it published, in order.
fn published(server: &Server) -> Vec<u64> {
    server
        .log()
        .iter()
        .filter(|l| l.contains("CRL published"))
        .filter_map(|l| l.split("number=").nth(1)?.split_whitespace().next()?.parse().ok())
        .collect()
}

fn newest_checkpoint(server: &Server) -> Option<serde_json::Value> {
    let resp = ureq::get(&format!("{}/audit/checkpoint", server.url())).timeout(Duration::from_secs(5)).call().ok()?;
    resp.into_json().ok()
}

#[test]
fn two_servers_share_one_database_and_one_takes_the_jobs_over_when_the_other_dies() {
    let t = fresh_authority();
    let data = t.join("data");
    e2e::configure(&data, "crl", serde_json::json!({ "full_interval_seconds": 3600, "delta_interval_seconds": 1 }));
    let a = Server::on(&data);
    assert!(a.log().iter().any(|l| l.contains(RUNS_JOBS)), "the first server takes the jobs at start: {:?}", a.log());
    let b = Server::on(&data);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!b.log().iter().any(|l| l.contains(RUNS_JOBS)), "one server runs the jobs, not two: {:?}", b.log());
    assert!(published(&b).is_empty(), "only the lease holder publishes CRLs: {:?}", b.log());
    assert!(!published(&a).is_empty(), "{:?}", a.log());

    // A holder enrolled through B, who revokes through A: B's OCSP says so within 2 s.
    let ks = enroll(&data, &b, &t.join("holder"), iin(7), None);
    let cert = t.join("sign.pem");
    let extracted = Command::new("openssl")
        .args(["pkcs12", "-nokeys", "-clcerts", "-passin", &format!("pass:{KEY_PASSWORD}"), "-in"])
        .arg(p12(&ks, "RSA256_"))
        .arg("-out")
        .arg(&cert)
        .status()
        .unwrap();
    assert!(extracted.success());
    assert!(ocsp_status(&b, &data, &cert).ends_with(": good"), "{}", ocsp_status(&b, &data, &cert));
    ca_json(&data, &["enroll", "revoke", "--server", &a.url(), "--dir", &p(&ks), "--reason", "keyCompromise"]);
    let acknowledged = Instant::now();
    assert!(eventually(Duration::from_secs(5), || ocsp_status(&b, &data, &cert).contains(": revoked")), "B never said revoked");
    let seen_after = acknowledged.elapsed();
    println!("a revocation acknowledged by A was answered revoked by B after {seen_after:?}");
    assert!(seen_after <= Duration::from_secs(2), "B answered revoked only after {seen_after:?}");

    // A signs a checkpoint of the log as it is; a relying party keeps it.
    assert!(eventually(Duration::from_secs(10), || newest_checkpoint(&a).is_some()), "A signs checkpoints");
    let kept = newest_checkpoint(&a).unwrap();
    let kept_file = t.join("kept-checkpoint.json");
    std::fs::write(&kept_file, serde_json::to_vec(&kept).unwrap()).unwrap();

    // A dies without a word: B takes the jobs over within 10 s.
    let before = published(&a);
    let killed = Instant::now();
    assert!(Command::new("kill").args(["-KILL", &a.pid().to_string()]).status().unwrap().success());
    assert!(eventually(Duration::from_secs(15), || b.log().iter().any(|l| l.contains(RUNS_JOBS))), "B never took the jobs over");
    let takeover = killed.elapsed();
    println!("B took the jobs over {takeover:?} after A was killed");
    assert!(takeover <= Duration::from_secs(10), "takeover after {takeover:?}");
    assert!(eventually(Duration::from_secs(10), || !published(&b).is_empty()), "B publishes CRLs: {:?}", b.log());

    // CRL numbers only grow, and none is used twice, across the takeover.
    let after = published(&b);
    assert!(before.windows(2).all(|w| w[0] < w[1]) && after.windows(2).all(|w| w[0] < w[1]), "{before:?} {after:?}");
    assert!(after[0] > *before.last().unwrap(), "B's first CRL {} follows A's last {}", after[0], before.last().unwrap());

    // The log grows through B; B signs a checkpoint that extends A's: one tree.
    let ks2 = enroll(&data, &b, &t.join("second"), iin(8), None);
    assert!(ks2.exists());
    let kept_size = kept["size"].as_u64().unwrap();
    assert!(
        eventually(Duration::from_secs(10), || newest_checkpoint(&b).and_then(|c| c["size"].as_u64()).is_some_and(|s| s > kept_size)),
        "B signs checkpoints after the takeover"
    );
    let verified = ca_json(&data, &["audit", "verify", "--checkpoint", kept_file.to_str().unwrap()]);
    assert!(verified["records"].as_u64().unwrap() > kept_size, "{verified}");
    drop(a);
}
