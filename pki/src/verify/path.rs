//! Certification path validation (RFC 5280 §6), as the national PKI needs it.
//!
//! A path is built from the certificate up to one of the caller's trust anchors
//! through a pool of intermediates (the caller's, and those a signature carries),
//! then every certificate on it is checked: its issuer's signature, the names
//! chaining, validity at the given time, basic constraints and key usage of the
//! issuers, no critical extension left unprocessed, and for the end certificate
//! the key usage and extended key usage of the stated [`Purpose`]. A trust anchor
//! may be an intermediate CA (as with `openssl -partial_chain`).
//!
//! The answer is typed: a [`ValidPath`], or a [`PathError`] naming the check that
//! failed ([`Problem`]) and the certificate it failed at (its depth: 0 is the end
//! certificate). Policy mapping and name constraints are not processed: a
//! certificate marking either critical is refused rather than trusted blindly.

use crate::calendar;
use crate::oid;
use crate::verify::{self, decode_extension, extension, SignatureError};
use der::asn1::ObjectIdentifier as Oid;
use der::{DateTime, Decode};
use serde::Serialize;
use thiserror::Error;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier};
use x509_cert::Certificate;

/// No path is longer than this many certificates (the national PKI has three).
pub const MAX_PATH_LENGTH: usize = 8;

/// Building stops after this many signature checks: a pool crafted to make the
/// search explode costs a bounded amount of work.
const MAX_SIGNATURE_CHECKS: usize = 64;

/// What the end certificate must be good for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Signing documents: key usage nonRepudiation, extended key usage emailProtection
    /// (the national SIGN certificate).
    Sign,
    /// Logging in: key usage digitalSignature, extended key usage clientAuth (AUTH).
    Auth,
    /// Time-stamping: extended key usage timeStamping (a TSA).
    TimeStamping,
    /// Signing OCSP responses: extended key usage OCSPSigning (a delegated responder).
    OcspSigning,
}

impl Purpose {
    /// `sign`, `auth`, `time_stamping`, `ocsp_signing`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Purpose::Sign => "sign",
            Purpose::Auth => "auth",
            Purpose::TimeStamping => "time_stamping",
            Purpose::OcspSigning => "ocsp_signing",
        }
    }

    /// The extended key usage this purpose needs when the certificate lists any.
    pub fn extended_key_usage(&self) -> Oid {
        match self {
            Purpose::Sign => oid::KP_EMAIL_PROTECTION,
            Purpose::Auth => oid::KP_CLIENT_AUTH,
            Purpose::TimeStamping => oid::KP_TIME_STAMPING,
            Purpose::OcspSigning => oid::KP_OCSP_SIGNING,
        }
    }

    /// Whether a key usage extension allows this purpose, and the bit it lacks.
    fn key_usage_allows(&self, ku: &KeyUsage) -> Result<(), &'static str> {
        match self {
            Purpose::Sign if !ku.non_repudiation() => Err("nonRepudiation"),
            Purpose::Auth | Purpose::OcspSigning if !ku.digital_signature() => Err("digitalSignature"),
            Purpose::TimeStamping if !(ku.digital_signature() || ku.non_repudiation()) => Err("digitalSignature"),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Purpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sign" => Ok(Purpose::Sign),
            "auth" => Ok(Purpose::Auth),
            "time_stamping" | "tsa" => Ok(Purpose::TimeStamping),
            "ocsp_signing" => Ok(Purpose::OcspSigning),
            other => Err(format!("unknown purpose {other:?}: sign, auth, time_stamping or ocsp_signing")),
        }
    }
}

