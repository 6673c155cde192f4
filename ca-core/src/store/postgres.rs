//! PostgreSQL behind every store trait, for several servers on one database.
//!
//! The client is the synchronous `postgres` crate (tokio-postgres underneath, pure
//! Rust): the store traits are synchronous and the servers already call them from
//! blocking threads, so an async client would only add a runtime hop per query.
//!
//! Concurrency, where SQLite has one writer at a time:
//! - every change that spans statements is one transaction (READ COMMITTED);
//! - state moves are conditional updates (`WHERE state = $from`, `WHERE revoked_at
//!   IS NULL`): of two racing transactions the second waits for the first's row
//!   lock, sees its result, and changes nothing, so it reports a stale move or a
//!   conflict;
//! - the audit chain is appended under a transaction-scoped advisory lock, so the
//!   log stays one chain whichever server writes;
//! - CRL numbers and status-log positions come from identity columns (sequences),
//!   which never hand out a number twice;
//! - a CRL's rows are read in one REPEATABLE READ snapshot with its position.

use super::migrations::MIGRATIONS;
use super::rows::{application_record, audit_record, certificate_record, checkpoint, crl_record, request_key, revocation, serial, Columns};
use super::rows::{APP_SELECT, PENDING, SELECT};
use super::*;
use crate::audit::{AuditRecord, Chain, Checkpoint};
use ::postgres::error::SqlState;
use ::postgres::types::ToSql;
use ::postgres::{Client, GenericClient, IsolationLevel, NoTls, Row, Transaction};
use std::cell::RefCell;

/// The advisory lock key under which the schema is migrated ("CA-MIGR").
const MIGRATION_LOCK: i64 = 0x0043_412d_4d49_4752;
/// The advisory lock key under which the audit chain grows ("CA-AUDIT").
const AUDIT_LOCK: i64 = 0x4341_2d41_5544_4954;

/// Revocation reason 6 is certificateHold (RFC 5280 §5.3.1).
const HOLD: i32 = 6;

/// A connection to a PostgreSQL database holding the authority's records.
pub struct PgStore {
    // The client needs `&mut` for every query; the read methods of the traits take
    // `&self`. A store is one connection used by one task at a time, as SQLite's is.
    client: RefCell<Client>,
    /// How to connect again when the connection is lost (the server restarted, or a
    /// standby was promoted: with `target_session_attrs=read-write` the new
    /// connection finds the primary).
    config: ::postgres::Config,
}

impl PgStore {
    /// Connect to `url` and bring the schema up to date (several servers starting
    /// at once migrate one after the other, under an advisory lock).
    pub fn connect(url: &PostgresUrl) -> Result<Self, StoreError> {
        let store = Self::connected(url)?;
        migrate(&mut store.client.borrow_mut())?;
        Ok(store)
    }

    /// A connection to `url`, nothing checked yet.
    fn connected(url: &PostgresUrl) -> Result<Self, StoreError> {
        let config: ::postgres::Config = url.expose().parse().map_err(StoreError::from)?;
        let client = config.connect(NoTls)?;
        Ok(PgStore { client: RefCell::new(client), config })
    }

    /// Connect to a hot standby of the authority's database, to read: nothing is
    /// migrated; the schema must be the one this program writes (a standby that
    /// has not replayed a migration yet is unavailable until it has).
    pub fn connect_reader(url: &PostgresUrl) -> Result<Self, StoreError> {
        let store = Self::connected(url)?;
        let found: i64 = store.client.borrow_mut().query_opt("SELECT version FROM schema_version", &[])?.map_or(0, |r| r.get(0));
        let supported = MIGRATIONS.len() as i64;
        if found > supported {
            return Err(StoreError::TooNew { found, supported });
        }
        if found < supported {
            return Err(StoreError::Unavailable(format!("the standby's schema is version {found}, not yet {supported}")));
        }
        Ok(store)
    }

    /// The schema version in use.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        schema_version(&mut *self.client()?)
    }

    /// The connection, made again first if it was lost. An operation that was
    /// under way when it was lost failed with [`StoreError::Unavailable`] and
    /// changed nothing (its transaction never committed); the next one reconnects.
    fn client(&self) -> Result<std::cell::RefMut<'_, Client>, StoreError> {
        let mut client = self.client.borrow_mut();
        if client.is_closed() {
            *client = self.config.connect(NoTls)?;
        }
        Ok(client)
    }
}

