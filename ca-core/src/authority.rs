//! The authority on disk, for the programs that run it: its directory layout, its
//! configuration, `init` of the CA hierarchy, and [`Authority::open`], which hands
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
use crate::store::{AuditStore, SqliteStore, StatusStore, StoreError, StorePool};
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

/// What `config.json` records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Base URL of CDP, AIA, OCSP and CPS.
    pub base_url: String,
    /// Root CA common name.
    pub root_name: String,
    /// Issuing CA common name.
    pub issuing_name: String,
    /// GOST root CA common name.
    #[serde(default = "default_gost_root_name")]
    pub gost_root_name: String,
    /// GOST issuing CA common name.
    #[serde(default = "default_gost_issuing_name")]
    pub gost_issuing_name: String,
    /// CRL schedule.
    #[serde(default)]
    pub crl: CrlSchedule,
    /// OCSP responder settings.
    #[serde(default)]
    pub ocsp: OcspSettings,
    /// How the server treats connections.
    #[serde(default)]
    pub server: ServerSettings,
    /// Per-client limits on the costly requests.
    #[serde(default)]
    pub limits: RateLimits,
    /// The API over HTTPS.
    #[serde(default)]
    pub tls: TlsSettings,
    /// The time-stamp authority.
    #[serde(default)]
    pub tsa: TsaSettings,
    /// The verification API's trust.
    #[serde(default)]
    pub verify: VerifySettings,
}

/// What the verification API (`/api/v1/verify/…`) trusts besides the authority's
/// own roots: files of anchors (PEM, several per file, or DER) and of intermediates.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct VerifySettings {
    /// Trust anchors: other national roots, or issuing CAs trusted directly.
    pub trust: Vec<PathBuf>,
    /// Intermediate CA certificates to build paths with.
    pub intermediates: Vec<PathBuf>,
}

/// The time-stamp authority (`/tsp`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct TsaSettings {
    /// The policy OID its tokens name (default: the authority's regulations, 1.2.398.3.3.1.1).
    pub policy: String,
    /// Its certificate's common name.
    pub name: String,
}

impl Default for TsaSettings {
    fn default() -> Self {
        TsaSettings { policy: crate::oid::POLICY_REGULATIONS.to_string(), name: DEFAULT_TSA_NAME.to_string() }
    }
}

fn default_gost_root_name() -> String {
    DEFAULT_GOST_ROOT_NAME.into()
}

fn default_gost_issuing_name() -> String {
    DEFAULT_GOST_ISSUING_NAME.into()
}

/// The API over HTTPS (`ca-server --tls-listen ADDR`). Publication (CA
/// certificates, CRLs, OCSP) stays on plain HTTP, as RFC 5280 and RFC 6960
/// expect; while HTTPS is on, the plain listener refuses the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsSettings {
    /// A certificate chain (PEM, server first) from elsewhere; with `key_file`.
    /// Without them the server issues its own from the issuing CA at start, for
    /// `hosts`, and renews it 30 days before it expires.
    pub cert_file: Option<PathBuf>,
    /// The private key (PKCS#8 or PKCS#1 PEM) of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Names for the server's own certificate (default: the base URL's host,
    /// `localhost` and the address listened on).
    pub hosts: Vec<String>,
    /// Require operators to present their AUTH certificate in the TLS handshake
    /// (mutual TLS) on the operator endpoints, besides signing each request.
    pub operator_client_certificates: bool,
}

/// Per-client limits (a client is an IPv4 address or an IPv6 /64): each a token
/// bucket that refills at `per_minute` and holds at most `burst`. Over it, a
/// submission gets HTTP 429 with `Retry-After`, an OCSP request that needs a live
/// signature gets `tryLater`; cached OCSP answers are never limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Applications a client may submit per minute (default 6).
    pub submissions_per_minute: u32,
    /// Applications a client may submit at once (default 30: a registration
    /// center's kiosk behind one address).
    pub submissions_burst: u32,
    /// OCSP answers signed live (nonce, cache miss) per client per minute (default 3,000).
    pub ocsp_live_per_minute: u32,
    /// Live OCSP answers a client may ask for at once (default 200).
    pub ocsp_live_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { submissions_per_minute: 6, submissions_burst: 30, ocsp_live_per_minute: 3_000, ocsp_live_burst: 200 }
    }
}

/// How the server treats connections: a client that sends nothing, half a header
/// or half a body is cut off; the number of connections stays below the file
/// limit; a stop finishes what is in flight within a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Seconds allowed for a request's head, counted from the connection's start or
    /// the previous response (so also the longest idle keep-alive).
    pub header_timeout_seconds: u32,
    /// Seconds allowed for a request's body.
    pub body_timeout_seconds: u32,
    /// Most connections at once; above it new ones are closed at once. It is also
    /// kept 64 below the open-file limit (whose soft value is raised to the hard one).
    pub max_connections: u32,
    /// Seconds a stop (SIGTERM, SIGINT) waits for requests in flight.
    pub shutdown_seconds: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { header_timeout_seconds: 10, body_timeout_seconds: 10, max_connections: 10_000, shutdown_seconds: 10 }
    }
}

/// How often CRLs are issued; each CRL's nextUpdate is its issue time plus its interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrlSchedule {
    /// Seconds between full CRLs (default one day).
    pub full_interval_seconds: u32,
    /// Seconds between delta CRLs (default 15 minutes).
    pub delta_interval_seconds: u32,
}

impl Default for CrlSchedule {
    fn default() -> Self {
        CrlSchedule { full_interval_seconds: 86_400, delta_interval_seconds: 900 }
    }
}