/// The check a certificate failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Past its notAfter at the validation time.
    #[error("expired on {}", calendar::rfc3339(.not_after))]
    Expired {
        /// The certificate's notAfter.
        not_after: DateTime,
    },
    /// Before its notBefore at the validation time.
    #[error("not valid before {}", calendar::rfc3339(.not_before))]
    NotYetValid {
        /// The certificate's notBefore.
        not_before: DateTime,
    },
    /// The key usage does not allow the purpose.
    #[error("its key usage lacks {needed}, which {purpose} needs")]
    KeyUsage {
        /// What it was used for.
        purpose: Purpose,
        /// The missing bit.
        needed: &'static str,
    },
    /// The extended key usage does not allow the purpose.
    #[error("its extended key usage does not allow {purpose}")]
    ExtendedKeyUsage {
        /// What it was used for.
        purpose: Purpose,
    },
    /// It issued a certificate and is not a CA (no basicConstraints cA TRUE).
    #[error("it issued a certificate but is not a CA (basicConstraints cA is not TRUE)")]
    NotCa,
    /// It issued a certificate and its key usage lacks keyCertSign.
    #[error("it issued a certificate but its key usage lacks keyCertSign")]
    NotCertificateSigner,
    /// More CAs below it than its pathLenConstraint allows.
    #[error("its pathLenConstraint {allowed} allows fewer CAs below it than the path has")]
    PathLength {
        /// The constraint.
        allowed: u8,
    },
    /// Its issuer's signature on it does not verify.
    #[error("its issuer's signature does not verify: {0}")]
    Signature(SignatureError),
    /// No trust anchor or known intermediate issued it.
    #[error("its issuer is neither a trust anchor nor a known intermediate")]
    UnknownIssuer,
    /// The path would be longer than [`MAX_PATH_LENGTH`], or building it took too many checks.
    #[error("no path within {MAX_PATH_LENGTH} certificates")]
    TooLong,
    /// A critical extension this validator does not process.
    #[error("it has a critical extension {0} that is not processed")]
    UnsupportedCriticalExtension(Oid),
    /// An extension that does not decode.
    #[error("its extension {0} is malformed")]
    MalformedExtension(Oid),
    /// Revoked, as the named source says.
    #[error("revoked on {} ({}), according to {by}", calendar::rfc3339(.revoked_at), .reason.map(|r| r.as_str()).unwrap_or("no reason given"))]
    Revoked {
        /// When it was revoked.
        revoked_at: DateTime,
        /// Why, when the source says.
        reason: Option<crate::model::RevocationReason>,
        /// Who said so.
        by: verify::StatusSource,
    },
    /// Its status could not be established and the policy fails hard.
    #[error("its revocation status is unknown: {0}")]
    StatusUnknown(String),
}

/// Why a certificate is not valid: the check and the certificate.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{subject} (depth {depth}): {problem}")]
pub struct PathError {
    /// 0 for the end certificate, 1 for its issuer, and so on.
    pub depth: usize,
    /// The certificate's subject, for people.
    pub subject: String,
    /// What failed.
    pub problem: Problem,
}

impl PathError {
    pub(crate) fn at(depth: usize, cert: &Certificate, problem: Problem) -> Self {
        PathError { depth, subject: verify::name_to_string(&cert.tbs_certificate.subject), problem }
    }
}

/// A validated path: the end certificate first, the trust anchor last (one and the
/// same for a pinned certificate). Only [`TrustStore::validate`] makes one, so it is
/// never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidPath {
    certificates: Vec<Certificate>,
}

impl ValidPath {
    /// The certificates, end first, anchor last.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The end certificate.
    pub fn end(&self) -> &Certificate {
        &self.certificates[0]
    }

    /// The trust anchor the path ends at.
    pub fn anchor(&self) -> &Certificate {
        &self.certificates[self.certificates.len() - 1]
    }
}

/// The trust anchors a relying party configures (the national roots, or an
/// issuing CA it trusts directly) and a pool of intermediates to build paths with.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
    intermediates: Vec<Certificate>,
}

impl TrustStore {
    /// A store trusting `anchors`.
    pub fn new(anchors: Vec<Certificate>) -> Self {
        TrustStore { anchors, intermediates: Vec::new() }
    }

    /// The store with `certs` added as intermediates (see [`TrustStore::add_intermediate`]).
    pub fn with_intermediates(mut self, certs: impl IntoIterator<Item = Certificate>) -> Self {
        for c in certs {
            self.add_intermediate(c);
        }
        self
    }

    /// Add an intermediate CA certificate to build paths with; it is not trusted by itself.
    pub fn add_intermediate(&mut self, cert: Certificate) {
        if !self.intermediates.contains(&cert) {
            self.intermediates.push(cert);
        }
    }

