//! The operator's side: `ca application`, `ca revoke`, `ca unhold`, `ca crl`, `ca audit`.
//! On the CA machine they work on the data directory directly (the console is the
//! actor in the audit log); `ca application ... --server URL --key-dir DIR` goes
//! through the operator API instead, signed with the operator's SIGN key.

use anyhow::{bail, Result};
use ca_core::audit::Actor;
use ca_core::authority::Authority;
use ca_core::calendar;
use ca_core::crl::CrlKind;
use ca_core::registration::{ApplicationState, Registration, SystemClock};
use ca_core::revocation::RevocationReason;
use ca_core::store::Store;
use serde_json::{json, Value};
use std::path::Path;

/// Run `f` with the registration authority over the authority in `data`.
pub fn with_ra<T>(
    data: &Path,
    unlock: Option<&ca_core::signing::Passphrase>,
    f: impl FnOnce(&mut Registration<'_>) -> Result<T>,
) -> Result<T> {
    let mut ca = Authority::open(data)?;
    if let Some(p) = unlock {
        ca.unlock(p)?;
    }
    let clock = SystemClock;
    let mut ra = Registration::new(&mut ca, &clock);
    f(&mut ra)
}

/// `ca application list` on the data directory.
pub fn list(data: &Path, state: Option<&str>, center: Option<&str>) -> Result<Value> {
    let state = state.map(|s| s.parse::<ApplicationState>()).transpose().map_err(|s| {
        anyhow::anyhow!("unknown state {s:?}: use submitted, awaiting_head_approval, awaiting_identity, issued, rejected or expired")
    })?;
    with_ra(data, None, |ra| Ok(serde_json::to_value(ra.list(state, center)?)?))
}

/// `ca application show`.
pub fn show(data: &Path, number: &str) -> Result<Value> {
    with_ra(data, None, |ra| Ok(serde_json::to_value(ra.show(number)?)?))
}

/// `ca application confirm`: identity checked in person; issue.
pub fn confirm(data: &Path, pass: &ca_core::signing::Passphrase, number: &str) -> Result<Value> {
    with_ra(data, Some(pass), |ra| {
        let pair = ra.confirm(number, Actor::console())?;
        let serial = |c: &x509_cert::Certificate| hex::encode(c.tbs_certificate.serial_number.as_bytes());
        Ok(
            json!({ "number": number, "state": "issued", "pair_id": pair.pair_id, "certificates": { "auth": serial(&pair.auth), "sign": serial(&pair.sign) } }),
        )
    })
}

/// `ca application reject`.
pub fn reject(data: &Path, number: &str, reason: &str) -> Result<Value> {
    with_ra(data, None, |ra| Ok(serde_json::to_value(ra.reject(number, reason, Actor::console())?)?))
}

/// `ca revoke`.
pub fn revoke(data: &Path, serial: &str, reason: &str, invalidity_date: Option<&str>) -> Result<Value> {
    let reason: RevocationReason = reason.parse()?;
    let invalid_since = invalidity_date
        .map(|d| calendar::parse_rfc3339(d).ok_or_else(|| anyhow::anyhow!("invalidity date {d:?} is not of the form 2026-01-31T12:00:00Z")))
        .transpose()?;
    with_ra(data, None, |ra| {
        ra.revoke_since(serial, reason, invalid_since, Actor::console())?;
        Ok(
            json!({ "serial": serial.to_ascii_lowercase(), "status": "revoked", "reason": reason.as_str(), "invalidity_date": invalidity_date }),
        )
    })
}

/// `ca crl`: issue a full or delta CRL now and write it to `out`. Reports how long
/// generation took (database read, encoding, signing), without opening the
/// authority and decrypting its key.
pub fn crl(data: &Path, pass: &ca_core::signing::Passphrase, kind: CrlKind, out: &Path) -> Result<Value> {
    let mut ca = Authority::open(data)?;
    ca.unlock(pass)?;
    let started = std::time::Instant::now();
    let crl = ca.issue_crl(kind, calendar::unix_seconds(&calendar::now()))?;
    let generation_ms = started.elapsed().as_secs_f64() * 1000.0;
    ca_core::authority::write_atomically(out, &crl.der)?;
    let time = |t: i64| calendar::from_unix_seconds(t).map(|d| calendar::rfc3339(&d));
    Ok(json!({
        "file": out.display().to_string(), "kind": kind.as_str(), "number": crl.record.number, "base_number": crl.record.base_number,
        "entries": crl.entries, "this_update": time(crl.record.this_update), "next_update": time(crl.record.next_update),
        "generation_ms": (generation_ms * 10.0).round() / 10.0, "bytes": crl.der.len(),
    }))
}

/// `ca unhold`.
pub fn unhold(data: &Path, serial: &str) -> Result<Value> {
    with_ra(data, None, |ra| {
        ra.unhold(serial, Actor::console())?;
        Ok(json!({ "serial": serial.to_ascii_lowercase(), "status": "valid" }))
    })
}

/// `ca audit verify`: the number of records, or an error naming the broken one.
pub fn audit_verify(data: &Path) -> Result<Value> {
    let ca = Authority::open(data)?;
    match ca.store().verify_audit()? {
        Ok(n) => Ok(json!({ "valid": true, "records": n })),
        Err(e) => bail!("the audit log is not intact: {e}"),
    }
}

/// `ca crl --root`: the root's CRL, signed now with the root key, published in the
/// data directory and written to `out`.
pub fn root_crl(data: &Path, pass: &ca_core::signing::Passphrase, out: &Path) -> Result<Value> {
    let ca = Authority::open(data)?;
    let der = ca.publish_root_crl(pass, calendar::unix_seconds(&calendar::now()))?;
    ca_core::authority::write_atomically(out, &der)?;
    let info = ca_core::crl::read(&der, Some(&ca.certificates().root))?;
    Ok(json!({ "file": out.display().to_string(), "kind": "root", "number": info.number, "entries": 0,
               "this_update": info.this_update, "next_update": info.next_update }))
}
