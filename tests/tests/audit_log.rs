//! Acceptance: an audit log nobody can rewrite unseen. Whoever can write the
//! database can edit a record, delete the newest ones and recompute the hash
//! chain, and `ca audit verify` without checkpoints would see nothing; the signed
//! checkpoints (kept by the authority, served at /audit/checkpoint, kept apart by
//! anyone) name the first record that changed.

use ca_core::audit::link_hash;
use e2e::db::{Db, Param};
use e2e::{ca, ca_json, fresh_authority, individual, issue, Server};
use std::path::Path;
use std::time::{Duration, Instant};

/// Rewrite the log as an attacker with write access to the database would: set
/// the actor of record `seq`, delete the newest `drop` records, and recompute
/// every chain hash and the head so the chain verifies.
fn rewrite(data: &Path, seq: i64, actor: &str, drop: i64) {
    let mut db = Db::open(data);
    db.execute("UPDATE audit_log SET actor = ?1 WHERE seq = ?2", &[Param::Text(actor), Param::Int(seq)]);
    let last = db.rows("SELECT MAX(seq) FROM audit_log", &[])[0][0].int();
    db.execute("DELETE FROM audit_log WHERE seq > ?1", &[Param::Int(last - drop)]);
    let rows = db.rows("SELECT seq, at, actor, action, object, detail FROM audit_log ORDER BY seq", &[]);
    let mut prev = vec![0u8; 32];
    for r in rows {
        let seq = r[0].int();
        let h = link_hash(&prev, seq, r[1].int(), &r[2].text(), &r[3].text(), &r[4].text(), &r[5].text()).to_vec();
        db.execute("UPDATE audit_log SET hash = ?1 WHERE seq = ?2", &[Param::Bytes(&h), Param::Int(seq)]);
        prev = h;
    }
    let head = db.rows("SELECT MAX(seq) FROM audit_log", &[])[0][0].int();
    db.execute("UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1", &[Param::Int(head), Param::Bytes(&prev)]);
}

fn refused_with(data: &Path, args: &[&str]) -> String {
    let out = ca(data, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "ca {args:?} must refuse: {err}");
    err
}

