//! The authority on disk, for the programs that run it: its configuration
//! (`config`), its directory layout (`layout`), `init` of the CA hierarchies
//! (`init`), and [`Authority::open`] (`open`), which hands
//! out the parts as peers — a database connection or pool, the [`Issuer`] with the
//! issuing CA's key, the OCSP responder's key, the [`CrlUpdater`] with a store
//! handle and signer of its own. Nothing here decides policy or owns a lock.
//!
//! ```text
//! ca-data/
//!   config.json      base URL and CA names
//!   ca.sqlite        issued certificates (WAL)
//!   root.pem         self-signed root, RSA-4096        root.key     (encrypted PKCS#8)
//!   issuing.pem      issuing CA, RSA-4096              issuing.key  (encrypted PKCS#8)
//!   ocsp.pem         delegated OCSP responder, RSA-2048  ocsp.key   (encrypted PKCS#8)
//!   gost_root.pem, gost_issuing.pem, gost_ocsp.pem       the GOST hierarchy (GOST
//!                    34.10-2015 512-bit), each with its gost_*.key
//!   passphrase       only when none was supplied at init: move it offline
//! ```
//!
//! `init` builds everything in a temporary sibling directory and renames it into
//! place, so an interrupted init leaves no half-made authority behind.

use crate::calendar;
use crate::crl::{self, CrlError, CrlIssuer, CrlKind, IssuedCrl};
use crate::issuer::{IssueError, Issuer};
use crate::model::Family;
use crate::profile::{self, IssuerRef, ProfileError, TbsBasics, Urls};
use crate::signing::{self, Passphrase, RsaSigner, Signer, SigningError, SigningKey};
use crate::store::{AuditStore, Database, DatabaseUrlError, StatusStore, Store, StoreError, StorePool};
use der::{DateTime, DecodePem, EncodePem};
use serde::{Deserialize, Serialize};
use spki::SubjectPublicKeyInfoOwned;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;
use x509_cert::Certificate;

/// Key size of the root and issuing CA.
pub const CA_KEY_BITS: usize = 4096;
/// Key size of the OCSP responder.
pub const OCSP_KEY_BITS: usize = 2048;
/// Root validity, years.
pub const ROOT_YEARS: u16 = 20;
/// Issuing CA validity, years (longer than any end-entity certificate it signs).
pub const ISSUING_YEARS: u16 = 10;
/// OCSP responder validity, years (short: with no-check it cannot be revoked).
pub const OCSP_YEARS: u16 = 1;
/// The RSA root key's file name, in the authority's directory or an offline one
/// (the GOST root's is `gost_root.key`, beside it: see [`Layout::key_file_name`]).
pub const ROOT_KEY_FILE: &str = "root.key";
/// Bits of the audit key's RSA modulus.
pub const AUDIT_KEY_BITS: usize = 2048;
/// Bits of the HTTPS server's RSA key.
pub const TLS_KEY_BITS: usize = 2048;
/// Days the HTTPS server's own certificate is valid (the CA/Browser Forum allows
/// at most 200); the server renews it when 30 are left.
pub const TLS_DAYS: i64 = 90;
/// Default base URL: the server's default listen address.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
/// Default root CA name.
pub const DEFAULT_ROOT_NAME: &str = "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)";
/// Default issuing CA name.
pub const DEFAULT_ISSUING_NAME: &str = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)";
/// Default OCSP responder name.
pub const DEFAULT_OCSP_NAME: &str = "OCSP RESPONDER (RSA)";
/// Common name of the time-stamp authority.
pub const DEFAULT_TSA_NAME: &str = "TIME-STAMP AUTHORITY (RSA)";
/// The time-stamp authority's certificate is reissued when fewer days than this are left.
pub const TSA_RENEW_DAYS: i64 = 30;
/// Default GOST root CA name.
pub const DEFAULT_GOST_ROOT_NAME: &str = "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST)";
/// Default GOST issuing CA name.
pub const DEFAULT_GOST_ISSUING_NAME: &str = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (GOST)";
/// Default GOST OCSP responder name.
pub const DEFAULT_GOST_OCSP_NAME: &str = "OCSP RESPONDER (GOST)";

