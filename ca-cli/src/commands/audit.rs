//! `ca audit verify` and `ca audit checkpoint`: the audit log's hash chain, and
//! its Merkle tree checked against signed checkpoints — those the authority kept
//! and one kept apart, which a rewrite of the database cannot reach. `ca audit
//! list` and `ca audit show` read the records.

use super::rfc3339;
use super::Ctx;
use crate::args::AuditFilter;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::audit::{check_consistency, AuditAction, AuditRecord, Checkpoint, LogError};
use ca_core::calendar;
use ca_core::store::{AuditCheck, AuditQuery, AuditStore};
use serde::Serialize;
use std::path::Path;

/// An intact audit log.
#[derive(Serialize)]
pub struct Verified {
    valid: bool,
    records: i64,
    /// Kept checkpoints it matches.
    checkpoints: u64,
    /// The Merkle root of the whole log, base64.
    root: String,
    /// The size of the checkpoint given with --checkpoint, which the log extends.
    #[serde(skip_serializing_if = "Option::is_none")]
    extends: Option<u64>,
}

impl Output for Verified {}

/// Records read at a time.
const PAGE: u32 = 10_000;

/// Run `ca audit verify`: the number of records, or a refusal naming the first
/// record that is not what it was.
pub fn verify(ctx: &Ctx, given: Option<&Path>) -> CliResult<Verified> {
    let ca = ctx.open()?;
    let store = ca.store()?;
    let given: Option<Checkpoint> = given
        .map(|path| {
            let text = std::fs::read(path).map_err(|e| CliError::reading(path, e))?;
            serde_json::from_slice(&text)
                .map_err(|e| CliError::refused("bad_checkpoint", format!("{} is not a checkpoint: {e}", path.display())))
        })
        .transpose()?;
    let key = ca.audit_public_key()?;
    let mut records = Vec::new();
    loop {
        let page = store.audit_records(records.last().map_or(0, |r: &ca_core::audit::AuditRecord| r.seq), PAGE)?;
        let done = page.len() < PAGE as usize;
        records.extend(page);
        if done {
            break;
        }
    }
    // The chain names a record edited in place; the checkpoints catch a rewrite
    // whose chain was recomputed, which only the audit key's signatures reveal.
    let count = match store.verify_audit()? {
        AuditCheck::Intact { records } => records,
        AuditCheck::Broken(e) => return Err(CliError::refused("audit_broken", format!("the audit log is not intact: {e}"))),
    };
    let kept = store.checkpoints(false)?;
    let consistent = check_consistency(records, &kept, given.as_ref(), &key).map_err(|e| match e {
        LogError::Inconsistent(i) => CliError::refused("audit_inconsistent", format!("the audit log was rewritten: {i}")),
        LogError::Checkpoint(c) => CliError::refused("bad_checkpoint", c.to_string()),
        other => CliError::internal("audit_check", other.to_string()),
    })?;
    let records = count;
    use base64ct::Encoding;
    Ok(Verified {
        valid: true,
        records,
        checkpoints: consistent.checkpoints,
        root: base64ct::Base64::encode_string(&consistent.root),
        extends: given.map(|c| c.size),
    })
}

impl Output for Checkpoint {}

/// Run `ca audit checkpoint`: sign what is new, print (and write) the newest.
pub fn checkpoint(ctx: &Ctx, out: Option<&Path>) -> CliResult<Checkpoint> {
    let ca = ctx.open()?;
    let mut checkpointer = ca.checkpointer(&ctx.passphrase()?)?;
    checkpointer.catch_up(calendar::unix_now()).map_err(|e| CliError::refused("audit_inconsistent", e.to_string()))?;
    let newest = ca
        .store()?
        .checkpoints(true)?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::refused("empty_log", "the audit log is empty: nothing to vouch for"))?;
    if let Some(path) = out {
        let text = serde_json::to_vec_pretty(&newest).map_err(|e| CliError::internal("encoding", e.to_string()))?;
        std::fs::write(path, text).map_err(|e| CliError::writing(path, e))?;
    }
    Ok(newest)
}

/// An audit record as `ca audit list` and `show` print it.
#[derive(Serialize)]
pub struct Record {
    seq: i64,
    at: Option<String>,
    actor: String,
    action: String,
    object: String,
    detail: String,
    /// The chain hash through this record, hex.
    hash: String,
}

impl From<AuditRecord> for Record {
    fn from(r: AuditRecord) -> Self {
        Record {
            seq: r.seq,
            at: rfc3339(r.at),
            actor: r.actor,
            action: r.action,
            object: r.object,
            detail: r.detail,
            hash: hex::encode(r.hash),
        }
    }
}

impl Record {
    fn line(&self) -> String {
        let at = self.at.as_deref().unwrap_or("?");
        format!("{:>6}  {at}  {}  {}  {}  {}", self.seq, self.actor, self.action, self.object, self.detail)
    }
}

impl Output for Record {
    fn human(&self) -> String {
        format!(
            "seq:     {}\ntime:    {}\nactor:   {}\naction:  {}\nobject:  {}\ndetail:  {}\nhash:    {}",
            self.seq,
            self.at.as_deref().unwrap_or("?"),
            self.actor,
            self.action,
            self.object,
            self.detail,
            self.hash
        )
    }
}

/// What `ca audit list` prints.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Records(Vec<Record>);

impl Output for Records {
    fn human(&self) -> String {
        let mut out = format!("{} record(s)", self.0.len());
        for r in &self.0 {
            out.push('\n');
            out.push_str(&r.line());
        }
        out
    }
}

fn time(flag: &str, value: Option<&str>) -> CliResult<Option<i64>> {
    value
        .map(|v| {
            calendar::parse_rfc3339(v)
                .ok_or_else(|| CliError::usage(format!("{flag} {v:?} is not an RFC 3339 UTC time such as 2026-11-01T00:00:00Z")))
        })
        .transpose()
}

/// Run `ca audit list`.
pub fn list(ctx: &Ctx, f: &AuditFilter) -> CliResult<Records> {
    if let Some(action) = f.action.as_deref().filter(|a| AuditAction::parse(a).is_none()) {
        let names: Vec<_> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        return Err(CliError::usage(format!("--action {action:?} is not one of {}", names.join(", "))));
    }
    if !(1..=10_000).contains(&f.limit) {
        return Err(CliError::usage("--limit must be 1 to 10000"));
    }
    let query = AuditQuery {
        actor: f.actor.clone(),
        action: f.action.clone(),
        iin: f.iin.clone(),
        since: time("--since", f.since.as_deref())?,
        until: time("--until", f.until.as_deref())?,
        after: f.after,
        limit: f.limit,
    };
    let ca = ctx.open()?;
    Ok(Records(ca.store()?.audit_search(&query)?.into_iter().map(Record::from).collect()))
}

/// Run `ca audit show`.
pub fn show(ctx: &Ctx, seq: i64) -> CliResult<Record> {
    let ca = ctx.open()?;
    let found = ca.store()?.audit_records(seq - 1, 1)?.into_iter().find(|r| r.seq == seq);
    found.map(Record::from).ok_or_else(|| CliError::refused("no_record", format!("the audit log has no record {seq}")))
}
