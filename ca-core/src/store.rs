//! The authority's database behind the [`Store`] trait; SQLite (rusqlite, bundled)
//! is the embedded default. No business rules here: only records and transactions.
//!
//! Durability: WAL with `synchronous=FULL`, so a pair reported issued survives a
//! power cut, and one transaction per pair, so a crash leaves both certificates
//! of a pair recorded or neither.

use crate::audit::{AuditBreak, AuditEvent, AuditRecord, Chain};
use crate::profile::{CertType, Role};
use crate::registration::{ApplicationState, KeyStorage};
use crate::revocation::RevocationReason;
use crate::verify::SubjectKind;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::path::Path;
use thiserror::Error;

/// Database failures.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database was written by a newer version of this software.
    #[error("the database schema is version {found}, newer than this program's {supported}: upgrade the program")]
    TooNew { found: i64, supported: i64 },
    /// A stored value that this program does not understand.
    #[error("the database holds an invalid value in {column}: {value:?}")]
    Corrupt { column: &'static str, value: String },
}

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE pairs (
    id           INTEGER PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('individual', 'legal_entity')),
    iin          TEXT NOT NULL,
    bin          TEXT,
    role         TEXT,
    issued_at    INTEGER NOT NULL,
    CHECK ((subject_kind = 'legal_entity') = (bin IS NOT NULL AND role IS NOT NULL))
);
CREATE TABLE certificates (
    serial            TEXT PRIMARY KEY,
    pair_id           INTEGER NOT NULL REFERENCES pairs(id),
    cert_type         TEXT NOT NULL CHECK (cert_type IN ('AUTH', 'SIGN')),
    common_name       TEXT NOT NULL,
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    key_id            TEXT NOT NULL,
    key_fingerprint   BLOB NOT NULL UNIQUE,
    der               BLOB NOT NULL,
    revoked_at        INTEGER,
    revocation_reason INTEGER,
    CHECK ((revoked_at IS NULL) = (revocation_reason IS NULL)),
    UNIQUE (pair_id, cert_type)
);
CREATE INDEX pairs_iin ON pairs(iin);
CREATE INDEX pairs_bin ON pairs(bin);
"#,
    r#"
CREATE TABLE applications (
    number        TEXT PRIMARY KEY,
    secret_hash   BLOB NOT NULL,
    state         TEXT NOT NULL,
    submitted_at  INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    center        TEXT NOT NULL,
    storage       TEXT NOT NULL,
    iin           TEXT NOT NULL,
    bin           TEXT,
    form          TEXT NOT NULL,
    auth_csr      BLOB NOT NULL,
    sign_csr      BLOB NOT NULL,
    approved_by   TEXT,
    reject_reason TEXT,
    pair_id       INTEGER REFERENCES pairs(id),
    CHECK ((state = 'issued') = (pair_id IS NOT NULL))
);
CREATE INDEX applications_state ON applications(state, center);
CREATE TABLE used_requests (
    digest  BLOB PRIMARY KEY,
    used_at INTEGER NOT NULL
);
CREATE INDEX used_requests_at ON used_requests(used_at);
CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    hash   BLOB NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash BLOB NOT NULL
);
"#,
    // Revocation status for CRLs and OCSP. Every change of a certificate's status is
    // logged by a trigger, whoever writes it: delta CRLs list what changed since
    // their base, OCSP drops cached answers for it. CRL numbers come from an
    // AUTOINCREMENT key, so they never go backwards, not even after a crash.
    r#"
ALTER TABLE certificates ADD COLUMN invalidity_date INTEGER;
CREATE INDEX certificates_revoked ON certificates(serial, revoked_at, revocation_reason, invalidity_date)
    WHERE revoked_at IS NOT NULL;
CREATE TABLE status_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    serial TEXT NOT NULL,
    at     INTEGER NOT NULL
);
CREATE TRIGGER status_changed AFTER UPDATE OF revoked_at, revocation_reason ON certificates
WHEN old.revoked_at IS NOT new.revoked_at OR old.revocation_reason IS NOT new.revocation_reason
BEGIN
    INSERT INTO status_log (serial, at) VALUES (new.serial, COALESCE(new.revoked_at, CAST(strftime('%s', 'now') AS INTEGER)));
