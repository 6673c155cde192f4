//! The responder engine: request in, signed response out.

use crate::cache::Cache;
use bytes::Bytes;
use der::asn1::{GeneralizedTime, Null, OctetString};
use der::{Decode, Encode};
use pki::model::{Family, RevocationReason};
use pki::oid;
use pki::signing::Signer;
use sha1::{Digest, Sha1};
use sha2::Sha256;
use std::time::Duration;
use x509_cert::ext::pkix::crl::CrlReason;
use x509_cert::ext::Extension;
use x509_cert::Certificate;
use x509_ocsp::{
    CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

/// Largest request accepted, bytes (a request for a few CertIDs is under 1 KiB).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;
/// Most CertIDs answered in one request.
pub const MAX_CERT_IDS: usize = 64;
/// Longest nonce accepted, bytes (RFC 9654).
pub const MAX_NONCE: usize = 128;
/// The share of the cache budget for answers about serials this CA never issued.
const UNKNOWN_SHARE: usize = 8;

/// A certificate's status as the authority's records say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertState {
    /// Issued and not revoked.
    Good,
    /// Revoked (or on hold) at `at` (Unix seconds).
    Revoked {
        /// When.
        at: i64,
        /// Why.
        reason: RevocationReason,
    },
    /// Never issued by this CA.
    Unknown,
}

/// The status could not be learnt (the database failed): the answer is
/// `internalError`, never a guess.
#[derive(Debug, thiserror::Error)]
#[error("certificate status unavailable: {0}")]
pub struct StatusUnavailable(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// Where the responder learns statuses (the CA database in the server).
pub trait StatusSource: Send + Sync {
    /// The status of the certificate with this serial (DER INTEGER content bytes)
    /// issued by `family`'s issuing CA.
    fn status(&self, family: Family, serial: &[u8]) -> Result<CertState, StatusUnavailable>;
}

/// How an answer may be cached by HTTP caches (RFC 5019 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Valid from `this_update` to `next_update` (Unix seconds), the same for anyone.
    Cacheable {
        /// thisUpdate.
        this_update: i64,
        /// nextUpdate.
        next_update: i64,
        /// An entity tag for the response (RFC 9110 §8.8.3): the quoted hex SHA-1
        /// of its DER, computed once when it was signed.
        etag: Bytes,
    },
    /// Answers that must not be cached: nonce answers and errors.
    NoStore,
}

/// A response ready to send.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The OCSPResponse, DER.
    pub der: Bytes,
    /// How long it may be cached.
    pub freshness: Freshness,
}

#[derive(Clone)]
struct Cached {
    serial: Vec<u8>,
    der: Bytes,
    this_update: i64,
    next_update: i64,
    etag: Bytes,
}

struct IssuerHashes {
    algorithm: der::asn1::ObjectIdentifier,
    name: Vec<u8>,
    key: Vec<u8>,
}

/// An issuing CA the responder answers for, and its delegated responder.
pub struct ResponderCa {
    /// The issuing CA's certificate: a request's CertID names it by hashes.
    pub issuer: Certificate,
    /// The delegated responder's certificate, included in every response.
    pub responder: Certificate,
    /// The responder's key.
    pub signer: Box<dyn Signer>,
}

/// One CA as the responder keeps it: what identifies it, how it signs.
struct Answering {
    family: Family,
    hashes: [IssuerHashes; 2],
    responder_id: ResponderId,
    tail: Tail,
    signer: Box<dyn Signer>,
}

/// The OCSP responder: one endpoint for the issuing CAs of both hierarchies. The
/// CertID's issuer hashes pick the CA; its delegated responder signs the answer.
pub struct Responder {
    cas: Vec<Answering>,
    source: Box<dyn StatusSource>,
    validity: i64,
    /// Answers for certificates this CA issued.
    known: Cache<Cached>,
    /// Answers for serials it never issued: a flood of them cannot evict the others.
    unknown: Cache<Cached>,
}

/// One answer inside a response.
struct Single {
    cert_id: CertId,
    status: CertStatus,
}