/// OCSP responder settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcspSettings {
    /// How long a response is valid (nextUpdate − thisUpdate), seconds (default one hour).
    /// Cached responses are signed again when half of it has passed.
    pub validity_seconds: u32,
    /// How often the responder looks for status changes made by other processes,
    /// milliseconds: the longest a revocation takes to show in OCSP (default 1000).
    pub status_poll_ms: u32,
    /// Bytes of signed answers kept for reuse (default 64 MiB); an eighth of it for
    /// serials this CA never issued, so those never push out real certificates'.
    pub cache_bytes: u32,
}

impl Default for OcspSettings {
    fn default() -> Self {
        OcspSettings { validity_seconds: 3_600, status_poll_ms: 1_000, cache_bytes: 64 << 20 }
    }
}

/// Choices for `init`.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Base URL and names.
    pub config: Config,
    /// Move an existing authority aside instead of refusing.
    pub force: bool,
    /// Write the passphrase into the directory (for an unattended first start).
    pub store_passphrase: bool,
    /// Keep the root key in this directory (removable media) instead of the
    /// authority's: the server never needs it, and the root's CRL is signed
    /// offline (`ca crl --root --root-key DIR`).
    pub offline_root: Option<PathBuf>,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            config: Config {
                base_url: DEFAULT_BASE_URL.into(),
                root_name: DEFAULT_ROOT_NAME.into(),
                issuing_name: DEFAULT_ISSUING_NAME.into(),
                gost_root_name: DEFAULT_GOST_ROOT_NAME.into(),
                gost_issuing_name: DEFAULT_GOST_ISSUING_NAME.into(),
                crl: CrlSchedule::default(),
                ocsp: OcspSettings::default(),
                server: ServerSettings::default(),
                limits: RateLimits::default(),
                tls: TlsSettings::default(),
                tsa: TsaSettings::default(),
                verify: VerifySettings::default(),
            },
            force: false,
            store_passphrase: false,
            offline_root: None,
        }
    }
}

/// The files of an authority directory.
#[derive(Clone, Debug)]
pub struct Layout {
    dir: PathBuf,
}

impl Layout {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Layout { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `config.json`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    /// `ca.sqlite`.
    pub fn database(&self) -> PathBuf {
        self.dir.join("ca.sqlite")
    }
    /// Certificate file of a CA role of the RSA hierarchy.
    pub fn cert(&self, role: CaRole) -> PathBuf {
        self.cert_of(Family::Rsa, role)
    }
    /// Encrypted key file of a CA role of the RSA hierarchy.
    pub fn key(&self, role: CaRole) -> PathBuf {
        self.key_of(Family::Rsa, role)
    }
    /// Certificate file of a CA role of `family`'s hierarchy.
    pub fn cert_of(&self, family: Family, role: CaRole) -> PathBuf {
        self.dir.join(format!("{}{}.pem", family_prefix(family), role.file_stem()))
    }
    /// Encrypted key file of a CA role of `family`'s hierarchy.
    pub fn key_of(&self, family: Family, role: CaRole) -> PathBuf {
        self.dir.join(Self::key_file_name(family, role))
    }
    /// The file name of a CA key, here or in an offline directory.
    pub fn key_file_name(family: Family, role: CaRole) -> String {
        format!("{}{}.key", family_prefix(family), role.file_stem())
    }
    /// The generated passphrase file, if init wrote one.
    pub fn passphrase(&self) -> PathBuf {
        self.dir.join("passphrase")
    }

    /// Where the published CRLs are written.
    pub fn crl_dir(&self) -> PathBuf {
        self.dir.join("crl")
    }
    /// The RSA root's published CRL.
    pub fn root_crl(&self) -> PathBuf {
        self.root_crl_of(Family::Rsa)
    }
    /// The RSA issuing CA's published full or delta CRL.
    pub fn crl(&self, kind: CrlKind) -> PathBuf {
        self.crl_of(Family::Rsa, kind)
    }
    /// `family`'s root's published CRL.
    pub fn root_crl_of(&self, family: Family) -> PathBuf {
        self.dir.join(profile::CaPaths::of(family).root_crl.trim_start_matches('/'))
    }
    /// `family`'s issuing CA's published full or delta CRL.
    pub fn crl_of(&self, family: Family, kind: CrlKind) -> PathBuf {
        let paths = profile::CaPaths::of(family);
        let path = match kind {
            CrlKind::Full => paths.full_crl,
            CrlKind::Delta => paths.delta_crl,
        };
        self.dir.join(path.trim_start_matches('/'))
    }

    /// The audit key, encrypted with the CA passphrase.
    pub fn audit_key(&self) -> PathBuf {
        self.dir.join("audit.key")
    }
    /// The audit key's public key (SubjectPublicKeyInfo PEM), for checking checkpoints.
    pub fn audit_public_key(&self) -> PathBuf {
        self.dir.join("audit.pem")
    }
    /// The HTTPS server's certificate chain (server, then issuing CA), PEM.
    pub fn tls_chain(&self) -> PathBuf {
        self.dir.join("tls").join("server.pem")
    }
    /// The HTTPS server's private key, PKCS#8 PEM, readable by the owner only (the
    /// server needs it even when the CA keys stay locked).
    pub fn tls_key(&self) -> PathBuf {
        self.dir.join("tls").join("server.key")
    }

    /// The time-stamp authority's certificate, PEM.
    pub fn tsa_cert(&self) -> PathBuf {
        self.dir.join("tsa.pem")
    }

