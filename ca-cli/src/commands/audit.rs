//! `ca audit verify`: check the audit log's hash chain.

use super::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::store::AuditStore;
use serde::Serialize;

/// An intact audit log.
#[derive(Serialize)]
pub struct Verified {
    valid: bool,
    records: i64,
}

impl Output for Verified {}

/// Run `ca audit verify`: the number of records, or a refusal naming the broken one.
pub fn verify(ctx: &Ctx) -> CliResult<Verified> {
    match ctx.open()?.store()?.verify_audit()? {
        Ok(records) => Ok(Verified { valid: true, records }),
        Err(e) => Err(CliError::refused("audit_broken", format!("the audit log is not intact: {e}"))),
    }
}