/// Why the authority could not be created, opened or could not issue.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AuthorityError {
    /// `init` on a directory that already holds an authority.
    #[error("{0} already holds a certification authority")]
    AlreadyExists(PathBuf),
    /// No authority in the directory.
    #[error("{0} holds no certification authority")]
    NotInitialised(PathBuf),
    /// The root key is not where it was looked for (kept offline).
    #[error("the root key is not at {0}: it is kept offline")]
    RootKeyOffline(PathBuf),
    /// File system trouble.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A file of the authority is damaged.
    #[error("{path} is damaged: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Keys and signing.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A certificate of the authority's own was refused before it was signed.
    #[error(transparent)]
    Certificate(#[from] crate::issuer::CertificateError),
    /// The profile refused the data.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `database.url` in the configuration is not a database URL.
    #[error("database.url in config.json: {0}")]
    DatabaseUrl(#[from] DatabaseUrlError),
    /// A CRL could not be issued.
    #[error(transparent)]
    Crl(#[from] CrlError),
    /// The issuer could not be set up.
    #[error(transparent)]
    Issue(#[from] IssueError),
    /// The authority has no hierarchy of this family (made before GOST existed).
    #[error("this authority has no {0} hierarchy: it was made before there was one")]
    NoHierarchy(Family),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AuthorityError + '_ {
    move |source| AuthorityError::Io { path: path.to_path_buf(), source }
}

mod config;
mod init;
mod jobs;
mod layout;
mod open;

pub use config::*;
pub use init::{init, InitOptions, ROOT_CRL_DAYS};
use init::{new_audit_key, publish_root_crl};
use jobs::CrlCa;
pub use jobs::{Checkpointer, CheckpointerError, CrlUpdater};
pub use layout::{find_passphrase, CaCertificates, CaRole, Hierarchies, Layout, PassphraseSource};
pub use open::{Authority, IssuingKeys};

fn write_file(path: &Path, data: &[u8], private: bool) -> Result<(), AuthorityError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(io(path))
}

/// A directory only its owner may enter: it holds keys, names and IINs.
fn create_private_dir(path: &Path) -> Result<(), AuthorityError> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(io(path))
}

/// Replace `path` with `data` so that readers see the old file or the new one,
/// never a part: write a sibling, flush it, rename it over.
pub fn write_atomically(path: &Path, data: &[u8]) -> Result<(), AuthorityError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = fs::File::create(&tmp).and_then(|mut f| f.write_all(data).and_then(|_| f.sync_all()));
    if let Err(e) = written.and_then(|_| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(AuthorityError::Io { path: path.to_path_buf(), source: e });
    }
    Ok(())
}

/// Like [`write_atomically`], the new file readable by its owner only from the start.
fn write_private_atomically(path: &Path, data: &[u8]) -> Result<(), AuthorityError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    if let Err(e) = write_file(&tmp, data, true) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, path).map_err(io(path))
}

fn write_cert(path: &Path, cert: &Certificate) -> Result<(), AuthorityError> {
    let pem = cert.to_pem(der::pem::LineEnding::LF).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })?;
    write_file(path, pem.as_bytes(), false)
}

fn read_cert(path: &Path) -> Result<Certificate, AuthorityError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    Certificate::from_pem(text.as_bytes()).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })
}

/// The database `config` names, or the SQLite file of `layout`. A relative SQLite
/// path is taken from the authority's directory.
fn database_of(config: &Config, layout: &Layout) -> Result<Database, AuthorityError> {
    Ok(match config.database.url.as_deref() {
        None => Database::sqlite(&layout.database()),
        Some(url) => match url.parse::<Database>()? {
            Database::Sqlite(path) if path.is_relative() => Database::sqlite(&layout.dir().join(path)),
            other => other,
        },
    })
}