    /// The time-stamp authority's key, encrypted like the CA keys.
    pub fn tsa_key(&self) -> PathBuf {
        self.dir.join("tsa.key")
    }

    /// Whether an authority lives here.
    pub fn exists(&self) -> bool {
        self.config().exists()
    }
}

/// Where an authority's passphrase came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PassphraseSource {
    /// `--passphrase-file` or `CA_PASSPHRASE`.
    Given,
    /// The file `init` wrote into the directory when none was given.
    Stored,
}

/// The passphrase for the authority in `layout`: from `file` or the environment,
/// else the one `init` stored in the directory; `None` if there is none.
pub fn find_passphrase(file: Option<&Path>, layout: &Layout) -> Result<Option<(Passphrase, PassphraseSource)>, SigningError> {
    if let Some(p) = Passphrase::from_file_or_env(file)? {
        return Ok(Some((p, PassphraseSource::Given)));
    }
    let stored = layout.passphrase();
    if !stored.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&stored).map_err(|e| SigningError::PassphraseFile { path: stored.clone(), reason: e.to_string() })?;
    Ok(Some((Passphrase::new(text)?, PassphraseSource::Stored)))
}

/// The three keys an authority holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaRole {
    /// Self-signed root.
    Root,
    /// Issuing CA: signs end-entity certificates and CRLs.
    Issuing,
    /// Delegated OCSP responder.
    Ocsp,
}

/// File names of the GOST hierarchy start with `gost_`; the RSA ones keep the
/// names they had before there was a GOST hierarchy.
fn family_prefix(family: Family) -> &'static str {
    match family {
        Family::Rsa => "",
        Family::Gost => "gost_",
    }
}

impl CaRole {
    fn file_stem(&self) -> &'static str {
        match self {
            CaRole::Root => "root",
            CaRole::Issuing => "issuing",
            CaRole::Ocsp => "ocsp",
        }
    }
}

/// One hierarchy's certificates: root, issuing CA, OCSP responder.
#[derive(Clone, Debug)]
pub struct CaCertificates {
    /// The root.
    pub root: Certificate,
    /// The issuing CA.
    pub issuing: Certificate,
    /// The OCSP responder.
    pub ocsp: Certificate,
}

impl CaCertificates {
    /// The certificate of `role`.
    pub fn get(&self, role: CaRole) -> &Certificate {
        match role {
            CaRole::Root => &self.root,
            CaRole::Issuing => &self.issuing,
            CaRole::Ocsp => &self.ocsp,
        }
    }
}

/// The authority's two hierarchies.
#[derive(Clone, Debug)]
pub struct Hierarchies {
    /// RSA.
    pub rsa: CaCertificates,
    /// GOST 34.10-2015; `None` for an authority made before GOST (run `ca init` anew to add it).
    pub gost: Option<CaCertificates>,
}

impl Hierarchies {
    /// The issuing CAs' certificates, RSA first: what signed requests are checked against.
    pub fn issuing_cas(&self) -> Vec<Certificate> {
        Family::ALL.iter().filter_map(|f| self.of(*f)).map(|h| h.issuing.clone()).collect()
    }

    /// The chain of a certificate one of the issuing CAs issued: that CA, then its
    /// root; `None` when no issuing CA here has its issuer's name.
    pub fn chain_for(&self, cert: &Certificate) -> Option<[&Certificate; 2]> {
        Family::ALL
            .iter()
            .filter_map(|f| self.of(*f))
            .find(|h| h.issuing.tbs_certificate.subject == cert.tbs_certificate.issuer)
            .map(|h| [&h.issuing, &h.root])
    }

    /// `family`'s hierarchy, if the authority has it.
    pub fn of(&self, family: Family) -> Option<&CaCertificates> {
        match family {
            Family::Rsa => Some(&self.rsa),
            Family::Gost => self.gost.as_ref(),
        }
    }
}

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

/// Validity of the root's CRL, days: the root key stays offline, so an operator
/// signs a new one (`ca crl --root`) within this time.
pub const ROOT_CRL_DAYS: i64 = 365;

fn publish_root_crl(
    layout: &Layout,
    family: Family,
    root_key: &dyn Signer,
    root: &Certificate,
    now: i64,
) -> Result<Vec<u8>, AuthorityError> {
    let issuer = CrlIssuer { family, signer: root_key, issuer: IssuerRef::of(root), urls: None };
    let der = crl::issue_empty(&issuer, now, now + ROOT_CRL_DAYS * 86_400)?;
    let dir = layout.crl_dir();
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomically(&layout.root_crl_of(family), &der)?;
    Ok(der)
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

/// The audit key: RSA-2048, encrypted like the CA keys; its public key in
/// `audit.pem` for whoever checks checkpoints.
fn new_audit_key(l: &Layout, passphrase: &Passphrase) -> Result<RsaSigner, AuthorityError> {
    let pkcs8 = signing::generate_rsa_pkcs8(AUDIT_KEY_BITS)?;
    write_file(&l.audit_key(), signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes(), true)?;
    let signer = RsaSigner::from_pkcs8(&pkcs8)?;
    let pem = signer
        .public_key()
        .to_pem(der::pem::LineEnding::LF)
        .map_err(|e| AuthorityError::Damaged { path: l.audit_public_key(), reason: e.to_string() })?;
    write_file(&l.audit_public_key(), pem.as_bytes(), false)?;
    Ok(signer)
}

/// A new CA key of `family` (RSA of `bits`), written encrypted to `key_path`.
fn new_ca_key(family: Family, bits: usize, passphrase: &Passphrase, key_path: &Path) -> Result<SigningKey, AuthorityError> {
    let (key, pkcs8) = SigningKey::generate(family, bits)?;
    write_file(key_path, signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes(), true)?;
    Ok(key)
}

fn write_cert(path: &Path, cert: &Certificate) -> Result<(), AuthorityError> {
    let pem = cert.to_pem(der::pem::LineEnding::LF).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })?;
    write_file(path, pem.as_bytes(), false)
}