    /// The trust anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// The intermediates.
    pub fn intermediates(&self) -> &[Certificate] {
        &self.intermediates
    }

    /// Build a path for `cert` (with `extra` certificates it came with) and check it
    /// at `at` for `purpose`. Revocation is not checked here.
    ///
    /// A certificate that is itself a trust anchor (pinned: a test key's self-signed
    /// certificate, or one a service trusts by hand) is a path of length zero
    /// (RFC 5280 §6.1: the anchor is an input to the path, not a CA on it): only its
    /// validity and its use for `purpose` are checked.
    pub fn validate(&self, cert: &Certificate, extra: &[Certificate], purpose: Purpose, at: DateTime) -> Result<ValidPath, PathError> {
        if self.anchors.contains(cert) {
            check_path(std::slice::from_ref(cert), purpose, calendar::unix_seconds(&at))?;
            return Ok(ValidPath { certificates: vec![cert.clone()] });
        }
        let mut search = Search { store: self, extra, purpose, at: calendar::unix_seconds(&at), checks: 0, first_error: None };
        let mut chain = vec![cert.clone()];
        if search.extend(&mut chain) {
            return Ok(ValidPath { certificates: chain });
        }
        Err(search.first_error.unwrap_or_else(|| PathError::at(0, cert, Problem::UnknownIssuer)))
    }
}

struct Search<'a> {
    store: &'a TrustStore,
    extra: &'a [Certificate],
    purpose: Purpose,
    at: i64,
    checks: usize,
    /// The error of the deepest failed attempt: the most telling one.
    first_error: Option<PathError>,
}

impl Search<'_> {
    fn fail(&mut self, e: PathError) {
        let better = match &self.first_error {
            None => true,
            // An issuer found whose checks fail says more than "unknown issuer".
            Some(old) => old.problem == Problem::UnknownIssuer && e.problem != Problem::UnknownIssuer,
        };
        if better {
            self.first_error = Some(e);
        }
    }

    /// Try to complete `chain` up to an anchor; true when a fully checked path was found.
    fn extend(&mut self, chain: &mut Vec<Certificate>) -> bool {
        let depth = chain.len() - 1;
        let current = chain[depth].clone();
        let anchors: Vec<&Certificate> = self.store.anchors.iter().filter(|a| may_have_issued(a, &current)).collect();
        for anchor in anchors {
            if !self.signature_ok(chain, anchor) {
                continue;
            }
            chain.push(anchor.clone());
            match check_path(chain, self.purpose, self.at) {
                Ok(()) => return true,
                Err(e) => {
                    self.fail(e);
                    chain.pop();
                }
            }
        }
        if chain.len() >= MAX_PATH_LENGTH {
            self.fail(PathError::at(depth, &current, Problem::TooLong));
            return false;
        }
        let (extra, store) = (self.extra, self.store);
        let candidates: Vec<&Certificate> =
            extra.iter().chain(&store.intermediates).filter(|c| may_have_issued(c, &current) && !chain.contains(c)).collect();
        if candidates.is_empty() {
            self.fail(PathError::at(depth, &current, Problem::UnknownIssuer));
        }
        for candidate in candidates {
            if !self.signature_ok(chain, candidate) {
                continue;
            }
            chain.push(candidate.clone());
            if self.extend(chain) {
                return true;
            }
            chain.pop();
        }
        false
    }

    /// Whether `issuer` signed the last certificate of `chain`, counting the work.
    fn signature_ok(&mut self, chain: &[Certificate], issuer: &Certificate) -> bool {
        let depth = chain.len() - 1;
        if self.checks >= MAX_SIGNATURE_CHECKS {
            self.fail(PathError::at(depth, &chain[depth], Problem::TooLong));
            return false;
        }
        self.checks += 1;
        match verify::verify_issued_by(&chain[depth], issuer) {
            Ok(()) => true,
            Err(e) => {
                self.fail(PathError::at(depth, &chain[depth], Problem::Signature(e)));
                false
            }
        }
    }
}

