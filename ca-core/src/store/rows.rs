//! The stores' rows read into records, once for both back ends: each back end's
//! row type says only how to read one column as an integer, text or bytes. The
//! column lists the readers expect are the `SELECT`s here, shared too.

use super::*;
use crate::audit::AuditRecord;

/// A row's columns, by position.
pub(super) trait Columns {
    /// An integer column (NULL as `None`).
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError>;
    /// A text column.
    fn text(&self, i: usize) -> Result<Option<String>, StoreError>;
    /// A bytes column.
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError>;
}

/// A certificate with its pair's holder; read by [`certificate_record`].
pub(super) const SELECT: &str = "SELECT c.serial, c.pair_id, c.cert_type, p.subject_kind, p.iin, p.bin, p.role, c.common_name,
    c.not_before, c.not_after, c.key_id, c.der, c.revoked_at, c.revocation_reason, c.invalidity_date, p.staff_role
    FROM certificates c JOIN pairs p ON p.id = c.pair_id";

/// An application; read by [`application_record`].
pub(super) const APP_SELECT: &str = "SELECT number, secret_hash, state, submitted_at, updated_at, center, storage, iin, bin, form,
    auth_csr, sign_csr, approved_by, reject_reason, pair_id FROM applications";

/// The states in which an application still waits to be issued.
pub(super) const PENDING: &str = "state IN ('submitted', 'awaiting_head_approval', 'awaiting_identity')";

/// The fingerprint of the key in a stored request (DER), if it parses: what an
/// application's `auth_key` and `sign_key` columns hold.
pub(super) fn request_key(der: &[u8]) -> Option<[u8; 32]> {
    let req = <x509_cert::request::CertReq as der::Decode>::from_der(der).ok()?;
    crate::csr::key_fingerprint(&req.info.public_key).ok()
}

pub(super) fn corrupt(column: &'static str, value: impl ToString) -> StoreError {
    StoreError::Corrupt { column, value: value.to_string() }
}

fn need<T>(value: Option<T>, column: &'static str) -> Result<T, StoreError> {
    value.ok_or_else(|| corrupt(column, "NULL"))
}

fn int(row: &impl Columns, i: usize, column: &'static str) -> Result<i64, StoreError> {
    need(row.int(i)?, column)
}

fn text(row: &impl Columns, i: usize, column: &'static str) -> Result<String, StoreError> {
    need(row.text(i)?, column)
}

fn bytes(row: &impl Columns, i: usize, column: &'static str) -> Result<Vec<u8>, StoreError> {
    need(row.bytes(i)?, column)
}

/// A serial from its canonical text (written with `Serial::as_str`).
pub(super) fn serial(row: &impl Columns, i: usize) -> Result<Serial, StoreError> {
    let text = text(row, i, "serial")?;
    Serial::parse(&text).map_err(|_| corrupt("serial", text))
}

/// A named value (state, role, type) stored as its name.
fn named<T: std::str::FromStr>(row: &impl Columns, i: usize, column: &'static str) -> Result<T, StoreError> {
    let text = text(row, i, column)?;
    text.parse().map_err(|_| corrupt(column, text))
}

fn optional_named<T: std::str::FromStr>(row: &impl Columns, i: usize, column: &'static str) -> Result<Option<T>, StoreError> {
    row.text(i)?.map(|t| t.parse().map_err(|_| corrupt(column, t))).transpose()
}

/// A revocation from the columns `revoked_at, revocation_reason, invalidity_date`
/// starting at `first`; `None` when the certificate is not revoked.
pub(super) fn revocation(row: &impl Columns, first: usize) -> Result<Option<Revocation>, StoreError> {
    match (row.int(first)?, row.int(first + 1)?) {
        (Some(at), Some(code)) => {
            let reason =
                u8::try_from(code).ok().and_then(RevocationReason::from_code).ok_or_else(|| corrupt("revocation_reason", code))?;
            Ok(Some(Revocation { at, reason, invalid_since: row.int(first + 2)? }))
        }
        _ => Ok(None),
    }
}

/// A row of [`SELECT`].
pub(super) fn certificate_record(row: &impl Columns) -> Result<CertificateRecord, StoreError> {
    let entity = match (row.text(5)?, optional_named::<Role>(row, 6, "role")?) {
        (Some(bin), Some(role)) => Some((bin, role)),
        _ => None,
    };
    Ok(CertificateRecord {
        serial: serial(row, 0)?,
        pair_id: int(row, 1, "pair_id")?,
        cert_type: named(row, 2, "cert_type")?,
        holder: Holder {
            kind: named(row, 3, "subject_kind")?,
            iin: text(row, 4, "iin")?,
            entity,
            staff: optional_named(row, 15, "staff_role")?,
        },
        common_name: text(row, 7, "common_name")?,
        not_before: int(row, 8, "not_before")?,
        not_after: int(row, 9, "not_after")?,
        key_id: text(row, 10, "key_id")?,
        der: bytes(row, 11, "der")?,
        revocation: revocation(row, 12)?,
    })
}

/// A row of [`APP_SELECT`].
pub(super) fn application_record(row: &impl Columns) -> Result<ApplicationRecord, StoreError> {
    let approved_by = match row.text(12)? {
        Some(_) => Some(serial(row, 12)?),
        None => None,
    };
    Ok(ApplicationRecord {
        number: text(row, 0, "number")?,
        secret_hash: bytes(row, 1, "secret_hash")?,
        state: named(row, 2, "state")?,
        submitted_at: int(row, 3, "submitted_at")?,
        updated_at: int(row, 4, "updated_at")?,
        center: text(row, 5, "center")?,
        storage: named(row, 6, "storage")?,
        iin: text(row, 7, "iin")?,
        bin: row.text(8)?,
        form: text(row, 9, "form")?,
        auth_csr: bytes(row, 10, "auth_csr")?,
        sign_csr: bytes(row, 11, "sign_csr")?,
        approved_by,
        reject_reason: row.text(13)?,
        pair_id: row.int(14)?,
    })
}

/// A row of `SELECT number, base_number, status_seq, this_update, next_update, family`.
pub(super) fn crl_record(row: &impl Columns) -> Result<CrlRecord, StoreError> {
    Ok(CrlRecord {
        family: named(row, 5, "family")?,
        number: int(row, 0, "number")? as u64,
        base_number: row.int(1)?.map(|n| n as u64),
        status_seq: int(row, 2, "status_seq")?,
        this_update: int(row, 3, "this_update")?,
        next_update: int(row, 4, "next_update")?,
    })
}

/// A row of `SELECT seq, at, actor, action, object, detail, hash`.
pub(super) fn audit_record(row: &impl Columns) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        seq: int(row, 0, "seq")?,
        at: int(row, 1, "at")?,
        actor: text(row, 2, "actor")?,
        action: text(row, 3, "action")?,
        object: text(row, 4, "object")?,
        detail: text(row, 5, "detail")?,
        hash: bytes(row, 6, "hash")?,
    })
}

/// A row of `SELECT size, root, time, origin, key_id, signature`.
pub(super) fn checkpoint(row: &impl Columns) -> Result<crate::audit::Checkpoint, StoreError> {
    Ok(crate::audit::Checkpoint {
        size: int(row, 0, "size")? as u64,
        root: text(row, 1, "root")?,
        time: int(row, 2, "time")?,
        origin: text(row, 3, "origin")?,
        key_id: text(row, 4, "key_id")?,
        signature: text(row, 5, "signature")?,
    })
}