fn schema_version(c: &mut impl GenericClient) -> Result<i64, StoreError> {
    c.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    Ok(c.query_opt("SELECT version FROM schema_version", &[])?.map_or(0, |r| r.get(0)))
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    let current = schema_version(&mut tx)?;
    if current > supported {
        return Err(StoreError::TooNew { found: current, supported });
    }
    for migration in MIGRATIONS.iter().skip(current as usize) {
        tx.batch_execute(migration.postgres)?;
    }
    if current < supported {
        tx.execute("DELETE FROM schema_version", &[])?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&supported])?;
    }
    tx.commit()?;
    Ok(())
}

impl From<::postgres::Error> for StoreError {
    /// A lost or refused connection, a server going down and a standby that takes
    /// no writes are [`StoreError::Unavailable`]: a failover, not a fault.
    fn from(e: ::postgres::Error) -> Self {
        let transient = match e.code() {
            // No answer from a server: the connection failed or was lost (an error
            // without a code may also be a value that would not convert: a fault).
            None => e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()),
            Some(code) => {
                let class = &code.code()[..2];
                class == "08" // connection exception
                    || class == "57" // operator intervention: shutdown, crash recovery
                    || *code == SqlState::READ_ONLY_SQL_TRANSACTION
            }
        };
        if transient {
            StoreError::Unavailable(e.as_db_error().map_or_else(|| e.to_string(), |db| db.message().to_string()))
        } else {
            StoreError::Postgres(e)
        }
    }
}

/// A uniqueness rule of the schema was broken: two transactions raced past the
/// checks made before them.
fn duplicate(e: ::postgres::Error) -> StoreError {
    if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
        StoreError::Duplicate
    } else {
        e.into()
    }
}

fn all<T>(rows: Vec<Row>, read: impl Fn(&Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(read).collect()
}

impl Columns for Row {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        use ::postgres::types::Type;
        let ty = self.columns().get(i).map(|c| c.type_().clone());
        Ok(match ty {
            Some(Type::INT4) => self.try_get::<_, Option<i32>>(i)?.map(i64::from),
            Some(Type::INT2) => self.try_get::<_, Option<i16>>(i)?.map(i64::from),
            _ => self.try_get(i)?,
        })
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// Append one audit record and move the head, inside the caller's transaction,
/// holding the audit lock until it ends: one chain, whoever writes.
fn append_audit(tx: &mut Transaction<'_>, at: i64, e: &AuditEvent) -> Result<(), StoreError> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])?;
    let head = tx.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
    let (prev_seq, prev_hash): (i64, Vec<u8>) = match head {
        Some(r) => (r.try_get(0)?, r.try_get(1)?),
        None => (0, vec![0; 32]),
    };
    let seq = prev_seq + 1;
    let actor = e.actor.to_string();
    let hash = crate::audit::link_hash(&prev_hash, seq, at, &actor, e.action.as_str(), &e.object, &e.detail);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, object, detail, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[&seq, &at, &actor, &e.action.as_str(), &e.object, &e.detail, &&hash[..]],
    )?;
    tx.execute(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = $1, hash = $2",
        &[&seq, &&hash[..]],
    )?;
    Ok(())
}

fn insert_certificate(tx: &mut Transaction<'_>, pair_id: i64, c: &NewCertificate) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der, family)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &c.serial.as_str(),
            &pair_id,
            &c.cert_type.as_str(),
            &c.common_name,
            &c.not_before,
            &c.not_after,
            &c.key_id,
            &&c.key_fingerprint[..],
            &c.der,
            &c.family.as_str(),
        ],
    )
    .map_err(duplicate)?;
    Ok(())
}

fn insert_pair_tx(tx: &mut Transaction<'_>, pair: &NewPair) -> Result<i64, StoreError> {
    let h = &pair.holder;
    let (bin, role) = match &h.entity {
        Some((b, r)) => (Some(b.as_str()), Some(r.as_str())),
        None => (None, None),
    };
    let row = tx.query_one(
        "INSERT INTO pairs (subject_kind, iin, bin, role, issued_at, staff_role) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        &[&h.kind.as_str(), &h.iin, &bin, &role, &pair.issued_at, &h.staff.map(|s| s.as_str())],
    )?;
    let pair_id: i64 = row.try_get(0)?;
    insert_certificate(tx, pair_id, &pair.auth)?;
    insert_certificate(tx, pair_id, &pair.sign)?;
    Ok(pair_id)
}

