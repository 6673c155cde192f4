//! A hot standby for the reads that may lag: with `database.read_url` naming a
//! standby whose replay is paused, the applicants' cabinet does not see an
//! application submitted since (it reads the standby), while OCSP answers a
//! revocation made since as `revoked` within 2 s (revocation status is always read
//! from the primary); once replay resumes, the cabinet sees the application.
//! Runs its own clusters, whatever the suite's back end.

use e2e::pg::{cluster_home, Cluster};
use e2e::{apply, ca, ca_as, ca_json, configure, eventually, iin, individual, issue, ocsp_status, p, Scratch, Server, ADMIN_IIN};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[test]
fn the_cabinet_may_read_a_lagging_standby_and_revocation_status_never_does() {
    let t = Scratch::new("standby");
    let pg = cluster_home(&t.join("pg"));
    let primary = Cluster::new("start", &[&pg.join("primary")]);
    primary.client("postgres").batch_execute("CREATE DATABASE ca").unwrap();
    let data = t.join("data");
    // Passwords in the URLs (the test clusters trust local connections and ignore
    // them): no program prints them.
    let with_password = |url: String, password: &str| url.replacen("//ca@", &format!("//ca:{password}@"), 1);
    let init = ca(&data, &["init", "--base-url", "http://pki.test.kz", "--database", &with_password(primary.database("ca"), "s3cret-primary")]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let shown = String::from_utf8_lossy(&init.stdout).into_owned() + &String::from_utf8_lossy(&init.stderr);
    assert!(!shown.contains("s3cret") && shown.contains("ca:***@"), "{shown}");
    let add = ["operator", "add", "--role", "ca_administrator", "--iin", ADMIN_IIN, "--surname", "Админов", "--name", "Админ", "--out"];
    assert!(ca_as(&data, None, &add, Some(&t.join("admin"))).status.success());
    let standby = Cluster::new("standby", &[&primary.url, &pg.join("standby")]);
    configure(&data, "database", serde_json::json!({ "read_url": with_password(standby.database("ca"), "s3cret-standby") }));
    let server = Server::on(&data);
    assert!(server.log().iter().any(|l| l.contains("from the standby postgres://ca:***@")), "{:?}", server.log());

    // The standby stops replaying.
    let mut replica = standby.client("ca");
    replica.batch_execute("SELECT pg_wal_replay_pause()").unwrap();
    let paused = |c: &mut postgres::Client| {
        c.query_one("SELECT pg_get_wal_replay_pause_state()", &[]).is_ok_and(|r| r.get::<_, String>(0) == "paused")
    };
    assert!(eventually(Duration::from_secs(10), || paused(&mut replica)));

    // An application made now is on the primary only: the cabinet does not see it yet.
    let (ks, number) = apply(&data, &server, &t.join("applicant"), iin(3), None);
    let status = |ks: &PathBuf| ca(&data, &["enroll", "status", "--server", &server.url(), &number, "--dir", &p(ks)]);
    let lagging = status(&ks);
    assert!(!lagging.status.success(), "the standby does not have it yet: {}", String::from_utf8_lossy(&lagging.stdout));

    // A revocation made now is answered at once, from the primary.
    let work = t.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let issued = issue(&data, &work, &individual(), "holder");
    let files: Vec<PathBuf> = issued["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()).collect();
    let sign = files.iter().find(|f| !f.file_name().unwrap().to_string_lossy().starts_with("AUTH_")).unwrap().clone();
    assert!(ocsp_status(&server, &data, &sign).ends_with(": good"), "{}", ocsp_status(&server, &data, &sign));
    ca_json(&data, &["revoke", issued["sign"]["serial"].as_str().unwrap(), "--reason", "keyCompromise"]);
    let revoked_at = Instant::now();
    assert!(eventually(Duration::from_secs(5), || ocsp_status(&server, &data, &sign).contains(": revoked")));
    let seen = revoked_at.elapsed();
    println!("revoked on the primary, answered revoked after {seen:?} while the standby was paused");
    assert!(seen <= Duration::from_secs(2), "{seen:?}");
    assert!(paused(&mut replica), "the standby stayed paused throughout");

    // Replay resumes: the cabinet sees the application.
    replica.batch_execute("SELECT pg_wal_replay_resume()").unwrap();
    assert!(eventually(Duration::from_secs(10), || status(&ks).status.success()), "the cabinet catches up with the standby");
    assert_eq!(ca_json(&data, &["enroll", "status", "--server", &server.url(), &number, "--dir", &p(&ks)])["state"], "awaiting_identity");
    assert!(!server.log().iter().any(|l| l.contains("s3cret")), "a password in the server's log");
}
