//! `ca show` and `ca list`: stored certificates, their owners and status.

use super::{rfc3339, Ctx};
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::calendar;
use ca_core::model::{CertType, Role, Serial};
use ca_core::store::{CertificateRecord, CertificateStore, ListFilter, Status, StatusFilter};
use ca_core::verify::CertificateInfo;
use der::EncodePem;
use serde::Serialize;

/// A certificate's status now (`valid`, `not_yet_valid`, `expired`, `revoked`, or
/// `hold` for a certificateHold), with the revocation's time, reason and
/// invalidity date.
#[derive(Serialize)]
pub struct StatusView {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_at: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// Since when the key is known or suspected to be compromised, when the revoker said.
    #[serde(skip_serializing_if = "Option::is_none")]
    invalidity_date: Option<Option<String>>,
}

impl From<Status> for StatusView {
    fn from(s: Status) -> Self {
        match s {
            Status::Revoked(r) => StatusView {
                status: s.as_str(),
                revoked_at: Some(rfc3339(r.at)),
                reason: Some(r.reason.as_str()),
                invalidity_date: r.invalid_since.map(rfc3339),
            },
            other => StatusView { status: other.as_str(), revoked_at: None, reason: None, invalidity_date: None },
        }
    }
}

impl StatusView {
    /// `revoked (keyCompromise) at 2026-…`, `hold (certificateHold) since …`, or the bare status.
    fn text(&self) -> String {
        let time = |t: &Option<Option<String>>| t.clone().flatten().unwrap_or_else(|| "?".into());
        match self.reason {
            Some(reason) => {
                let when = if self.status == "hold" { "since" } else { "at" };
                let mut out = format!("{} ({reason}) {when} {}", self.status, time(&self.revoked_at));
                if self.invalidity_date.is_some() {
                    out.push_str(&format!(", key invalid since {}", time(&self.invalidity_date)));
                }
                out
            }
            None => self.status.to_string(),
        }
    }
}

/// One certificate as `ca show` prints it: what `ca inspect` says, its pair, its
/// status, and the stored PEM (a lost file can be exported again).
#[derive(Serialize)]
pub struct Shown {
    #[serde(flatten)]
    info: CertificateInfo,
    pair_id: i64,
    status: StatusView,
    pem: String,
    #[serde(skip)]
    record: CertificateRecord,
}

impl Output for Shown {
    fn human(&self) -> String {
        let r = &self.record;
        format!(
            "serial:   {}\ntype:     {}\nowner:    {} (IIN {})\nstatus:   {}\nvalid:    {} .. {}",
            self.info.serial,
            r.cert_type,
            r.common_name,
            r.holder.iin,
            self.status.text(),
            self.info.not_before,
            self.info.not_after
        )
    }
}

/// Run `ca show`.
pub fn show(ctx: &Ctx, serial: &Serial) -> CliResult<Shown> {
    let ca = ctx.open()?;
    let record = ca.store()?.certificate(serial)?.ok_or_else(|| {
        CliError::refused("unknown_certificate", format!("no certificate with serial {serial} in {}", ctx.data.display()))
    })?;
    let cert = record.certificate()?;
    Ok(Shown {
        info: CertificateInfo::of(&cert),
        pair_id: record.pair_id,
        status: record.status(calendar::unix_now()).into(),
        pem: cert.to_pem(der::pem::LineEnding::LF)?,
        record,
    })
}

/// One line of `ca list`.
#[derive(Serialize)]
pub struct Listed {
    serial: Serial,
    #[serde(rename = "type")]
    cert_type: CertType,
    pair_id: i64,
    common_name: String,
    iin: String,
    bin: Option<String>,
    role: Option<Role>,
    not_before: Option<String>,
    not_after: Option<String>,
    #[serde(flatten)]
    status: StatusView,
}

/// What `ca list` prints.
#[derive(Serialize)]
#[serde(transparent)]
pub struct List(Vec<Listed>);

impl Output for List {
    fn human(&self) -> String {
        let mut out = format!("{} certificate(s)", self.0.len());
        for r in &self.0 {
            out.push_str(&format!("\n{}  {}  {}  {}  {}", r.serial, r.cert_type, r.iin, r.common_name, r.status.text()));
        }
        out
    }
}

/// Run `ca list`.
pub fn list(ctx: &Ctx, iin: Option<String>, bin: Option<String>, status: Option<StatusFilter>) -> CliResult<List> {
    let ca = ctx.open()?;
    let now = calendar::unix_now();
    let records = ca.store()?.list(&ListFilter { iin, bin, status, now, staff: false })?;
    Ok(List(
        records
            .into_iter()
            .map(|r| Listed {
                status: r.status(now).into(),
                bin: r.holder.entity.as_ref().map(|e| e.0.clone()),
                role: r.holder.entity.as_ref().map(|e| e.1),
                not_before: rfc3339(r.not_before),
                not_after: rfc3339(r.not_after),
                serial: r.serial,
                cert_type: r.cert_type,
                pair_id: r.pair_id,
                common_name: r.common_name,
                iin: r.holder.iin,
            })
            .collect(),
    ))
}
