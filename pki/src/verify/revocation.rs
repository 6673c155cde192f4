//! Is a certificate revoked? An OCSP client (RFC 6960, nonces per RFC 8954) and
//! CRL checking with full and delta CRLs (RFC 5280 §5), under a policy the relying
//! party picks: OCSP, CRL, OCSP then CRL, or none; failing hard or soft.
//!
//! Nothing is believed unverified. An OCSP answer counts only when its signature
//! verifies under the issuing CA itself or under a delegated responder that this CA
//! issued with OCSPSigning, when it answers for exactly the CertID asked about,
//! echoes the nonce sent, and is fresh (thisUpdate not in the future, nextUpdate
//! not past, both within a clock-skew allowance). A CRL counts only when the issuing
//! CA signed it and it is current; a delta CRL only on top of the full CRL it names.
//! Verified CRLs are kept until their nextUpdate, OCSP answers for a few minutes
//! within theirs.

use super::fetch::Fetch;
use super::path::Problem;
pub use super::StatusSource;
use crate::calendar;
use crate::model::{RevocationReason, Serial};
use crate::oid;
use crate::verify::{self, SignatureError};
use der::asn1::{AnyRef, ObjectIdentifier as Oid, OctetString};
use der::{DateTime, Decode, Encode, Reader, SliceReader, Tagged};
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use thiserror::Error;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints, ExtendedKeyUsage};
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, CertId, OcspRequest, OcspResponse, OcspResponseStatus, Request, ResponderId, TbsRequest};

/// A certificate's status, as a verified source states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at a time, for a reason when given.
    Revoked {
        /// When.
        revoked_at: DateTime,
        /// Why.
        reason: Option<RevocationReason>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// Which sources to ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationMode {
    /// Do not check (offline validation; the verdict says so).
    None,
    /// OCSP only.
    Ocsp,
    /// CRLs only (full, and delta where the certificate names one).
    Crl,
    /// OCSP, and the CRLs when OCSP cannot answer.
    OcspThenCrl,
}

impl std::str::FromStr for RevocationMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(RevocationMode::None),
            "ocsp" => Ok(RevocationMode::Ocsp),
            "crl" => Ok(RevocationMode::Crl),
            "ocsp-then-crl" | "ocsp_then_crl" => Ok(RevocationMode::OcspThenCrl),
            other => Err(format!("unknown revocation mode {other:?}: none, ocsp, crl or ocsp-then-crl")),
        }
    }
}

/// What to do when no source can say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnavailable {
    /// The certificate is not valid (`StatusUnknown`).
    HardFail,
    /// Valid, and the verdict says the status was not established.
    SoftFail,
}

/// How a relying party checks revocation.
#[derive(Clone, Debug)]
pub struct RevocationPolicy {
    /// Which sources.
    pub mode: RevocationMode,
    /// When none answers.
    pub on_unavailable: OnUnavailable,
    /// Clock skew allowed on thisUpdate and nextUpdate, seconds.
    pub skew_seconds: i64,
    /// Send a nonce with OCSP requests (and insist on its echo).
    pub ocsp_nonce: bool,
    /// Use HTTP GET for OCSP (cacheable by proxies) instead of POST.
    pub ocsp_get: bool,
    /// Ask this responder instead of the one the certificate names (a local
    /// mirror, a proxy, a test), as `openssl ocsp -url` does.
    pub ocsp_url: Option<String>,
    /// How long a verified OCSP answer is reused (never past its nextUpdate), seconds.
    pub ocsp_cache_seconds: i64,
    /// An OCSP answer without nextUpdate is stale this long after its thisUpdate.
    pub ocsp_max_age_seconds: i64,
    /// Reuse a fetched CRL at most this long, seconds (`None`: until its nextUpdate).
    pub crl_cache_seconds: Option<i64>,
}

impl Default for RevocationPolicy {
    fn default() -> Self {
        RevocationPolicy {
            mode: RevocationMode::OcspThenCrl,
            on_unavailable: OnUnavailable::HardFail,
            skew_seconds: 300,
            ocsp_nonce: true,
            ocsp_get: false,
            ocsp_url: None,
            ocsp_cache_seconds: 300,
            ocsp_max_age_seconds: 3600,
            crl_cache_seconds: None,
        }
    }
}

/// Why an OCSP response was not believed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspProblem {
    /// Not DER of an OCSP response.
    #[error("not an OCSP response: {0}")]
    Malformed(String),
    /// The responder refused (`malformedRequest`, `tryLater`, `unauthorized`, …).
    #[error("the responder answered {0}")]
    NotSuccessful(&'static str),
    /// A successful response of a type other than basic.
    #[error("response type {0} is not id-pkix-ocsp-basic")]
    UnsupportedType(Oid),
    /// Neither the issuer nor a certificate in the response is its responder.
    #[error("the response carries no certificate of its responder")]
    NoResponderCertificate,
    /// The signature does not verify.
    #[error("the response's signature does not verify: {0}")]
    Signature(SignatureError),
    /// The responder is not the issuing CA nor a delegated responder it authorised.
    #[error("the responder is not authorised by the certificate's issuer: {0}")]
    NotAuthorised(String),
    /// The responder certificate is not valid when the response was produced or now.
    #[error("the responder certificate is not valid at {}", calendar::rfc3339(.0))]
    ResponderExpired(DateTime),
    /// The response does not answer for the certificate asked about.
    #[error("the response does not answer for this certificate")]
    NoAnswer,
    /// The nonce sent is not the one echoed (or none was echoed).
    #[error("the response does not echo the request's nonce")]
    NonceMismatch,
    /// thisUpdate is in the future.
    #[error("the answer's thisUpdate {} is in the future", calendar::rfc3339(.0))]
    NotYetValid(DateTime),
    /// nextUpdate has passed, or an answer without one is too old.
    #[error("the answer is stale (thisUpdate {})", calendar::rfc3339(.0))]
    Stale(DateTime),
}

