//! The relying party's one call: is this certificate good for this purpose, at
//! this time, and not revoked? Path validation ([`super::path`]) and revocation
//! ([`super::revocation`]) together, with a typed [`Verdict`].

use super::fetch::Fetch;
use super::path::{PathError, Problem, Purpose, TrustStore, ValidPath};
use super::revocation::{self, RevocationChecker, RevocationMode, StatusReport};
use crate::calendar;
use der::DateTime;
use serde::Serialize;
use x509_cert::Certificate;

/// At most this many certificates are fetched from AIA caIssuers for one path.
const MAX_FETCHED_ISSUERS: usize = 4;

/// What a certificate is checked for, and when.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    /// What the certificate must be good for.
    pub purpose: Purpose,
    /// When the path must be valid: now, a document's signing time, a time-stamp's time.
    pub at: DateTime,
    /// Whether `at` is established (a time-stamp, or the caller's own word) rather
    /// than claimed by the signer: then a revocation dated after `at` does not
    /// invalidate what was done at `at`. Otherwise any revocation does.
    pub at_is_proven: bool,
    /// Now, for the freshness of status answers.
    pub now: DateTime,
}

impl Checks {
    /// Valid now, for `purpose`.
    pub fn now(purpose: Purpose) -> Self {
        let now = calendar::now();
        Checks { purpose, at: now, at_is_proven: true, now }
    }

    /// Valid at `at`, a time the caller vouches for.
    pub fn at(purpose: Purpose, at: DateTime) -> Self {
        Checks { purpose, at, at_is_proven: true, now: calendar::now() }
    }

    /// Valid at `at` when the caller gives a time, else now.
    pub fn at_or_now(purpose: Purpose, at: Option<DateTime>) -> Self {
        match at {
            Some(at) => Self::at(purpose, at),
            None => Self::now(purpose),
        }
    }
}

/// A certificate found valid: its path and what the status sources said.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The path, end certificate first, trust anchor last.
    pub path: ValidPath,
    /// The status of each certificate that was checked (the end certificate first).
    pub statuses: Vec<StatusReport>,
}

impl Verdict {
    /// Whether the end certificate's status was established (not skipped, not soft-failed).
    pub fn status_established(&self) -> bool {
        self.statuses.first().is_some_and(|s| s.source.is_some())
    }
}

/// A verdict for people and programs: `ca verify --json`, the HTTP API.
#[derive(Clone, Debug, Serialize)]
pub struct VerdictReport {
    /// Whether the certificate is valid.
    pub valid: bool,
    /// What it was checked for.
    pub purpose: Purpose,
    /// When its path was checked, RFC 3339.
    pub at: String,
    /// The path's subjects, end first (as far as it was built when it failed: just the end).
    pub path: Vec<String>,
    /// Status of each checked certificate.
    pub statuses: Vec<StatusReport>,
    /// The certificate the check failed at (0 = the end certificate), when it failed.
    pub failed_at_depth: Option<usize>,
    /// A stable code for the failed check.
    pub problem: Option<&'static str>,
    /// The failure, for people.
    pub message: Option<String>,
    /// The owner, read off the end certificate.
    pub certificate: super::CertificateInfo,
}

impl Problem {
    /// A stable snake_case code: `expired`, `revoked`, `unknown_issuer`, …
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Expired { .. } => "expired",
            Problem::NotYetValid { .. } => "not_yet_valid",
            Problem::KeyUsage { .. } => "key_usage",
            Problem::ExtendedKeyUsage { .. } => "extended_key_usage",
            Problem::NotCa => "not_ca",
            Problem::NotCertificateSigner => "not_certificate_signer",
            Problem::PathLength { .. } => "path_length",
            Problem::Signature(_) => "bad_signature",
            Problem::UnknownIssuer => "unknown_issuer",
            Problem::TooLong => "path_too_long",
            Problem::UnsupportedCriticalExtension(_) => "unsupported_critical_extension",
            Problem::MalformedExtension(_) => "malformed_extension",
            Problem::Revoked { .. } => "revoked",
            Problem::StatusUnknown(_) => "status_unknown",
        }
    }
}

impl VerdictReport {
    /// The report of `result` for `cert`.
    pub fn of(cert: &Certificate, checks: &Checks, result: &Result<Verdict, PathError>) -> Self {
        let (valid, path, statuses, failed) = match result {
            Ok(v) => (
                true,
                v.path.certificates().iter().map(|c| super::name_to_string(&c.tbs_certificate.subject)).collect(),
                v.statuses.clone(),
                None,
            ),
            Err(e) => (false, vec![super::name_to_string(&cert.tbs_certificate.subject)], Vec::new(), Some(e)),
        };
        VerdictReport {
            valid,
            purpose: checks.purpose,
            at: calendar::rfc3339(&checks.at),
            path,
            statuses,
            failed_at_depth: failed.map(|e| e.depth),
            problem: failed.map(|e| e.problem.code()),
            message: failed.map(|e| e.to_string()),
            certificate: super::CertificateInfo::of(cert),
        }
    }
}

