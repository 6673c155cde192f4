//! A PostgreSQL authority backed up as docs/DEPLOY.md says (pg_basebackup, and every
//! WAL segment archived), its primary lost, and the backup restored into a fresh
//! cluster with the archive replayed: nothing acknowledged after the backup is
//! lost, and `ca audit verify --checkpoint` passes against a checkpoint kept from
//! before the backup. Runs its own clusters, whatever the suite's back end.

use e2e::pg::{cluster_home, server_program, Cluster};
use e2e::{ca, ca_as, ca_json, eventually, individual, issue, Scratch, ADMIN_IIN};
use std::path::Path;
use std::time::Duration;

fn records(data: &Path, database: &str) -> serde_json::Value {
    ca_json(data, &["--database", database, "audit", "verify"])
}

#[test]
fn a_backup_restored_with_its_archived_wal_loses_nothing_and_verifies_against_an_older_checkpoint() {
    let t = Scratch::new("backup");
    // The clusters' owner writes the backup and the archive here.
    let pg = cluster_home(&t.join("pg"));
    let primary = Cluster::new("archiving", &[&pg.join("primary"), &pg.join("archive")]);
    let mut admin = postgres::Client::connect(&primary.url, postgres::NoTls).unwrap();
    admin.batch_execute("CREATE DATABASE ca").unwrap();
    let db = primary.database("ca");

    // An authority on it, with its first administrator; a checkpoint kept apart.
    let data = t.join("data");
    let out = ca(&data, &["init", "--base-url", "http://pki.test.kz", "--database", &db]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let add = ["operator", "add", "--role", "ca_administrator", "--iin", ADMIN_IIN, "--surname", "Админов", "--name", "Админ", "--out"];
    assert!(ca_as(&data, None, &add, Some(&t.join("admin"))).status.success());
    let kept = t.join("kept-checkpoint.json");
    ca_json(&data, &["audit", "checkpoint", "--out", kept.to_str().unwrap()]);
    let kept_size = records(&data, &db)["records"].as_u64().unwrap();

    // The base backup; then more work, acknowledged, that only the archive holds.
    let base = pg.join("base");
    let backup = server_program("pg_basebackup").arg("-D").arg(&base).args(["-d", &primary.url, "-X", "none", "-c", "fast"]).output().unwrap();
    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    let work = t.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let issued = issue(&data, &work, &individual(), "after-backup");
    let serial = issued["sign"]["serial"].as_str().unwrap().to_string();
    let before_loss = records(&data, &db);
    assert!(before_loss["records"].as_u64().unwrap() > kept_size, "{before_loss}");
    let segment: String = admin.query_one("SELECT pg_walfile_name(pg_switch_wal())", &[]).unwrap().get(0);
    let archived = || {
        admin
            .query_one("SELECT COALESCE(last_archived_wal, '') FROM pg_stat_archiver", &[])
            .map(|r| r.get::<_, String>(0) >= segment)
            .unwrap_or(false)
    };
    assert!(eventually(Duration::from_secs(30), archived), "segment {segment} archived");
    drop(admin);

    // The primary is lost; the backup is restored, the archive replayed.
    drop(primary);
    std::fs::remove_dir_all(pg.join("primary")).unwrap();
    let restored = Cluster::new("restore", &[&base, &pg.join("archive"), &pg.join("restored")]);
    let db2 = restored.database("ca");
    let after = ca_json(&data, &["--database", &db2, "audit", "verify", "--checkpoint", kept.to_str().unwrap()]);
    assert_eq!(after["valid"], true, "{after}");
    assert_eq!(after["records"], before_loss["records"], "every record acknowledged before the loss is back: {after}");
    let shown = ca_json(&data, &["--database", &db2, "show", &serial]);
    assert_eq!(shown["serial"].as_str(), Some(serial.as_str()), "{shown}");
    // And the restored database takes writes.
    ca_json(&data, &["--database", &db2, "audit", "checkpoint"]);
}
