//! The CA proper for end entities: turns two checked requests and an approved
//! applicant into a signed AUTH/SIGN pair. It holds the issuing CAs' certificates
//! (RSA, and GOST), the publication URLs and the CA keys behind the [`Signer`]
//! trait, and no database: each certificate is signed by the CA of its key's
//! family (a legal entity's GOST SIGN key by the GOST CA, its RSA AUTH key by the
//! RSA CA, as the authority does). What it needs to
//! know of issued certificates (is this key or serial taken?) it asks a
//! [`CertificateStore`] the caller lends it.
//!
//! Every certificate passes the profile's lint before it is signed, and the only
//! way to record a pair is the [`NewPair`] inside the [`PreparedPair`] this makes.

use crate::audit::{Actor, AuditAction, AuditEvent};
use crate::calendar;
use crate::csr::{self, CsrError, VerifiedCsr};
use crate::model::{CertType, Family, Serial, SubjectKind};
use crate::profile::{self, Applicant, IssuerRef, LintFinding, ProfileError, TbsBasics, Urls};
use crate::signing::{self, Signer, SigningError};
use crate::store::{CertificateStore, Holder, NewCertificate, NewPair, StoreError};
use der::asn1::BitString;
use der::{DateTime, Encode};
use std::sync::Arc;
use thiserror::Error;
use x509_cert::certificate::TbsCertificate;
use x509_cert::Certificate;

/// End-entity validity, years.
pub const END_ENTITY_YEARS: u16 = 1;
/// Attempts at drawing a serial number not yet in the database.
const SERIAL_ATTEMPTS: usize = 8;