enum Refusal {
    Malformed,
    Unauthorized,
    Internal,
    TryLater,
}

impl Answering {
    fn new(ca: ResponderCa) -> Result<Self, der::Error> {
        let ResponderCa { issuer, responder, signer } = ca;
        let spki = &issuer.tbs_certificate.subject_public_key_info;
        let family = Family::of_key(&spki.algorithm.oid).ok_or_else(|| der::Tag::ObjectIdentifier.value_error())?;
        let name = issuer.tbs_certificate.subject.to_der()?;
        let key = spki.subject_public_key.raw_bytes();
        let hashes = |algorithm, name_hash: Vec<u8>, key_hash: Vec<u8>| IssuerHashes { algorithm, name: name_hash, key: key_hash };
        let responder_key = responder.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
        let tail = Tail {
            algorithm: signer.algorithm().to_der()?,
            certs: tlv(0xa0, &[&tlv(0x30, &[&responder.to_der()?])]),
            basic_oid: oid::OCSP_BASIC.to_der()?,
        };
        Ok(Answering {
            family,
            hashes: [
                hashes(oid::SHA1, Sha1::digest(&name).to_vec(), Sha1::digest(key).to_vec()),
                hashes(oid::SHA256, Sha256::digest(&name).to_vec(), Sha256::digest(key).to_vec()),
            ],
            responder_id: ResponderId::ByKey(OctetString::new(Sha1::digest(responder_key).to_vec())?),
            tail,
            signer,
        })
    }

    fn issued(&self, id: &CertId) -> bool {
        // Parameters may be NULL or absent (RFC 6960 is silent; clients differ).
        let params_ok = id.hash_algorithm.parameters.as_ref().is_none_or(|p| p.is_null());
        params_ok
            && self.hashes.iter().any(|h| {
                h.algorithm == id.hash_algorithm.oid && h.name == id.issuer_name_hash.as_bytes() && h.key == id.issuer_key_hash.as_bytes()
            })
    }
}

impl Responder {
    /// A responder for certificates of the issuing CAs `cas` (at most one per
    /// family), each answer signed by its CA's delegated responder whose
    /// certificate is included. Responses are valid for `validity`; signed answers
    /// are kept for reuse within `cache_bytes` (an eighth of it for serials no CA
    /// here issued).
    pub fn new(cas: Vec<ResponderCa>, source: Box<dyn StatusSource>, validity: Duration, cache_bytes: usize) -> Result<Self, der::Error> {
        Ok(Responder {
            cas: cas.into_iter().map(Answering::new).collect::<Result<_, _>>()?,
            source,
            validity: validity.as_secs().max(1) as i64,
            known: Cache::new(cache_bytes - cache_bytes / UNKNOWN_SHARE),
            unknown: Cache::new(cache_bytes / UNKNOWN_SHARE),
        })
    }

    /// Answer a DER request at `now` (Unix seconds). Never fails: what cannot be
    /// answered gets the matching OCSP error status.
    pub fn respond(&self, request: &[u8], now: i64) -> Answer {
        self.respond_within(request, now, &|| true)
    }

    /// Answer as [`Responder::respond`], asking `may_sign` before any answer that
    /// is not in the cache (the costly part: a status lookup and a signature).
    /// When it says no, the answer is `tryLater`: a per-client limit on live
    /// signatures keeps random serials and nonces from taking the CPU.
    pub fn respond_within(&self, request: &[u8], now: i64, may_sign: &dyn Fn() -> bool) -> Answer {
        match self.try_respond(request, now, may_sign) {
            Ok(answer) => answer,
            Err(Refusal::Malformed) => error_answer(OcspResponse::malformed_request()),
            Err(Refusal::Unauthorized) => error_answer(OcspResponse::unauthorized()),
            Err(Refusal::Internal) => error_answer(OcspResponse::internal_error()),
            Err(Refusal::TryLater) => error_answer(OcspResponse::try_later()),
        }
    }