/// The names of one hierarchy's three certificates.
struct Names {
    root: x509_cert::name::Name,
    issuing: x509_cert::name::Name,
    ocsp: x509_cert::name::Name,
}

impl Names {
    /// The names `config` gives `family`'s hierarchy. The RSA issuing CA and
    /// responder put the country first, as the authority's RSA CA does; the GOST
    /// names put it last, as its GOST CA does.
    fn of(config: &Config, family: Family) -> Result<Self, ProfileError> {
        Ok(match family {
            Family::Rsa => Names {
                root: profile::ca_name(&config.root_name, false)?,
                issuing: profile::ca_name(&config.issuing_name, true)?,
                ocsp: profile::ca_name(DEFAULT_OCSP_NAME, true)?,
            },
            Family::Gost => Names {
                root: profile::ca_name(&config.gost_root_name, false)?,
                issuing: profile::ca_name(&config.gost_issuing_name, false)?,
                ocsp: profile::ca_name(DEFAULT_GOST_OCSP_NAME, false)?,
            },
        })
    }
}

/// Create an authority in `dir`: for each hierarchy (RSA, GOST) a root, an
/// issuing CA and an OCSP responder; the database. Returns the certificates.
pub fn init(dir: &Path, opts: &InitOptions, passphrase: &Passphrase, now: DateTime) -> Result<Hierarchies, AuthorityError> {
    let target = Layout::new(dir);
    let urls = Urls::new(&opts.config.base_url)?;
    let names = [Names::of(&opts.config, Family::Rsa)?, Names::of(&opts.config, Family::Gost)?];
    if target.exists() && !opts.force {
        return Err(AuthorityError::AlreadyExists(dir.to_path_buf()));
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io(parent))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "ca-data".into());
    let staging = Layout::new(parent.join(format!(".{name}.init-{}", std::process::id())));
    if staging.dir().exists() {
        fs::remove_dir_all(staging.dir()).map_err(io(staging.dir()))?;
    }
    create_private_dir(staging.dir())?;
    let root_keys = match &opts.offline_root {
        Some(offline) => {
            let keys = Family::ALL.map(|f| offline.join(Layout::key_file_name(f, CaRole::Root)));
            if let Some(taken) = keys.iter().find(|k| k.exists()) {
                return Err(AuthorityError::AlreadyExists(taken.clone()));
            }
            if !offline.exists() {
                create_private_dir(offline)?;
            }
            keys
        }
        None => Family::ALL.map(|f| staging.key_of(f, CaRole::Root)),
    };
    let made = build(&staging, opts, &urls, names, passphrase, now, &root_keys);
    if made.is_err() && opts.offline_root.is_some() {
        for key in &root_keys {
            let _ = fs::remove_file(key);
        }
    }
    let certs = match made {
        Ok(c) => c,
        Err(e) => {
            let _ = fs::remove_dir_all(staging.dir());
            return Err(e);
        }
    };
    if dir.exists() {
        let aside = parent.join(format!("{name}.old-{}", calendar::unix_seconds(&now)));
        fs::rename(dir, &aside).map_err(io(dir))?;
    }
    fs::rename(staging.dir(), dir).map_err(io(dir))?;
    Ok(certs)
}

fn build(
    l: &Layout,
    opts: &InitOptions,
    urls: &Urls,
    [rsa_names, gost_names]: [Names; 2],
    passphrase: &Passphrase,
    now: DateTime,
    [rsa_root_key, gost_root_key]: &[PathBuf; 2],
) -> Result<Hierarchies, AuthorityError> {
    let rsa = build_hierarchy(l, Family::Rsa, urls, rsa_names, passphrase, now, rsa_root_key)?;
    let gost = build_hierarchy(l, Family::Gost, &urls.for_family(Family::Gost), gost_names, passphrase, now, gost_root_key)?;
    new_audit_key(l, passphrase)?;
    let config =
        serde_json::to_vec_pretty(&opts.config).map_err(|e| AuthorityError::Damaged { path: l.config(), reason: e.to_string() })?;
    drop(SqliteStore::open(&l.database())?);
    if opts.store_passphrase {
        write_file(&l.passphrase(), passphrase.expose().as_bytes(), true)?;
    }
    // Written last: its presence marks a complete authority.
    write_file(&l.config(), &config, false)?;
    Ok(Hierarchies { rsa, gost: Some(gost) })
}

