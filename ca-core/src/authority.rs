//! The authority on disk: its directory, its CA hierarchy, and issuance of pairs.
//!
//! ```text
//! ca-data/
//!   config.json      base URL and CA names
//!   ca.sqlite        issued certificates (WAL)
//!   root.pem         self-signed root, RSA-4096        root.key     (encrypted PKCS#8)
//!   issuing.pem      issuing CA, RSA-4096              issuing.key  (encrypted PKCS#8)
//!   ocsp.pem         delegated OCSP responder, RSA-2048  ocsp.key   (encrypted PKCS#8)
//!   passphrase       only when none was supplied at init: move it offline
//! ```
//!
//! `init` builds everything in a temporary sibling directory and renames it into
//! place, so an interrupted init leaves no half-made authority behind.

use crate::audit::{Actor, AuditAction, AuditEvent};
use crate::calendar;
use crate::crl::{self, CrlError, CrlIssuer, CrlKind, IssuedCrl};
use crate::csr::{self, CsrError, VerifiedCsr};
use crate::profile::{self, Applicant, CertType, IssuerRef, ProfileError, TbsBasics, Urls};
use crate::signing::{self, Passphrase, RsaSigner, Signer, SigningError};
use crate::store::{Holder, NewCertificate, NewPair, SqliteStore, Store, StoreError};
use crate::verify::SubjectKind;
use der::{DateTime, Decode, DecodePem, Encode, EncodePem};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
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
/// End-entity validity, years.
pub const END_ENTITY_YEARS: u16 = 1;
/// Default base URL: the server's default listen address.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8080";
/// Default root CA name.
pub const DEFAULT_ROOT_NAME: &str = "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)";
/// Default issuing CA name.
pub const DEFAULT_ISSUING_NAME: &str = "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ (RSA)";
/// Default OCSP responder name.
pub const DEFAULT_OCSP_NAME: &str = "OCSP RESPONDER (RSA)";
/// Attempts at drawing a serial number not yet in the database.
const SERIAL_ATTEMPTS: usize = 8;