END;
CREATE TABLE crls (
    number      INTEGER PRIMARY KEY AUTOINCREMENT,
    base_number INTEGER,
    status_seq  INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL
);
"#,
];

/// One certificate about to be recorded.
#[derive(Clone, Debug)]
pub struct NewCertificate {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// AUTH or SIGN.
    pub cert_type: CertType,
    /// The subject's common name.
    pub common_name: String,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// Subject key identifier, lowercase hex.
    pub key_id: String,
    /// SHA-256 of the SubjectPublicKeyInfo.
    pub key_fingerprint: [u8; 32],
    /// The certificate.
    pub der: Vec<u8>,
}

/// The holder of a pair, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    /// Individual or legal entity.
    pub kind: SubjectKind,
    /// IIN of the person.
    pub iin: String,
    /// BIN and role, for a legal entity's representative.
    pub entity: Option<(String, Role)>,
}

/// A pair about to be recorded.
#[derive(Clone, Debug)]
pub struct NewPair {
    /// Whom it is for.
    pub holder: Holder,
    /// When it was issued, Unix seconds.
    pub issued_at: i64,
    /// The AUTH certificate.
    pub auth: NewCertificate,
    /// The SIGN certificate.
    pub sign: NewCertificate,
}

/// A revocation as recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// When, Unix seconds.
    pub at: i64,
    /// Why.
    pub reason: RevocationReason,
    /// Since when the key is known or suspected to be compromised, if known
    /// (the CRL entry's invalidity date, RFC 5280 §5.3.2).
    pub invalid_since: Option<i64>,
}

impl Revocation {
    /// A revocation at `at` for `reason`, with no invalidity date.
    pub fn new(at: i64, reason: RevocationReason) -> Self {
        Revocation { at, reason, invalid_since: None }
    }
}

/// One certificate whose status a CRL reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlRow {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Its revocation, or `None` when a hold was lifted (a delta's removeFromCRL).
    pub revocation: Option<Revocation>,
    /// When its status last changed, Unix seconds.
    pub changed_at: i64,
}

/// A CRL as recorded, before or after it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlRecord {
    /// The CRL number (shared by full and delta CRLs).
    pub number: u64,
    /// For a delta CRL, the number of its base full CRL.
    pub base_number: Option<u64>,
    /// The status log position the CRL reflects.
    pub status_seq: i64,
    /// thisUpdate, Unix seconds.
    pub this_update: i64,
    /// nextUpdate, Unix seconds.
    pub next_update: i64,
}

/// A stored certificate.
#[derive(Clone, Debug)]
pub struct CertificateRecord {
    /// Serial number, lowercase hex.
    pub serial: String,
    /// The pair it belongs to.
    pub pair_id: i64,
    /// AUTH or SIGN.
    pub cert_type: CertType,
    /// Whom it is for.
    pub holder: Holder,
    /// The subject's common name.
    pub common_name: String,
    /// Validity start, Unix seconds.
    pub not_before: i64,
    /// Validity end, Unix seconds.
    pub not_after: i64,
    /// Subject key identifier, lowercase hex.
    pub key_id: String,
    /// The certificate.
    pub der: Vec<u8>,
    /// Set once revoked.
    pub revocation: Option<Revocation>,
}

/// Where a certificate stands at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not yet valid (issued with a future start).
    NotYetValid,
    /// Within its validity and not revoked.
    Valid,
    /// Past its validity, never revoked.
    Expired,
    /// Revoked.
    Revoked(Revocation),
}

impl Status {
    /// The name used by `ca list --status` and in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::NotYetValid => "not_yet_valid",
            Status::Valid => "valid",
            Status::Expired => "expired",
            Status::Revoked(_) => "revoked",
        }
    }
}

impl CertificateRecord {
    /// The certificate's status at `now` (Unix seconds).
    pub fn status(&self, now: i64) -> Status {
        match self.revocation {
            Some(r) => Status::Revoked(r),
            None if now < self.not_before => Status::NotYetValid,
            None if now >= self.not_after => Status::Expired,
            None => Status::Valid,
        }
    }
}

/// Which certificates `list` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Valid now.
    Valid,
    /// Revoked.
    Revoked,
    /// Expired without revocation.
    Expired,
}

