-- Revocation status for CRLs and OCSP. Every change of a certificate's status is
-- logged by a trigger, whoever writes it: delta CRLs list what changed since
-- their base, OCSP drops cached answers for it. CRL numbers come from an
-- AUTOINCREMENT key, so they never go backwards, not even after a crash.
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
