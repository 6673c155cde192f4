-- Signed checkpoints of the audit log (size, Merkle root), kept to locate a rewrite.
CREATE TABLE audit_checkpoints (
    size      BIGINT PRIMARY KEY,
    root      TEXT NOT NULL,
    time      BIGINT NOT NULL,
    origin    TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