    /// Drop cached answers for these serials (lowercase hex), whose status changed.
    pub fn invalidate(&self, serials: &[pki::model::Serial]) {
        if serials.is_empty() {
            return;
        }
        let wanted: std::collections::HashSet<Vec<u8>> = serials.iter().filter_map(|s| hex::decode(s.as_str()).ok()).collect();
        for cache in [&self.known, &self.unknown] {
            cache.retain(|c| !wanted.contains(&c.serial));
        }
    }

    /// How many answers are cached.
    pub fn cached(&self) -> usize {
        self.known.len() + self.unknown.len()
    }

    /// How many bytes of answers are cached (at most the budget given to [`Responder::new`]).
    pub fn cached_bytes(&self) -> usize {
        self.known.bytes() + self.unknown.bytes()
    }

    fn try_respond(&self, request: &[u8], now: i64, may_sign: &dyn Fn() -> bool) -> Result<Answer, Refusal> {
        if request.is_empty() || request.len() > MAX_REQUEST_BYTES {
            return Err(Refusal::Malformed);
        }
        let req = OcspRequest::from_der(request).map_err(|_| Refusal::Malformed)?;
        let tbs = &req.tbs_request;
        if tbs.version != Version::V1 || tbs.request_list.is_empty() || tbs.request_list.len() > MAX_CERT_IDS {
            return Err(Refusal::Malformed);
        }
        let nonce = nonce_extension(tbs.request_extensions.as_deref())?;
        let single = tbs.request_list.len() == 1 && nonce.is_none();
        let key = if single { Some(tbs.request_list[0].req_cert.to_der().map_err(|_| Refusal::Malformed)?) } else { None };
        if let Some(k) = &key {
            if let Some(hit) = self.known.get(k).or_else(|| self.unknown.get(k)) {
                if now < hit.this_update + self.validity / 2 && now >= hit.this_update {
                    return Ok(Answer {
                        der: hit.der,
                        freshness: Freshness::Cacheable { this_update: hit.this_update, next_update: hit.next_update, etag: hit.etag },
                    });
                }
            }
        }
        if !may_sign() {
            return Err(Refusal::TryLater);
        }
        // The first CertID picks the CA; one response is signed by one responder,
        // so every CertID must name that same CA.
        let ca = self.cas.iter().find(|c| c.issued(&tbs.request_list[0].req_cert)).ok_or(Refusal::Unauthorized)?;
        let mut singles = Vec::with_capacity(tbs.request_list.len());
        for r in &tbs.request_list {
            let id = &r.req_cert;
            if !ca.issued(id) {
                return Err(Refusal::Unauthorized);
            }
            let status = match self.source.status(ca.family, id.serial_number.as_bytes()).map_err(|_| Refusal::Internal)? {
                CertState::Good => CertStatus::Good(Null),
                CertState::Unknown => CertStatus::Unknown(Null),
                CertState::Revoked { at, reason } => {
                    CertStatus::Revoked(RevokedInfo { revocation_time: time(at)?, revocation_reason: Some(crl_reason(reason)) })
                }
            };
            singles.push(Single { cert_id: id.clone(), status });
        }
        let serial = singles[0].cert_id.serial_number.as_bytes().to_vec();
        let issued_by_us = !matches!(singles[0].status, CertStatus::Unknown(_));
        let der = ca.sign(singles, nonce, now, self.validity)?;
        let (this_update, next_update) = (now, now + self.validity);
        if nonce.is_some() {
            return Ok(Answer { der, freshness: Freshness::NoStore });
        }
        let etag = Bytes::from(format!("\"{}\"", hex::encode(Sha1::digest(&der))));
        if let Some(k) = key {
            let cache = if issued_by_us { &self.known } else { &self.unknown };
            let bytes = der.len() + etag.len() + serial.len();
            cache.insert(k, Cached { serial, der: der.clone(), this_update, next_update, etag: etag.clone() }, bytes);
        }
        let freshness = Freshness::Cacheable { this_update, next_update, etag };
        Ok(Answer { der, freshness })
    }
}