/// A verified OCSP answer for one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspAnswer {
    /// The status.
    pub status: CertStatus,
    /// When the responder vouches for it.
    pub this_update: DateTime,
    /// Until when, if it says.
    pub next_update: Option<DateTime>,
    /// When the response was signed.
    pub produced_at: DateTime,
    /// The responder certificate's subject (the CA's own when it signed itself).
    pub responder: String,
    /// A delegated responder's certificate's validity (Unix seconds), checked again
    /// whenever the answer is used.
    pub responder_validity: Option<(i64, i64)>,
}

impl OcspAnswer {
    /// Whether the answer may be used at `now`: thisUpdate not in the future,
    /// nextUpdate (or the policy's age limit) not past, the responder's
    /// certificate valid — each within the clock-skew allowance.
    pub fn check_fresh(&self, now: DateTime, policy: &RevocationPolicy) -> Result<(), OcspProblem> {
        let now_s = calendar::unix_seconds(&now);
        if let Some((from, to)) = self.responder_validity {
            if now_s < from - policy.skew_seconds || now_s > to + policy.skew_seconds {
                return Err(OcspProblem::ResponderExpired(now));
            }
        }
        let this_s = calendar::unix_seconds(&self.this_update);
        if this_s > now_s + policy.skew_seconds {
            return Err(OcspProblem::NotYetValid(self.this_update));
        }
        let stale = match &self.next_update {
            Some(n) => calendar::unix_seconds(n) < now_s - policy.skew_seconds,
            None => this_s + policy.ocsp_max_age_seconds < now_s - policy.skew_seconds,
        };
        if stale {
            return Err(OcspProblem::Stale(self.this_update));
        }
        Ok(())
    }
}

/// An OCSP request for one certificate, and what its answer must match.
#[derive(Clone, Debug)]
pub struct OcspQuery {
    /// The request, DER.
    pub der: Vec<u8>,
    /// The nonce sent, if any.
    pub nonce: Option<Vec<u8>>,
}

fn cert_id(cert: &Certificate, issuer: &Certificate) -> Result<CertId, der::Error> {
    let name = issuer.tbs_certificate.subject.to_der()?;
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    Ok(CertId {
        hash_algorithm: spki::AlgorithmIdentifierOwned { oid: oid::SHA1, parameters: Some(der::asn1::Any::null()) },
        issuer_name_hash: OctetString::new(Sha1::digest(&name).to_vec())?,
        issuer_key_hash: OctetString::new(Sha1::digest(key).to_vec())?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

/// Whether `id` names `cert` issued by `issuer` (SHA-1 or SHA-256 CertID).
fn names(id: &CertId, cert: &Certificate, issuer: &Certificate) -> bool {
    if id.serial_number != cert.tbs_certificate.serial_number {
        return false;
    }
    let Ok(name) = issuer.tbs_certificate.subject.to_der() else { return false };
    let key = issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    let (n, k) = match id.hash_algorithm.oid {
        oid::SHA1 => (Sha1::digest(&name).to_vec(), Sha1::digest(key).to_vec()),
        oid::SHA256 => (sha2::Sha256::digest(&name).to_vec(), sha2::Sha256::digest(key).to_vec()),
        _ => return false,
    };
    id.issuer_name_hash.as_bytes() == n && id.issuer_key_hash.as_bytes() == k
}

/// An OCSP request for `cert` issued by `issuer`, with a fresh 32-byte nonce when asked.
pub fn ocsp_request(cert: &Certificate, issuer: &Certificate, with_nonce: bool) -> Result<OcspQuery, der::Error> {
    let nonce = with_nonce.then(|| rand::random::<[u8; 32]>().to_vec());
    let request_extensions = match &nonce {
        Some(n) => Some(vec![x509_cert::ext::Extension {
            extn_id: oid::OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(n.clone())?.to_der()?)?,
        }]),
        None => None,
    };
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: x509_ocsp::Version::V1,
            requestor_name: None,
            request_list: vec![Request { req_cert: cert_id(cert, issuer)?, single_request_extensions: None }],
            request_extensions,
        },
        optional_signature: None,
    };
    Ok(OcspQuery { der: request.to_der()?, nonce })
}

/// The bytes of the first element of a signed SEQUENCE exactly as received: what
/// its signature covers (re-encoding could change another writer's bytes).
pub(crate) fn signed_part(der: &[u8]) -> Result<&[u8], der::Error> {
    let mut reader = SliceReader::new(der)?;
    let outer = der::Header::decode(&mut reader)?;
    let start = usize::try_from(outer.encoded_len()?)?;
    let first: AnyRef<'_> = reader.decode()?;
    let len = usize::try_from(first.encoded_len()?)?;
    der.get(start..start + len).ok_or_else(|| der::Tag::Sequence.length_error())
}

/// Whether `cert` lists OCSPSigning among its extended key usages.
pub(crate) fn is_ocsp_signer(cert: &Certificate) -> bool {
    verify::decode_extension::<ExtendedKeyUsage>(cert, oid::EXT_EXTENDED_KEY_USAGE).is_some_and(|eku| eku.0.contains(&oid::KP_OCSP_SIGNING))
}

