-- Which server runs the authority's jobs (CRL updater, audit checkpoints, expiry),
-- until when: several servers on one database run them once, not once each.
CREATE TABLE job_leases (
    job        TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
