//! The primary dies mid-load. Two servers on a PostgreSQL primary with a
//! synchronous standby (`synchronous_commit = on`), reached by a multi-host URL with
//! `target_session_attrs=read-write`, take applications from a bounded load. The
//! primary's postmaster is killed with SIGKILL, and the standby is promoted by
//! `pg_ctl promote` (what Patroni does; scripted here). Afterwards every
//! application that got a success answer is in the database, and every request
//! that failed got a clean 503 with Retry-After; a revocation made on the new
//! primary is answered `revoked` by both servers' OCSP within 2 s and listed in the
//! delta CRLs they serve. The test prints the counts and the window of
//! unavailability. Runs its own clusters, whatever the suite's back end.

use ca_core::api::{NewApplication, Receipt};
use e2e::pg::{cluster_home, Cluster};
use e2e::{ca, ca_as, Scratch, Server, ADMIN_IIN};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What became of one submission.
#[derive(Debug)]
enum Outcome {
    /// 201: the application's number.
    Acknowledged(String),
    /// 503 with Retry-After.
    FailedCleanly,
    /// Anything else.
    Other(String),
}

fn submit(url: &str, body: &NewApplication) -> Outcome {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(20)).build();
    match agent.post(&format!("{url}/api/v1/applications")).send_json(body) {
        Ok(r) if r.status() == 201 => match r.into_json::<Receipt>() {
            Ok(receipt) => Outcome::Acknowledged(receipt.number),
            Err(e) => Outcome::Other(format!("unreadable receipt: {e}")),
        },
        Ok(r) => Outcome::Other(format!("HTTP {}", r.status())),
        Err(ureq::Error::Status(503, r)) if r.header("retry-after").is_some() => Outcome::FailedCleanly,
        Err(ureq::Error::Status(code, r)) => Outcome::Other(format!("HTTP {code}: {}", r.into_string().unwrap_or_default())),
        Err(e) => Outcome::Other(e.to_string()),
    }
}