/// Why the authority could not be created, opened or could not issue.
#[derive(Debug, Error)]
pub enum AuthorityError {
    /// `init` on a directory that already holds an authority.
    #[error("{0} already holds a certification authority; use --force to move it aside and start over")]
    AlreadyExists(PathBuf),
    /// No authority in the directory.
    #[error("{0} holds no certification authority: run `ca init` first")]
    NotInitialised(PathBuf),
    /// File system trouble.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// A file of the authority is damaged.
    #[error("{path} is damaged: {reason}")]
    Damaged { path: PathBuf, reason: String },
    /// Keys and signing.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The profile refused the data.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A CRL could not be issued.
    #[error(transparent)]
    Crl(#[from] CrlError),
}

/// Why a pair was not issued. Nothing is recorded when any of these is returned.
#[derive(Debug, Error)]
pub enum IssueError {
    /// One of the two requests was refused.
    #[error("{which} request refused: {source}")]
    Csr { which: CertType, source: CsrError },
    /// AUTH and SIGN requests carry the same key.
    #[error("the AUTH and SIGN requests carry the same key; each certificate needs its own key pair")]
    SameKeyTwice,
    /// The key was certified before.
    #[error("the {which} key was already certified (certificate {serial}); generate a new key pair")]
    KeyReused { which: CertType, serial: String },
    /// No free serial number found (practically impossible; the database is suspect).
    #[error("could not draw an unused serial number")]
    NoSerial,
    /// The authority refused or failed.
    #[error(transparent)]
    Authority(#[from] AuthorityError),
}

impl From<ProfileError> for IssueError {
    fn from(e: ProfileError) -> Self {
        IssueError::Authority(e.into())
    }
}
impl From<SigningError> for IssueError {
    fn from(e: SigningError) -> Self {
        IssueError::Authority(e.into())
    }
}
impl From<StoreError> for IssueError {
    fn from(e: StoreError) -> Self {
        IssueError::Authority(e.into())
    }
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
    /// CRL schedule.
    #[serde(default)]
    pub crl: CrlSchedule,
    /// OCSP responder settings.
    #[serde(default)]
    pub ocsp: OcspSettings,
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
}

impl Default for OcspSettings {
    fn default() -> Self {
        OcspSettings { validity_seconds: 3_600, status_poll_ms: 1_000 }
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
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            config: Config {
                base_url: DEFAULT_BASE_URL.into(),
                root_name: DEFAULT_ROOT_NAME.into(),
                issuing_name: DEFAULT_ISSUING_NAME.into(),
                crl: CrlSchedule::default(),
                ocsp: OcspSettings::default(),
            },
            force: false,
            store_passphrase: false,
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
    /// Certificate file of a CA role.
    pub fn cert(&self, role: CaRole) -> PathBuf {
        self.dir.join(format!("{}.pem", role.file_stem()))
    }
    /// Encrypted key file of a CA role.
    pub fn key(&self, role: CaRole) -> PathBuf {
        self.dir.join(format!("{}.key", role.file_stem()))
    }
    /// The generated passphrase file, if init wrote one.
    pub fn passphrase(&self) -> PathBuf {
        self.dir.join("passphrase")
    }

    /// Where the published CRLs are written.
    pub fn crl_dir(&self) -> PathBuf {
        self.dir.join("crl")
    }
    /// The root's published CRL.
    pub fn root_crl(&self) -> PathBuf {
        self.dir.join(profile::ROOT_CRL_PATH.trim_start_matches('/'))
    }
    /// The published full or delta CRL.
    pub fn crl(&self, kind: CrlKind) -> PathBuf {
        let path = match kind {
            CrlKind::Full => profile::FULL_CRL_PATH,
            CrlKind::Delta => profile::DELTA_CRL_PATH,
        };
        self.dir.join(path.trim_start_matches('/'))
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

impl CaRole {
    fn file_stem(&self) -> &'static str {
        match self {
            CaRole::Root => "root",
            CaRole::Issuing => "issuing",
            CaRole::Ocsp => "ocsp",
        }
    }
}

/// The authority's own certificates.
#[derive(Clone, Debug)]
pub struct CaCertificates {
    /// The root.
    pub root: Certificate,
    /// The issuing CA.
    pub issuing: Certificate,
    /// The OCSP responder.
    pub ocsp: Certificate,
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

/// Validity of the root's CRL, days: the root key stays offline, so an operator
/// signs a new one (`ca crl --root`) within this time.
pub const ROOT_CRL_DAYS: i64 = 365;

fn publish_root_crl(layout: &Layout, root_key: &RsaSigner, root: &Certificate, now: i64) -> Result<Vec<u8>, AuthorityError> {
    let issuer = CrlIssuer { signer: root_key, issuer: issuer_ref(root), urls: None };
    let der = crl::issue_empty(&issuer, now, now + ROOT_CRL_DAYS * 86_400)?;
    let dir = layout.crl_dir();
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    write_atomically(&layout.root_crl(), &der)?;
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

fn issuer_ref(cert: &Certificate) -> IssuerRef {
    IssuerRef {
        name: cert.tbs_certificate.subject.clone(),
        key_id: profile::key_identifier(&cert.tbs_certificate.subject_public_key_info).to_vec(),
    }
}

fn new_ca_key(bits: usize, passphrase: &Passphrase, key_path: &Path) -> Result<RsaSigner, AuthorityError> {
    let pkcs8 = signing::generate_rsa_pkcs8(bits)?;
    write_file(key_path, signing::encrypt_pkcs8(&pkcs8, passphrase)?.as_bytes(), true)?;
    Ok(RsaSigner::from_pkcs8(&pkcs8)?)
}

fn write_cert(path: &Path, cert: &Certificate) -> Result<(), AuthorityError> {
    let pem = cert.to_pem(der::pem::LineEnding::LF).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })?;
    write_file(path, pem.as_bytes(), false)
}

/// Create an authority in `dir`: root, issuing CA, OCSP responder, database.
pub fn init(dir: &Path, opts: &InitOptions, passphrase: &Passphrase, now: DateTime) -> Result<CaCertificates, AuthorityError> {
    let target = Layout::new(dir);
    let urls = Urls::new(&opts.config.base_url)?;
    let root_name = profile::ca_name(&opts.config.root_name, false)?;
    let issuing_name = profile::ca_name(&opts.config.issuing_name, true)?;
    let ocsp_name = profile::ca_name(DEFAULT_OCSP_NAME, true)?;
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
    fs::create_dir(staging.dir()).map_err(io(staging.dir()))?;
    let made = build(&staging, opts, &urls, [root_name, issuing_name, ocsp_name], passphrase, now);
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
    [root_name, issuing_name, ocsp_name]: [x509_cert::name::Name; 3],
    passphrase: &Passphrase,
    now: DateTime,
) -> Result<CaCertificates, AuthorityError> {
    let root_key = new_ca_key(CA_KEY_BITS, passphrase, &l.key(CaRole::Root))?;
    let root_self = IssuerRef { name: root_name, key_id: profile::key_identifier(root_key.public_key()).to_vec() };
    let basics = |issuer: IssuerRef, signer: &dyn Signer, public_key, years| -> Result<TbsBasics, AuthorityError> {
        Ok(TbsBasics {
            serial: signing::random_serial(),
            signature: signer.algorithm(),
            issuer,
            validity: profile::validity_years(now, years)?,
            public_key,
        })
    };
    let root_tbs = profile::root_ca(basics(root_self, &root_key, root_key.public_key().clone(), ROOT_YEARS)?, urls)?;
    let root = signing::sign_certificate(root_tbs, &root_key)?;

    let issuing_key = new_ca_key(CA_KEY_BITS, passphrase, &l.key(CaRole::Issuing))?;
    let issuing_tbs =
        profile::issuing_ca(basics(issuer_ref(&root), &root_key, issuing_key.public_key().clone(), ISSUING_YEARS)?, issuing_name, urls)?;
    let issuing = signing::sign_certificate(issuing_tbs, &root_key)?;

    let ocsp_key = new_ca_key(OCSP_KEY_BITS, passphrase, &l.key(CaRole::Ocsp))?;
    let ocsp_tbs =
        profile::ocsp_responder(basics(issuer_ref(&issuing), &issuing_key, ocsp_key.public_key().clone(), OCSP_YEARS)?, ocsp_name)?;
    let ocsp = signing::sign_certificate(ocsp_tbs, &issuing_key)?;

    publish_root_crl(l, &root_key, &root, calendar::unix_seconds(&now))?;
    write_cert(&l.cert(CaRole::Root), &root)?;
    write_cert(&l.cert(CaRole::Issuing), &issuing)?;
    write_cert(&l.cert(CaRole::Ocsp), &ocsp)?;
    let config =
        serde_json::to_vec_pretty(&opts.config).map_err(|e| AuthorityError::Damaged { path: l.config(), reason: e.to_string() })?;
    drop(SqliteStore::open(&l.database())?);
    if opts.store_passphrase {
        write_file(&l.passphrase(), passphrase.expose().as_bytes(), true)?;
    }
    // Written last: its presence marks a complete authority.
    write_file(&l.config(), &config, false)?;
    Ok(CaCertificates { root, issuing, ocsp })
}

fn read_cert(path: &Path) -> Result<Certificate, AuthorityError> {
    let text = fs::read_to_string(path).map_err(io(path))?;
    Certificate::from_pem(text.as_bytes()).map_err(|e| AuthorityError::Damaged { path: path.into(), reason: e.to_string() })
}

/// An opened authority. Public operations work at once; issuing needs
/// [`Authority::unlock`] with the passphrase.
pub struct Authority {
    layout: Layout,
    config: Config,
    urls: Urls,
    certs: CaCertificates,
    store: SqliteStore,
    issuing_signer: Option<RsaSigner>,
}

/// A pair signed but not yet recorded; see [`Authority::prepare_pair`].
#[derive(Clone, Debug)]
pub struct PreparedPair {
    /// The AUTH certificate.
    pub auth: Certificate,
    /// The SIGN certificate.
    pub sign: Certificate,
    /// What the store records.
    pub record: NewPair,
}

impl PreparedPair {
    /// The audit detail: both serials.
    pub fn describe(&self) -> String {
        format!("AUTH {} SIGN {}", self.record.auth.serial, self.record.sign.serial)
    }

    /// The pair once recorded under `pair_id`.
    pub fn recorded(self, pair_id: i64) -> IssuedPair {
        IssuedPair { pair_id, auth: self.auth, sign: self.sign }
    }
}

/// A pair just issued and recorded.
#[derive(Clone, Debug)]
pub struct IssuedPair {
    /// Database id of the pair.
    pub pair_id: i64,
    /// The AUTH certificate.
    pub auth: Certificate,
    /// The SIGN certificate.
    pub sign: Certificate,
}

impl Authority {
    /// Open the authority in `dir` without its keys.
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
        let certs = CaCertificates {
            root: read_cert(&layout.cert(CaRole::Root))?,
            issuing: read_cert(&layout.cert(CaRole::Issuing))?,
            ocsp: read_cert(&layout.cert(CaRole::Ocsp))?,
        };
        let store = SqliteStore::open(&layout.database())?;
        Ok(Authority { layout, config, urls, certs, store, issuing_signer: None })
    }

    /// Decrypt the issuing CA key so the authority can issue.
    pub fn unlock(&mut self, passphrase: &Passphrase) -> Result<(), AuthorityError> {
        self.issuing_signer = Some(self.signer(CaRole::Issuing, passphrase)?);
        Ok(())
    }

    /// Decrypt the key of one of the authority's certificates (the OCSP responder's
    /// for the responder), checked against its certificate.
    pub fn signer(&self, role: CaRole, passphrase: &Passphrase) -> Result<RsaSigner, AuthorityError> {
        let path = self.layout.key(role);
        let pem = fs::read_to_string(&path).map_err(io(&path))?;
        let signer = RsaSigner::from_pkcs8(&signing::decrypt_pkcs8(&pem, passphrase)?)?;
        let cert = match role {
            CaRole::Root => &self.certs.root,
            CaRole::Issuing => &self.certs.issuing,
            CaRole::Ocsp => &self.certs.ocsp,
        };
        if signer.public_key() != &cert.tbs_certificate.subject_public_key_info {
            return Err(AuthorityError::Damaged { path, reason: format!("the key does not match {}.pem", role.file_stem()) });
        }
        Ok(signer)
    }

    /// The directory layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Publication URLs.
    pub fn urls(&self) -> &Urls {
        &self.urls
    }

    /// The CA certificates.
    pub fn certificates(&self) -> &CaCertificates {
        &self.certs
    }

    /// The database.
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// Issue an AUTH/SIGN pair for `applicant` from two PKCS#10 requests, valid from
    /// `now` for one calendar year, and record both in one transaction (with an
    /// audit record naming `actor`).
    pub fn issue_pair(
        &mut self,
        applicant: &Applicant,
        auth_csr: &[u8],
        sign_csr: &[u8],
        now: DateTime,
        actor: Actor,
    ) -> Result<IssuedPair, IssueError> {
        let prepared = self.prepare_pair(applicant, auth_csr, sign_csr, now)?;
        let event = AuditEvent::new(actor, AuditAction::PairIssued, prepared.record.sign.serial.clone(), prepared.describe());
        let pair_id = self.store.insert_pair(&prepared.record, &event)?;
        Ok(prepared.recorded(pair_id))
    }

    /// Check the requests and sign both certificates of a pair, without recording
    /// it: the caller records it in the transaction that justifies it (an
    /// application confirmed, a renewal). Nothing is stored if the caller drops it.
    pub fn prepare_pair(&self, applicant: &Applicant, auth_csr: &[u8], sign_csr: &[u8], now: DateTime) -> Result<PreparedPair, IssueError> {
        let signer = self.issuing_signer.as_ref().ok_or_else(|| {
            IssueError::Authority(AuthorityError::Signing(SigningError::BadKey("the authority is locked: give the CA passphrase".into())))
        })?;
        let (auth_req, sign_req) = self.check_requests(auth_csr, sign_csr)?;
        let issuer = issuer_ref(&self.certs.issuing);
        let validity = profile::validity_years(now, END_ENTITY_YEARS)?;
        let make = |t: CertType, req: &VerifiedCsr, taken: Option<&str>| -> Result<(Certificate, NewCertificate), IssueError> {
            let serial = self.fresh_serial(taken)?;
            let basics =
                TbsBasics { serial, signature: signer.algorithm(), issuer: issuer.clone(), validity, public_key: req.public_key().clone() };
            let cert = signing::sign_certificate(profile::end_entity(basics, applicant, t, &self.urls)?, signer)?;
            let record = NewCertificate {
                serial: hex::encode(cert.tbs_certificate.serial_number.as_bytes()),
                cert_type: t,
                common_name: applicant.person().common_name(),
                not_before: calendar::unix_seconds(&validity.not_before.to_date_time()),
                not_after: calendar::unix_seconds(&validity.not_after.to_date_time()),
                key_id: hex::encode(profile::key_identifier(req.public_key())),
                key_fingerprint: req.key_fingerprint(),
                der: cert.to_der().map_err(SigningError::from)?,
            };
            Ok((cert, record))
        };
        let (auth, auth_record) = make(CertType::Auth, &auth_req, None)?;
        let (sign, sign_record) = make(CertType::Sign, &sign_req, Some(&auth_record.serial))?;
        let holder = Holder {
            kind: if applicant.entity().is_some() { SubjectKind::LegalEntity } else { SubjectKind::Individual },
            iin: applicant.iin().to_string(),
            entity: applicant.entity().map(|e| (e.bin().to_string(), e.role())),
        };
        let record = NewPair { holder, issued_at: calendar::unix_seconds(&now), auth: auth_record, sign: sign_record };
        Ok(PreparedPair { auth, sign, record })
    }

    /// Check a pair's two requests: proof of possession, allowed keys, two different
    /// keys, neither certified before.
    pub fn check_requests(&self, auth_csr: &[u8], sign_csr: &[u8]) -> Result<(VerifiedCsr, VerifiedCsr), IssueError> {
        let checked = |which, bytes: &[u8]| csr::verify_csr(bytes).map_err(|source| IssueError::Csr { which, source });
        let auth_req = checked(CertType::Auth, auth_csr)?;
        let sign_req = checked(CertType::Sign, sign_csr)?;
        if auth_req.key_fingerprint() == sign_req.key_fingerprint() {
            return Err(IssueError::SameKeyTwice);
        }
        for (which, req) in [(CertType::Auth, &auth_req), (CertType::Sign, &sign_req)] {
            if let Some(serial) = self.store.serial_for_key(&req.key_fingerprint())? {
                return Err(IssueError::KeyReused { which, serial });
            }
        }
        Ok((auth_req, sign_req))
    }

    /// The database, for writes that the registration authority decides on.
    pub fn store_mut(&mut self) -> &mut SqliteStore {
        &mut self.store
    }

    fn fresh_serial(&self, taken: Option<&str>) -> Result<x509_cert::serial_number::SerialNumber, IssueError> {
        for _ in 0..SERIAL_ATTEMPTS {
            let serial = signing::random_serial();
            let text = hex::encode(serial.as_bytes());
            if Some(text.as_str()) != taken && !self.store.serial_exists(&text)? {
                return Ok(serial);
            }
        }
        Err(IssueError::NoSerial)
    }

    /// Issue a full or delta CRL now (`now` in Unix seconds), valid for the interval
    /// the schedule gives its kind.
    pub fn issue_crl(&mut self, kind: CrlKind, now: i64) -> Result<IssuedCrl, CrlError> {
        let signer =
            self.issuing_signer.as_ref().ok_or_else(|| SigningError::BadKey("the authority is locked: give the CA passphrase".into()))?;
        let interval = match kind {
            CrlKind::Full => self.config.crl.full_interval_seconds,
            CrlKind::Delta => self.config.crl.delta_interval_seconds,
        };
        let issuer = CrlIssuer { signer, issuer: issuer_ref(&self.certs.issuing), urls: Some(&self.urls) };
        crl::issue(&mut self.store, &issuer, kind, now, now + i64::from(interval))
    }

    /// Issue a CRL and publish it where the server serves it (`crl/` in the
    /// directory), replacing the previous one atomically.
    pub fn publish_crl(&mut self, kind: CrlKind, now: i64) -> Result<IssuedCrl, AuthorityError> {
        let crl = self.issue_crl(kind, now)?;
        let dir = self.layout.crl_dir();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        write_atomically(&self.layout.crl(kind), &crl.der)?;
        Ok(crl)
    }

    /// Sign the root's CRL (no CA certificate revoked) with the root key, valid for
    /// [`ROOT_CRL_DAYS`], and publish it at `crl/root_rsa.crl`. The root key is
    /// decrypted for this and dropped.
    pub fn publish_root_crl(&self, passphrase: &Passphrase, now: i64) -> Result<Vec<u8>, AuthorityError> {
        let root = self.signer(CaRole::Root, passphrase)?;
        publish_root_crl(&self.layout, &root, &self.certs.root, now)
    }

    /// A stored certificate by serial, decoded.
    pub fn certificate(&self, serial: &str) -> Result<Option<(crate::store::CertificateRecord, Certificate)>, AuthorityError> {
        let Some(rec) = self.store.certificate(serial)? else {
            return Ok(None);
        };
        let cert = Certificate::from_der(&rec.der)
            .map_err(|e| AuthorityError::Damaged { path: self.layout.database(), reason: format!("certificate {serial}: {e}") })?;
        Ok(Some((rec, cert)))
    }
}