fn status_seq(c: &mut impl GenericClient) -> Result<i64, StoreError> {
    Ok(c.query_one("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM status_log", &[])?.try_get(0)?)
}

impl CertificateStore for PgStore {
    fn serial_exists(&self, serial: &Serial) -> Result<bool, StoreError> {
        Ok(self.client()?.query_opt("SELECT 1 FROM certificates WHERE serial = $1", &[&serial.as_str()])?.is_some())
    }

    fn serial_for_key(&self, fingerprint: &[u8; 32]) -> Result<Option<Serial>, StoreError> {
        let row = self.client()?.query_opt("SELECT serial FROM certificates WHERE key_fingerprint = $1", &[&&fingerprint[..]])?;
        row.map(|r| serial(&r, 0)).transpose()
    }

    fn certificate(&self, s: &Serial) -> Result<Option<CertificateRecord>, StoreError> {
        let row = self.client()?.query_opt(&format!("{SELECT} WHERE c.serial = $1"), &[&s.as_str()])?;
        row.as_ref().map(certificate_record).transpose()
    }

    fn pair(&self, pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError> {
        all(self.client()?.query(&format!("{SELECT} WHERE c.pair_id = $1 ORDER BY c.cert_type"), &[&pair_id])?, certificate_record)
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError> {
        let status = match f.status {
            None => "TRUE",
            Some(StatusFilter::Valid) => "c.revoked_at IS NULL AND c.not_before <= $3 AND c.not_after > $3",
            Some(StatusFilter::Expired) => "c.revoked_at IS NULL AND c.not_after <= $3",
            Some(StatusFilter::Revoked) => "c.revoked_at IS NOT NULL AND c.revocation_reason <> 6",
            Some(StatusFilter::Hold) => "c.revoked_at IS NOT NULL AND c.revocation_reason = 6",
        };
        let sql = format!(
            "{SELECT} WHERE ($1::TEXT IS NULL OR p.iin = $1) AND ($2::TEXT IS NULL OR p.bin = $2) AND ({status})
             AND $3::BIGINT IS NOT NULL AND (NOT $4::BOOLEAN OR p.staff_role IS NOT NULL)
             ORDER BY c.not_before DESC, c.pair_id DESC, c.cert_type"
        );
        all(self.client()?.query(&sql, &[&f.iin, &f.bin, &f.now, &f.staff])?, certificate_record)
    }

    fn count(&self) -> Result<u64, StoreError> {
        Ok(self.client()?.query_one("SELECT COUNT(*) FROM certificates", &[])?.try_get::<_, i64>(0)? as u64)
    }

    fn insert_pair(&mut self, pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let pair_id = insert_pair_tx(&mut tx, pair)?;
        append_audit(&mut tx, pair.issued_at, event)?;
        tx.commit()?;
        Ok(pair_id)
    }

    fn renew_pair(&mut self, pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        tx.execute(
            "UPDATE certificates SET revoked_at = $1, revocation_reason = $2
             WHERE pair_id = $3 AND (revoked_at IS NULL OR revocation_reason = $4)",
            &[&pair.issued_at, &i32::from(RevocationReason::Superseded.code()), &old_pair, &HOLD],
        )?;
        let pair_id = insert_pair_tx(&mut tx, pair)?;
        append_audit(&mut tx, pair.issued_at, event)?;
        tx.commit()?;
        Ok(pair_id)
    }

    fn revoke(&mut self, serials: &[Serial], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let reason = i32::from(revocation.reason.code());
        let mut changed = 0;
        for s in serials {
            // A hold may become final; nothing else changes a revocation.
            let sql = if revocation.reason == RevocationReason::CertificateHold {
                "UPDATE certificates SET revoked_at = $1, revocation_reason = $2, invalidity_date = $5
                 WHERE serial = $3 AND revoked_at IS NULL AND $4::INTEGER IS NOT NULL"
            } else {
                "UPDATE certificates SET revoked_at = $1, revocation_reason = $2, invalidity_date = $5
                 WHERE serial = $3 AND (revoked_at IS NULL OR revocation_reason = $4)"
            };
            changed += tx.execute(sql, &[&revocation.at, &reason, &s.as_str(), &HOLD, &revocation.invalid_since])? as usize;
        }
        if changed != serials.len() {
            return Ok(0); // dropped: rolls back
        }
        append_audit(&mut tx, revocation.at, event)?;
        tx.commit()?;
        Ok(changed)
    }

    fn unhold(&mut self, s: &Serial, at: i64, event: &AuditEvent) -> Result<bool, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let n = tx.execute(
            "UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL, invalidity_date = NULL
             WHERE serial = $1 AND revocation_reason = $2",
            &[&s.as_str(), &HOLD],
        )?;
        if n == 0 {
            return Ok(false);
        }
        append_audit(&mut tx, at, event)?;
        tx.commit()?;
        Ok(true)
    }
}

impl ApplicationStore for PgStore {
    fn insert_application(&mut self, a: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let (auth_key, sign_key) = (request_key(&a.auth_csr).map(Vec::from), request_key(&a.sign_csr).map(Vec::from));
        let params: [&(dyn ToSql + Sync); 17] = [
            &a.number,
            &a.secret_hash,
            &a.state.as_str(),
            &a.submitted_at,
            &a.updated_at,
            &a.center,
            &a.storage.as_str(),
            &a.iin,
            &a.bin,
            &a.form,
            &a.auth_csr,
            &a.sign_csr,
            &a.approved_by.as_ref().map(Serial::as_str),
            &a.reject_reason,
            &a.pair_id,
            &auth_key,
            &sign_key,
        ];
        tx.execute(
            "INSERT INTO applications (number, secret_hash, state, submitted_at, updated_at, center, storage, iin, bin, form,
             auth_csr, sign_csr, approved_by, reject_reason, pair_id, auth_key, sign_key)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &params,
        )?;
        append_audit(&mut tx, a.submitted_at, event)?;
        tx.commit()?;
        Ok(())
    }