/// Whether `signer` may sign OCSP answers about `issuer`'s certificates as a
/// delegated responder (RFC 6960 §4.2.2.2): `issuer` issued it, with OCSPSigning.
/// The reason when not.
pub fn check_delegated_responder(signer: &Certificate, issuer: &Certificate) -> Result<(), String> {
    verify::verify_issued_by(signer, issuer).map_err(|e| e.to_string())?;
    if !is_ocsp_signer(signer) {
        return Err("its certificate has no OCSPSigning extended key usage".into());
    }
    Ok(())
}

/// Whether the responder id names `cert`.
fn is_named(id: &ResponderId, cert: &Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => &cert.tbs_certificate.subject == name,
        ResponderId::ByKey(hash) => {
            Sha1::digest(cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes()).as_slice() == hash.as_bytes()
        }
    }
}

/// The certificate that signed `basic`: among those it carries, or `issuer` itself.
pub fn responder_certificate<'a>(basic: &'a BasicOcspResponse, issuer: Option<&'a Certificate>) -> Option<&'a Certificate> {
    let id = &basic.tbs_response_data.responder_id;
    basic.certs.iter().flatten().find(|c| is_named(id, c)).or_else(|| issuer.filter(|i| is_named(id, i)))
}

fn generalized(t: &x509_ocsp::OcspGeneralizedTime) -> DateTime {
    t.0.to_date_time()
}

/// Check an OCSP response for `cert` (issued by `issuer`) at `now`, as RFC 6960
/// §3.2 asks, and return the verified answer.
pub fn check_ocsp_response(
    der: &[u8],
    cert: &Certificate,
    issuer: &Certificate,
    nonce: Option<&[u8]>,
    now: DateTime,
    policy: &RevocationPolicy,
) -> Result<OcspAnswer, OcspProblem> {
    let malformed = |e: der::Error| OcspProblem::Malformed(e.to_string());
    let resp = OcspResponse::from_der(der).map_err(malformed)?;
    if resp.response_status != OcspResponseStatus::Successful {
        return Err(OcspProblem::NotSuccessful(response_status_name(resp.response_status)));
    }
    let bytes = resp.response_bytes.ok_or(OcspProblem::Malformed("successful, without a response".into()))?;
    if bytes.response_type != oid::OCSP_BASIC {
        return Err(OcspProblem::UnsupportedType(bytes.response_type));
    }
    let raw = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(raw).map_err(malformed)?;
    let data = &basic.tbs_response_data;
    let signer = responder_certificate(&basic, Some(issuer)).ok_or(OcspProblem::NoResponderCertificate)?;
    verify::verify_signed(raw, &signer.tbs_certificate.subject_public_key_info, &basic.signature_algorithm, &basic.signature)
        .map_err(OcspProblem::Signature)?;
    let produced_at = generalized(&data.produced_at);
    let mut responder_validity = None;
    if signer != issuer {
        check_delegated_responder(signer, issuer).map_err(OcspProblem::NotAuthorised)?;
        let v = &signer.tbs_certificate.validity;
        let (from, to) = (calendar::unix_seconds(&v.not_before.to_date_time()), calendar::unix_seconds(&v.not_after.to_date_time()));
        let produced = calendar::unix_seconds(&produced_at);
        if produced < from - policy.skew_seconds || produced > to + policy.skew_seconds {
            return Err(OcspProblem::ResponderExpired(produced_at));
        }
        responder_validity = Some((from, to));
    }
    if let Some(sent) = nonce {
        let echoed = data.response_extensions.iter().flatten().find(|e| e.extn_id == oid::OCSP_NONCE).map(|e| {
            // RFC 8954: an OCTET STRING inside extnValue; older responders put the raw bytes.
            OctetString::from_der(e.extn_value.as_bytes())
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or_else(|_| e.extn_value.as_bytes().to_vec())
        });
        if echoed.as_deref() != Some(sent) {
            return Err(OcspProblem::NonceMismatch);
        }
    }
    let single = data.responses.iter().find(|r| names(&r.cert_id, cert, issuer)).ok_or(OcspProblem::NoAnswer)?;
    let this_update = generalized(&single.this_update);
    let next_update = single.next_update.as_ref().map(generalized);
    let status = match &single.cert_status {
        x509_ocsp::CertStatus::Good(_) => CertStatus::Good,
        x509_ocsp::CertStatus::Unknown(_) => CertStatus::Unknown,
        x509_ocsp::CertStatus::Revoked(info) => CertStatus::Revoked {
            revoked_at: generalized(&info.revocation_time),
            reason: info.revocation_reason.and_then(|r| RevocationReason::from_code(r as u8)),
        },
    };
    let responder = verify::name_to_string(&signer.tbs_certificate.subject);
    let answer = OcspAnswer { status, this_update, next_update, produced_at, responder, responder_validity };
    answer.check_fresh(now, policy)?;
    Ok(answer)
}

/// `successful`, `malformedRequest`, …: the RFC 6960 names.
pub fn response_status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// Why a CRL was not believed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlProblem {
    /// Not DER of a CRL.
    #[error("not a CRL: {0}")]
    Malformed(String),
    /// Another issuer's CRL, or its signature does not verify.
    #[error("the CRL is not signed by the certificate's issuer: {0}")]
    Signature(SignatureError),
    /// Its nextUpdate has passed.
    #[error("the CRL is stale (nextUpdate {})", calendar::rfc3339(.0))]
    Stale(DateTime),
    /// Its thisUpdate is in the future.
    #[error("the CRL's thisUpdate {} is in the future", calendar::rfc3339(.0))]
    NotYetValid(DateTime),
    /// A delta CRL whose base is newer than the full CRL at hand.
    #[error("the delta CRL needs a newer full CRL than the one at hand")]
    DeltaBase,
    /// A full CRL where a delta was expected, or the other way round.
    #[error("expected a {0} CRL")]
    WrongKind(&'static str),
}

