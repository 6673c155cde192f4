//! The database and the issued certificates agree after a crash: `ca issue` killed
//! with SIGKILL at varying moments leaves, for every pair, both certificates or
//! neither, and a database that passes SQLite's integrity check.

use e2e::{ca_json, fresh_authority, openssl_csr, program, PASSPHRASE};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn kill_9_during_issue_never_leaves_half_a_pair() {
    let ca = fresh_authority();
    let data = ca.join("data");
    const ROUNDS: u64 = 10;
    for round in 0..ROUNDS {
        let auth = openssl_csr(ca.path(), &format!("a{round}"), 2048);
        let sign = openssl_csr(ca.path(), &format!("s{round}"), 2048);
        let mut child = Command::new(program("ca"))
            .arg("--data")
            .arg(&data)
            .args(["issue", "--iin", "880515300120", "--surname", "A", "--name", "B", "--auth-csr"])
            .arg(&auth)
            .arg("--sign-csr")
            .arg(&sign)
            .arg("--out")
            .arg(ca.join("out"))
            .env("CA_PASSPHRASE", PASSPHRASE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the run: key decryption, signing, commit, file writes.
        std::thread::sleep(Duration::from_millis(round * 35));
        let _ = child.kill();
        let _ = child.wait();
    }
    let listed = ca_json(&data, &["list"]);
    let mut per_pair: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for c in listed.as_array().unwrap() {
        per_pair.entry(c["pair_id"].as_i64().unwrap()).or_default().push(c["type"].as_str().unwrap().to_string());
    }
    for (pair, mut types) in per_pair {
        types.sort();
        assert_eq!(types, ["AUTH", "SIGN"], "pair {pair} is incomplete");
    }
    let check = Command::new("python3")
        .args(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])"])
        .arg(data.join("ca.sqlite"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&check.stdout).trim(), "ok");
    // The authority still issues afterwards.
    let v = e2e::issue(&data, ca.path(), &e2e::individual(), "after");
    assert!(v["pair_id"].as_i64().is_some());
}
