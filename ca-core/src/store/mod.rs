//! The authority's records behind narrow traits, one per concern, so each part
//! takes only what it uses: [`CertificateStore`] (issued certificates and their
//! status), [`ApplicationStore`] (applications and the signed-request replay table),
//! [`StatusStore`] (CRLs and the status log that feeds deltas and OCSP) and
//! [`AuditStore`]. [`SqliteStore`] (the embedded default) and [`PgStore`] (for
//! several servers on one database) implement them all; [`Store`] is either, as
//! [`Database`] names it, and [`StorePool`] hands out connections so no part waits
//! for another's lock.
//!
//! No business rules here: only records and transactions. Storage knows the
//! domain's plain types ([`crate::model`]) and nothing of the parts that use it.
//! A pair is recorded only as a [`NewPair`], which only the issuer makes, after
//! the profile's lint passed and both certificates were signed.

#[cfg(test)]
mod conformance;
mod database;
mod migrations;
mod pool;
mod rows;
mod postgres;
mod sqlite;

pub use database::{Database, DatabaseUrlError, PostgresUrl};
pub use pool::{Pooled, StorePool};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::audit::{AuditBreak, AuditEvent, AuditRecord, Checkpoint};
use crate::model::{ApplicationState, CertType, Family, KeyStorage, RevocationReason, Role, Serial, StaffRole, SubjectKind};
use thiserror::Error;

/// Database failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("database error: {0}")]
    Postgres(::postgres::Error),
    /// The database cannot be reached or cannot take writes now (a lost
    /// connection, a server shutting down, a standby not yet promoted): nothing
    /// was changed, and the same request may succeed shortly.
    #[error("the database is unavailable for now ({0}); try again shortly")]
    Unavailable(String),
    /// The database was written by a newer version of this software.
    #[error("the database schema is version {found}, newer than this program's {supported}: upgrade the program")]
    TooNew {
        /// The schema version found.
        found: i64,
        /// The newest this program knows.
        supported: i64,
    },
    /// A certificate's serial or key is already recorded: another transaction got
    /// there first.
    #[error("another request recorded this certificate's key or serial first; look at the application again")]
    Duplicate,
    /// The database file could not be created or protected.
    #[error("database file {0}")]
    File(String),
    /// Every pooled connection stayed in use for longer than the pool waits.
    #[error("the database is busy: every connection stayed in use; try again shortly")]
    Busy,
    /// A stored value that this program does not understand.
    #[error("the database holds an invalid value in {column}: {value:?}")]
    Corrupt {
        /// Where.
        column: &'static str,
        /// What.
        value: String,
    },
}

/// One certificate about to be recorded, made by the issuer from a certificate it
/// signed: not constructible outside this crate.
#[derive(Clone, Debug)]
pub struct NewCertificate {
    pub(crate) serial: Serial,
    pub(crate) cert_type: CertType,
    pub(crate) common_name: String,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    pub(crate) key_id: String,
    pub(crate) key_fingerprint: [u8; 32],
    pub(crate) der: Vec<u8>,
    pub(crate) family: Family,
}

impl NewCertificate {
    /// Its serial.
    pub fn serial(&self) -> &Serial {
        &self.serial
    }
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
    /// The role inside the authority, for its own staff.
    pub staff: Option<StaffRole>,
}

/// A linted, signed pair about to be recorded. Only the issuer makes one
/// (`crate::issuer`), so nothing reaches the database without the profile's lint:
///
/// ```compile_fail
/// // Outside the crate a NewPair cannot be built by hand.
/// let p = ca_core::store::NewPair { holder: todo!(), issued_at: 0, auth: todo!(), sign: todo!() };
/// ```
#[derive(Clone, Debug)]
pub struct NewPair {
    pub(crate) holder: Holder,
    pub(crate) issued_at: i64,
    pub(crate) auth: NewCertificate,
    pub(crate) sign: NewCertificate,
}

impl NewPair {
    /// The AUTH certificate's record.
    pub fn auth(&self) -> &NewCertificate {
        &self.auth
    }
    /// The SIGN certificate's record.
    pub fn sign(&self) -> &NewCertificate {
        &self.sign
    }
}

/// What the status store holds of one serial of one issuing CA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SerialRevocation {
    /// That CA issued no certificate with this serial.
    Unknown,
    /// Issued and not revoked (nor on hold).
    NotRevoked,
    /// Revoked or on hold, as recorded.
    Revoked(Revocation),
}

/// The audit log's hash chain, checked.
#[derive(Debug, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every record chains to the one before and the head names the last.
    Intact {
        /// How many records the log holds.
        records: i64,
    },
    /// Where the chain breaks.
    Broken(AuditBreak),
}