/// One revoked entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    revoked_at: DateTime,
    /// The reason code as written (8 is removeFromCRL, deltas only).
    reason: Option<u8>,
}

/// A verified CRL, ready for lookups.
#[derive(Clone, Debug)]
pub struct Crl {
    this_update: DateTime,
    next_update: Option<DateTime>,
    /// CRL number, big-endian without leading zeros.
    number: Option<Vec<u8>>,
    /// For a delta CRL, its base CRL number.
    delta_base: Option<Vec<u8>>,
    entries: HashMap<Serial, Entry>,
}

fn trimmed_uint(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().skip_while(|b| **b == 0).copied().collect()
}

/// Compare two unsigned big-endian numbers without leading zeros.
fn cmp_uint(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Crl {
    /// Decode `der` and check that `issuer` signed it.
    pub fn verified(der: &[u8], issuer: &Certificate) -> Result<Crl, CrlProblem> {
        let crl = CertificateList::from_der(der).map_err(|e| CrlProblem::Malformed(e.to_string()))?;
        let tbs = &crl.tbs_cert_list;
        crl_signed_by(der, &crl, issuer).map_err(CrlProblem::Signature)?;
        let (number, delta_base) = crl_numbers(tbs).map_err(CrlProblem::Malformed)?;
        let (number, delta_base) = (number.map(|n| trimmed_uint(n.as_bytes())), delta_base.map(|n| trimmed_uint(n.as_bytes())));
        let mut entries = HashMap::new();
        for r in tbs.revoked_certificates.iter().flatten() {
            // A reason that does not decode counts as none given.
            let reason = match crl_entry_reason(r) {
                EntryReason::Code(c) => Some(c),
                EntryReason::Absent | EntryReason::Malformed => None,
            };
            entries
                .insert(Serial::from_der_bytes(r.serial_number.as_bytes()), Entry { revoked_at: r.revocation_date.to_date_time(), reason });
        }
        Ok(Crl {
            this_update: tbs.this_update.to_date_time(),
            next_update: tbs.next_update.map(|t| t.to_date_time()),
            number,
            delta_base,
            entries,
        })
    }

    /// Whether this is a delta CRL.
    pub fn is_delta(&self) -> bool {
        self.delta_base.is_some()
    }

    /// Until when it may be used: its nextUpdate.
    pub fn next_update(&self) -> Option<DateTime> {
        self.next_update
    }

    fn check_current(&self, now: i64, skew: i64) -> Result<(), CrlProblem> {
        if calendar::unix_seconds(&self.this_update) > now + skew {
            return Err(CrlProblem::NotYetValid(self.this_update));
        }
        match self.next_update {
            Some(n) if calendar::unix_seconds(&n) < now - skew => Err(CrlProblem::Stale(n)),
            _ => Ok(()),
        }
    }
}

/// Check that `issuer` signed the CRL `der` (decoded as `crl`): the issuer name, and
/// the signature over the bytes as received.
pub(crate) fn crl_signed_by(der: &[u8], crl: &CertificateList, issuer: &Certificate) -> Result<(), SignatureError> {
    if crl.tbs_cert_list.issuer != issuer.tbs_certificate.subject {
        return Err(SignatureError::Invalid);
    }
    verify::verify_signed(der, &issuer.tbs_certificate.subject_public_key_info, &crl.signature_algorithm, &crl.signature)
}

/// A CRL's number and, for a delta CRL, its base CRL's number; the reason when
/// either does not decode.
pub(crate) fn crl_numbers(tbs: &x509_cert::crl::TbsCertList) -> Result<(Option<der::asn1::Uint>, Option<der::asn1::Uint>), String> {
    let mut number = None;
    let mut delta_base = None;
    for e in tbs.crl_extensions.iter().flatten() {
        let value = |what: &str| der::asn1::Uint::from_der(e.extn_value.as_bytes()).map_err(|err| format!("{what}: {err}"));
        if e.extn_id == oid::EXT_CRL_NUMBER {
            number = Some(value("CRL number")?);
        } else if e.extn_id == oid::EXT_DELTA_CRL_INDICATOR {
            delta_base = Some(value("delta CRL indicator")?);
        }
    }
    Ok((number, delta_base))
}

/// A CRL entry's reason code, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryReason {
    /// The entry has no reason code extension.
    Absent,
    /// The reason code.
    Code(u8),
    /// The extension is there and does not decode as a one-byte ENUMERATED.
    Malformed,
}

/// A CRL entry's reason code.
pub(crate) fn crl_entry_reason(entry: &x509_cert::crl::RevokedCert) -> EntryReason {
    let Some(e) = entry.crl_entry_extensions.iter().flatten().find(|e| e.extn_id == oid::EXT_CRL_REASON) else {
        return EntryReason::Absent;
    };
    der::asn1::AnyRef::from_der(e.extn_value.as_bytes())
        .ok()
        .filter(|a| a.tag() == der::Tag::Enumerated && a.value().len() == 1)
        .map_or(EntryReason::Malformed, |a| EntryReason::Code(a.value()[0]))
}

