//! `ca crl`: issue the full or delta CRL now, or the root's CRL, and write it;
//! the RSA hierarchy's, or with `--gost` the GOST one's.

use super::Ctx;
use crate::error::CliResult;
use crate::output::Output;
use ca_core::authority;
use ca_core::calendar;
use ca_core::crl::CrlKind;
use ca_core::model::Family;
use serde::Serialize;
use std::path::Path;

/// `--gost` as the family it picks.
pub fn family(gost: bool) -> Family {
    if gost {
        Family::Gost
    } else {
        Family::Rsa
    }
}

/// A CRL issued and written.
#[derive(Serialize)]
pub struct Written {
    file: String,
    family: Family,
    kind: &'static str,
    number: u64,
    base_number: Option<u64>,
    entries: u64,
    this_update: Option<String>,
    next_update: Option<String>,
    generation_ms: f64,
    bytes: usize,
}

impl Output for Written {}

/// The root's CRL, signed and written.
#[derive(Serialize)]
pub struct RootWritten {
    file: String,
    family: Family,
    kind: &'static str,
    /// As the CRL carries it (decimal).
    number: Option<String>,
    entries: u64,
    this_update: String,
    next_update: Option<String>,
}

impl Output for RootWritten {}

/// `ca crl [--delta]`: reports how long generation took (database read, encoding,
/// signing), without opening the authority and decrypting its key.
pub fn issue(ctx: &Ctx, family: Family, delta: bool, out: &Path) -> CliResult<Written> {
    let kind = if delta { CrlKind::Delta } else { CrlKind::Full };
    let ca = ctx.open()?;
    let mut updater = ca.crl_updater_of(family, &ctx.passphrase()?)?;
    let started = std::time::Instant::now();
    let crl = updater.issue(family, kind, calendar::unix_now())?;
    let generation_ms = started.elapsed().as_secs_f64() * 1000.0;
    authority::write_atomically(out, &crl.der)?;
    Ok(Written {
        file: out.display().to_string(),
        family,
        kind: kind.as_str(),
        number: crl.record.number,
        base_number: crl.record.base_number,
        entries: crl.entries,
        this_update: super::rfc3339(crl.record.this_update),
        next_update: super::rfc3339(crl.record.next_update),
        generation_ms: (generation_ms * 10.0).round() / 10.0,
        bytes: crl.der.len(),
    })
}

/// `ca crl --root`: the root's CRL, signed now with the root key, published in the
/// data directory and written to `out`.
pub fn root(ctx: &Ctx, family: Family, out: &Path, root_key: Option<&Path>) -> CliResult<RootWritten> {
    let ca = ctx.open()?;
    let der = ca.publish_root_crl(family, &ctx.passphrase()?, calendar::unix_now(), root_key)?;
    authority::write_atomically(out, &der)?;
    let root = ca.hierarchies().of(family).map(|h| &h.root);
    let info = ca_core::crl::read(&der, root)?;
    Ok(RootWritten {
        file: out.display().to_string(),
        family,
        kind: "root",
        number: info.number,
        entries: 0,
        this_update: info.this_update,
        next_update: info.next_update,
    })
}