/// Criteria for [`Store::list`].
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Only this IIN.
    pub iin: Option<String>,
    /// Only this BIN.
    pub bin: Option<String>,
    /// Only this status, judged at `now`.
    pub status: Option<StatusFilter>,
    /// The moment status is judged at, Unix seconds.
    pub now: i64,
}

/// Storage of issued certificates.
pub trait Store {
    /// Whether a serial number is already taken.
    fn serial_exists(&self, serial: &str) -> Result<bool, StoreError>;
    /// The serial of a certificate already issued for this key, if any.
    fn serial_for_key(&self, fingerprint: &[u8; 32]) -> Result<Option<String>, StoreError>;
    /// Record a pair: both certificates or, on any failure, neither. Returns the pair id.
    fn insert_pair(&mut self, pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError>;
    /// Record a renewed pair and revoke the still-unrevoked certificates of `old_pair`
    /// as superseded, in one transaction. Returns the new pair id.
    fn renew_pair(&mut self, pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError>;
    /// Revoke `serials` at `at` for `reason`: those not revoked, or on hold (a hold may
    /// become a final revocation). Returns how many changed; all or none.
    fn revoke(&mut self, serials: &[String], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError>;
    /// Lift a certificateHold. Returns whether the certificate was on hold.
    fn unhold(&mut self, serial: &str, at: i64, event: &AuditEvent) -> Result<bool, StoreError>;
    /// Record a new application.
    fn insert_application(&mut self, app: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError>;
    /// One application by number.
    fn application(&self, number: &str) -> Result<Option<ApplicationRecord>, StoreError>;
    /// Applications in `state` (any when `None`), of one registration center if given, oldest first.
    fn applications(&self, state: Option<ApplicationState>, center: Option<&str>) -> Result<Vec<ApplicationRecord>, StoreError>;
    /// Move an application from `from` to `change.state`, only if it is still in
    /// `from` (else `false`, nothing changed). With `pair`, the pair is recorded in
    /// the same transaction and linked.
    fn update_application(
        &mut self,
        number: &str,
        from: ApplicationState,
        change: &ApplicationChange,
        pair: Option<&NewPair>,
        event: &AuditEvent,
    ) -> Result<Moved, StoreError>;
    /// Record a signed request's digest; `false` if it was seen before (a replay).
    fn consume_request(&mut self, digest: &[u8; 32], at: i64) -> Result<bool, StoreError>;
    /// Check the audit log's hash chain; the number of records, or where it breaks.
    fn verify_audit(&self) -> Result<Result<i64, AuditBreak>, StoreError>;
    /// One certificate by serial (lowercase hex).
    fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError>;
    /// The certificates of one pair.
    fn pair(&self, pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError>;
    /// Certificates matching `filter`, newest first.
    fn list(&self, filter: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError>;
    /// How many certificates are stored.
    fn count(&self) -> Result<u64, StoreError>;
    /// The certificates a CRL lists, from one consistent snapshot, in serial order:
    /// every revoked one (`since == None`, a full CRL), or every one whose status
    /// changed after status log position `since` (a delta CRL). Returns the status
    /// log position the snapshot reflects.
    fn crl_rows(&self, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError>;
    /// Allocate the next CRL number for `crl` (its `number` is ignored) and record
    /// it durably before anything is signed with it.
    fn record_crl(&mut self, crl: &CrlRecord) -> Result<u64, StoreError>;
    /// The newest full (`delta == false`) or delta CRL recorded.
    fn latest_crl(&self, delta: bool) -> Result<Option<CrlRecord>, StoreError>;
    /// The newest status log position.
    fn status_seq(&self) -> Result<i64, StoreError>;
    /// Just the revocation state of one certificate (the OCSP hot path): `None` if
    /// no such serial was issued, `Some(None)` if it is not revoked.
    fn revocation_of(&self, serial: &str) -> Result<Option<Option<Revocation>>, StoreError>;
    /// Serials whose status changed after log position `after`, at most `limit`,
    /// with the position of the last one returned.
    fn status_changes(&self, after: i64, limit: u32) -> Result<(Vec<String>, i64), StoreError>;
}

/// An application as stored. The form is the applicant's data as JSON, kept as
/// submitted; the registration authority owns its meaning.
#[derive(Clone, Debug)]
pub struct ApplicationRecord {
    /// The application number the applicant quotes.
    pub number: String,
    /// SHA-256 of the applicant's status secret.
    pub secret_hash: Vec<u8>,
    /// Where it stands.
    pub state: ApplicationState,
    /// When it arrived, Unix seconds.
    pub submitted_at: i64,
    /// Last change, Unix seconds.
    pub updated_at: i64,
    /// The registration center chosen.
    pub center: String,
    /// Where the keys live.
    pub storage: KeyStorage,
    /// The applicant's IIN.
    pub iin: String,
    /// The entity's BIN, for a legal entity's representative.
    pub bin: Option<String>,
    /// The applicant's data, JSON.
    pub form: String,
    /// The AUTH request, DER.
    pub auth_csr: Vec<u8>,
    /// The SIGN request, DER.
    pub sign_csr: Vec<u8>,
    /// Serial of the head's certificate that approved it.
    pub approved_by: Option<String>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// The pair issued for it.
    pub pair_id: Option<i64>,
}

/// A change of an application's state and what comes with it.
#[derive(Clone, Debug)]
pub struct ApplicationChange {
    /// The new state.
    pub state: ApplicationState,
    /// When, Unix seconds.
    pub at: i64,
    /// Set the approver.
    pub approved_by: Option<String>,
    /// Set the rejection reason.
    pub reject_reason: Option<String>,
}

/// What [`Store::update_application`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The application moved; the pair recorded with it, if any.
    Done {
        /// The new pair's id.
        pair_id: Option<i64>,
    },
    /// It was no longer in the expected state; nothing changed.
    Stale,
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open(path)?)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn })
    }

    /// The schema version in use.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let supported = MIGRATIONS.len() as i64;
    if current > supported {
        return Err(StoreError::TooNew { found: current, supported });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

fn insert_certificate(tx: &rusqlite::Transaction<'_>, pair_id: i64, c: &NewCertificate) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![c.serial, pair_id, c.cert_type.as_str(), c.common_name, c.not_before, c.not_after, c.key_id, &c.key_fingerprint[..], c.der],
    )?;
    Ok(())
}

const SELECT: &str = "SELECT c.serial, c.pair_id, c.cert_type, p.subject_kind, p.iin, p.bin, p.role, c.common_name,
    c.not_before, c.not_after, c.key_id, c.der, c.revoked_at, c.revocation_reason, c.invalidity_date
    FROM certificates c JOIN pairs p ON p.id = c.pair_id";

fn corrupt(column: &'static str, value: impl ToString) -> StoreError {
    StoreError::Corrupt { column, value: value.to_string() }
}

fn record(row: &Row<'_>) -> Result<CertificateRecord, StoreError> {
    let cert_type = match row.get::<_, String>(2)?.as_str() {
        "AUTH" => CertType::Auth,
        "SIGN" => CertType::Sign,
        other => return Err(corrupt("cert_type", other)),
    };
    let kind = match row.get::<_, String>(3)?.as_str() {
        "individual" => SubjectKind::Individual,
        "legal_entity" => SubjectKind::LegalEntity,
        other => return Err(corrupt("subject_kind", other)),
    };
    let bin: Option<String> = row.get(5)?;
    let role: Option<String> = row.get(6)?;
    let entity = match (bin, role) {
        (Some(b), Some(r)) => Some((b, r.parse::<Role>().map_err(|_| corrupt("role", &r))?)),
        _ => None,
    };
    let revocation = match (row.get::<_, Option<i64>>(12)?, row.get::<_, Option<u8>>(13)?) {
        (Some(at), Some(code)) => {
            let reason = RevocationReason::from_code(code).ok_or_else(|| corrupt("revocation_reason", code))?;
            Some(Revocation { at, reason, invalid_since: row.get(14)? })
        }
        _ => None,
    };
    Ok(CertificateRecord {
        serial: row.get(0)?,
        pair_id: row.get(1)?,
        cert_type,
        holder: Holder { kind, iin: row.get(4)?, entity },
        common_name: row.get(7)?,
        not_before: row.get(8)?,
        not_after: row.get(9)?,
        key_id: row.get(10)?,
        der: row.get(11)?,
        revocation,
    })
}

/// Append one audit record and move the head, inside the caller's transaction.
fn append_audit(tx: &rusqlite::Transaction<'_>, at: i64, e: &AuditEvent) -> Result<(), StoreError> {
    let head: Option<(i64, Vec<u8>)> =
        tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, vec![0; 32]));
    let seq = prev_seq + 1;
    let actor = e.actor.to_string();
    let hash = crate::audit::link_hash(&prev_hash, seq, at, &actor, e.action.as_str(), &e.object, &e.detail);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, object, detail, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq, at, actor, e.action.as_str(), e.object, e.detail, &hash[..]],
    )?;
    tx.execute("INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)", params![seq, &hash[..]])?;
    Ok(())
}