/// The status of `serial` by a full CRL and, if given, a delta CRL on top of it.
pub fn crl_status(serial: &Serial, full: &Crl, delta: Option<&Crl>) -> Result<(CertStatus, StatusSource), CrlProblem> {
    if full.is_delta() {
        return Err(CrlProblem::WrongKind("full"));
    }
    let revoked = |e: &Entry| CertStatus::Revoked {
        revoked_at: e.revoked_at,
        reason: e.reason.filter(|c| *c != 0).and_then(RevocationReason::from_code),
    };
    if let Some(delta) = delta {
        let base = delta.delta_base.as_deref().ok_or(CrlProblem::WrongKind("delta"))?;
        let full_number = full.number.as_deref().unwrap_or(&[]);
        if cmp_uint(base, full_number) == std::cmp::Ordering::Greater {
            return Err(CrlProblem::DeltaBase);
        }
        // A delta no newer than the full CRL adds nothing.
        let newer = delta.number.as_deref().is_some_and(|n| cmp_uint(n, full_number) == std::cmp::Ordering::Greater);
        if newer {
            if let Some(e) = delta.entries.get(serial) {
                return Ok(if e.reason == Some(REMOVE_FROM_CRL) {
                    (CertStatus::Good, StatusSource::DeltaCrl)
                } else {
                    (revoked(e), StatusSource::DeltaCrl)
                });
            }
        }
    }
    Ok(match full.entries.get(serial) {
        Some(e) => (revoked(e), StatusSource::Crl),
        None => (CertStatus::Good, if delta.is_some() { StatusSource::DeltaCrl } else { StatusSource::Crl }),
    })
}

const REMOVE_FROM_CRL: u8 = 8;

/// A certificate's status as the checker established it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    /// The certificate's serial.
    pub serial: Serial,
    /// Who answered; `None` when nobody was asked or nobody could answer (soft fail).
    pub source: Option<StatusSource>,
    /// Why nobody could answer, when that is the case.
    pub unavailable: Option<String>,
}

/// URLs a certificate names: OCSP responders (AIA) and CRLs (CDP, freshest CRL).
fn access_urls(cert: &Certificate, method: Oid) -> Vec<String> {
    verify::decode_extension::<AuthorityInfoAccessSyntax>(cert, oid::EXT_AUTHORITY_INFO_ACCESS)
        .map(|aia| aia.0.into_iter().filter(|a| a.access_method == method).filter_map(|a| uri(&a.access_location)).collect())
        .unwrap_or_default()
}

fn uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(u) => Some(u.to_string().trim().to_string()),
        _ => None,
    }
}

fn distribution_urls(cert: &Certificate, ext: Oid) -> Vec<String> {
    verify::decode_extension::<CrlDistributionPoints>(cert, ext)
        .map(|d| {
            d.0.into_iter()
                .filter_map(|p| match p.distribution_point {
                    Some(DistributionPointName::FullName(names)) => Some(names),
                    _ => None,
                })
                .flatten()
                .filter_map(|n| uri(&n))
                .collect()
        })
        .unwrap_or_default()
}

/// The OCSP responder URLs of a certificate's AIA.
pub fn ocsp_urls(cert: &Certificate) -> Vec<String> {
    access_urls(cert, oid::AD_OCSP)
}

/// The full CRL URLs of a certificate's CRL distribution points.
pub fn crl_urls(cert: &Certificate) -> Vec<String> {
    distribution_urls(cert, oid::EXT_CRL_DISTRIBUTION_POINTS)
}

/// The caIssuers URLs of a certificate's AIA: where its issuer's certificate is.
pub fn ca_issuer_urls(cert: &Certificate) -> Vec<String> {
    access_urls(cert, oid::AD_CA_ISSUERS)
}

/// A certificate an OCSP question is about: its issuer's key and its serial.
type AskedAbout = (Vec<u8>, Serial);

struct CachedOcsp {
    status: CertStatus,
    until: i64,
}

struct CachedCrl {
    crl: Arc<Crl>,
    until: i64,
}

/// Checks certificates' status under a [`RevocationPolicy`], fetching with a
/// [`Fetch`] and keeping verified answers. Shared between threads.
pub struct RevocationChecker {
    policy: RevocationPolicy,
    fetch: Option<Box<dyn Fetch>>,
    ocsp: Mutex<HashMap<AskedAbout, CachedOcsp>>,
    /// OCSP responses already verified, by their SHA-256 and the certificate asked
    /// about (its issuer's key and its serial).
    verified: Mutex<HashMap<([u8; 32], AskedAbout), OcspAnswer>>,
    crls: Mutex<HashMap<String, CachedCrl>>,
    /// CRLs the caller supplied, by issuer name DER: full and delta.
    supplied: Mutex<Vec<(Vec<u8>, Arc<Crl>)>>,
}

/// At most this many answers are kept; past it the cache starts over.
const MAX_CACHED: usize = 100_000;

impl RevocationChecker {
    /// A checker with `policy`, fetching with `fetch` (without one, only supplied CRLs answer).
    pub fn new(policy: RevocationPolicy, fetch: Option<Box<dyn Fetch>>) -> Self {
        RevocationChecker {
            policy,
            fetch,
            ocsp: Mutex::default(),
            verified: Mutex::default(),
            crls: Mutex::default(),
            supplied: Mutex::default(),
        }
    }

    /// A checker that checks nothing: verdicts say the status was not checked.
    pub fn none() -> Self {
        Self::new(RevocationPolicy { mode: RevocationMode::None, ..RevocationPolicy::default() }, None)
    }