/// One hierarchy: root (its key at `root_key_path`), issuing CA, OCSP responder,
/// and the root's first CRL. The RSA one in the profile of the authority's RSA
/// CA; the GOST one field by field as its GOST CA, serial numbers made from the
/// key identifiers as the authority makes them.
fn build_hierarchy(
    l: &Layout,
    family: Family,
    urls: &Urls,
    names: Names,
    passphrase: &Passphrase,
    now: DateTime,
    root_key_path: &Path,
) -> Result<CaCertificates, AuthorityError> {
    let root_key = new_ca_key(family, CA_KEY_BITS, passphrase, root_key_path)?;
    let root_self = IssuerRef { name: names.root, key_id: profile::key_identifier(root_key.public_key()).to_vec(), certificate: None };
    let basics =
        |issuer: IssuerRef, signer: &dyn Signer, public_key: SubjectPublicKeyInfoOwned, years| -> Result<TbsBasics, AuthorityError> {
            let serial = match family {
                Family::Rsa => signing::random_serial(),
                Family::Gost => profile::ca_serial(&public_key)?,
            };
            Ok(TbsBasics { serial, signature: signer.algorithm(), issuer, validity: profile::validity_years(now, years)?, public_key })
        };
    let root_basics = basics(root_self, &root_key, root_key.public_key().clone(), ROOT_YEARS)?;
    let root_tbs = match family {
        Family::Rsa => profile::root_ca(root_basics, urls)?,
        Family::Gost => profile::gost_root_ca(root_basics, urls)?,
    };
    let root = crate::issuer::sign_certificate(root_tbs, &root_key)?;

    let issuing_key = new_ca_key(family, CA_KEY_BITS, passphrase, &l.key_of(family, CaRole::Issuing))?;
    let issuing_basics = basics(IssuerRef::of(&root), &root_key, issuing_key.public_key().clone(), ISSUING_YEARS)?;
    let issuing_tbs = match family {
        Family::Rsa => profile::issuing_ca(issuing_basics, names.issuing, urls)?,
        Family::Gost => profile::gost_issuing_ca(issuing_basics, names.issuing, urls)?,
    };
    let issuing = crate::issuer::sign_certificate(issuing_tbs, &root_key)?;

    let ocsp_key = new_ca_key(family, OCSP_KEY_BITS, passphrase, &l.key_of(family, CaRole::Ocsp))?;
    let mut ocsp_basics = basics(IssuerRef::of(&issuing), &issuing_key, ocsp_key.public_key().clone(), OCSP_YEARS)?;
    // Reissued every year with the same kind of key: a random serial, never the key's.
    ocsp_basics.serial = signing::random_serial();
    let ocsp = crate::issuer::sign_certificate(profile::ocsp_responder(ocsp_basics, names.ocsp)?, &issuing_key)?;

    publish_root_crl(l, family, &root_key, &root, calendar::unix_seconds(&now))?;
    write_cert(&l.cert_of(family, CaRole::Root), &root)?;
    write_cert(&l.cert_of(family, CaRole::Issuing), &issuing)?;
    write_cert(&l.cert_of(family, CaRole::Ocsp), &ocsp)?;
    Ok(CaCertificates { root, issuing, ocsp })
}

fn read_cert(path: &Path) -> Result<Certificate, AuthorityError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    Certificate::from_pem(text.as_bytes()).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })
}

/// An opened authority: its layout, configuration and CA certificates. It holds no
/// key and no connection; it makes them for whoever asks, each their own.
pub struct Authority {
    layout: Layout,
    config: Config,
    urls: Urls,
    certs: Hierarchies,
}

/// The issuing CAs' keys, decrypted: RSA, and GOST when the authority has a GOST
/// hierarchy. Shared by the [`Issuer`] and the [`CrlUpdater`].
#[derive(Clone)]
pub struct IssuingKeys {
    /// The RSA issuing CA's key.
    pub rsa: Arc<dyn Signer>,
    /// The GOST issuing CA's key.
    pub gost: Option<Arc<dyn Signer>>,
}

impl IssuingKeys {
    /// `family`'s key, if there is one.
    pub fn of(&self, family: Family) -> Option<&Arc<dyn Signer>> {
        match family {
            Family::Rsa => Some(&self.rsa),
            Family::Gost => self.gost.as_ref(),
        }
    }
}

impl Authority {
    /// Open the authority in `dir`.
    pub fn open(dir: &Path) -> Result<Self, AuthorityError> {
        let layout = Layout::new(dir);
        if !layout.exists() {
            return Err(AuthorityError::NotInitialised(dir.to_path_buf()));
        }
        let path = layout.config();
        let raw = fs::read(&path).map_err(io(&path))?;
        let config: Config =
            serde_json::from_slice(&raw).map_err(|e| AuthorityError::Damaged { path: path.clone(), reason: e.to_string() })?;
        let urls = Urls::new(&config.base_url)?;
        let read = |family| -> Result<CaCertificates, AuthorityError> {
            Ok(CaCertificates {
                root: read_cert(&layout.cert_of(family, CaRole::Root))?,
                issuing: read_cert(&layout.cert_of(family, CaRole::Issuing))?,
                ocsp: read_cert(&layout.cert_of(family, CaRole::Ocsp))?,
            })
        };
        let rsa = read(Family::Rsa)?;
        // An authority made before the GOST hierarchy existed has none.
        let gost = if layout.cert_of(Family::Gost, CaRole::Root).exists() { Some(read(Family::Gost)?) } else { None };
        Ok(Authority { layout, config, urls, certs: Hierarchies { rsa, gost } })
    }

    /// Decrypt the key of one of the RSA hierarchy's certificates, checked against it.
    pub fn signer(&self, role: CaRole, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        self.signer_of(Family::Rsa, role, passphrase)
    }

    /// Decrypt the key of one of `family`'s certificates, checked against it.
    pub fn signer_of(&self, family: Family, role: CaRole, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        self.signer_from(family, role, &self.layout.key_of(family, role), passphrase)
    }

