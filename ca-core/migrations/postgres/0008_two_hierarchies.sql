-- Two hierarchies, RSA and GOST: each certificate and CRL belongs to the CA of one.
ALTER TABLE certificates ADD COLUMN family TEXT NOT NULL DEFAULT 'rsa' CHECK (family IN ('rsa', 'gost'));
ALTER TABLE crls ADD COLUMN family TEXT NOT NULL DEFAULT 'rsa' CHECK (family IN ('rsa', 'gost'));
DROP INDEX certificates_revoked;
CREATE INDEX certificates_revoked ON certificates(family, serial, revoked_at, revocation_reason, invalidity_date)
    WHERE revoked_at IS NOT NULL;
CREATE INDEX crls_family ON crls(family, base_number, number);