    /// The policy.
    pub fn policy(&self) -> &RevocationPolicy {
        &self.policy
    }

    /// Supply a CRL (full or delta) of `issuer`, read from a file rather than fetched;
    /// it is checked now and used while current.
    pub fn add_crl(&self, der: &[u8], issuer: &Certificate) -> Result<(), CrlProblem> {
        let crl = Crl::verified(der, issuer)?;
        let name = issuer.tbs_certificate.subject.to_der().map_err(|e| CrlProblem::Malformed(e.to_string()))?;
        self.supplied.lock().unwrap_or_else(|p| p.into_inner()).push((name, Arc::new(crl)));
        Ok(())
    }

    /// The status of `cert`, issued by `issuer`, at `now`: `Ok` with the report when
    /// it is not revoked (or the policy lets an unknown status pass), the problem otherwise.
    pub fn check(&self, cert: &Certificate, issuer: &Certificate, now: DateTime) -> Result<StatusReport, Problem> {
        let serial = Serial::of(cert);
        let report = |source, unavailable| StatusReport { serial: serial.clone(), source, unavailable };
        let (use_ocsp, use_crl) = match self.policy.mode {
            RevocationMode::None => return Ok(report(None, None)),
            RevocationMode::Ocsp => (true, false),
            RevocationMode::Crl => (false, true),
            RevocationMode::OcspThenCrl => (true, true),
        };
        let mut why = Vec::new();
        if use_ocsp {
            match self.by_ocsp(cert, issuer, now) {
                Ok(CertStatus::Unknown) => why.push("the OCSP responder does not know the certificate".to_string()),
                Ok(status) => return outcome(status, StatusSource::Ocsp).map(|s| report(Some(s), None)),
                Err(e) => why.push(format!("OCSP: {e}")),
            }
        }
        if use_crl {
            match self.by_crl(cert, issuer, now) {
                Ok((status, source)) => return outcome(status, source).map(|s| report(Some(s), None)),
                Err(e) => why.push(format!("CRL: {e}")),
            }
        }
        let why = why.join("; ");
        match self.policy.on_unavailable {
            OnUnavailable::HardFail => Err(Problem::StatusUnknown(why)),
            OnUnavailable::SoftFail => Ok(report(None, Some(why))),
        }
    }

