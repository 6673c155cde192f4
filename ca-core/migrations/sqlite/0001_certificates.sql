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