impl From<Result<i64, AuditBreak>> for AuditCheck {
    fn from(r: Result<i64, AuditBreak>) -> Self {
        match r {
            Ok(records) => AuditCheck::Intact { records },
            Err(e) => AuditCheck::Broken(e),
        }
    }
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
    /// Serial number.
    pub serial: Serial,
    /// Its revocation, or `None` when a hold was lifted (a delta's removeFromCRL).
    pub revocation: Option<Revocation>,
    /// When its status last changed, Unix seconds.
    pub changed_at: i64,
}

/// A CRL as recorded, before or after it is signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrlRecord {
    /// Whose CRL: the RSA or the GOST issuing CA's.
    pub family: Family,
    /// The CRL number (one sequence for full and delta CRLs of both CAs, so
    /// each CA's numbers grow).
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
    /// Serial number.
    pub serial: Serial,
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
            Status::Revoked(r) if r.reason == RevocationReason::CertificateHold => "hold",
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

    /// The certificate itself, decoded.
    pub fn certificate(&self) -> Result<x509_cert::Certificate, StoreError> {
        der::Decode::from_der(&self.der)
            .map_err(|e: der::Error| StoreError::Corrupt { column: "der", value: format!("{}: {e}", self.serial) })
    }
}

/// Which certificates `list` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    /// Valid now.
    Valid,
    /// Revoked for good (every reason but certificateHold).
    Revoked,
    /// On hold (certificateHold): suspended, may be lifted.
    Hold,
    /// Expired without revocation.
    Expired,
}

/// Criteria for [`CertificateStore::list`].
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
    /// Only the authority's own staff.
    pub staff: bool,
}