    fn signer_from(&self, family: Family, role: CaRole, path: &Path, passphrase: &Passphrase) -> Result<SigningKey, AuthorityError> {
        let path = path.to_path_buf();
        if role == CaRole::Root && !path.exists() {
            return Err(AuthorityError::RootKeyOffline(path));
        }
        let certs = self.certs.of(family).ok_or(AuthorityError::NoHierarchy(family))?;
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        let signer = SigningKey::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?;
        if signer.public_key() != &certs.get(role).tbs_certificate.subject_public_key_info {
            let cert = self.layout.cert_of(family, role);
            let name = cert.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(AuthorityError::Damaged { path, reason: format!("the key does not match {name}") });
        }
        Ok(signer)
    }

    /// The issuing CAs' keys, decrypted, shared by the [`Issuer`] and the [`CrlUpdater`].
    pub fn issuing_signer(&self, passphrase: &Passphrase) -> Result<IssuingKeys, AuthorityError> {
        let gost = match self.certs.gost {
            Some(_) => Some(Arc::new(self.signer_of(Family::Gost, CaRole::Issuing, passphrase)?) as Arc<dyn Signer>),
            None => None,
        };
        Ok(IssuingKeys { rsa: Arc::new(self.signer(CaRole::Issuing, passphrase)?), gost })
    }

    /// The issuer of end-entity pairs, signing with `keys` (see [`Authority::issuing_signer`]):
    /// each certificate by the CA of its key's family.
    pub fn issuer(&self, keys: IssuingKeys) -> Result<Issuer, AuthorityError> {
        let mut issuer = Issuer::new(self.certs.rsa.issuing.clone(), keys.rsa, self.urls.clone())?;
        if let (Some(certs), Some(key)) = (&self.certs.gost, keys.gost) {
            issuer = issuer.with_ca(certs.issuing.clone(), key, self.urls.for_family(Family::Gost))?;
        }
        Ok(issuer)
    }

    /// A connection of its own to the database.
    pub fn store(&self) -> Result<SqliteStore, AuthorityError> {
        Ok(SqliteStore::open(&self.layout.database())?)
    }

    /// A pool of at most `size` database connections.
    pub fn pool(&self, size: usize) -> Result<StorePool, AuthorityError> {
        Ok(StorePool::open(&self.layout.database(), size)?)
    }

    /// The CRL updater of both issuing CAs: a database connection of its own and `keys`.
    pub fn crl_updater(&self, keys: IssuingKeys) -> Result<CrlUpdater, AuthorityError> {
        self.crl_updater_with(Family::ALL.into_iter().filter_map(|f| keys.of(f).map(|s| (f, s.clone()))).collect())
    }

    /// The CRL updater of `family`'s issuing CA alone, decrypting only its key (what
    /// `ca crl` needs: the other CA's key stays encrypted, and its PBKDF2 unpaid).
    pub fn crl_updater_of(&self, family: Family, passphrase: &Passphrase) -> Result<CrlUpdater, AuthorityError> {
        let signer: Arc<dyn Signer> = Arc::new(self.signer_of(family, CaRole::Issuing, passphrase)?);
        self.crl_updater_with(vec![(family, signer)])
    }

    fn crl_updater_with(&self, signers: Vec<(Family, Arc<dyn Signer>)>) -> Result<CrlUpdater, AuthorityError> {
        let mut cas = Vec::new();
        for (family, signer) in signers {
            if let Some(certs) = self.certs.of(family) {
                cas.push(CrlCa { family, signer, issuer: IssuerRef::of(&certs.issuing), urls: self.urls.for_family(family) });
            }
        }
        Ok(CrlUpdater { store: self.store()?, cas, layout: self.layout.clone(), schedule: self.config.crl })
    }

    /// The audit key's public key, which every checkpoint must verify with.
    pub fn audit_public_key(&self) -> Result<SubjectPublicKeyInfoOwned, AuthorityError> {
        let path = self.layout.audit_public_key();
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        SubjectPublicKeyInfoOwned::from_pem(pem.as_bytes()).map_err(|e| AuthorityError::Damaged { path, reason: e.to_string() })
    }

    /// The checkpointer: signs checkpoints of the audit log with the audit key
    /// (made now for an authority created before audit keys existed).
    pub fn checkpointer(&self, passphrase: &Passphrase) -> Result<Checkpointer, AuthorityError> {
        let signer = if self.layout.audit_key().exists() {
            let path = self.layout.audit_key();
            let pem = fs::read_to_string(&path).map_err(io(&path))?;
            RsaSigner::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?
        } else {
            new_audit_key(&self.layout, passphrase)?
        };
        Ok(Checkpointer { store: self.store()?, signer, origin: self.urls.base().to_string(), frontier: None, last_seq: 0 })
    }

    /// The directory layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Publication URLs of the RSA hierarchy (see [`Urls::for_family`]).
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The RSA hierarchy's certificates.
    pub fn certificates(&self) -> &CaCertificates {
        &self.certs.rsa
    }

    /// Both hierarchies' certificates.
    pub fn hierarchies(&self) -> &Hierarchies {
        &self.certs
    }