    fn by_ocsp(&self, cert: &Certificate, issuer: &Certificate, now: DateTime) -> Result<CertStatus, String> {
        let now_s = calendar::unix_seconds(&now);
        let key = (issuer.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes().to_vec(), Serial::of(cert));
        if let Some(hit) = self.ocsp.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            if hit.until >= now_s {
                return Ok(hit.status);
            }
        }
        let fetch = self.fetch.as_ref().ok_or("no way to fetch (offline)")?;
        let urls = match &self.policy.ocsp_url {
            Some(url) => vec![url.clone()],
            None => ocsp_urls(cert),
        };
        if urls.is_empty() {
            return Err("the certificate names no OCSP responder".into());
        }
        let mut last = String::new();
        for url in urls {
            let nonce = self.policy.ocsp_nonce && !fetch.is_in_process(&url);
            let query = ocsp_request(cert, issuer, nonce).map_err(|e| e.to_string())?;
            let body = if self.policy.ocsp_get {
                let b64 = base64ct::Base64::encode_string(&query.der);
                fetch.get(&format!("{}/{}", url.trim_end_matches('/'), percent_encode(&b64)))
            } else {
                fetch.post(&url, "application/ocsp-request", &query.der)
            };
            let body = match body {
                Ok(b) => b,
                Err(e) => {
                    last = e.to_string();
                    continue;
                }
            };
            // The same bytes verified before (a responder's pre-signed answer, asked
            // without a nonce): only whether it is still fresh needs checking again.
            let seen = (sha2::Sha256::digest(&body).into(), key.clone());
            let known = match &query.nonce {
                None => self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(&seen).cloned(),
                Some(_) => None,
            };
            let checked = match known {
                Some(answer) => answer.check_fresh(now, &self.policy).map(|()| answer),
                None => check_ocsp_response(&body, cert, issuer, query.nonce.as_deref(), now, &self.policy).inspect(|answer| {
                    if query.nonce.is_none() {
                        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
                        if verified.len() >= MAX_CACHED {
                            verified.clear();
                        }
                        verified.insert(seen, answer.clone());
                    }
                }),
            };
            match checked {
                Ok(answer) => {
                    let mut until = now_s + self.policy.ocsp_cache_seconds;
                    if let Some(n) = answer.next_update {
                        until = until.min(calendar::unix_seconds(&n));
                    }
                    let mut cache = self.ocsp.lock().unwrap_or_else(|p| p.into_inner());
                    if cache.len() >= MAX_CACHED {
                        cache.clear();
                    }
                    cache.insert(key, CachedOcsp { status: answer.status, until });
                    return Ok(answer.status);
                }
                Err(e) => last = format!("{url}: {e}"),
            }
        }
        Err(last)
    }

    /// The newest current supplied or fetched CRL of a kind for `issuer`.
    fn crl(&self, urls: &[String], issuer: &Certificate, delta: bool, now: i64) -> Result<Option<Arc<Crl>>, String> {
        let skew = self.policy.skew_seconds;
        let name = issuer.tbs_certificate.subject.to_der().map_err(|e| e.to_string())?;
        let supplied = self
            .supplied
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(n, c)| *n == name && c.is_delta() == delta && c.check_current(now, skew).is_ok())
            .max_by(|a, b| cmp_uint(a.1.number.as_deref().unwrap_or(&[]), b.1.number.as_deref().unwrap_or(&[])))
            .map(|(_, c)| c.clone());
        if supplied.is_some() {
            return Ok(supplied);
        }
        let mut last = None;
        for url in urls {
            if let Some(hit) = self.crls.lock().unwrap_or_else(|p| p.into_inner()).get(url) {
                if hit.until >= now {
                    return Ok(Some(hit.crl.clone()));
                }
            }
            let Some(fetch) = self.fetch.as_ref() else {
                last = Some(format!(
                    "no {} CRL was supplied, and there is no way to fetch one (offline)",
                    if delta { "delta" } else { "full" }
                ));
                continue;
            };
            let fetched = fetch.get(url).map_err(|e| e.to_string()).and_then(|der| {
                let crl = Crl::verified(&der, issuer).map_err(|e| format!("{url}: {e}"))?;
                crl.check_current(now, skew).map_err(|e| format!("{url}: {e}"))?;
                if crl.is_delta() != delta {
                    return Err(format!("{url}: {}", CrlProblem::WrongKind(if delta { "delta" } else { "full" })));
                }
                Ok(crl)
            });
            match fetched {
                Ok(crl) => {
                    let crl = Arc::new(crl);
                    let mut until = crl.next_update.map(|n| calendar::unix_seconds(&n)).unwrap_or(now + self.policy.ocsp_cache_seconds);
                    if let Some(cap) = self.policy.crl_cache_seconds {
                        until = until.min(now + cap);
                    }
                    let mut cache = self.crls.lock().unwrap_or_else(|p| p.into_inner());
                    if cache.len() >= MAX_CACHED {
                        cache.clear();
                    }
                    cache.insert(url.clone(), CachedCrl { crl: crl.clone(), until });
                    return Ok(Some(crl));
                }
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    fn by_crl(&self, cert: &Certificate, issuer: &Certificate, now: DateTime) -> Result<(CertStatus, StatusSource), String> {
        let now_s = calendar::unix_seconds(&now);
        let full_urls = distribution_urls(cert, oid::EXT_CRL_DISTRIBUTION_POINTS);
        let full = self.crl(&full_urls, issuer, false, now_s)?.ok_or("the certificate names no CRL and none was supplied")?;
        let delta_urls = distribution_urls(cert, oid::EXT_FRESHEST_CRL);
        let delta = if delta_urls.is_empty() && !self.has_supplied_delta(issuer) {
            None
        } else {
            // The certificate names a delta CRL: without it, a recent revocation would be missed.
            Some(self.crl(&delta_urls, issuer, true, now_s)?.ok_or("the delta CRL could not be had")?)
        };
        crl_status(&Serial::of(cert), &full, delta.as_deref()).map_err(|e| e.to_string())
    }

    fn has_supplied_delta(&self, issuer: &Certificate) -> bool {
        let name = issuer.tbs_certificate.subject.to_der().unwrap_or_default();
        self.supplied.lock().unwrap_or_else(|p| p.into_inner()).iter().any(|(n, c)| *n == name && c.is_delta())
    }
}

fn outcome(status: CertStatus, source: StatusSource) -> Result<StatusSource, Problem> {
    match status {
        CertStatus::Revoked { revoked_at, reason } => Err(Problem::Revoked { revoked_at, reason, by: source }),
        _ => Ok(source),
    }
}

/// Base64 made safe for a URL path (RFC 6960 Appendix A.1: URL-encoded).
fn percent_encode(b64: &str) -> String {
    b64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

use base64ct::Encoding;

#[cfg(test)]
mod tests {
    use super::*;
    use der::DecodePem;

    const RESPONSE: &[u8] = include_bytes!("../../../tests/data/nca-test/ocsp_good_rsa.der");
    const CA: &[u8] = include_bytes!("../../../tests/data/nca-test/nca_rsa_test.pem");
    const CRL: &[u8] = include_bytes!("../../../tests/data/nca-test/nca_rsa_test.crl");

    /// A certificate of the authority's test CA with the serial the real response answers for.
    fn asked_about() -> Certificate {
        let mut cert = Certificate::from_pem(include_bytes!("../../../tests/data/nca-test/individual_sign_rsa.pem")).unwrap();
        cert.tbs_certificate.serial_number =
            x509_cert::serial_number::SerialNumber::new(&hex::decode("4279390A141F5353A62947B61ED65E81741467D1").unwrap()).unwrap();
        cert
    }

    fn at(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> DateTime {
        DateTime::new(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn the_authoritys_real_response_verifies_and_is_held_to_its_nonce_and_age() {
        let ca = Certificate::from_pem(CA).unwrap();
        let policy = RevocationPolicy::default();
        let nonce = hex::decode("B5E5C9B552CBCAC4").unwrap();
        let soon = at(2022, 9, 2, 17, 0);
        let answer = check_ocsp_response(RESPONSE, &asked_about(), &ca, Some(&nonce), soon, &policy).unwrap();
        assert_eq!(answer.status, CertStatus::Good);
        assert!(answer.responder.contains("BIN123456789021"), "{}", answer.responder);
        assert_eq!(
            check_ocsp_response(RESPONSE, &asked_about(), &ca, Some(b"another nonce"), soon, &policy),
            Err(OcspProblem::NonceMismatch)
        );
        // No nextUpdate: an hour and a bit later it is stale; before thisUpdate it is from the future.
        assert!(matches!(
            check_ocsp_response(RESPONSE, &asked_about(), &ca, None, at(2022, 9, 2, 19, 0), &policy),
            Err(OcspProblem::Stale(_))
        ));
        assert!(matches!(
            check_ocsp_response(RESPONSE, &asked_about(), &ca, None, at(2022, 9, 2, 16, 0), &policy),
            Err(OcspProblem::NotYetValid(_))
        ));
        // Another certificate of the same CA is not what it answers for.
        let other = Certificate::from_pem(include_bytes!("../../../tests/data/nca-test/individual_sign_rsa.pem")).unwrap();
        assert_eq!(check_ocsp_response(RESPONSE, &other, &ca, None, soon, &policy), Err(OcspProblem::NoAnswer));
        // Another CA did not authorise its responder.
        let gost = Certificate::from_pem(include_bytes!("../../../tests/data/nca-test/nca_gost_test.pem")).unwrap();
        assert!(matches!(check_ocsp_response(RESPONSE, &asked_about(), &gost, None, soon, &policy), Err(OcspProblem::NotAuthorised(_))));
        // A flipped bit in the signed data.
        let mut bad = RESPONSE.to_vec();
        let produced = bad.windows(4).position(|w| w == b"2022").unwrap();
        bad[produced + 3] ^= 1;
        assert!(matches!(check_ocsp_response(&bad, &asked_about(), &ca, None, soon, &policy), Err(OcspProblem::Signature(_))));
    }

    #[test]
    fn the_authoritys_crl_answers_for_its_entries() {
        let ca = Certificate::from_pem(CA).unwrap();
        let crl = Crl::verified(CRL, &ca).unwrap();
        assert!(!crl.is_delta());
        let (serial, entry) = crl.entries.iter().next().map(|(s, e)| (s.clone(), *e)).unwrap();
        let (status, source) = crl_status(&serial, &crl, None).unwrap();
        assert_eq!(source, StatusSource::Crl);
        assert!(matches!(status, CertStatus::Revoked { revoked_at, .. } if revoked_at == entry.revoked_at));
        assert_eq!(crl_status(&Serial::parse("01").unwrap(), &crl, None).unwrap().0, CertStatus::Good);
        // Signed by another CA: refused.
        let gost = Certificate::from_pem(include_bytes!("../../../tests/data/nca-test/nca_gost_test.pem")).unwrap();
        assert!(matches!(Crl::verified(CRL, &gost), Err(CrlProblem::Signature(_))));
        // Stale after its nextUpdate (and a supplied stale CRL does not answer).
        let next = calendar::unix_seconds(&crl.next_update().unwrap());
        assert!(matches!(crl.check_current(next + 3600, 300), Err(CrlProblem::Stale(_))));
        let checker = RevocationChecker::new(RevocationPolicy { mode: RevocationMode::Crl, ..RevocationPolicy::default() }, None);
        checker.add_crl(CRL, &ca).unwrap();
        let mut cert = asked_about();
        cert.tbs_certificate.serial_number =
            x509_cert::serial_number::SerialNumber::new(&hex::decode(serial.to_string()).unwrap()).unwrap();
        let when = calendar::from_unix_seconds(next - 60).unwrap();
        // The certificate names a delta CRL too, and none can be had: status unknown.
        let r = checker.check(&cert, &ca, when);
        assert!(matches!(&r, Err(Problem::StatusUnknown(e)) if e.contains("delta")), "{r:?}");
        cert.tbs_certificate.extensions.as_mut().unwrap().retain(|e| e.extn_id != oid::EXT_FRESHEST_CRL);
        assert!(matches!(checker.check(&cert, &ca, when), Err(Problem::Revoked { by: StatusSource::Crl, .. })));
        let later = calendar::from_unix_seconds(next + 3600).unwrap();
        assert!(matches!(checker.check(&cert, &ca, later), Err(Problem::StatusUnknown(_))));
    }

    #[test]
    fn a_delta_crl_revokes_and_lifts_holds_on_top_of_its_base() {
        let entry = |code| Entry { revoked_at: at(2024, 1, 1, 0, 0), reason: Some(code) };
        let serial = |s: &str| Serial::parse(s).unwrap();
        let full = Crl {
            this_update: at(2024, 1, 1, 0, 0),
            next_update: None,
            number: Some(vec![5]),
            delta_base: None,
            entries: HashMap::from([(serial("0a"), entry(6)), (serial("0b"), entry(1))]),
        };
        let delta = Crl {
            number: Some(vec![6]),
            delta_base: Some(vec![5]),
            entries: HashMap::from([(serial("0a"), entry(REMOVE_FROM_CRL)), (serial("0c"), entry(1))]),
            ..full.clone()
        };
        assert_eq!(crl_status(&serial("0a"), &full, Some(&delta)).unwrap(), (CertStatus::Good, StatusSource::DeltaCrl));
        assert!(matches!(crl_status(&serial("0b"), &full, Some(&delta)).unwrap(), (CertStatus::Revoked { .. }, StatusSource::Crl)));
        assert!(matches!(crl_status(&serial("0c"), &full, Some(&delta)).unwrap(), (CertStatus::Revoked { .. }, StatusSource::DeltaCrl)));
        assert_eq!(crl_status(&serial("0c"), &full, None).unwrap().0, CertStatus::Good);
        let ahead = Crl { delta_base: Some(vec![7]), number: Some(vec![8]), ..delta.clone() };
        assert_eq!(crl_status(&serial("0c"), &full, Some(&ahead)), Err(CrlProblem::DeltaBase));
        assert_eq!(crl_status(&serial("0c"), &delta, None), Err(CrlProblem::WrongKind("full")));
    }
}
