//! SQLite (rusqlite, bundled): the embedded default behind every store trait.
//!
//! Durability: WAL with `synchronous=FULL`, so a pair reported issued survives a
//! power cut, and one transaction per pair, so a crash leaves both certificates
//! of a pair recorded or neither. Every write transaction is `IMMEDIATE`: it takes
//! the write lock before it reads, so concurrent writers on other connections wait
//! (up to the busy timeout) instead of failing on a stale snapshot.

use super::*;
use crate::audit::{AuditRecord, Chain, Checkpoint};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::path::Path;

use super::migrations::{KEYS_MIGRATION, MIGRATIONS};
use super::rows::{application_record, audit_record, certificate_record, checkpoint, crl_record, request_key, revocation, serial, Columns};
use super::rows::{APP_SELECT, PENDING, SELECT};

impl Columns for Row<'_> {
    fn int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
    fn text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn bytes(&self, i: usize) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.get(i)?)
    }
}


/// Give the pending applications recorded before [`KEYS_MIGRATION`] their keys.
fn backfill_application_keys(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let rows: Vec<(String, Vec<u8>, Vec<u8>)> = {
        let mut stmt = tx.prepare(&format!("SELECT number, auth_csr, sign_csr FROM applications WHERE auth_key IS NULL AND {PENDING}"))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (number, auth, sign) in rows {
        let keys = (request_key(&auth).map(Vec::from), request_key(&sign).map(Vec::from));
        tx.execute("UPDATE applications SET auth_key = ?2, sign_key = ?3 WHERE number = ?1", params![number, keys.0, keys.1])?;
    }
    Ok(())
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`. The file is
    /// readable by its owner only (it holds IINs, names and the audit log), and so
    /// are the WAL and shared-memory files SQLite makes beside it, which take the
    /// database file's mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        owner_only(path)?;
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

/// Create the database file with mode 0600, or bring an existing one to it.
///
/// An existing file is changed by path (chmod), never opened here: closing any
/// descriptor of a file drops all of this process's POSIX locks on it, and with
/// them the locks of SQLite connections already open in the process.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let failed = |e: std::io::Error| StoreError::File(format!("{}: {e}", path.display()));
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {} // new, nobody holds a lock on it yet
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(failed)?
            }
            Err(e) => return Err(failed(e)),
        }
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version = |c: &Connection| -> Result<i64, StoreError> { Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?) };
    let supported = MIGRATIONS.len() as i64;
    let current = version(conn)?;
    if current > supported {
        return Err(StoreError::TooNew { found: current, supported });
    }
    if current == supported {
        return Ok(());
    }
    // Another connection may be migrating at the same moment: look again under the write lock.
    let tx = write_tx(conn)?;
    let current = version(&tx)?;
    for (i, migration) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(migration.sqlite)?;
        if i == KEYS_MIGRATION {
            backfill_application_keys(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
    }
    tx.commit()?;
    Ok(())
}

/// A uniqueness rule of the schema was broken: the serial or the key is taken
/// (two transactions raced past the checks made before them).
fn duplicate(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => StoreError::Duplicate,
        _ => e.into(),
    }
}

fn insert_certificate(tx: &Transaction<'_>, pair_id: i64, c: &NewCertificate) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO certificates (serial, pair_id, cert_type, common_name, not_before, not_after, key_id, key_fingerprint, der, family)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            c.serial.as_str(),
            pair_id,
            c.cert_type.as_str(),
            c.common_name,
            c.not_before,
            c.not_after,
            c.key_id,
            &c.key_fingerprint[..],
            c.der,
            c.family.as_str()
        ],
    )
    .map_err(duplicate)?;
    Ok(())
}

/// Revoked for good, and on hold: `revocation_reason` 6 is certificateHold (RFC 5280 §5.3.1).
const HOLD_SQL_REVOKED: &str = "c.revoked_at IS NOT NULL AND c.revocation_reason <> 6";
const HOLD_SQL_HELD: &str = "c.revoked_at IS NOT NULL AND c.revocation_reason = 6";

/// A write transaction that holds the write lock from its start.
fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>, StoreError> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Append one audit record and move the head, inside the caller's transaction.
fn append_audit(tx: &Transaction<'_>, at: i64, e: &AuditEvent) -> Result<(), StoreError> {
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

fn insert_pair_tx(tx: &Transaction<'_>, pair: &NewPair) -> Result<i64, StoreError> {
    let h = &pair.holder;
    let kind = h.kind.as_str();
    let (bin, role) = match &h.entity {
        Some((b, r)) => (Some(b.as_str()), Some(r.as_str())),
        None => (None, None),
    };
    tx.execute(
        "INSERT INTO pairs (subject_kind, iin, bin, role, issued_at, staff_role) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![kind, h.iin, bin, role, pair.issued_at, h.staff.map(|s| s.as_str())],
    )?;
    let pair_id = tx.last_insert_rowid();
    insert_certificate(tx, pair_id, &pair.auth)?;
    insert_certificate(tx, pair_id, &pair.sign)?;
    Ok(pair_id)
}

const HOLD: u8 = 6;

/// Every row of a query, each read by `read`.
fn all<T>(mut rows: rusqlite::Rows<'_>, read: impl Fn(&Row<'_>) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read(row)?);
    }
    Ok(out)
}

impl CertificateStore for SqliteStore {
    fn serial_exists(&self, serial: &Serial) -> Result<bool, StoreError> {
        Ok(self.conn.query_row("SELECT 1 FROM certificates WHERE serial = ?1", [serial.as_str()], |_| Ok(())).optional()?.is_some())
    }

    fn serial_for_key(&self, fingerprint: &[u8; 32]) -> Result<Option<Serial>, StoreError> {
        self.conn
            .query_row("SELECT serial FROM certificates WHERE key_fingerprint = ?1", [&fingerprint[..]], |r| Ok(serial(r, 0)))
            .optional()?
            .transpose()
    }

    fn certificate(&self, serial: &Serial) -> Result<Option<CertificateRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} WHERE c.serial = ?1"))?;
        let mut rows = stmt.query([serial.as_str()])?;
        rows.next()?.map(certificate_record).transpose()
    }

    fn pair(&self, pair_id: i64) -> Result<Vec<CertificateRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{SELECT} WHERE c.pair_id = ?1 ORDER BY c.cert_type"))?;
        let rows = stmt.query([pair_id])?;
        all(rows, |r| certificate_record(r))
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<CertificateRecord>, StoreError> {
        let status = match f.status {
            None => "1",
            Some(StatusFilter::Valid) => "c.revoked_at IS NULL AND c.not_before <= ?3 AND c.not_after > ?3",
            Some(StatusFilter::Expired) => "c.revoked_at IS NULL AND c.not_after <= ?3",
            Some(StatusFilter::Revoked) => HOLD_SQL_REVOKED,
            Some(StatusFilter::Hold) => HOLD_SQL_HELD,
        };
        // `?3 = ?3` keeps the timestamp a bound parameter when no status filter uses it.
        let sql = format!(
            "{SELECT} WHERE (?1 IS NULL OR p.iin = ?1) AND (?2 IS NULL OR p.bin = ?2) AND ({status}) AND ?3 = ?3
             AND (?4 = 0 OR p.staff_role IS NOT NULL)
             ORDER BY c.not_before DESC, c.pair_id DESC, c.cert_type"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query(params![f.iin, f.bin, f.now, f.staff])?;
        all(rows, |r| certificate_record(r))
    }

    fn count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM certificates", [], |r| r.get(0))?)
    }

    fn insert_pair(&mut self, pair: &NewPair, event: &AuditEvent) -> Result<i64, StoreError> {
        let tx = write_tx(&mut self.conn)?;
        let pair_id = insert_pair_tx(&tx, pair)?;
        append_audit(&tx, pair.issued_at, event)?;
        tx.commit()?;
        Ok(pair_id)
    }

    fn renew_pair(&mut self, pair: &NewPair, old_pair: i64, event: &AuditEvent) -> Result<i64, StoreError> {
        let tx = write_tx(&mut self.conn)?;
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

    fn revoke(&mut self, serials: &[Serial], revocation: Revocation, event: &AuditEvent) -> Result<usize, StoreError> {
        let tx = write_tx(&mut self.conn)?;
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
            changed +=
                tx.execute(sql, params![revocation.at, revocation.reason.code(), serial.as_str(), HOLD, revocation.invalid_since])?;
        }
        if changed != serials.len() {
            return Ok(0); // dropped: rolls back
        }
        append_audit(&tx, revocation.at, event)?;
        tx.commit()?;
        Ok(changed)
    }

    fn unhold(&mut self, serial: &Serial, at: i64, event: &AuditEvent) -> Result<bool, StoreError> {
        let tx = write_tx(&mut self.conn)?;
        let n = tx.execute(
            "UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL, invalidity_date = NULL
             WHERE serial = ?1 AND revocation_reason = ?2",
            params![serial.as_str(), HOLD],
        )?;
        if n == 0 {
            return Ok(false);
        }
        append_audit(&tx, at, event)?;
        tx.commit()?;
        Ok(true)
    }
}

impl ApplicationStore for SqliteStore {
    fn insert_application(&mut self, a: &ApplicationRecord, event: &AuditEvent) -> Result<(), StoreError> {
        let tx = write_tx(&mut self.conn)?;
        let (auth_key, sign_key) = (request_key(&a.auth_csr).map(Vec::from), request_key(&a.sign_csr).map(Vec::from));
        tx.execute(
            "INSERT INTO applications (number, secret_hash, state, submitted_at, updated_at, center, storage, iin, bin, form,
             auth_csr, sign_csr, approved_by, reject_reason, pair_id, auth_key, sign_key)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
            params![
                a.number,
                a.secret_hash,
                a.state.as_str(),
                a.submitted_at,
                a.updated_at,
                a.center,
                a.storage.as_str(),
                a.iin,
                a.bin,
                a.form,
                a.auth_csr,
                a.sign_csr,
                a.approved_by.as_ref().map(Serial::as_str),
                a.reject_reason,
                a.pair_id,
                auth_key,
                sign_key
            ],
        )?;
        append_audit(&tx, a.submitted_at, event)?;
        tx.commit()?;
        Ok(())
    }

    fn key_pending(&self, fingerprint: &[u8; 32]) -> Result<bool, StoreError> {
        let sql = format!("SELECT EXISTS (SELECT 1 FROM applications WHERE (auth_key = ?1 OR sign_key = ?1) AND {PENDING})");
        Ok(self.conn.prepare_cached(&sql)?.query_row([&fingerprint[..]], |r| r.get(0))?)
    }

    fn application(&self, number: &str) -> Result<Option<ApplicationRecord>, StoreError> {
        let mut stmt = self.conn.prepare(&format!("{APP_SELECT} WHERE number = ?1"))?;
        let mut rows = stmt.query([number])?;
        rows.next()?.map(application_record).transpose()
    }

    fn applications(
        &self,
        state: Option<ApplicationState>,
        center: Option<&str>,
        page: &Page,
    ) -> Result<Vec<ApplicationRecord>, StoreError> {
        // Keyset pagination: a page costs the same wherever it starts.
        let mut stmt = self.conn.prepare_cached(&format!(
            "{APP_SELECT} WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR center = ?2)
             AND (?3 IS NULL OR (submitted_at, number) > (SELECT submitted_at, number FROM applications WHERE number = ?3))
             ORDER BY submitted_at, number LIMIT ?4"
        ))?;
        let limit = page.limit.map_or(-1, i64::from);
        let rows = stmt.query(params![state.map(|s| s.as_str()), center, page.after, limit])?;
        all(rows, |r| application_record(r))
    }

    fn update_application(
        &mut self,
        number: &str,
        from: ApplicationState,
        change: &ApplicationChange,
        pair: Option<&NewPair>,
        event: &AuditEvent,
    ) -> Result<Moved, StoreError> {
        let tx = write_tx(&mut self.conn)?;
        let pair_id = pair.map(|p| insert_pair_tx(&tx, p)).transpose()?;
        let n = tx.execute(
            "UPDATE applications SET state = ?1, updated_at = ?2, approved_by = COALESCE(?3, approved_by),
             reject_reason = COALESCE(?4, reject_reason), pair_id = COALESCE(?5, pair_id) WHERE number = ?6 AND state = ?7",
            params![
                change.state.as_str(),
                change.at,
                change.approved_by.as_ref().map(Serial::as_str),
                change.reject_reason,
                pair_id,
                number,
                from.as_str()
            ],
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
}

impl StatusStore for SqliteStore {
    fn crl_rows(&self, family: Family, since: Option<i64>, visit: &mut dyn FnMut(CrlRow)) -> Result<i64, StoreError> {
        // One read transaction: the position and the rows come from the same snapshot.
        let tx = self.conn.unchecked_transaction()?;
        let seq = status_seq(&tx)?;
        let sql = match since {
            None => {
                "SELECT serial, revoked_at, revocation_reason, invalidity_date, revoked_at FROM certificates
                 WHERE family = ?3 AND revoked_at IS NOT NULL AND ?1 = ?1 AND ?2 = ?2 ORDER BY serial"
            }
            Some(_) => {
                "SELECT c.serial, c.revoked_at, c.revocation_reason, c.invalidity_date, MAX(s.at)
                 FROM status_log s JOIN certificates c ON c.serial = s.serial
                 WHERE s.seq > ?1 AND s.seq <= ?2 AND c.family = ?3 GROUP BY c.serial ORDER BY c.serial"
            }
        };
        let mut stmt = tx.prepare_cached(sql)?;
        let mut rows = stmt.query(params![since.unwrap_or(0), seq, family.as_str()])?;
        while let Some(r) = rows.next()? {
            let revocation = revocation(r, 1)?;
            visit(CrlRow { serial: serial(r, 0)?, revocation, changed_at: r.get(4)? });
        }
        Ok(seq)
    }

    fn record_crl(&mut self, crl: &CrlRecord) -> Result<u64, StoreError> {
        self.conn.execute(
            "INSERT INTO crls (base_number, status_seq, this_update, next_update, family) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![crl.base_number.map(|n| n as i64), crl.status_seq, crl.this_update, crl.next_update, crl.family.as_str()],
        )?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    fn latest_crl(&self, family: Family, delta: bool) -> Result<Option<CrlRecord>, StoreError> {
        let sql = if delta {
            "SELECT number, base_number, status_seq, this_update, next_update, family FROM crls
             WHERE family = ?1 AND base_number IS NOT NULL AND der IS NOT NULL ORDER BY number DESC LIMIT 1"
        } else {
            "SELECT number, base_number, status_seq, this_update, next_update, family FROM crls
             WHERE family = ?1 AND base_number IS NULL AND der IS NOT NULL ORDER BY number DESC LIMIT 1"
        };
        self.conn.query_row(sql, [family.as_str()], |r| Ok(crl_record(r))).optional()?.transpose()
    }

    fn save_crl(&mut self, number: u64, der: &[u8]) -> Result<(), StoreError> {
        let tx = write_tx(&mut self.conn)?;
        // Written in place through incremental blob I/O: binding the bytes as a
        // parameter would make SQLite copy a million-entry CRL once more in memory.
        let updated = tx.execute("UPDATE crls SET der = zeroblob(?1) WHERE number = ?2", params![der.len() as i64, number as i64])?;
        if updated == 1 {
            let mut blob = tx.blob_open(rusqlite::DatabaseName::Main, "crls", "der", number as i64, false)?;
            std::io::Write::write_all(&mut blob, der).map_err(|e| StoreError::File(format!("writing CRL {number}: {e}")))?;
        }
        let full = updated == 1
            && tx.query_row("SELECT base_number IS NULL FROM crls WHERE number = ?1", [number as i64], |r| r.get::<_, bool>(0))?;
        if full {
            // Keep the bytes of this full CRL, the one before it, and what came after that.
            tx.execute(
                "UPDATE crls SET der = NULL WHERE der IS NOT NULL AND family = (SELECT family FROM crls WHERE number = ?1)
                 AND number < (SELECT COALESCE(MAX(number), 0) FROM crls
                 WHERE base_number IS NULL AND der IS NOT NULL AND number < ?1 AND family = (SELECT family FROM crls WHERE number = ?1))",
                [number as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn published_crl(&self, family: Family, delta: bool, newer_than: Option<u64>) -> Result<Option<(CrlRecord, Vec<u8>)>, StoreError> {
        // The newest full CRL; for a delta, the newest one on that full CRL.
        let sql = if delta {
            "SELECT number, base_number, status_seq, this_update, next_update, family, der FROM crls
             WHERE der IS NOT NULL AND number > ?1 AND family = ?2 AND base_number = (SELECT MAX(number) FROM crls
             WHERE base_number IS NULL AND der IS NOT NULL AND family = ?2)
             ORDER BY number DESC LIMIT 1"
        } else {
            "SELECT number, base_number, status_seq, this_update, next_update, family, der FROM crls
             WHERE der IS NOT NULL AND number > ?1 AND family = ?2 AND base_number IS NULL ORDER BY number DESC LIMIT 1"
        };
        let params = params![newer_than.unwrap_or(0) as i64, family.as_str()];
        let found = self.conn.query_row(sql, params, |r| Ok((crl_record(r), r.get::<_, Vec<u8>>(6)?))).optional()?;
        found.map(|(record, der)| Ok((record?, der))).transpose()
    }

    fn status_seq(&self) -> Result<i64, StoreError> {
        status_seq(&self.conn)
    }

    fn revocation_of(&self, family: Family, serial: &Serial) -> Result<SerialRevocation, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT revoked_at, revocation_reason, invalidity_date FROM certificates WHERE serial = ?1 AND family = ?2")?;
        let mut rows = stmt.query(params![serial.as_str(), family.as_str()])?;
        Ok(match rows.next()? {
            None => SerialRevocation::Unknown,
            Some(r) => revocation(r, 0)?.map_or(SerialRevocation::NotRevoked, SerialRevocation::Revoked),
        })
    }

    fn status_changes(&self, after: i64, limit: u32) -> Result<(Vec<Serial>, i64), StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT seq, serial FROM status_log WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let mut rows = stmt.query(params![after, limit])?;
        let (mut serials, mut last) = (Vec::new(), after);
        while let Some(r) = rows.next()? {
            last = r.get(0)?;
            serials.push(serial(r, 1)?);
        }
        Ok((serials, last))
    }
}

impl LeaseStore for SqliteStore {
    fn hold_lease(&mut self, job: &str, holder: &str, ttl_seconds: i64) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "INSERT INTO job_leases (job, holder, expires_at) VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER) + ?3)
             ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= CAST(strftime('%s', 'now') AS INTEGER)",
            params![job, holder, ttl_seconds],
        )?;
        Ok(n == 1)
    }

    fn release_lease(&mut self, job: &str, holder: &str) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM job_leases WHERE job = ?1 AND holder = ?2", params![job, holder])?;
        Ok(())
    }
}

impl AuditStore for SqliteStore {
    fn record_event(&mut self, at: i64, event: &AuditEvent) -> Result<(), StoreError> {
        let tx = write_tx(&mut self.conn)?;
        append_audit(&tx, at, event)?;
        tx.commit()?;
        Ok(())
    }

    fn audit_search(&self, q: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, action, object, detail, hash FROM audit_log WHERE seq > ?1
             AND (?3 IS NULL OR actor = ?3 OR substr(actor, instr(actor, ':') + 1) = ?3)
             AND (?4 IS NULL OR action = ?4)
             AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6)
             AND (?7 IS NULL OR object IN (
                 SELECT c.serial FROM certificates c JOIN pairs p ON p.id = c.pair_id WHERE p.iin = ?7
                 UNION SELECT number FROM applications WHERE iin = ?7))
             ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query(params![q.after, q.limit, q.actor, q.action, q.since, q.until, q.iin])?;
        all(rows, |r| audit_record(r))
    }

    fn save_checkpoint(&mut self, c: &Checkpoint) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR IGNORE INTO audit_checkpoints (size, root, time, origin, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![c.size as i64, c.root, c.time, c.origin, c.key_id, c.signature],
        )?;
        Ok(())
    }

    fn checkpoints(&self, latest_only: bool) -> Result<Vec<Checkpoint>, StoreError> {
        let order = if latest_only { "DESC LIMIT 1" } else { "" };
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT size, root, time, origin, key_id, signature FROM audit_checkpoints ORDER BY size {order}"))?;
        let rows = stmt.query([])?;
        all(rows, |r| checkpoint(r))
    }

    fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut chain = Chain::default();
        let mut stmt = self.conn.prepare("SELECT seq, at, actor, action, object, detail, hash FROM audit_log ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let record = audit_record(r)?;
            if let Err(e) = chain.check(&record) {
                return Ok(AuditCheck::Broken(e));
            }
        }
        let head = self.conn.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        Ok(chain.finish(head).into())
    }
}

fn status_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM status_log", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::super::conformance::{self, pair, event, s};
    use super::*;

    #[test]
    fn the_shared_behaviour_holds() {
        conformance::all(&mut || SqliteStore::in_memory().unwrap());
        let db = SqliteStore::in_memory().unwrap();
        assert_eq!(db.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_failing_pair_leaves_no_pair_row() {
        let mut db = SqliteStore::in_memory().unwrap();
        db.insert_pair(&pair("01", "02", 1, 2), &event()).unwrap();
        assert!(matches!(db.insert_pair(&pair("03", "01", 3, 4), &event()), Err(StoreError::Duplicate)));
        let pairs: i64 = db.conn.query_row("SELECT COUNT(*) FROM pairs", [], |r| r.get(0)).unwrap();
        assert_eq!(pairs, 1);
        assert!(!db.serial_exists(&s("03")).unwrap());
    }

    #[test]
    fn old_crl_bytes_are_dropped() {
        let mut db = SqliteStore::in_memory().unwrap();
        let kept = conformance::three_full_crls(&mut db);
        let stored: Vec<i64> = {
            let mut stmt = db.conn.prepare("SELECT number FROM crls WHERE der IS NOT NULL ORDER BY number").unwrap();
            stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert_eq!(stored, kept.iter().map(|n| *n as i64).collect::<Vec<_>>());
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

    #[test]
    fn pending_applications_name_their_keys_including_those_recorded_before_keys_were_kept() {
        assert!(MIGRATIONS[KEYS_MIGRATION].sqlite.contains("ADD COLUMN auth_key"), "KEYS_MIGRATION names the right migration");
        let mut db = SqliteStore::in_memory().unwrap();
        let (auth, sign) = (fixtures::ApplicantKey::generate(2048), fixtures::ApplicantKey::generate(2048));
        let (auth_csr, sign_csr) = (auth.csr_der("a"), sign.csr_der("s"));
        let fp = |der: &[u8]| request_key(der).unwrap();
        let app = conformance::application("0000000000000001", auth_csr.clone(), sign_csr.clone());
        db.insert_application(&app, &event()).unwrap();
        assert!(db.key_pending(&fp(&auth_csr)).unwrap() && db.key_pending(&fp(&sign_csr)).unwrap());
        assert!(!db.key_pending(&[7; 32]).unwrap());
        // A database from before: no keys recorded; migrating computes them.
        db.conn.execute_batch("UPDATE applications SET auth_key = NULL, sign_key = NULL").unwrap();
        assert!(!db.key_pending(&fp(&sign_csr)).unwrap());
        db.conn.pragma_update(None, "user_version", KEYS_MIGRATION as i64).unwrap();
        db.conn.execute_batch("DROP INDEX applications_auth_key; DROP INDEX applications_sign_key;").unwrap();
        db.conn.execute_batch("ALTER TABLE applications DROP COLUMN auth_key; ALTER TABLE applications DROP COLUMN sign_key;").unwrap();
        // Nor what later migrations made.
        db.conn.execute_batch("DROP TABLE job_leases;").unwrap();
        migrate(&mut db.conn).unwrap();
        assert!(db.key_pending(&fp(&auth_csr)).unwrap() && db.key_pending(&fp(&sign_csr)).unwrap());
        // No longer pending: the keys are free again.
        db.conn.execute_batch("UPDATE applications SET state = 'rejected'").unwrap();
        assert!(!db.key_pending(&fp(&auth_csr)).unwrap());
    }
}
