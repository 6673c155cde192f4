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
