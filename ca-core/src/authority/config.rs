//! What `config.json` records: names, URLs and every part's settings.

use super::*;

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
    /// The API over HTTPS.
    #[serde(default)]
    pub tls: TlsSettings,
    /// The time-stamp authority.
    #[serde(default)]
    pub tsa: TsaSettings,
    /// The verification API's trust.
    #[serde(default)]
    pub verify: VerifySettings,
    /// Where the records live.
    #[serde(default, skip_serializing_if = "DatabaseSettings::is_default")]
    pub database: DatabaseSettings,
}

/// Where the records live: `url` is `sqlite:PATH` or `postgres://…` (several hosts
/// allowed); absent, the SQLite file `ca.sqlite` in the authority's directory.
/// `--database` or `$CA_DATABASE_URL` given to a program take precedence.
/// `read_url` names a hot standby of it that the server reads from where a
/// replica's lag does no harm: the applicants' cabinet and the published audit
/// checkpoint. Revocation status (OCSP, the status log, CRLs) is always read from
/// `url`, so no standby's lag ever makes a revoked certificate look good.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// The database's URL.
    pub url: Option<String>,
    /// A hot standby's URL, for the reads that may lag.
    pub read_url: Option<String>,
}

impl DatabaseSettings {
    fn is_default(&self) -> bool {
        *self == DatabaseSettings::default()
    }
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