    fn key_pending(&self, fingerprint: &[u8; 32]) -> Result<bool, StoreError> {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM applications WHERE (auth_key = $1 OR sign_key = $1) AND {PENDING})");
        Ok(self.client()?.query_one(&sql, &[&&fingerprint[..]])?.try_get(0)?)
    }

    fn application(&self, number: &str) -> Result<Option<ApplicationRecord>, StoreError> {
        let row = self.client()?.query_opt(&format!("{APP_SELECT} WHERE number = $1"), &[&number])?;
        row.as_ref().map(application_record).transpose()
    }

    fn applications(&self, state: Option<ApplicationState>, center: Option<&str>, page: &Page) -> Result<Vec<ApplicationRecord>, StoreError> {
        // Keyset pagination: a page costs the same wherever it starts.
        let sql = format!(
            "{APP_SELECT} WHERE ($1::TEXT IS NULL OR state = $1) AND ($2::TEXT IS NULL OR center = $2)
             AND ($3::TEXT IS NULL OR (submitted_at, number) > (SELECT submitted_at, number FROM applications WHERE number = $3))
             ORDER BY submitted_at, number LIMIT $4"
        );
        let limit = page.limit.map(i64::from);
        all(self.client()?.query(&sql, &[&state.map(|s| s.as_str()), &center, &page.after, &limit])?, application_record)
    }

    fn update_application(
        &mut self,
        number: &str,
        from: ApplicationState,
        change: &ApplicationChange,
        pair: Option<&NewPair>,
        event: &AuditEvent,
    ) -> Result<Moved, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        // The row first: a racing move waits here, and then sees the state it left.
        let current = tx.query_opt("SELECT state FROM applications WHERE number = $1 FOR UPDATE", &[&number])?;
        if current.map(|r| r.try_get::<_, String>(0)).transpose()?.as_deref() != Some(from.as_str()) {
            return Ok(Moved::Stale);
        }
        let pair_id = pair.map(|p| insert_pair_tx(&mut tx, p)).transpose()?;
        let n = tx.execute(
            "UPDATE applications SET state = $1, updated_at = $2, approved_by = COALESCE($3, approved_by),
             reject_reason = COALESCE($4, reject_reason), pair_id = COALESCE($5, pair_id) WHERE number = $6 AND state = $7",
            &[
                &change.state.as_str(),
                &change.at,
                &change.approved_by.as_ref().map(Serial::as_str),
                &change.reject_reason,
                &pair_id,
                &number,
                &from.as_str(),
            ],
        )?;
        if n == 0 {
            return Ok(Moved::Stale);
        }
        append_audit(&mut tx, change.at, event)?;
        tx.commit()?;
        Ok(Moved::Done { pair_id })
    }

    fn consume_request(&mut self, digest: &[u8; 32], at: i64) -> Result<bool, StoreError> {
        let mut client = self.client()?;
        // Requests older than a day are refused for their age alone: forget them.
        client.execute("DELETE FROM used_requests WHERE used_at < $1", &[&(at - 86_400)])?;
        let n = client.execute(
            "INSERT INTO used_requests (digest, used_at) VALUES ($1, $2) ON CONFLICT (digest) DO NOTHING",
            &[&&digest[..], &at],
        )?;
        Ok(n == 1)
    }
}