fn insert_pair_tx(tx: &rusqlite::Transaction<'_>, pair: &NewPair) -> Result<i64, StoreError> {
    let h = &pair.holder;
    let kind = match h.kind {
        SubjectKind::Individual => "individual",
        SubjectKind::LegalEntity => "legal_entity",
    };
    let (bin, role) = match &h.entity {
        Some((b, r)) => (Some(b.as_str()), Some(r.as_str())),
        None => (None, None),
    };
    tx.execute(
        "INSERT INTO pairs (subject_kind, iin, bin, role, issued_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![kind, h.iin, bin, role, pair.issued_at],
    )?;
    let pair_id = tx.last_insert_rowid();
    insert_certificate(tx, pair_id, &pair.auth)?;
    insert_certificate(tx, pair_id, &pair.sign)?;
    Ok(pair_id)
}

const HOLD: u8 = 6;

/// Every row of a query, each read by `read`.
fn all<T>(mut rows: rusqlite::Rows<'_>, read: fn(&Row<'_>) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row)?);
    }
    Ok(out)
}

const APP_SELECT: &str = "SELECT number, secret_hash, state, submitted_at, updated_at, center, storage, iin, bin, form,
    auth_csr, sign_csr, approved_by, reject_reason, pair_id FROM applications";

fn application_record(row: &Row<'_>) -> Result<ApplicationRecord, StoreError> {
    let state: String = row.get(2)?;
    let storage: String = row.get(6)?;
    Ok(ApplicationRecord {
        number: row.get(0)?,
        secret_hash: row.get(1)?,
        state: state.parse().map_err(|_| corrupt("state", &state))?,
        submitted_at: row.get(3)?,
        updated_at: row.get(4)?,
        center: row.get(5)?,
        storage: storage.parse().map_err(|_| corrupt("storage", &storage))?,
        iin: row.get(7)?,
        bin: row.get(8)?,
        form: row.get(9)?,
        auth_csr: row.get(10)?,
        sign_csr: row.get(11)?,
        approved_by: row.get(12)?,
        reject_reason: row.get(13)?,
        pair_id: row.get(14)?,
    })
}

