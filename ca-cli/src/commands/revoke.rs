//! `ca revoke` and `ca unhold` on the data directory, signed off by a manager's key.

use super::Ctx;
use super::{staff, SerialStatus};
use crate::error::{CliError, CliResult};
use ca_core::api::SignedAction;
use ca_core::calendar;
use ca_core::model::{RevocationReason, Serial};

/// Run `ca revoke`.
pub fn revoke(ctx: &Ctx, serial: &Serial, reason: RevocationReason, invalidity_date: Option<&str>) -> CliResult<SerialStatus> {
    let invalid_since = invalidity_date
        .map(|d| {
            calendar::parse_rfc3339(d)
                .ok_or_else(|| CliError::refused("bad_date", format!("invalidity date {d:?} is not of the form 2026-01-31T12:00:00Z")))
        })
        .transpose()?;
    ctx.with_ra(false, |ra| {
        let action =
            SignedAction::RevokeCertificate { serial: serial.clone(), reason, invalidity_date: invalidity_date.map(str::to_string) };
        let member = staff::authorize(ctx, ra, action)?;
        Ok(ra.revoke_since(serial, reason, invalid_since, &member)?)
    })?;
    Ok(SerialStatus {
        serial: serial.clone(),
        status: "revoked",
        reason: Some(reason.as_str()),
        invalidity_date: Some(invalidity_date.map(str::to_string)),
    })
}

/// Run `ca unhold`.
pub fn unhold(ctx: &Ctx, serial: &Serial) -> CliResult<SerialStatus> {
    ctx.with_ra(false, |ra| {
        let member = staff::authorize(ctx, ra, SignedAction::LiftHold { serial: serial.clone() })?;
        Ok(ra.unhold(serial, &member)?)
    })?;
    Ok(SerialStatus { serial: serial.clone(), status: "valid", reason: None, invalidity_date: None })
}