    /// Issue the HTTPS server's own certificate for `hosts` with the issuing CA's
    /// `signer`, with a new RSA-2048 key; write the key (0600)
    /// and the chain to [`Layout::tls_key`] and [`Layout::tls_chain`], replacing
    /// any earlier ones. Valid for [`TLS_DAYS`]. Returns the certificate.
    pub fn issue_tls_certificate(
        &self,
        signer: &dyn Signer,
        hosts: &[profile::TlsHost],
        now: DateTime,
    ) -> Result<Certificate, AuthorityError> {
        let pkcs8 = signing::generate_rsa_pkcs8(TLS_KEY_BITS)?;
        let key = RsaSigner::from_pkcs8(&pkcs8)?;
        let issuing = &self.certs.rsa.issuing;
        let basics = TbsBasics {
            serial: signing::random_serial(),
            signature: signer.algorithm(),
            issuer: IssuerRef::of(issuing),
            validity: profile::validity_days(now, TLS_DAYS)?,
            public_key: key.public_key().clone(),
        };
        let cert = crate::issuer::sign_certificate(profile::tls_server(basics, hosts, &self.urls)?, signer)?;
        let damaged = |e: der::Error| AuthorityError::Damaged { path: self.layout.tls_chain(), reason: e.to_string() };
        let mut chain = cert.to_pem(der::pem::LineEnding::LF).map_err(damaged)?;
        chain.push_str(&issuing.to_pem(der::pem::LineEnding::LF).map_err(damaged)?);
        let key_pem = zeroize::Zeroizing::new(
            der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &pkcs8).map_err(|e| damaged(e.into()))?,
        );
        let dir = self.layout.dir().join("tls");
        if !dir.exists() {
            create_private_dir(&dir)?;
        }
        write_private_atomically(&self.layout.tls_key(), key_pem.as_bytes())?;
        write_atomically(&self.layout.tls_chain(), chain.as_bytes())?;
        Ok(cert)
    }

    /// The time-stamp authority under the RSA issuing CA: its certificate
    /// (`tsa.pem`) and key (`tsa.key`, encrypted with the passphrase), issued by
    /// `issuing` with a new RSA-2048 key when there is none or fewer than
    /// [`TSA_RENEW_DAYS`] are left. Returns the authority and whether it was issued now.
    pub fn time_stamp_authority(
        &self,
        issuing: &dyn Signer,
        passphrase: &Passphrase,
        now: DateTime,
    ) -> Result<(crate::tsp::TimeStampAuthority, bool), AuthorityError> {
        let (cert_path, key_path) = (self.layout.tsa_cert(), self.layout.tsa_key());
        let policy = self.config.tsa.policy.parse().map_err(|_| AuthorityError::Damaged {
            path: self.layout.config(),
            reason: format!("tsa.policy {:?} is not an OID", self.config.tsa.policy),
        })?;
        let chain = vec![self.certs.rsa.issuing.clone(), self.certs.rsa.root.clone()];
        let current = if cert_path.exists() && key_path.exists() { Some(read_cert(&cert_path)?) } else { None };
        let lasting = current.as_ref().is_some_and(|c| {
            calendar::unix_seconds(&c.tbs_certificate.validity.not_after.to_date_time()) - calendar::unix_seconds(&now)
                > TSA_RENEW_DAYS * 86_400
        });
        if let (Some(cert), true) = (current, lasting) {
            let pem = fs::read_to_string(&key_path).map_err(io(&key_path))?;
            let key = SigningKey::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?;
            if key.public_key() != &cert.tbs_certificate.subject_public_key_info {
                return Err(AuthorityError::Damaged { path: key_path, reason: "the key does not match tsa.pem".into() });
            }
            return Ok((crate::tsp::TimeStampAuthority::new(Box::new(key), cert, chain, policy), false));
        }
        let pkcs8 = signing::generate_rsa_pkcs8(OCSP_KEY_BITS)?;
        let key = SigningKey::from_pkcs8(&pkcs8)?;
        let basics = TbsBasics {
            serial: signing::random_serial(),
            signature: issuing.algorithm(),
            issuer: IssuerRef::of(&self.certs.rsa.issuing),
            validity: profile::validity_years(now, OCSP_YEARS)?,
            public_key: key.public_key().clone(),
        };
        let name = profile::ca_name(&self.config.tsa.name, true)?;
        let cert = crate::issuer::sign_certificate(profile::time_stamp_authority(basics, name, &self.urls)?, issuing)?;
        let pem = cert
            .to_pem(der::pem::LineEnding::LF)
            .map_err(|e| AuthorityError::Damaged { path: cert_path.clone(), reason: e.to_string() })?;
        write_private_atomically(&key_path, signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes())?;
        write_atomically(&cert_path, pem.as_bytes())?;
        Ok((crate::tsp::TimeStampAuthority::new(Box::new(key), cert, chain, policy), true))
    }

    /// Sign `family`'s root CRL (no CA certificate revoked) with its root key,
    /// valid for [`ROOT_CRL_DAYS`], and publish it (`crl/root_rsa.crl`,
    /// `crl/root_gost.crl`). The root key is read from `offline_root` (the
    /// directory `init` put it in) when given, else from the authority's
    /// directory; it is decrypted for this and dropped.
    pub fn publish_root_crl(
        &self,
        family: Family,
        passphrase: &Passphrase,
        now: i64,
        offline_root: Option<&Path>,
    ) -> Result<Vec<u8>, AuthorityError> {
        let certs = self.certs.of(family).ok_or(AuthorityError::NoHierarchy(family))?;
        let path =
            offline_root.map_or_else(|| self.layout.key_of(family, CaRole::Root), |d| d.join(Layout::key_file_name(family, CaRole::Root)));
        let root = self.signer_from(family, CaRole::Root, &path, passphrase)?;
        publish_root_crl(&self.layout, family, &root, &certs.root, now)
    }
}

/// One issuing CA whose CRLs the updater issues.
struct CrlCa {
    family: Family,
    signer: Arc<dyn Signer>,
    issuer: IssuerRef,
    urls: Urls,
}