impl Store for SqliteStore {
    fn serial_exists(&self, serial: &str) -> Result<bool, StoreError> {
        Ok(self.conn.query_row("SELECT 1 FROM certificates WHERE serial = ?1", [serial], |_| Ok(())).optional()?.is_some())
    }

    fn serial_for_key(&self, fingerprint: &[u8; 32]) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT serial FROM certificates WHERE key_fingerprint = ?1", [&fingerprint[..]], |r| r.get(0))
            .optional()?)
    }

    fn insert_pair(&mut self, pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        let pair_id = insert_pair_tx(&tx, pair)?;
        append_audit(&tx, pair.issued_at, event)?;
        tx.commit()?;
        Ok(pair_id)
    }

    fn renew_pair(&mut self, pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE certificates SET revoked_at = ?1, revocation_reason = ?2
             WHERE pair_id = ?3 AND (revoked_at IS NULL OR revocation_reason = ?4)",
            params![pair.issued_at, RevocationReason::Superseded.code(), old_pair, HOLD],
        )?;
        let pair_id = insert_pair_tx(&tx, pair)?;
        append_audit(&tx, pair.issued_at, event)?;
        tx.commit()?;
        Ok(pair_id)
    }

    fn revoke(&mut self, serials: &[String], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        for serial in serials {
            // A hold may become final; nothing else changes a revocation.
            let sql = if revocation.reason == RevocationReason::CertificateHold {
                "UPDATE certificates SET revoked_at = ?1, revocation_reason = ?2, invalidity_date = ?5
                 WHERE serial = ?3 AND revoked_at IS NULL AND ?4 = ?4"
            } else {
                "UPDATE certificates SET revoked_at = ?1, revocation_reason = ?2, invalidity_date = ?5
                 WHERE serial = ?3 AND (revoked_at IS NULL OR revocation_reason = ?4)"
            };
            changed += tx.execute(sql, params![revocation.at, revocation.reason.code(), serial, HOLD, revocation.invalid_since])?;
        }
        if changed != serials.len() {
            return Ok(0); // dropped: rolls back
        }
        append_audit(&tx, revocation.at, event)?;
        tx.commit()?;
        Ok(changed)
    }

    fn unhold(&mut self, serial: &str, at: i64, event: &AuditEvent) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL, invalidity_date = NULL
             WHERE serial = ?1 AND revocation_reason = ?2",
            params![serial, HOLD],
        )?;
        if n == 0 {
            return Ok(false);
        }
        append_audit(&tx, at, event)?;
        tx.commit()?;
        Ok(true)
    }

    fn insert_application(&mut self, a: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO applications (number, secret_hash, state, submitted_at, updated_at, center, storage, iin, bin, form,
             auth_csr, sign_csr, approved_by, reject_reason, pair_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                a.number, a.secret_hash, a.state.as_str(), a.submitted_at, a.updated_at, a.center, a.storage.as_str(), a.iin, a.bin,
                a.form, a.auth_csr, a.sign_csr, a.approved_by, a.reject_reason, a.pair_id
            ],
        )?;
        append_audit(&tx, a.submitted_at, event)?;
        tx.commit()?;
        Ok(())
    }

    fn application(&self, number: &str) -> Result<Option<ApplicationRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{APP_SELECT} WHERE number = ?1"))?;
        let mut rows = stmt.query([number])?;
        rows.next()?.map(application_record).transpose()
    }

    fn applications(&self, state: Option<ApplicationState>, center: Option<&str>) -> Result<Vec<ApplicationRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "{APP_SELECT} WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR center = ?2) ORDER BY submitted_at, number"
        ))?;
        let rows = stmt.query(params![state.map(|s| s.as_str()), center])?;
        all(rows, application_record)
    }

    fn update_application(
        &mut self,
        number: &str,
        from: ApplicationState,
        change: &ApplicationChange,
        pair: Option<&NewPair>,
        event: &AuditEvent,
    ) -> Result<Moved, StoreError> {
        let tx = self.conn.transaction()?;
        let pair_id = pair.map(|p| insert_pair_tx(&tx, p)).transpose()?;
        let n = tx.execute(
            "UPDATE applications SET state = ?1, updated_at = ?2, approved_by = COALESCE(?3, approved_by),
             reject_reason = COALESCE(?4, reject_reason), pair_id = COALESCE(?5, pair_id) WHERE number = ?6 AND state = ?7",
            params![change.state.as_str(), change.at, change.approved_by, change.reject_reason, pair_id, number, from.as_str()],
        )?;
        if n == 0 {
            return Ok(Moved::Stale); // someone else moved it first: roll back
        }
        append_audit(&tx, change.at, event)?;
        tx.commit()?;
        Ok(Moved::Done { pair_id })
    }

    fn consume_request(&mut self, digest: &[u8; 32], at: i64) -> Result<bool, StoreError> {
        // Requests older than a day are refused for their age alone: forget them.
        self.conn.execute("DELETE FROM used_requests WHERE used_at < ?1", [at - 86_400])?;
        let n = self.conn.execute("INSERT OR IGNORE INTO used_requests (digest, used_at) VALUES (?1, ?2)", params![&digest[..], at])?;
        Ok(n == 1)
    }

    fn verify_audit(&self) -> Result<Result<i64, AuditBreak>, StoreError> {
        let mut chain = Chain::default();
        let mut stmt = self.conn.prepare("SELECT seq, at, actor, action, object, detail, hash FROM audit_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let record = AuditRecord {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                object: r.get(4)?,
                detail: r.get(5)?,
                hash: r.get(6)?,
            };
            if let Err(e) = chain.check(&record) {
                return Ok(Err(e));
            }
        }
        let head = self.conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        Ok(chain.finish(head))
    }

    fn certificate(&self, serial: &str) -> Result<Option<CertificateRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} WHERE c.serial = ?1"))?;
        let mut rows = stmt.query([serial.to_ascii_lowercase()])?;
        rows.next()?.map(record).transpose()
    }

    fn pair(&self, pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} WHERE c.pair_id = ?1 ORDER BY c.cert_type"))?;
        let rows = stmt.query([pair_id])?;
        all(rows, record)
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError> {
        let status = match f.status {
            None => "1",
            Some(StatusFilter::Valid) => "c.revoked_at IS NULL AND c.not_before <= ?3 AND c.not_after > ?3",
            Some(StatusFilter::Expired) => "c.revoked_at IS NULL AND c.not_after <= ?3",
            Some(StatusFilter::Revoked) => "c.revoked_at IS NOT NULL",
        };
        // `?3 = ?3` keeps the timestamp a bound parameter when no status filter uses it.
        let sql = format!(
            "{SELECT} WHERE (?1 IS NULL OR p.iin = ?1) AND (?2 IS NULL OR p.bin = ?2) AND ({status}) AND ?3 = ?3
             ORDER BY c.not_before DESC, c.pair_id DESC, c.cert_type"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query(params![f.iin, f.bin, f.now])?;
        all(rows, record)
    }

    fn count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM certificates", [], |r| r.get(0))?)
    }

    fn crl_rows(&self, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError> {
        // One read transaction: the position and the rows come from the same snapshot.
        let tx = self.conn.unchecked_transaction()?;
        let seq = status_seq(&tx)?;
        let sql = match since {
            None => {
                "SELECT serial, revoked_at, revocation_reason, invalidity_date, revoked_at FROM certificates
                 WHERE revoked_at IS NOT NULL AND ?1 = ?1 AND ?2 = ?2 ORDER BY serial"
            }
            Some(_) => {
                "SELECT c.serial, c.revoked_at, c.revocation_reason, c.invalidity_date, MAX(s.at)
                 FROM status_log s JOIN certificates c ON c.serial = s.serial
                 WHERE s.seq > ?1 AND s.seq <= ?2 GROUP BY c.serial ORDER BY c.serial"
            }
        };
        let mut stmt = tx.prepare_cached(sql)?;
        let mut rows = stmt.query(params![since.unwrap_or(0), seq])?;
        while let Some(r) = rows.next()? {
            let revocation = match (r.get::<_, Option<i64>>(1)?, r.get::<_, Option<u8>>(2)?) {
                (Some(at), Some(code)) => Some(Revocation {
                    at,
                    reason: RevocationReason::from_code(code).ok_or_else(|| corrupt("revocation_reason", code))?,
                    invalid_since: r.get(3)?,
                }),
                _ => None,
            };
            visit(CrlRow { serial: r.get(0)?, revocation, changed_at: r.get(4)? });
        }
        Ok(seq)
    }

    fn record_crl(&mut self, crl: &CrlRecord) -> Result<u64, StoreError> {
        self.conn.execute(
            "INSERT INTO crls (base_number, status_seq, this_update, next_update) VALUES (?1, ?2, ?3, ?4)",
            params![crl.base_number.map(|n| n as i64), crl.status_seq, crl.this_update, crl.next_update],
        )?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn latest_crl(&self, delta: bool) -> Result<Option<CrlRecord>, StoreError> {
        let sql = if delta {
            "SELECT number, base_number, status_seq, this_update, next_update FROM crls WHERE base_number IS NOT NULL ORDER BY number DESC LIMIT 1"
        } else {
            "SELECT number, base_number, status_seq, this_update, next_update FROM crls WHERE base_number IS NULL ORDER BY number DESC LIMIT 1"
        };
        Ok(self
            .conn
            .query_row(sql, [], |r| {
                Ok(CrlRecord {
                    number: r.get::<_, i64>(0)? as u64,
                    base_number: r.get::<_, Option<i64>>(1)?.map(|n| n as u64),
                    status_seq: r.get(2)?,
                    this_update: r.get(3)?,
                    next_update: r.get(4)?,
                })
            })
            .optional()?)
    }

    fn status_seq(&self) -> Result<i64, StoreError> {
        status_seq(&self.conn)
    }

    fn revocation_of(&self, serial: &str) -> Result<Option<Option<Revocation>>, StoreError> {
        let mut stmt =
            self.conn.prepare_cached("SELECT revoked_at, revocation_reason, invalidity_date FROM certificates WHERE serial = ?1")?;
        let row = stmt
            .query_row([serial], |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<u8>>(1)?, r.get::<_, Option<i64>>(2)?)))
            .optional()?;
        row.map(|(at, code, invalid_since)| match (at, code) {
            (Some(at), Some(code)) => {
                let reason = RevocationReason::from_code(code).ok_or_else(|| corrupt("revocation_reason", code))?;
                Ok(Some(Revocation { at, reason, invalid_since }))
            }
            _ => Ok(None),
        })
        .transpose()
    }

    fn status_changes(&self, after: i64, limit: u32) -> Result<(Vec<String>, i64), StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT seq, serial FROM status_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let mut rows = stmt.query(params![after, limit])?;
        let (mut serials, mut last) = (Vec::new(), after);
        while let Some(r) = rows.next()? {
            last = r.get(0)?;
            serials.push(r.get(1)?);
        }
        Ok((serials, last))
    }
}