/// Why a pair was not issued. Nothing is recorded when any of these is returned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IssueError {
    /// One of the two requests was refused.
    #[error("{which} request refused: {source}")]
    Csr {
        /// AUTH or SIGN.
        which: CertType,
        /// Why.
        source: CsrError,
    },
    /// AUTH and SIGN requests carry the same key.
    #[error("the AUTH and SIGN requests carry the same key; each certificate needs its own key pair")]
    SameKeyTwice,
    /// The key was certified before.
    #[error("the {which} key was already certified (certificate {serial}); generate a new key pair")]
    KeyReused {
        /// AUTH or SIGN.
        which: CertType,
        /// The certificate that has it.
        serial: Serial,
    },
    /// No free serial number found (practically impossible; the database is suspect).
    #[error("could not draw an unused serial number")]
    NoSerial,
    /// The CA key does not belong to the issuing CA certificate.
    #[error("the CA key does not match the issuing CA certificate")]
    KeyMismatch,
    /// A request's key is of a family no issuing CA here signs for.
    #[error("the {which} request carries a {family} key, and this authority has no {family} issuing CA")]
    NoCa {
        /// AUTH or SIGN.
        which: CertType,
        /// The key's family.
        family: Family,
    },
    /// The profile refused the data.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A certificate was refused by the lint before it was signed.
    #[error("refusing to sign a certificate that breaks the profile: {0}")]
    Lint(#[from] LintFinding),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a certificate was not signed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The profile's lint refused the to-be-signed certificate: nothing was signed.
    #[error("refusing to sign a certificate that breaks the profile: {0}")]
    Lint(#[from] LintFinding),
    /// The key could not sign.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

impl From<CertificateError> for IssueError {
    fn from(e: CertificateError) -> Self {
        match e {
            CertificateError::Lint(l) => IssueError::Lint(l),
            CertificateError::Signing(s) => IssueError::Signing(s),
        }
    }
}

/// Lint `tbs` against the profile, then sign it into a certificate: no certificate
/// that breaks the profile is ever signed.
pub fn sign_certificate(tbs: TbsCertificate, signer: &dyn Signer) -> Result<Certificate, CertificateError> {
    profile::lint(&tbs)?;
    let signature = signer.sign(&tbs.to_der().map_err(SigningError::from)?)?;
    let signature = BitString::from_bytes(&signature).map_err(SigningError::from)?;
    Ok(Certificate { signature_algorithm: tbs.signature.clone(), tbs_certificate: tbs, signature })
}

/// A pair signed but not yet recorded: the caller records [`PreparedPair::record`]
/// in the transaction that justifies it (an application confirmed, a renewal).
/// Nothing is stored if it is dropped.
#[derive(Clone, Debug)]
pub struct PreparedPair {
    auth: Certificate,
    sign: Certificate,
    record: NewPair,
}

impl PreparedPair {
    /// What the store records.
    pub fn record(&self) -> &NewPair {
        &self.record
    }

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

/// One issuing CA: certificate, name and key id, URLs, key.
struct IssuingCa {
    family: Family,
    certificate: Certificate,
    issuer: IssuerRef,
    urls: Urls,
    signer: Arc<dyn Signer>,
}

impl IssuingCa {
    fn new(certificate: Certificate, signer: Arc<dyn Signer>, urls: Urls) -> Result<Self, IssueError> {
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        if signer.public_key() != spki {
            return Err(IssueError::KeyMismatch);
        }
        let family = Family::of_key(&spki.algorithm.oid).ok_or(IssueError::KeyMismatch)?;
        let issuer = IssuerRef::of(&certificate);
        Ok(IssuingCa { family, certificate, issuer, urls: urls.for_family(family), signer })
    }
}

/// The issuing CAs at work: profile, lint and keys.
pub struct Issuer {
    /// The first is the one [`Issuer::certificate`] names; at most one per family.
    cas: Vec<IssuingCa>,
}

impl Issuer {
    /// An issuer signing as `certificate` with `signer`, naming `urls` in what it issues.
    pub fn new(certificate: Certificate, signer: Arc<dyn Signer>, urls: Urls) -> Result<Self, IssueError> {
        Ok(Issuer { cas: vec![IssuingCa::new(certificate, signer, urls)?] })
    }

    /// The issuer also signing, for keys of the other family, as `certificate`
    /// with `signer` (a GOST issuing CA beside the RSA one).
    pub fn with_ca(mut self, certificate: Certificate, signer: Arc<dyn Signer>, urls: Urls) -> Result<Self, IssueError> {
        let ca = IssuingCa::new(certificate, signer, urls)?;
        self.cas.retain(|c| c.family != ca.family);
        self.cas.push(ca);
        Ok(self)
    }

    /// The first issuing CA's certificate (the RSA one for an authority's issuer).
    pub fn certificate(&self) -> &Certificate {
        &self.cas[0].certificate
    }

    /// The issuing CA certificate of `family`, if this issuer has one.
    pub fn certificate_of(&self, family: Family) -> Option<&Certificate> {
        self.cas.iter().find(|c| c.family == family).map(|c| &c.certificate)
    }

    fn ca_for(&self, which: CertType, req: &VerifiedCsr) -> Result<&IssuingCa, IssueError> {
        let family = req.family();
        self.cas.iter().find(|c| c.family == family).ok_or(IssueError::NoCa { which, family })
    }

    /// Check the requests and sign both certificates of a pair for `applicant`,
    /// valid from `now` for one calendar year, without recording it.
    pub fn prepare_pair(
        &self,
        certs: &dyn CertificateStore,
        applicant: &Applicant,
        auth_csr: &[u8],
        sign_csr: &[u8],
        now: DateTime,
    ) -> Result<PreparedPair, IssueError> {
        let (auth_req, sign_req) = check_requests(certs, auth_csr, sign_csr)?;
        let validity = profile::validity_years(now, END_ENTITY_YEARS)?;
        let make = |t: CertType, req: &VerifiedCsr, taken: Option<&Serial>| -> Result<(Certificate, NewCertificate), IssueError> {
            let ca = self.ca_for(t, req)?;
            let serial = fresh_serial(certs, taken)?;
            let basics = TbsBasics {
                serial,
                signature: ca.signer.algorithm(),
                issuer: ca.issuer.clone(),
                validity,
                public_key: req.public_key().clone(),
            };
            let cert = sign_certificate(profile::end_entity(basics, applicant, t, &ca.urls)?, ca.signer.as_ref())?;
            let record = NewCertificate {
                serial: Serial::of(&cert),
                cert_type: t,
                common_name: applicant.person().common_name(),
                not_before: calendar::unix_seconds(&validity.not_before.to_date_time()),
                not_after: calendar::unix_seconds(&validity.not_after.to_date_time()),
                key_id: hex::encode(profile::key_identifier(req.public_key())),
                key_fingerprint: req.key_fingerprint(),
                der: cert.to_der().map_err(SigningError::from)?,
                family: ca.family,
            };
            Ok((cert, record))
        };
        let (auth, auth_record) = make(CertType::Auth, &auth_req, None)?;
        let (sign, sign_record) = make(CertType::Sign, &sign_req, Some(&auth_record.serial))?;
        let holder = Holder {
            kind: if applicant.entity().is_some() { SubjectKind::LegalEntity } else { SubjectKind::Individual },
            iin: applicant.iin().to_string(),
            entity: applicant.entity().map(|e| (e.bin().to_string(), e.role())),
            staff: applicant.staff(),
        };
        let record = NewPair { holder, issued_at: calendar::unix_seconds(&now), auth: auth_record, sign: sign_record };
        Ok(PreparedPair { auth, sign, record })
    }

    /// Issue a pair directly (the console's `ca issue`) and record it in `certs`
    /// in one transaction, with an audit record naming `actor`.
    pub fn issue_pair(
        &self,
        certs: &mut dyn CertificateStore,
        applicant: &Applicant,
        auth_csr: &[u8],
        sign_csr: &[u8],
        now: DateTime,
        actor: Actor,
    ) -> Result<IssuedPair, IssueError> {
        let prepared = self.prepare_pair(certs, applicant, auth_csr, sign_csr, now)?;
        let event = AuditEvent::new(actor, AuditAction::PairIssued, prepared.record.sign.serial.to_string(), prepared.describe());
        let pair_id = certs.insert_pair(&prepared.record, &event)?;
        Ok(prepared.recorded(pair_id))
    }
}

/// Check a pair's two requests: proof of possession, allowed keys, two different
/// keys, neither certified before. What issuance checks, also for a submission
/// that will be issued later.
pub fn check_requests(certs: &dyn CertificateStore, auth_csr: &[u8], sign_csr: &[u8]) -> Result<(VerifiedCsr, VerifiedCsr), IssueError> {
    let checked = |which, bytes: &[u8]| csr::verify_csr(bytes).map_err(|source| IssueError::Csr { which, source });
    let auth_req = checked(CertType::Auth, auth_csr)?;
    let sign_req = checked(CertType::Sign, sign_csr)?;
    if auth_req.key_fingerprint() == sign_req.key_fingerprint() {
        return Err(IssueError::SameKeyTwice);
    }
    for (which, req) in [(CertType::Auth, &auth_req), (CertType::Sign, &sign_req)] {
        if let Some(serial) = certs.serial_for_key(&req.key_fingerprint())? {
            return Err(IssueError::KeyReused { which, serial });
        }
    }
    Ok((auth_req, sign_req))
}

fn fresh_serial(certs: &dyn CertificateStore, taken: Option<&Serial>) -> Result<x509_cert::serial_number::SerialNumber, IssueError> {
    for _ in 0..SERIAL_ATTEMPTS {
        let serial = signing::random_serial();
        let text = Serial::from_der_bytes(serial.as_bytes());
        if Some(&text) != taken && !certs.serial_exists(&text)? {
            return Ok(serial);
        }
    }
    Err(IssueError::NoSerial)
}
