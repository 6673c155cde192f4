//! A PostgreSQL authority backed up as docs/DEPLOY.md says (pg_basebackup, and every
//! WAL segment archived), its primary lost, and the backup restored into a fresh
//! cluster with the archive replayed: nothing acknowledged after the backup is
//! lost, and `ca audit verify --checkpoint` passes against a checkpoint kept from
//! before the backup. Runs its own clusters, whatever the suite's back end.

use e2e::{ca, ca_as, ca_json, eventually, individual, issue, Scratch, ADMIN_IIN};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/pg-cluster.sh")
}

/// A cluster of `scripts/pg-cluster.sh`, stopped when dropped.
struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    fn new(args: &[&Path], cmd: &str) -> Cluster {
        let out = Command::new(script()).arg(cmd).args(args).output().expect("pg-cluster.sh");
        assert!(out.status.success(), "pg-cluster.sh {cmd}: {}", String::from_utf8_lossy(&out.stderr));
        let dir = args.last().unwrap().to_path_buf();
        Cluster { dir, url: String::from_utf8_lossy(&out.stdout).trim().to_string() }
    }

    /// The URL of its database `name`.
    fn database(&self, name: &str) -> String {
        format!("{}/{name}", self.url.trim_end_matches("/postgres"))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

/// A PostgreSQL server program, run as the clusters' owner when we are root.
fn server_program(name: &str) -> Command {
    let bin = std::fs::read_dir("/usr/lib/postgresql").unwrap().map(|e| e.unwrap().path().join("bin")).max().unwrap();
    let am_root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if am_root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(bin.join(name));
        cmd
    } else {
        Command::new(bin.join(name))
    }
}

fn records(data: &Path, database: &str) -> serde_json::Value {
    ca_json(data, &["--database", database, "audit", "verify"])
}

#[test]
fn a_backup_restored_with_its_archived_wal_loses_nothing_and_verifies_against_an_older_checkpoint() {
    let t = Scratch::new("backup");
    let pg = t.join("pg");
    std::fs::create_dir_all(&pg).unwrap();
    // The clusters' owner (postgres, when we are root) writes the backup and the archive here.
    let _ = Command::new("chown").arg("postgres").arg(&pg).status();
    let primary = Cluster::new(&[&pg.join("primary"), &pg.join("archive")], "archiving");
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
    let restored = Cluster::new(&[&base, &pg.join("archive"), &pg.join("restored")], "restore");
    let db2 = restored.database("ca");
    let after = ca_json(&data, &["--database", &db2, "audit", "verify", "--checkpoint", kept.to_str().unwrap()]);
    assert_eq!(after["valid"], true, "{after}");
    assert_eq!(after["records"], before_loss["records"], "every record acknowledged before the loss is back: {after}");
    let shown = ca_json(&data, &["--database", &db2, "show", &serial]);
    assert_eq!(shown["serial"].as_str(), Some(serial.as_str()), "{shown}");
    // And the restored database takes writes.
    ca_json(&data, &["--database", &db2, "audit", "checkpoint"]);
}