#[test]
fn the_primary_dies_mid_load_the_standby_takes_over_and_nothing_acknowledged_is_lost() {
    let t = Scratch::new("failover");
    let pg = cluster_home(&t.join("pg"));
    let primary = Cluster::start(&pg.join("primary"), &["synchronous_commit=on", "fsync=on"]);
    primary.client("postgres").batch_execute("CREATE DATABASE ca").unwrap();
    let standby = Cluster::new("standby", &[&primary.url, &pg.join("standby")]);
    // Synchronous from now on: a commit is acknowledged once the standby has it.
    let mut watch = primary.client("postgres");
    watch.batch_execute("ALTER SYSTEM SET synchronous_standby_names = '*'").unwrap();
    watch.batch_execute("SELECT pg_reload_conf()").unwrap();
    let synchronous = || {
        watch.query("SELECT 1 FROM pg_stat_replication WHERE sync_state = 'sync'", &[]).map(|r| !r.is_empty()).unwrap_or(false)
    };
    assert!(e2e::eventually(Duration::from_secs(20), synchronous), "the standby is synchronous");
    let url = format!(
        "postgres://ca@127.0.0.1:{},127.0.0.1:{}/ca?target_session_attrs=read-write&connect_timeout=2",
        primary.port(),
        standby.port()
    );
    let data = t.join("data");
    let init = ca(&data, &["init", "--base-url", "http://pki.test.kz", "--database", &url]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let add = ["operator", "add", "--role", "ca_administrator", "--iin", ADMIN_IIN, "--surname", "Админов", "--name", "Админ", "--out"];
    assert!(ca_as(&data, None, &add, Some(&t.join("admin"))).status.success());
    e2e::configure(&data, "limits", serde_json::json!({ "submissions_per_minute": 1_000_000, "submissions_burst": 1_000_000 }));
    e2e::configure(&data, "crl", serde_json::json!({ "full_interval_seconds": 3600, "delta_interval_seconds": 1 }));
    // A holder's pair, issued before the switch, to be revoked after it.
    let work = t.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let issued = e2e::issue(&data, &work, &e2e::individual(), "holder");
    let serial = issued["sign"]["serial"].as_str().unwrap().to_string();
    let files: Vec<std::path::PathBuf> = issued["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()).collect();
    let sign = files.iter().find(|f| !f.file_name().unwrap().to_string_lossy().starts_with("AUTH_")).unwrap().clone();
    let servers = [Server::on(&data), Server::on(&data)];
    let urls: Vec<String> = servers.iter().map(Server::url).collect();

    // The load: 60 applications, each with two fresh keys, from 4 clients, both servers.
    const N: usize = 60;
    let bodies = e2e::load_applications(N, 300);
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let outcomes = Arc::new(Mutex::new(Vec::<(Instant, Outcome)>::new()));
    let started = Instant::now();
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (bodies, next, outcomes, urls) = (bodies.clone(), next.clone(), outcomes.clone(), urls.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { return };
                let outcome = submit(&urls[(i + c) % urls.len()], body);
                outcomes.lock().unwrap().push((Instant::now(), outcome));
                // Spread the load over some seconds, so that the switch falls inside it.
                std::thread::sleep(Duration::from_millis(150));
            })
        })
        .collect();
    // Mid-load: the primary dies; the standby is promoted.
    assert!(e2e::eventually(Duration::from_secs(60), || outcomes.lock().unwrap().len() >= N / 4), "the load runs");
    let killed = Instant::now();
    let pid = primary.pid();
    assert!(std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
    standby.run("promote");
    for c in clients {
        c.join().unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    drop(primary);

    let acknowledged: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Acknowledged(n) => Some(n),
            _ => None,
        })
        .collect();
    let cleanly = outcomes.iter().filter(|(_, o)| matches!(o, Outcome::FailedCleanly)).count();
    let other: Vec<&String> = outcomes
        .iter()
        .filter_map(|(_, o)| match o {
            Outcome::Other(what) => Some(what),
            _ => None,
        })
        .collect();
    let mut db = standby.client("ca");
    let lost = acknowledged
        .iter()
        .filter(|n| db.query_opt("SELECT 1 FROM applications WHERE number = $1", &[n]).unwrap().is_none())
        .count();
    // The window: from the kill to the first success after it.
    let back = outcomes.iter().filter(|(at, o)| *at > killed && matches!(o, Outcome::Acknowledged(_))).map(|(at, _)| *at).min();
    let window = back.map(|b| b - killed);
    println!(
        "failover: {} submissions in {:?}: {} acknowledged, {cleanly} failed cleanly (503, Retry-After), {} otherwise, {lost} lost; \
         unavailable for {window:?} after the primary was killed",
        outcomes.len(),
        started.elapsed(),
        acknowledged.len(),
        other.len()
    );
    assert_eq!(outcomes.len(), N);
    assert_eq!(lost, 0, "every acknowledged application is in the promoted database");
    let failed_requests: Vec<String> =
        servers.iter().flat_map(Server::log).filter(|l| l.contains("request failed")).collect();
    assert!(other.is_empty(), "every failure is a clean 503: {other:?}; the servers said {failed_requests:#?}");
    let window = window.expect("the servers answered again after the switch");
    assert!(window <= Duration::from_secs(15), "unavailable for {window:?}");

    // After the switch, a revocation on the new primary: both servers' OCSP say so
    // within 2 s, and the CRLs the servers publish list it (the jobs' holder found
    // the new primary too).
    e2e::ca_json(&data, &["revoke", &serial, "--reason", "keyCompromise"]);
    let revoked_at = Instant::now();
    for server in &servers {
        assert!(e2e::eventually(Duration::from_secs(5), || e2e::ocsp_status(server, &data, &sign).contains(": revoked")));
    }
    assert!(revoked_at.elapsed() <= Duration::from_secs(2), "OCSP said revoked after {:?}", revoked_at.elapsed());
    let listed = |server: &Server| {
        let path = work.join("delta.crl");
        let Ok(resp) = ureq::get(&format!("{}/crl/nca_d_rsa.crl", server.url())).timeout(Duration::from_secs(5)).call() else {
            return false;
        };
        let mut der = Vec::new();
        if std::io::Read::read_to_end(&mut resp.into_reader(), &mut der).is_err() {
            return false;
        }
        std::fs::write(&path, der).unwrap();
        let text = std::process::Command::new("openssl").args(["crl", "-inform", "DER", "-noout", "-text", "-in"]).arg(&path).output().unwrap();
        String::from_utf8_lossy(&text.stdout).to_ascii_uppercase().contains(&format!("SERIAL NUMBER: {}", serial.to_ascii_uppercase()))
    };
    for server in &servers {
        assert!(e2e::eventually(Duration::from_secs(15), || listed(server)), "{}'s delta CRL lists {serial}", server.url());
    }
}
