//! The schema's migrations for both back ends, in one place (`ca-core/migrations/`)
//! and numbered alike: migration N is the same change written in SQLite's dialect
//! (`sqlite/`) and in PostgreSQL's (`postgres/`). A database records how many ran
//! (SQLite: `PRAGMA user_version`), so each back end reports the same version for
//! the same schema.

/// One change of the schema, in each dialect.
pub(crate) struct Migration {
    /// Its name: the file name without number and extension.
    #[cfg_attr(not(test), expect(dead_code, reason = "the test that matches the files to this list reads it"))]
    pub(crate) name: &'static str,
    /// For SQLite.
    pub(crate) sqlite: &'static str,
    /// For PostgreSQL.
    pub(crate) postgres: &'static str,
}

macro_rules! migration {
    ($file:literal, $name:literal) => {
        Migration {
            name: $name,
            sqlite: include_str!(concat!("../../migrations/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../../migrations/postgres/", $file, ".sql")),
        }
    };
}

/// Every migration, oldest first; the schema version is how many ran.
pub(crate) const MIGRATIONS: &[Migration] = &[
    migration!("0001_certificates", "certificates"),
    migration!("0002_applications_and_audit", "applications_and_audit"),
    migration!("0003_revocation_status", "revocation_status"),
    migration!("0004_crl_bytes", "crl_bytes"),
    migration!("0005_operators_queue", "operators_queue"),
    migration!("0006_staff", "staff"),
    migration!("0007_audit_checkpoints", "audit_checkpoints"),
    migration!("0008_two_hierarchies", "two_hierarchies"),
    migration!("0009_application_keys", "application_keys"),
    migration!("0010_job_leases", "job_leases"),
];

/// The migration that added the applications' key fingerprints (0-based): a
/// database migrated past it has its pending applications' keys filled in.
pub(crate) const KEYS_MIGRATION: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    /// Each directory holds exactly the migrations listed, under the same numbers,
    /// so that neither back end gains a change the other lacks.
    #[test]
    fn both_dialects_have_every_migration_under_one_number() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        for dialect in ["sqlite", "postgres"] {
            let mut files: Vec<String> = std::fs::read_dir(dir.join(dialect))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            files.sort();
            let listed: Vec<String> =
                MIGRATIONS.iter().enumerate().map(|(i, m)| format!("{:04}_{}.sql", i + 1, m.name)).collect();
            assert_eq!(files, listed, "migrations/{dialect}");
        }
        for m in MIGRATIONS {
            assert!(!m.sqlite.trim().is_empty() && !m.postgres.trim().is_empty(), "{}", m.name);
        }
        assert!(MIGRATIONS[KEYS_MIGRATION].sqlite.contains("auth_key"));
    }
}