#[test]
fn a_rewritten_log_is_caught_by_checkpoints_and_the_first_changed_record_named() {
    let t = fresh_authority();
    let data = t.join("data");
    // A few actions, each followed by a checkpoint (the server signs one within a
    // second of any growth; here the console does it).
    let mut serials = Vec::new();
    for tag in ["a", "b", "c", "d"] {
        let issued = issue(&data, t.path(), &individual(), tag);
        serials.push(issued["sign"]["serial"].as_str().unwrap().to_string());
        ca_json(&data, &["audit", "checkpoint"]);
    }
    ca_json(&data, &["revoke", &serials[0], "--reason", "keyCompromise"]);
    ca_json(&data, &["audit", "checkpoint"]);

    // The server publishes the newest checkpoint; a relying party keeps it apart.
    let server = Server::on(&data);
    let records = ca_json(&data, &["audit", "verify"])["records"].as_u64().unwrap();
    let url = format!("{}/audit/checkpoint", server.url());
    let started = Instant::now();
    let kept = loop {
        let body: serde_json::Value = ureq::get(&url).call().unwrap().into_json().unwrap();
        if body["size"].as_u64() == Some(records) || started.elapsed() > Duration::from_secs(10) {
            break body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(kept["size"].as_u64(), Some(records), "{kept}");
    let key = ureq::get(&format!("{}/audit/key.pem", server.url())).call().unwrap().into_string().unwrap();
    assert_eq!(key, std::fs::read_to_string(data.join("audit.pem")).unwrap());
    drop(server);
    let kept_file = t.join("kept-checkpoint.json");
    std::fs::write(&kept_file, serde_json::to_vec(&kept).unwrap()).unwrap();
    let ok = ca_json(&data, &["audit", "verify", "--checkpoint", kept_file.to_str().unwrap()]);
    assert_eq!((ok["valid"].as_bool(), ok["extends"].as_u64()), (Some(true), Some(records)), "{ok}");

    // A checkpoint with another root is not the authority's.
    let mut forged = kept.clone();
    forged["root"] = serde_json::json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    let forged_file = t.join("forged.json");
    std::fs::write(&forged_file, serde_json::to_vec(&forged).unwrap()).unwrap();
    assert!(refused_with(&data, &["audit", "verify", "--checkpoint", forged_file.to_str().unwrap()]).contains("signature"));

    // The attacker changes the actor of an issuance record and deletes the newest
    // three records, the chain recomputed so that it verifies.
    let changed = records as i64 - 3;
    rewrite(&data, changed, "operator:someone-else", 3);
    // The authority's kept checkpoints name the record exactly.
    let err = refused_with(&data, &["audit", "verify"]);
    assert!(err.contains(&format!("first inconsistent record is record {changed}")), "{err}");
    // So does the checkpoint kept apart, even after the kept ones are deleted too.
    let err = refused_with(&data, &["audit", "verify", "--checkpoint", kept_file.to_str().unwrap()]);
    assert!(err.contains(&format!("record {changed}")), "{err}");
    // No checkpoint is signed over the rewritten log.
    assert!(refused_with(&data, &["audit", "checkpoint"]).contains("no longer matches"));
    Db::open(&data).execute("DELETE FROM audit_checkpoints", &[]);
    assert!(ca(&data, &["audit", "verify"]).status.success(), "without any checkpoint the rewrite cannot be seen");
    let err = refused_with(&data, &["audit", "verify", "--checkpoint", kept_file.to_str().unwrap()]);
    assert!(err.contains("rewritten") && err.contains(&format!("checkpoint of size {records}")), "{err}");
}

#[test]
fn the_log_can_be_read_by_actor_action_person_and_time() {
    let t = fresh_authority();
    let data = t.join("data");
    let first = issue(&data, t.path(), &individual(), "first");
    let second = issue(&data, t.path(), &e2e::Person { iin: e2e::iin(95), flags: vec!["--surname", "Б", "--name", "В"] }, "second");
    let serial = first["sign"]["serial"].as_str().unwrap().to_string();
    ca_json(&data, &["revoke", &serial, "--reason", "keyCompromise"]);
    let listed = |args: &[&str]| ca_json(&data, &[&["audit", "list"][..], args].concat()).as_array().unwrap().clone();

    let everything = listed(&[]);
    assert!(everything.len() >= 4, "the administrator's pair, two pairs, a revocation: {everything:?}");
    // By person: the first holder's pair and its revocation, nothing of the second.
    let mine = listed(&["--iin", "880515300120"]);
    let actions: Vec<&str> = mine.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["pair_issued", "certificate_revoked"], "{mine:?}");
    assert!(mine.iter().all(|r| r["object"] != second["sign"]["serial"] && r["object"] != second["auth"]["serial"]));
    // By action, by actor (the administrator's serial alone or with its kind).
    assert_eq!(listed(&["--action", "certificate_revoked"]).len(), 1);
    let actor = mine[1]["actor"].as_str().unwrap().to_string();
    let bare = actor.split(':').nth(1).unwrap().to_string();
    assert_eq!(listed(&["--actor", &actor]), listed(&["--actor", &bare]));
    assert!(listed(&["--actor", &actor]).len() >= 3, "the administrator issued and revoked");
    // By time: nothing before the first record, everything from it.
    let at = everything[0]["at"].as_str().unwrap().to_string();
    assert!(listed(&["--until", &at]).is_empty());
    assert_eq!(listed(&["--since", &at]).len(), everything.len());
    // Pages: after a sequence number, at most a limit.
    let page = listed(&["--after", "1", "--limit", "2"]);
    assert_eq!(page.iter().map(|r| r["seq"].as_i64().unwrap()).collect::<Vec<_>>(), [2, 3]);

    // One record, with its chain hash, as the text shows too.
    let one = ca_json(&data, &["audit", "show", &mine[1]["seq"].to_string()]);
    assert_eq!(one["action"], "certificate_revoked");
    assert_eq!(one["hash"].as_str().unwrap().len(), 64);
    let text = String::from_utf8_lossy(&ca(&data, &["audit", "list", "--iin", "880515300120"]).stdout).into_owned();
    assert!(text.starts_with("2 record(s)") && text.contains("certificate_revoked") && text.contains(&serial), "{text}");

    // Wrong filters are usage errors; a missing record is a refusal.
    assert_eq!(ca(&data, &["audit", "list", "--action", "deleted_everything"]).status.code(), Some(2));
    assert_eq!(ca(&data, &["audit", "list", "--since", "yesterday"]).status.code(), Some(2));
    assert_eq!(ca(&data, &["audit", "show", "999999"]).status.code(), Some(1));
}
