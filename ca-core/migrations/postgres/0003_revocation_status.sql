-- Revocation status for CRLs and OCSP. Every change of a certificate's status is
-- logged by a trigger, whoever writes it: delta CRLs list what changed since
-- their base, OCSP drops cached answers for it. CRL numbers come from an identity
-- column, a sequence that never goes backwards, not even after a crash or a
-- rolled-back transaction.
ALTER TABLE certificates ADD COLUMN invalidity_date BIGINT;
CREATE INDEX certificates_revoked ON certificates(serial, revoked_at, revocation_reason, invalidity_date)
    WHERE revoked_at IS NOT NULL;
CREATE TABLE status_log (
    seq    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE FUNCTION log_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO status_log (serial, at)
        VALUES (NEW.serial, COALESCE(NEW.revoked_at, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)));
    RETURN NEW;
END;
$$;
CREATE TRIGGER status_changed AFTER UPDATE OF revoked_at, revocation_reason ON certificates
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.revocation_reason IS DISTINCT FROM NEW.revocation_reason)
    EXECUTE FUNCTION log_status_change();
CREATE TABLE crls (
    number      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_number BIGINT,
    status_seq  BIGINT NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL
);
