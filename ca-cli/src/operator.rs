//! The operator's side: `ca application`, `ca revoke`, `ca unhold`, `ca audit`.
//! On the CA machine they work on the data directory directly (the console is the
//! actor in the audit log); `ca application ... --server URL --key-dir DIR` goes
//! through the operator API instead, signed with the operator's SIGN key.

use anyhow::{bail, Result};
use ca_core::audit::Actor;
use ca_core::authority::Authority;
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
pub fn revoke(data: &Path, serial: &str, reason: &str) -> Result<Value> {
    let reason: RevocationReason = reason.parse()?;
    with_ra(data, None, |ra| {
        ra.revoke(serial, reason, Actor::console())?;
        Ok(json!({ "serial": serial.to_ascii_lowercase(), "status": "revoked", "reason": reason.as_str() }))
    })
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