/// Trust anchors, intermediates and a revocation policy: everything a relying
/// party configures once and shares between threads.
pub struct Verifier {
    trust: TrustStore,
    revocation: RevocationChecker,
    /// Fetch missing issuers from AIA caIssuers (with this fetcher).
    issuers_from: Option<Box<dyn Fetch>>,
}

impl Verifier {
    /// A verifier trusting `trust`'s anchors, checking status with `revocation`.
    pub fn new(trust: TrustStore, revocation: RevocationChecker) -> Self {
        Verifier { trust, revocation, issuers_from: None }
    }

    /// Also fetch issuers the pool lacks from the certificates' AIA caIssuers URLs.
    pub fn fetching_issuers(mut self, fetch: Box<dyn Fetch>) -> Self {
        self.issuers_from = Some(fetch);
        self
    }

    /// The trust store.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The revocation checker (to supply CRLs).
    pub fn revocation(&self) -> &RevocationChecker {
        &self.revocation
    }

    /// Validate `cert` (with `extra` certificates that came with it) for `checks`.
    pub fn verify(&self, cert: &Certificate, extra: &[Certificate], checks: &Checks) -> Result<Verdict, PathError> {
        let fetched = self.fetch_issuers(cert, extra);
        let pool: Vec<Certificate> = extra.iter().cloned().chain(fetched).collect();
        let path = self.trust.validate(cert, &pool, checks.purpose, checks.at)?;
        let statuses = self.statuses(&path, checks)?;
        Ok(Verdict { path, statuses })
    }

    /// The status of every certificate on `path` below the anchor that names a
    /// source the policy asks (the end certificate always).
    fn statuses(&self, path: &ValidPath, checks: &Checks) -> Result<Vec<StatusReport>, PathError> {
        let certs = path.certificates();
        let mut out = Vec::new();
        for depth in 0..certs.len() - 1 {
            let (cert, issuer) = (&certs[depth], &certs[depth + 1]);
            if depth > 0 && !names_a_source(cert, self.revocation.policy().mode) {
                continue;
            }
            match self.revocation.check(cert, issuer, checks.now) {
                Ok(report) => out.push(report),
                Err(Problem::Revoked { revoked_at, .. })
                    if checks.at_is_proven && calendar::unix_seconds(&revoked_at) > calendar::unix_seconds(&checks.at) =>
                {
                    out.push(StatusReport {
                        serial: crate::model::Serial::of(cert),
                        source: None,
                        unavailable: Some(format!("revoked on {}, after the time checked", calendar::rfc3339(&revoked_at))),
                    })
                }
                Err(problem) => return Err(PathError::at(depth, cert, problem)),
            }
        }
        Ok(out)
    }

    /// Issuers missing from the anchors and the pool, fetched from AIA caIssuers.
    fn fetch_issuers(&self, cert: &Certificate, extra: &[Certificate]) -> Vec<Certificate> {
        let Some(fetch) = &self.issuers_from else { return Vec::new() };
        let mut fetched: Vec<Certificate> = Vec::new();
        let mut current = cert.clone();
        for _ in 0..MAX_FETCHED_ISSUERS {
            let issuer_name = &current.tbs_certificate.issuer;
            let known = self
                .trust
                .anchors()
                .iter()
                .chain(self.trust.intermediates())
                .chain(extra)
                .chain(&fetched)
                .any(|c| &c.tbs_certificate.subject == issuer_name);
            if known {
                break;
            }
            let next = revocation::ca_issuer_urls(&current)
                .iter()
                .filter_map(|url| fetch.get(url).ok())
                .find_map(|bytes| crate::pem::certificates(&bytes).ok()?.into_iter().find(|c| &c.tbs_certificate.subject == issuer_name));
            match next {
                Some(c) => {
                    fetched.push(c.clone());
                    current = c;
                }
                None => break,
            }
        }
        fetched
    }
}

/// Whether an intermediate names a status source of a kind `mode` asks.
fn names_a_source(cert: &Certificate, mode: RevocationMode) -> bool {
    let ocsp = || !revocation::ocsp_urls(cert).is_empty();
    let crl = || !revocation::crl_urls(cert).is_empty();
    match mode {
        RevocationMode::None => false,
        RevocationMode::Ocsp => ocsp(),
        RevocationMode::Crl => crl(),
        RevocationMode::OcspThenCrl => ocsp() || crl(),
    }
}