/// Issued certificates and their revocation.
pub trait CertificateStore {
    /// Whether a serial number is already taken.
    fn serial_exists(&self, serial: &Serial) -> Result<bool, StoreError>;
    /// The serial of a certificate already issued for this key, if any.
    fn serial_for_key(&self, fingerprint: &[u8; 32]) -> Result<Option<Serial>, StoreError>;
    /// One certificate by serial.
    fn certificate(&self, serial: &Serial) -> Result<Option<CertificateRecord>, StoreError>;
    /// The certificates of one pair.
    fn pair(&self, pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError>;
    /// Certificates matching `filter`, newest first.
    fn list(&self, filter: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError>;
    /// How many certificates are stored.
    fn count(&self) -> Result<u64, StoreError>;
    /// Record a pair: both certificates or, on any failure, neither. Returns the pair id.
    fn insert_pair(&mut self, pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError>;
    /// Record a renewed pair and revoke the still-unrevoked certificates of `old_pair`
    /// as superseded, in one transaction. Returns the new pair id.
    fn renew_pair(&mut self, pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError>;
    /// Revoke `serials` as `revocation` says: those not revoked, or on hold (a hold
    /// may become a final revocation). Returns how many changed; all or none.
    fn revoke(&mut self, serials: &[Serial], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError>;
    /// Lift a certificateHold. Returns whether the certificate was on hold.
    fn unhold(&mut self, serial: &Serial, at: i64, event: &AuditEvent) -> Result<bool, StoreError>;
}

/// An application as stored. The form is the applicant's data as JSON, kept as
/// submitted; the registration authority owns its meaning.
#[derive(Clone, Debug)]
pub struct ApplicationRecord {
    /// The application number the applicant quotes.
    pub number: String,
    /// SHA-256 of the applicant's status secret.
    pub secret_hash: Vec<u8>,
    /// Where it stands, as last written.
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
    pub approved_by: Option<Serial>,
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
    pub approved_by: Option<Serial>,
    /// Set the rejection reason.
    pub reject_reason: Option<String>,
}

/// What [`ApplicationStore::update_application`] did.
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

/// A page of a listing in (submitted, number) order: those after the application
/// numbered `after`, at most `limit`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The last application of the previous page.
    pub after: Option<String>,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
}

/// Applications, and the table of signed requests already used.
pub trait ApplicationStore {
    /// Record a new application.
    fn insert_application(&mut self, app: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError>;
    /// Whether a key (SHA-256 of its SubjectPublicKeyInfo) is in an application
    /// still waiting to be issued.
    fn key_pending(&self, fingerprint: &[u8; 32]) -> Result<bool, StoreError>;
    /// One application by number.
    fn application(&self, number: &str) -> Result<Option<ApplicationRecord>, StoreError>;
    /// Applications in `state` (any when `None`), of one registration center if
    /// given, oldest first, within `page`.
    fn applications(
        &self,
        state: Option<ApplicationState>,
        center: Option<&str>,
        page: &Page,
    ) -> Result<Vec<ApplicationRecord>, StoreError>;
    /// Move an application from `from` to `change.state`, only if it is still in
    /// `from` (else `Stale`, nothing changed). With `pair`, the pair is recorded in
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
}

/// Revocation status for relying parties: CRL records and the status log.
pub trait StatusStore {
    /// The certificates `family`'s CRL lists, from one consistent snapshot, in serial order:
    /// every revoked one (`since == None`, a full CRL), or every one whose status
    /// changed after status log position `since` (a delta CRL). Returns the status
    /// log position the snapshot reflects.
    fn crl_rows(&self, family: Family, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError>;
    /// Allocate the next CRL number for `crl` (its `number` is ignored) and record
    /// it durably before anything is signed with it.
    fn record_crl(&mut self, crl: &CrlRecord) -> Result<u64, StoreError>;
    /// Keep the signed bytes of CRL `number`: from now on it is published. Older
    /// CRLs' bytes are dropped, all but the previous full CRL's generation.
    fn save_crl(&mut self, number: u64, der: &[u8]) -> Result<(), StoreError>;
    /// The newest published full (`delta == false`) or delta CRL.
    fn latest_crl(&self, family: Family, delta: bool) -> Result<Option<CrlRecord>, StoreError>;
    /// The CRL to serve, with its bytes, if newer than `newer_than`: the newest
    /// published full CRL, or the newest delta whose base is that full CRL.
    fn published_crl(&self, family: Family, delta: bool, newer_than: Option<u64>) -> Result<Option<(CrlRecord, Vec<u8>)>, StoreError>;
    /// The newest status log position.
    fn status_seq(&self) -> Result<i64, StoreError>;
    /// Just the revocation state of one certificate of `family`'s issuing CA (the
    /// OCSP hot path).
    fn revocation_of(&self, family: Family, serial: &Serial) -> Result<SerialRevocation, StoreError>;
    /// Serials whose status changed after log position `after`, at most `limit`,
    /// with the position of the last one returned.
    fn status_changes(&self, after: i64, limit: u32) -> Result<(Vec<Serial>, i64), StoreError>;
}

/// Which audit records to read.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Only this actor: its whole name (`operator:<serial>`, `system`) or the part
    /// after the colon (a serial, an application number).
    pub actor: Option<String>,
    /// Only this action (its stored name).
    pub action: Option<String>,
    /// Only records about this person: their certificates and applications.
    pub iin: Option<String>,
    /// From this time on, Unix seconds.
    pub since: Option<i64>,
    /// Before this time, Unix seconds.
    pub until: Option<i64>,
    /// After this sequence number.
    pub after: i64,
    /// At most this many.
    pub limit: u32,
}

/// The audit log, read back.
pub trait AuditStore {
    /// Check the audit log's hash chain: intact with its number of records, or
    /// where it breaks.
    fn verify_audit(&self) -> Result<AuditCheck, StoreError>;
    /// Append an event that changes nothing else (a refused staff request).
    fn record_event(&mut self, at: i64, event: &AuditEvent) -> Result<(), StoreError>;
    /// Records after sequence number `after`, at most `limit`, in order.
    fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        self.audit_search(&AuditQuery { after, limit, ..AuditQuery::default() })
    }
    /// The records `query` selects, in order.
    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
    /// Keep a signed checkpoint (one per size; a second for the same size is ignored).
    fn save_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), StoreError>;
    /// The kept checkpoints by size, or only the newest.
    fn checkpoints(&self, latest_only: bool) -> Result<Vec<Checkpoint>, StoreError>;
}

/// Who runs the authority's jobs. Several servers on one database each ask for a
/// job's lease every second or so; one holds it, renewing it before it expires,
/// and the others take it over once it has expired (its holder stopped or lost the
/// database). Time is the database's clock, so the servers' clocks do not matter.
pub trait LeaseStore {
    /// Take or renew the lease of `job` for `holder`, for `ttl_seconds` from now:
    /// `true` when `holder` holds it now, `false` when another holder's lease is
    /// still running.
    fn hold_lease(&mut self, job: &str, holder: &str, ttl_seconds: i64) -> Result<bool, StoreError>;
    /// Give the lease of `job` up, if `holder` holds it (a clean shutdown), so
    /// another server takes the job over at once.
    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError>;
}

/// A connection to the authority's records, in whichever database holds them.
pub enum Store {
    /// An SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database (boxed: its client is larger than a SQLite handle).
    Postgres(Box<PgStore>),
}

impl Store {
    /// Open `database`, creating and migrating its schema as needed.
    pub fn open(database: &Database) -> Result<Self, StoreError> {
        Ok(match database {
            Database::Sqlite(path) => Store::Sqlite(SqliteStore::open(path)?),
            Database::Postgres(url) => Store::Postgres(Box::new(waiting(|| PgStore::connect(url))?)),
        })
    }

    /// Open `database` to read only, without migrating it: a hot standby, which
    /// takes no writes. Its schema must be the one this program writes.
    pub fn open_reader(database: &Database) -> Result<Self, StoreError> {
        Ok(match database {
            Database::Sqlite(path) => Store::Sqlite(SqliteStore::open(path)?),
            Database::Postgres(url) => Store::Postgres(Box::new(waiting(|| PgStore::connect_reader(url))?)),
        })
    }

    /// The schema version in use (the same number on either back end).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        match self {
            Store::Sqlite(s) => s.schema_version(),
            Store::Postgres(s) => waiting(|| s.schema_version()),
        }
    }
}

/// Run `f`, which waits on PostgreSQL, where waiting is allowed. The PostgreSQL
/// client drives its own small runtime; on a worker thread of a multi-threaded
/// tokio runtime (a server's request handler) that is not allowed, so the worker
/// first hands its other tasks to another thread (`block_in_place`). Elsewhere (a
/// command-line program, a blocking thread) `f` simply runs.
fn waiting<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Each trait method of [`Store`] goes to the back end it holds.
macro_rules! delegate {
    ($trait:ident { $(fn $name:ident[$receiver:ident]($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        impl $trait for Store {
            $(delegate!(@method $receiver $name($($arg: $ty),*) -> $ret);)*
        }
    };
    (@method shared $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&self $(, $arg: $ty)*) -> $ret {
            match self {
                Store::Sqlite(s) => s.$name($($arg),*),
                Store::Postgres(s) => waiting(|| s.$name($($arg),*)),
            }
        }
    };
    (@method exclusive $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {
        fn $name(&mut self $(, $arg: $ty)*) -> $ret {
            match self {
                Store::Sqlite(s) => s.$name($($arg),*),
                Store::Postgres(s) => waiting(|| s.$name($($arg),*)),
            }
        }
    };
}

delegate!(CertificateStore {
    fn serial_exists[shared](serial: &Serial) -> Result<bool, StoreError>;
    fn serial_for_key[shared](fingerprint: &[u8; 32]) -> Result<Option<Serial>, StoreError>;
    fn certificate[shared](serial: &Serial) -> Result<Option<CertificateRecord>, StoreError>;
    fn pair[shared](pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError>;
    fn list[shared](filter: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError>;
    fn count[shared]() -> Result<u64, StoreError>;
    fn insert_pair[exclusive](pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError>;
    fn renew_pair[exclusive](pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError>;
    fn revoke[exclusive](serials: &[Serial], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError>;
    fn unhold[exclusive](serial: &Serial, at: i64, event: &AuditEvent) -> Result<bool, StoreError>;
});

delegate!(ApplicationStore {
    fn insert_application[exclusive](app: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError>;
    fn key_pending[shared](fingerprint: &[u8; 32]) -> Result<bool, StoreError>;
    fn application[shared](number: &str) -> Result<Option<ApplicationRecord>, StoreError>;
    fn applications[shared](state: Option<ApplicationState>, center: Option<&str>, page: &Page) -> Result<Vec<ApplicationRecord>, StoreError>;
    fn update_application[exclusive](number: &str, from: ApplicationState, change: &ApplicationChange, pair: Option<&NewPair>, event: &AuditEvent) -> Result<Moved, StoreError>;
    fn consume_request[exclusive](digest: &[u8; 32], at: i64) -> Result<bool, StoreError>;
});

delegate!(StatusStore {
    fn crl_rows[shared](family: Family, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError>;
    fn record_crl[exclusive](crl: &CrlRecord) -> Result<u64, StoreError>;
    fn save_crl[exclusive](number: u64, der: &[u8]) -> Result<(), StoreError>;
    fn latest_crl[shared](family: Family, delta: bool) -> Result<Option<CrlRecord>, StoreError>;
    fn published_crl[shared](family: Family, delta: bool, newer_than: Option<u64>) -> Result<Option<(CrlRecord, Vec<u8>)>, StoreError>;
    fn status_seq[shared]() -> Result<i64, StoreError>;
    fn revocation_of[shared](family: Family, serial: &Serial) -> Result<SerialRevocation, StoreError>;
    fn status_changes[shared](after: i64, limit: u32) -> Result<(Vec<Serial>, i64), StoreError>;
});

delegate!(LeaseStore {
    fn hold_lease[exclusive](job: &str, holder: &str, ttl_seconds: i64) -> Result<bool, StoreError>;
    fn release_lease[exclusive](job: &str, holder: &str) -> Result<(), StoreError>;
});

delegate!(AuditStore {
    fn verify_audit[shared]() -> Result<AuditCheck, StoreError>;
    fn record_event[exclusive](at: i64, event: &AuditEvent) -> Result<(), StoreError>;
    fn audit_records[shared](after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
    fn audit_search[shared](query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
    fn save_checkpoint[exclusive](checkpoint: &Checkpoint) -> Result<(), StoreError>;
    fn checkpoints[shared](latest_only: bool) -> Result<Vec<Checkpoint>, StoreError>;
});