/// Whether `issuer` may have issued `cert`: names chain, and the key identifiers
/// agree when both are present.
fn may_have_issued(issuer: &Certificate, cert: &Certificate) -> bool {
    if issuer.tbs_certificate.subject != cert.tbs_certificate.issuer {
        return false;
    }
    let aki = decode_extension::<AuthorityKeyIdentifier>(cert, oid::EXT_AUTHORITY_KEY_ID).and_then(|a| a.key_identifier);
    let ski = decode_extension::<SubjectKeyIdentifier>(issuer, oid::EXT_SUBJECT_KEY_ID);
    match (aki, ski) {
        (Some(a), Some(s)) => a == s.0,
        _ => true,
    }
}

/// An extension decoded strictly: absent is `None`, malformed is an error.
fn strict<'a, T: Decode<'a>>(cert: &'a Certificate, id: Oid) -> Result<Option<T>, Problem> {
    match extension(cert, id) {
        None => Ok(None),
        Some(e) => T::from_der(e.extn_value.as_bytes()).map(Some).map_err(|_| Problem::MalformedExtension(id)),
    }
}

/// The extensions this validator processes (or that only point elsewhere).
const PROCESSED: [Oid; 11] = [
    oid::EXT_BASIC_CONSTRAINTS,
    oid::EXT_KEY_USAGE,
    oid::EXT_EXTENDED_KEY_USAGE,
    oid::EXT_SUBJECT_KEY_ID,
    oid::EXT_AUTHORITY_KEY_ID,
    oid::EXT_CERTIFICATE_POLICIES,
    oid::EXT_CRL_DISTRIBUTION_POINTS,
    oid::EXT_FRESHEST_CRL,
    oid::EXT_AUTHORITY_INFO_ACCESS,
    oid::EXT_SUBJECT_ALT_NAME,
    oid::EXT_ISSUER_ALT_NAME,
];

/// Check a path whose signatures already verified: end first, anchor last.
fn check_path(chain: &[Certificate], purpose: Purpose, at: i64) -> Result<(), PathError> {
    for (depth, cert) in chain.iter().enumerate() {
        check_one(cert, depth, purpose, at).map_err(|p| PathError::at(depth, cert, p))?;
    }
    Ok(())
}

fn check_one(cert: &Certificate, depth: usize, purpose: Purpose, at: i64) -> Result<(), Problem> {
    let validity = &cert.tbs_certificate.validity;
    let not_before = validity.not_before.to_date_time();
    let not_after = validity.not_after.to_date_time();
    if at < calendar::unix_seconds(&not_before) {
        return Err(Problem::NotYetValid { not_before });
    }
    if at > calendar::unix_seconds(&not_after) {
        return Err(Problem::Expired { not_after });
    }
    if let Some(e) = cert.tbs_certificate.extensions.iter().flatten().find(|e| e.critical && !PROCESSED.contains(&e.extn_id)) {
        return Err(Problem::UnsupportedCriticalExtension(e.extn_id));
    }
    let ku = strict::<KeyUsage>(cert, oid::EXT_KEY_USAGE)?;
    if depth == 0 {
        if let Some(ku) = &ku {
            purpose.key_usage_allows(ku).map_err(|needed| Problem::KeyUsage { purpose, needed })?;
        }
        if let Some(eku) = strict::<ExtendedKeyUsage>(cert, oid::EXT_EXTENDED_KEY_USAGE)? {
            if !eku.0.iter().any(|u| *u == purpose.extended_key_usage() || *u == oid::KP_ANY) {
                return Err(Problem::ExtendedKeyUsage { purpose });
            }
        }
        return Ok(());
    }
    let bc = strict::<BasicConstraints>(cert, oid::EXT_BASIC_CONSTRAINTS)?;
    let Some(bc) = bc.filter(|b| b.ca) else {
        return Err(Problem::NotCa);
    };
    if ku.is_some_and(|ku| !ku.key_cert_sign()) {
        return Err(Problem::NotCertificateSigner);
    }
    // CAs between this one and the end certificate (self-issued ones count too: the
    // national PKI has none).
    let below = depth - 1;
    if let Some(allowed) = bc.path_len_constraint {
        if below > usize::from(allowed) {
            return Err(Problem::PathLength { allowed });
        }
    }
    Ok(())
}