fn status_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM status_log", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(serial: &str, t: CertType, fp: u8) -> NewCertificate {
        NewCertificate {
            serial: serial.into(),
            cert_type: t,
            common_name: "ТЕСТОВ ТЕСТ".into(),
            not_before: 1_000,
            not_after: 2_000,
            key_id: "ab".into(),
            key_fingerprint: [fp; 32],
            der: vec![0x30, 0x00],
        }
    }

    fn event() -> AuditEvent {
        AuditEvent::new(crate::audit::Actor::System, crate::audit::AuditAction::PairIssued, "01", "")
    }

    fn pair(a: &str, s: &str, fa: u8, fs: u8) -> NewPair {
        NewPair {
            holder: Holder { kind: SubjectKind::Individual, iin: "880515300120".into(), entity: None },
            issued_at: 1_000,
            auth: cert(a, CertType::Auth, fa),
            sign: cert(s, CertType::Sign, fs),
        }
    }

    #[test]
    fn pair_round_trip_and_status() {
        let mut db = SqliteStore::in_memory().unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len() as i64);
        db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
        let r = db.certificate("01").unwrap().unwrap();
        assert_eq!(r.cert_type, CertType::Auth);
        assert_eq!(r.status(500), Status::NotYetValid);
        assert_eq!(r.status(1_500), Status::Valid);
        assert_eq!(r.status(2_000), Status::Expired);
        assert!(db.serial_exists("02").unwrap());
        assert_eq!(db.serial_for_key(&[2; 32]).unwrap().as_deref(), Some("02"));
        let valid = db.list(&ListFilter { status: Some(StatusFilter::Valid), now: 1_500, ..Default::default() }).unwrap();
        assert_eq!(valid.len(), 2);
        let expired = db.list(&ListFilter { status: Some(StatusFilter::Expired), now: 1_500, ..Default::default() }).unwrap();
        assert!(expired.is_empty());
        let other = db.list(&ListFilter { iin: Some("000000000000".into()), now: 1_500, ..Default::default() }).unwrap();
        assert!(other.is_empty());
    }

    #[test]
    fn a_failing_pair_leaves_nothing() {
        let mut db = SqliteStore::in_memory().unwrap();
        db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
        // The SIGN certificate's serial collides: the AUTH one must not stay behind.
        assert!(db.insert_pair(&pair("03", "01", 3, 4), &event()).is_err());
        assert!(!db.serial_exists("03").unwrap());
        // The same key twice in one pair is refused by the database too.
        assert!(db.insert_pair(&pair("05", "06", 5, 5), &event()).is_err());
        assert!(!db.serial_exists("05").unwrap());
        assert_eq!(db.count().unwrap(), 2);
        let pairs: i64 = db.conn.query_row("SELECT COUNT(*) FROM pairs", [], |r| r.get(0)).unwrap();
        assert_eq!(pairs, 1);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = std::env::temp_dir().join(format!("ca-store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(SqliteStore::open(&path), Err(StoreError::TooNew { found: 99, .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