impl StatusStore for PgStore {
    fn crl_rows(&self, family: Family, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError> {
        let mut client = self.client()?;
        // One snapshot: the position and the rows agree.
        let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        let seq = status_seq(&mut tx)?;
        let rows = match since {
            None => tx.query(
                "SELECT serial, revoked_at, revocation_reason, invalidity_date, revoked_at FROM certificates
                 WHERE family = $1 AND revoked_at IS NOT NULL ORDER BY serial",
                &[&family.as_str()],
            )?,
            Some(since) => tx.query(
                "SELECT c.serial, c.revoked_at, c.revocation_reason, c.invalidity_date, MAX(s.at)
                 FROM status_log s JOIN certificates c ON c.serial = s.serial
                 WHERE s.seq > $1 AND s.seq <= $2 AND c.family = $3
                 GROUP BY c.serial, c.revoked_at, c.revocation_reason, c.invalidity_date ORDER BY c.serial",
                &[&since, &seq, &family.as_str()],
            )?,
        };
        for r in &rows {
            visit(CrlRow { serial: serial(r, 0)?, revocation: revocation(r, 1)?, changed_at: r.try_get(4)? });
        }
        tx.commit()?;
        Ok(seq)
    }

    fn record_crl(&mut self, crl: &CrlRecord) -> Result<u64, StoreError> {
        let row = self.client()?.query_one(
            "INSERT INTO crls (base_number, status_seq, this_update, next_update, family) VALUES ($1, $2, $3, $4, $5) RETURNING number",
            &[&crl.base_number.map(|n| n as i64), &crl.status_seq, &crl.this_update, &crl.next_update, &crl.family.as_str()],
        )?;
        Ok(row.try_get::<_, i64>(0)? as u64)
    }

    fn save_crl(&mut self, number: u64, der: &[u8]) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        let number = number as i64;
        let full = tx.query_opt("UPDATE crls SET der = $1 WHERE number = $2 RETURNING base_number IS NULL, family", &[&der, &number])?;
        if let Some(row) = full {
            let (full, family): (bool, String) = (row.try_get(0)?, row.try_get(1)?);
            if full {
                // Keep the bytes of this full CRL, the one before it, and what came after that.
                tx.execute(
                    "UPDATE crls SET der = NULL WHERE der IS NOT NULL AND family = $2
                     AND number < (SELECT COALESCE(MAX(number), 0) FROM crls
                     WHERE base_number IS NULL AND der IS NOT NULL AND number < $1 AND family = $2)",
                    &[&number, &family],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn latest_crl(&self, family: Family, delta: bool) -> Result<Option<CrlRecord>, StoreError> {
        let sql = if delta {
            "SELECT number, base_number, status_seq, this_update, next_update, family FROM crls
             WHERE family = $1 AND base_number IS NOT NULL AND der IS NOT NULL ORDER BY number DESC LIMIT 1"
        } else {
            "SELECT number, base_number, status_seq, this_update, next_update, family FROM crls
             WHERE family = $1 AND base_number IS NULL AND der IS NOT NULL ORDER BY number DESC LIMIT 1"
        };
        self.client()?.query_opt(sql, &[&family.as_str()])?.as_ref().map(crl_record).transpose()
    }

    fn published_crl(&self, family: Family, delta: bool, newer_than: Option<u64>) -> Result<Option<(CrlRecord, Vec<u8>)>, StoreError> {
        let sql = if delta {
            "SELECT number, base_number, status_seq, this_update, next_update, family, der FROM crls
             WHERE der IS NOT NULL AND number > $1 AND family = $2 AND base_number = (SELECT MAX(number) FROM crls
             WHERE base_number IS NULL AND der IS NOT NULL AND family = $2)
             ORDER BY number DESC LIMIT 1"
        } else {
            "SELECT number, base_number, status_seq, this_update, next_update, family, der FROM crls
             WHERE der IS NOT NULL AND number > $1 AND family = $2 AND base_number IS NULL ORDER BY number DESC LIMIT 1"
        };
        let row = self.client()?.query_opt(sql, &[&(newer_than.unwrap_or(0) as i64), &family.as_str()])?;
        row.map(|r| Ok((crl_record(&r)?, r.try_get(6)?))).transpose()
    }

    fn status_seq(&self) -> Result<i64, StoreError> {
        status_seq(&mut *self.client()?)
    }

    fn revocation_of(&self, family: Family, s: &Serial) -> Result<SerialRevocation, StoreError> {
        let row = self.client()?.query_opt(
            "SELECT revoked_at, revocation_reason, invalidity_date FROM certificates WHERE serial = $1 AND family = $2",
            &[&s.as_str(), &family.as_str()],
        )?;
        Ok(match row {
            None => SerialRevocation::Unknown,
            Some(r) => revocation(&r, 0)?.map_or(SerialRevocation::NotRevoked, SerialRevocation::Revoked),
        })
    }

    fn status_changes(&self, after: i64, limit: u32) -> Result<(Vec<Serial>, i64), StoreError> {
        let rows =
            self.client()?.query("SELECT seq, serial FROM status_log WHERE seq > $1 ORDER BY seq LIMIT $2", &[&after, &i64::from(limit)])?;
        let (mut serials, mut last) = (Vec::new(), after);
        for r in &rows {
            last = r.try_get(0)?;
            serials.push(serial(r, 1)?);
        }
        Ok((serials, last))
    }
}

impl LeaseStore for PgStore {
    fn hold_lease(&mut self, job: &str, holder: &str, ttl_seconds: i64) -> Result<bool, StoreError> {
        let n = self.client()?.execute(
            "INSERT INTO job_leases (job, holder, expires_at)
             VALUES ($1, $2, CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT) + $3)
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)",
            &[&job, &holder, &ttl_seconds],
        )?;
        Ok(n == 1)
    }

    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.client()?.execute("DELETE FROM job_leases WHERE job = $1 AND holder = $2", &[&job, &holder])?;
        Ok(())
    }
}

impl AuditStore for PgStore {
    fn record_event(&mut self, at: i64, event: &AuditEvent) -> Result<(), StoreError> {
        let mut client = self.client()?;
        let mut tx = client.transaction()?;
        append_audit(&mut tx, at, event)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = self.client()?.query(
            "SELECT seq, at, actor, action, object, detail, hash FROM audit_log WHERE seq > $1
             AND ($3::TEXT IS NULL OR actor = $3 OR substr(actor, strpos(actor, ':') + 1) = $3)
             AND ($4::TEXT IS NULL OR action = $4)
             AND ($5::BIGINT IS NULL OR at >= $5) AND ($6::BIGINT IS NULL OR at < $6)
             AND ($7::TEXT IS NULL OR object IN (
                 SELECT c.serial FROM certificates c JOIN pairs p ON p.id = c.pair_id WHERE p.iin = $7
                 UNION SELECT number FROM applications WHERE iin = $7))
             ORDER BY seq LIMIT $2",
            &[&q.after, &i64::from(q.limit), &q.actor, &q.action, &q.since, &q.until, &q.iin],
        )?;
        all(rows, audit_record)
    }