impl Answering {
    fn sign(&self, singles: Vec<Single>, nonce: Option<&Extension>, now: i64, validity: i64) -> Result<Bytes, Refusal> {
        let this_update = time(now)?;
        let next_update = time(now + validity)?;
        let responses = singles
            .into_iter()
            .map(|s| SingleResponse {
                cert_id: s.cert_id,
                cert_status: s.status,
                this_update,
                next_update: Some(next_update),
                single_extensions: None,
            })
            .collect();
        let data = ResponseData {
            version: Version::V1,
            responder_id: self.responder_id.clone(),
            produced_at: this_update,
            responses,
            response_extensions: nonce.map(|n| vec![n.clone()]),
        };
        let tbs = data.to_der().map_err(|_| Refusal::Internal)?;
        let signature = self.signer.sign(&tbs).map_err(|_| Refusal::Internal)?;
        // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm,
        //   signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate }
        // assembled around the pre-encoded algorithm and certificate: on the live
        // path everything but the signature is a few copies.
        let mut bits = Vec::with_capacity(signature.len() + 1);
        bits.push(0);
        bits.extend_from_slice(&signature);
        let basic = tlv(0x30, &[&tbs, &self.tail.algorithm, &tlv(0x03, &[&bits]), &self.tail.certs]);
        // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED successful,
        //   responseBytes [0] EXPLICIT SEQUENCE { responseType, response OCTET STRING } }
        let bytes = tlv(0x30, &[&self.tail.basic_oid, &tlv(0x04, &[&basic])]);
        Ok(Bytes::from(tlv(0x30, &[&[0x0a, 0x01, 0x00], &tlv(0xa0, &[&bytes])])))
    }
}

/// The request's nonce extension, checked: 1 to [`MAX_NONCE`] bytes.
fn nonce_extension(exts: Option<&[Extension]>) -> Result<Option<&Extension>, Refusal> {
    let Some(ext) = exts.into_iter().flatten().find(|e| e.extn_id == oid::OCSP_NONCE) else {
        return Ok(None);
    };
    // RFC 8954: the value is an OCTET STRING inside extnValue; older clients put
    // the raw bytes there. Either way, at most MAX_NONCE bytes of nonce.
    let raw = ext.extn_value.as_bytes();
    let len = OctetString::from_der(raw).map(|o| o.as_bytes().len()).unwrap_or(raw.len());
    if len == 0 || len > MAX_NONCE {
        return Err(Refusal::Malformed);
    }
    Ok(Some(ext))
}

fn time(secs: i64) -> Result<OcspGeneralizedTime, Refusal> {
    let secs = u64::try_from(secs).map_err(|_| Refusal::Internal)?;
    GeneralizedTime::from_unix_duration(Duration::from_secs(secs)).map(OcspGeneralizedTime).map_err(|_| Refusal::Internal)
}

fn crl_reason(r: RevocationReason) -> CrlReason {
    match r {
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::CertificateHold => CrlReason::CertificateHold,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
        RevocationReason::AaCompromise => CrlReason::AaCompromise,
    }
}

/// A DER TLV of `tag` around the concatenated `parts`.
fn tlv(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    pki::crl::push_header(&mut out, tag, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// The parts of every response that never change, encoded once.
struct Tail {
    /// The signature AlgorithmIdentifier.
    algorithm: Vec<u8>,
    /// `[0] EXPLICIT SEQUENCE { responder certificate }`.
    certs: Vec<u8>,
    /// The id-pkix-ocsp-basic OBJECT IDENTIFIER.
    basic_oid: Vec<u8>,
}

/// The `tryLater` answer, for a responder that cannot sign now.
pub fn try_later() -> Answer {
    error_answer(OcspResponse::try_later())
}

fn error_answer(response: OcspResponse) -> Answer {
    // An error response is a status byte in two SEQUENCE layers: it always encodes.
    let der = response.to_der().unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, 0x02]);
    Answer { der: Bytes::from(der), freshness: Freshness::NoStore }
}