/// Issues each issuing CA's full and delta CRLs and publishes them where the server
/// serves them (`crl/` in the directory), replacing the previous files atomically.
/// Its own database connection and signers: signing a million-entry CRL holds up
/// nobody else.
pub struct CrlUpdater {
    store: SqliteStore,
    cas: Vec<CrlCa>,
    layout: Layout,
    schedule: CrlSchedule,
}

impl CrlUpdater {
    /// The CAs it issues CRLs for.
    pub fn families(&self) -> Vec<Family> {
        self.cas.iter().map(|c| c.family).collect()
    }

    /// Issue `family`'s full or delta CRL now (`now` in Unix seconds), valid for
    /// the interval the schedule gives its kind, without publishing it.
    pub fn issue(&mut self, family: Family, kind: CrlKind, now: i64) -> Result<IssuedCrl, CrlError> {
        let interval = match kind {
            CrlKind::Full => self.schedule.full_interval_seconds,
            CrlKind::Delta => self.schedule.delta_interval_seconds,
        };
        let ca = self.cas.iter().find(|c| c.family == family).ok_or(CrlError::NoIssuer(family))?;
        let issuer = CrlIssuer { family, signer: ca.signer.as_ref(), issuer: ca.issuer.clone(), urls: Some(&ca.urls) };
        crl::issue(&mut self.store, &issuer, kind, now, now + i64::from(interval))
    }

    /// Issue a CRL and publish it.
    pub fn publish(&mut self, family: Family, kind: CrlKind, now: i64) -> Result<IssuedCrl, AuthorityError> {
        let crl = self.issue(family, kind, now)?;
        let dir = self.layout.crl_dir();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        write_atomically(&self.layout.crl_of(family, kind), &crl.der)?;
        Ok(crl)
    }

    /// Which CRLs are due at `now`, for each CA: a full CRL when none is current (a
    /// tenth of its interval before nextUpdate) or its file is missing; a delta CRL
    /// when the full one is due, the last delta is due or belongs to an older base,
    /// or its file is missing.
    pub fn due(&self, now: i64) -> Result<Vec<(Family, CrlKind)>, StoreError> {
        let mut due = Vec::new();
        for family in self.families() {
            let (full, delta) = (self.store.latest_crl(family, false)?, self.store.latest_crl(family, true)?);
            let margin = |interval: u32| i64::from(interval / 10);
            let full_due = full.is_none_or(|f| now >= f.next_update - margin(self.schedule.full_interval_seconds))
                || !self.layout.crl_of(family, CrlKind::Full).exists();
            let delta_due = full_due
                || delta.is_none_or(|d| {
                    d.base_number != full.map(|f| f.number) || now >= d.next_update - margin(self.schedule.delta_interval_seconds)
                })
                || !self.layout.crl_of(family, CrlKind::Delta).exists();
            due.extend([(CrlKind::Full, full_due), (CrlKind::Delta, delta_due)].into_iter().filter(|(_, d)| *d).map(|(k, _)| (family, k)));
        }
        Ok(due)
    }
}

/// Signs checkpoints of the audit log as it grows, with a database connection of
/// its own. It builds the Merkle tree once from the records (checking it against
/// the newest kept checkpoint, so a rewritten log is never signed) and then only
/// adds the records that arrive.
pub struct Checkpointer {
    store: SqliteStore,
    signer: RsaSigner,
    origin: String,
    frontier: Option<crate::audit::merkle::Frontier>,
    last_seq: i64,
}

/// Why no checkpoint was signed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log no longer matches the newest kept checkpoint: it was rewritten.
    #[error("the audit log no longer matches the kept checkpoint of size {size}: it will not be signed")]
    Rewritten {
        /// The checkpoint's size.
        size: u64,
    },
    /// Signing failed.
    #[error(transparent)]
    Checkpoint(#[from] crate::audit::CheckpointError),
}

/// Records read at a time while building the tree.
const AUDIT_PAGE: u32 = 10_000;

impl Checkpointer {
    /// Sign a checkpoint of the log as it is now at `time`, if it grew since the
    /// newest kept one; returns it.
    pub fn catch_up(&mut self, time: i64) -> Result<Option<crate::audit::Checkpoint>, CheckpointerError> {
        let latest = self.store.checkpoints(true)?.into_iter().next();
        let mut frontier = match self.frontier.take() {
            Some(f) => f,
            None => {
                let f = crate::audit::merkle::Frontier::default();
                self.last_seq = 0;
                f
            }
        };
        // Bounded: each round reads at most AUDIT_PAGE records per page until the end.
        loop {
            let page = self.store.audit_records(self.last_seq, AUDIT_PAGE)?;
            for r in &page {
                frontier.push(crate::audit::consistency::leaf(r));
                self.last_seq = r.seq;
                if let Some(kept) = latest.as_ref().filter(|k| k.size == frontier.size()) {
                    if kept.root_hash()? != frontier.root() {
                        return Err(CheckpointerError::Rewritten { size: kept.size });
                    }
                }
            }
            if page.len() < AUDIT_PAGE as usize {
                break;
            }
        }
        if latest.as_ref().is_some_and(|k| k.size > frontier.size()) {
            return Err(CheckpointerError::Rewritten { size: latest.map_or(0, |k| k.size) });
        }
        let size = frontier.size();
        let root = frontier.root();
        self.frontier = Some(frontier);
        if size == 0 || latest.is_some_and(|k| k.size >= size) {
            return Ok(None);
        }
        let checkpoint = crate::audit::Checkpoint::sign(&self.origin, size, &root, time, &self.signer)?;
        self.store.save_checkpoint(&checkpoint)?;
        Ok(Some(checkpoint))
    }
}
