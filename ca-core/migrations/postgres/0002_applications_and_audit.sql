CREATE TABLE applications (
    number        TEXT PRIMARY KEY,
    secret_hash   BYTEA NOT NULL,
    state         TEXT NOT NULL,
    submitted_at  BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    center        TEXT NOT NULL,
    storage       TEXT NOT NULL,
    iin           TEXT NOT NULL,
    bin           TEXT,
    form          TEXT NOT NULL,
    auth_csr      BYTEA NOT NULL,
    sign_csr      BYTEA NOT NULL,
    approved_by   TEXT,
    reject_reason TEXT,
    pair_id       BIGINT REFERENCES pairs(id),
    CHECK ((state = 'issued') = (pair_id IS NOT NULL))
);
CREATE INDEX applications_state ON applications(state, center);
CREATE TABLE used_requests (
    digest  BYTEA PRIMARY KEY,
    used_at BIGINT NOT NULL
);
CREATE INDEX used_requests_at ON used_requests(used_at);
CREATE TABLE audit_log (
    seq    BIGINT PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    hash   BYTEA NOT NULL
);
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