    fn save_checkpoint(&mut self, c: &Checkpoint) -> Result<(), StoreError> {
        self.client()?.execute(
            "INSERT INTO audit_checkpoints (size, root, time, origin, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (size) DO NOTHING",
            &[&(c.size as i64), &c.root, &c.time, &c.origin, &c.key_id, &c.signature],
        )?;
        Ok(())
    }

    fn checkpoints(&self, latest_only: bool) -> Result<Vec<Checkpoint>, StoreError> {
        let order = if latest_only { "DESC LIMIT 1" } else { "" };
        let rows =
            self.client()?.query(&format!("SELECT size, root, time, origin, key_id, signature FROM audit_checkpoints ORDER BY size {order}"), &[])?;
        all(rows, checkpoint)
    }

    fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut client = self.client()?;
        let mut tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        let mut chain = Chain::default();
        // A page at a time: the log grows without bound.
        let mut after = 0i64;
        loop {
            let rows = tx.query(
                "SELECT seq, at, actor, action, object, detail, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 10000",
                &[&after],
            )?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let record = audit_record(r)?;
                after = record.seq;
                if let Err(e) = chain.check(&record) {
                    return Ok(AuditCheck::Broken(e));
                }
            }
        }
        let head = tx.query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])?;
        let head = head.map(|r| -> Result<(i64, Vec<u8>), StoreError> { Ok((r.try_get(0)?, r.try_get(1)?)) }).transpose()?;
        tx.commit()?;
        Ok(chain.finish(head).into())
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::{self, application, event, pair, s};
    use super::*;
    use fixtures::postgres::TestDatabase;

    fn connect(db: &TestDatabase) -> PgStore {
        let Ok(Database::Postgres(url)) = db.url().parse() else { panic!("{} is a PostgreSQL URL", db.url()) };
        PgStore::connect(&url).unwrap()
    }

    #[test]
    fn the_shared_behaviour_holds() {
        let mut databases = Vec::new();
        conformance::all(&mut || {
            let db = TestDatabase::new("conformance");
            let store = connect(&db);
            databases.push(db);
            store
        });
    }

    #[test]
    fn old_crl_bytes_are_dropped() {
        let db = TestDatabase::new("crl_bytes");
        let mut store = connect(&db);
        let kept = conformance::three_full_crls(&mut store);
        let stored: Vec<u64> = store
            .client()
            .unwrap()
            .query("SELECT number FROM crls WHERE der IS NOT NULL ORDER BY number", &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, i64>(0) as u64)
            .collect();
        assert_eq!(stored, kept);
    }

    #[test]
    fn the_schema_is_made_once_and_a_newer_one_is_refused() {
        let db = TestDatabase::new("schema");
        let first = connect(&db);
        // Several servers starting at once: each waits for the other's migration.
        let others: Vec<PgStore> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..4).map(|_| t.spawn(|| connect(&db))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for store in others.iter().chain([&first]) {
            assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        }
        first.client().unwrap().execute("UPDATE schema_version SET version = 99", &[]).unwrap();
        let Ok(Database::Postgres(url)) = db.url().parse() else { unreachable!() };
        assert!(matches!(PgStore::connect(&url), Err(StoreError::TooNew { found: 99, .. })));
    }

    /// Two servers confirming one application at the same moment: one issues, the
    /// other is told the application moved (no second pair, no orphan rows).
    #[test]
    fn racing_moves_of_one_application_have_one_winner() {
        let db = TestDatabase::new("race_app");
        let mut setup = connect(&db);
        for round in 0..10u8 {
            let number = format!("{:016}", round);
            setup.insert_application(&application(&number, vec![0x30, round], vec![0x31, round]), &event()).unwrap();
            let change = ApplicationChange { state: ApplicationState::Issued, at: 1_100, approved_by: None, reject_reason: None };
            let outcomes: Vec<Result<Moved, StoreError>> = std::thread::scope(|t| {
                let handles: Vec<_> = (0..2u8)
                    .map(|side| {
                        let (mut store, number, change) = (connect(&db), number.clone(), change.clone());
                        t.spawn(move || {
                            let serial = |n: u8| format!("{:02x}{:02x}{:02x}", round + 1, side + 1, n);
                            let p = pair(&serial(1), &serial(2), round * 8 + side * 2 + 10, round * 8 + side * 2 + 11);
                            store.update_application(&number, ApplicationState::AwaitingIdentity, &change, Some(&p), &event())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let done = outcomes.iter().filter(|o| matches!(o, Ok(Moved::Done { pair_id: Some(_) }))).count();
            let stale = outcomes.iter().filter(|o| matches!(o, Ok(Moved::Stale))).count();
            assert_eq!((done, stale), (1, 1), "round {round}: {outcomes:?}");
        }
        assert_eq!(setup.count().unwrap(), 20, "one pair per application");
        assert!(matches!(setup.verify_audit().unwrap(), AuditCheck::Intact { records: 20 }));
    }

    /// Two servers revoking the same certificate: one revokes, the other changes
    /// nothing and says so; the status log has one entry.
    #[test]
    fn racing_revocations_have_one_winner_and_one_status_entry() {
        let db = TestDatabase::new("race_revoke");
        let mut setup = connect(&db);
        setup.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
        let start = setup.status_seq().unwrap();
        let changed: Vec<usize> = std::thread::scope(|t| {
            let handles: Vec<_> = [RevocationReason::KeyCompromise, RevocationReason::AffiliationChanged]
                .into_iter()
                .map(|reason| {
                    let mut store = connect(&db);
                    t.spawn(move || store.revoke(&[s("01"), s("02")], Revocation::new(1_500, reason), &event()).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!({ let mut c = changed.clone(); c.sort(); c }, [0, 2], "{changed:?}");
        assert_eq!(setup.status_changes(start, 100).unwrap().0, vec![s("01"), s("02")]);
        assert!(matches!(setup.verify_audit().unwrap(), AuditCheck::Intact { records: 2 }));
    }

    /// Four servers appending to the audit log and numbering CRLs at once: the log
    /// stays one chain, and no CRL number is handed out twice.
    #[test]
    fn concurrent_writers_keep_one_audit_chain_and_unique_crl_numbers() {
        let db = TestDatabase::new("race_audit");
        let numbers: Vec<u64> = std::thread::scope(|t| {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let mut store = connect(&db);
                    t.spawn(move || {
                        let mut numbers = Vec::new();
                        for n in 0..25 {
                            store.record_event(1_000 + n, &event()).unwrap();
                            let crl = CrlRecord { family: Family::Rsa, number: 0, base_number: None, status_seq: i, this_update: 1, next_update: 2 };
                            numbers.push(store.record_crl(&crl).unwrap());
                        }
                        numbers
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        let mut unique = numbers.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 100, "no CRL number twice");
        assert!(matches!(connect(&db).verify_audit().unwrap(), AuditCheck::Intact { records: 100 }));
    }

    #[test]
    fn a_value_that_does_not_convert_is_a_fault_not_an_outage() {
        let db = TestDatabase::new("conversion");
        let store = connect(&db);
        let row = store.client().unwrap().query_one("SELECT 'not a number'::TEXT", &[]).unwrap();
        let err = StoreError::from(row.try_get::<_, i64>(0).unwrap_err());
        assert!(matches!(err, StoreError::Postgres(_)), "{err:?}");
    }

    /// The database restarts (or a standby is promoted): the operation under way
    /// fails as unavailable and changes nothing; the next ones reconnect.
    #[test]
    fn a_lost_connection_is_made_again_by_the_next_operation() {
        let script = fixtures::postgres::cluster_script();
        let dir = std::env::temp_dir().join(format!("ca-pg-restart-{}", std::process::id()));
        let out = std::process::Command::new(&script).arg("start").arg(&dir).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let url = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let stop = || {
            let _ = std::process::Command::new(&script).arg("stop").arg(&dir).status();
            let _ = std::fs::remove_dir_all(&dir);
        };
        let Ok(Database::Postgres(url)) = url.parse() else { unreachable!() };
        let mut store = PgStore::connect(&url).unwrap();
        store.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
        let restarted = std::process::Command::new(&script).arg("restart").arg(&dir).status().unwrap();
        let mut outcomes = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::time::Instant::now() < deadline {
            let r = store.count();
            let done = r.is_ok();
            outcomes.push(r);
            if done {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        stop();
        assert!(restarted.success());
        assert!(matches!(outcomes.last(), Some(Ok(2))), "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, Ok(_) | Err(StoreError::Unavailable(_)))), "{outcomes:?}");
    }

    #[test]
    fn a_database_that_cannot_be_reached_is_unavailable_not_broken() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let Ok(Database::Postgres(url)) = format!("postgres://ca:secret@127.0.0.1:{port}/ca?connect_timeout=2").parse() else {
            unreachable!()
        };
        let err = PgStore::connect(&url).err().expect("nothing listens there");
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
