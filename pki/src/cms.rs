//! CMS SignedData (RFC 5652) in the CAdES-BES shape the authority's clients use:
//! detached content, RSA with SHA-256, and the signed attributes contentType,
//! signingTime, messageDigest and signingCertificateV2 (RFC 5035), which binds the
//! signature to the one certificate it was made with.
//!
//! [`SignedDocument`] reads any SignedData (attached or detached, one or several
//! signers, RSA or GOST, DER or BER) and checks each signer's cryptography;
//! [`verify_document`] then judges each signer's certificate as a relying party
//! would (path, purpose, revocation). [`verify_detached`] is the registration
//! authority's stricter reading of the requests it accepts: whether the signer may
//! do what it signed is the RA's decision.

use crate::calendar;
use crate::oid;
use crate::signing::{Signer, SigningError};
use crate::verify::{self, Checks, PathError, Purpose, SignatureError, Verdict, Verifier};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos};
use der::asn1::{Any, ObjectIdentifier as Oid, OctetString, SetOfVec};
use der::{DateTime, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use thiserror::Error;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::time::Time;
use x509_cert::Certificate;

/// The largest signature accepted: a signer certificate and a 8192-bit signature
/// fit many times over.
pub const MAX_CMS_BYTES: usize = 64 * 1024;

/// Why a CMS signature was not accepted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CmsError {
    /// Not DER, or not SignedData.
    #[error("not a CMS SignedData signature: {0}")]
    Malformed(String),
    /// Larger than [`MAX_CMS_BYTES`].
    #[error("the signature is {0} bytes, more than the {MAX_CMS_BYTES} accepted")]
    TooLarge(usize),
    /// Zero or several signers.
    #[error("the signature must have exactly one signer, it has {0}")]
    SignerCount(usize),
    /// The content is inside the signature.
    #[error("the signature must be detached: sign the request bytes without embedding them")]
    NotDetached,
    /// The content is both inside the signature and given beside it.
    #[error("the signature already holds its content: do not give it separately")]
    ContentTwice,
    /// Detached, and the content was not given.
    #[error("the signature is detached: give the signed content too")]
    NoContent,
    /// A digest algorithm not accepted here.
    #[error("digest algorithm {0} is not accepted (SHA-256, SHA-384, SHA-512, GOST 34.311, Streebog-512 are)")]
    Digest(Oid),
    /// A required signed attribute is absent or malformed.
    #[error("the signed attribute {0} is missing or malformed")]
    Attribute(&'static str),
    /// The content was changed after signing.
    #[error("the request does not match the signature's message digest: it was changed after signing")]
    DigestMismatch,
    /// The signer's certificate is not in the signature.
    #[error("the signer's certificate is not included in the signature")]
    NoSignerCertificate,
    /// signingCertificateV2 names another certificate.
    #[error("signingCertificateV2 does not name the included signer certificate")]
    SigningCertificateMismatch,
    /// The signature does not verify with the certificate's key.
    #[error("signature: {0}")]
    Signature(#[from] SignatureError),
    /// A time-stamp token that does not verify or stamps something else.
    #[error("time-stamp: {0}")]
    TimeStamp(String),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

impl CmsError {
    /// A stable snake_case code for programs: `content_changed`, `bad_signature`, …
    pub fn code(&self) -> &'static str {
        match self {
            CmsError::Malformed(_) => "cms_malformed",
            CmsError::TooLarge(_) => "cms_too_large",
            CmsError::SignerCount(_) => "signer_count",
            CmsError::NotDetached => "not_detached",
            CmsError::ContentTwice => "content_twice",
            CmsError::NoContent => "no_content",
            CmsError::Digest(_) => "digest_algorithm",
            CmsError::Attribute(_) => "signed_attribute",
            CmsError::DigestMismatch => "content_changed",
            CmsError::NoSignerCertificate => "no_signer_certificate",
            CmsError::SigningCertificateMismatch => "signing_certificate_mismatch",
            CmsError::Signature(_) => "bad_signature",
            CmsError::TimeStamp(_) => "bad_time_stamp",
            CmsError::Signing(_) => "signing",
        }
    }
}

impl From<der::Error> for CmsError {
    fn from(e: der::Error) -> Self {
        CmsError::Malformed(e.to_string())
    }
}

/// ESSCertIDv2 (RFC 5035 §3): hashAlgorithm DEFAULT sha256 is left out when writing.
#[derive(Clone, Debug, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// SigningCertificateV2 (RFC 5035 §3).
#[derive(Clone, Debug, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

fn attribute(oid: Oid, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// Who signed, as the signature says; not yet judged against any policy.
#[derive(Clone, Debug)]
pub struct SignedBy {
    /// The signer's certificate, taken from the signature.
    pub certificate: Certificate,
    /// The signingTime attribute, when signed.
    pub signing_time: Option<DateTime>,
    /// Whether signingCertificate(V2) binds the signature to this certificate.
    pub certificate_bound: bool,
    /// The digest algorithm of the content.
    pub digest_algorithm: Oid,
    /// A signature time-stamp (CAdES-T), its token checked against the signature.
    pub time_stamp: Option<Box<TimeStamp>>,
}

/// A time-stamp token (RFC 3161) whose signature and imprint verified: when a
/// time-stamp authority saw the data. Its certificate is judged apart.
#[derive(Clone, Debug)]
pub struct TimeStamp {
    /// When the authority saw the data.
    pub gen_time: DateTime,
    /// The token's serial number.
    pub serial: crate::model::Serial,
    /// The authority's policy.
    pub policy: Oid,
    /// The nonce it echoed, big-endian.
    pub nonce: Option<Vec<u8>>,
    /// Who signed the token: the time-stamp authority.
    pub tsa: SignedBy,
    /// The certificates the token carries.
    pub certificates: Vec<Certificate>,
}

impl TimeStamp {
    /// What the authority's certificate is checked for: time-stamping, at the
    /// stamp's time (which the authority itself claims: any revocation counts).
    pub fn checks(&self, now: DateTime) -> Checks {
        Checks { purpose: Purpose::TimeStamping, at: self.gen_time, at_is_proven: false, now }
    }
}

/// MessageImprint (RFC 3161 §2.4.1).
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct MessageImprint {
    /// The hash algorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// The hash.
    pub hashed_message: OctetString,
}

impl MessageImprint {
    /// The imprint of `data` under `alg`.
    pub fn of(alg: Oid, data: &[u8]) -> Result<Self, CmsError> {
        let hash = digest(alg, data).ok_or(CmsError::Digest(alg))?;
        Ok(MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned { oid: alg, parameters: None },
            hashed_message: OctetString::new(hash)?,
        })
    }

    /// Whether this is the imprint of `data`.
    pub fn matches(&self, data: &[u8]) -> bool {
        digest(self.hash_algorithm.oid, data).is_some_and(|h| h == self.hashed_message.as_bytes())
    }
}

/// TSTInfo (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
pub struct TstInfo {
    /// 1.
    pub version: u8,
    /// The authority's policy.
    pub policy: Oid,
    /// What was stamped.
    pub message_imprint: MessageImprint,
    /// Unique per token.
    pub serial_number: der::asn1::Uint,
    /// When.
    pub gen_time: der::asn1::GeneralizedTime,
    /// How accurate `gen_time` is.
    #[asn1(optional = "true")]
    pub accuracy: Option<Any>,
    /// Whether tokens are ordered by time.
    #[asn1(default = "Default::default")]
    pub ordering: bool,
    /// The requester's nonce.
    #[asn1(optional = "true")]
    pub nonce: Option<der::asn1::Uint>,
    /// The authority's name.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub tsa: Option<Any>,
    /// Extensions.
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Vec<x509_cert::ext::Extension>>,
}

/// Check a time-stamp token (a SignedData over a TSTInfo) that stamps `stamped`:
/// its signature and signed attributes, and its imprint. The authority's
/// certificate is returned to be judged (purpose time-stamping, at `gen_time`).
pub fn check_time_stamp_token(token: &[u8], stamped: &[u8]) -> Result<TimeStamp, CmsError> {
    let doc = SignedDocument::read(token, None).map_err(|e| CmsError::TimeStamp(format!("the token: {e}")))?;
    if doc.data.encap_content_info.econtent_type != oid::CT_TST_INFO {
        return Err(CmsError::TimeStamp("the token holds no TSTInfo".into()));
    }
    if doc.signer_count() != 1 {
        return Err(CmsError::TimeStamp(format!("the token has {} signers", doc.signer_count())));
    }
    let tsa = doc.check_signers().map_err(|e| CmsError::TimeStamp(format!("the token's signature: {e}")))?.remove(0);
    if !tsa.certificate_bound {
        return Err(CmsError::TimeStamp("the token names no signing certificate (RFC 3161 §2.4.2)".into()));
    }
    let info = TstInfo::from_der(&doc.content).map_err(|e| CmsError::TimeStamp(format!("the TSTInfo: {e}")))?;
    if !info.message_imprint.matches(stamped) {
        return Err(CmsError::TimeStamp("the token stamps other data".into()));
    }
    Ok(TimeStamp {
        gen_time: info.gen_time.to_date_time(),
        serial: crate::model::Serial::from_der_bytes(info.serial_number.as_bytes()),
        policy: info.policy,
        nonce: info.nonce.map(|n| n.as_bytes().to_vec()),
        certificates: doc.certificates().to_vec(),
        tsa,
    })
}

/// The digest algorithm a signer's algorithm goes with: SHA-256 for RSA,
/// Streebog-512 for GOST 34.10-2015, GOST 34.311 for GOST 34.310-2004.
fn digest_for(signature: &AlgorithmIdentifierOwned) -> Oid {
    match crate::gost::Algorithm::of_signature(signature.oid) {
        Some(crate::gost::Algorithm::Gost2015) => oid::STREEBOG_512,
        Some(crate::gost::Algorithm::Gost2004) => oid::GOST_34311,
        None => oid::SHA256,
    }
}

/// The digest of `data` under `alg`, if this library knows it (SHA-2, and the
/// national GOST hashes; SHA-1 is refused).
pub fn digest(alg: Oid, data: &[u8]) -> Option<Vec<u8>> {
    Some(match alg {
        oid::SHA256 => Sha256::digest(data).to_vec(),
        oid::SHA384 => sha2::Sha384::digest(data).to_vec(),
        oid::SHA512 => sha2::Sha512::digest(data).to_vec(),
        oid::STREEBOG_512 | oid::STREEBOG_512_TC26 => crate::gost::streebog512(data).to_vec(),
        oid::GOST_34311 => {
            use gost94::Digest as _;
            gost94::Gost94Test::digest(data).to_vec()
        }
        _ => return None,
    })
}

/// Whether the content goes inside the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// Inside (attached): the signature is the document.
    Attached,
    /// Beside it (detached): the signature covers a file kept apart.
    Detached,
}

/// Sign `content` with `signer`, whose certificate is `cert`, at `at`, as
/// CAdES-BES: contentType, signingTime, messageDigest and signingCertificateV2,
/// the certificate and `chain` included.
pub fn sign(
    content: &[u8],
    how: Content,
    signer: &dyn Signer,
    cert: &Certificate,
    chain: &[Certificate],
    at: DateTime,
) -> Result<Vec<u8>, CmsError> {
    sign_typed(content, oid::CT_DATA, how, signer, cert, Some(chain), Some(at), None)
}

/// Something that time-stamps a signature value: returns the token (a ContentInfo, DER).
pub type Stamp<'a> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, CmsError>;

/// As [`sign`], then time-stamped (CAdES-T): `stamp` gets the signature value and
/// its token goes in as the unsigned attribute signatureTimeStampToken.
pub fn sign_time_stamped(
    content: &[u8],
    how: Content,
    signer: &dyn Signer,
    cert: &Certificate,
    chain: &[Certificate],
    at: DateTime,
    stamp: Stamp<'_>,
) -> Result<Vec<u8>, CmsError> {
    sign_typed(content, oid::CT_DATA, how, signer, cert, Some(chain), Some(at), Some(stamp))
}

/// A SignedData of `content_type` (data, or a time-stamp authority's TSTInfo)
/// carrying `cert` and then `chain`, or no certificate at all for `None` (`cert`
/// is still named by signingCertificateV2).
#[allow(clippy::too_many_arguments)]
pub(crate) fn sign_typed(
    content: &[u8],
    content_type: Oid,
    how: Content,
    signer: &dyn Signer,
    cert: &Certificate,
    chain: Option<&[Certificate]>,
    signing_time: Option<DateTime>,
    stamp: Option<Stamp<'_>>,
) -> Result<Vec<u8>, CmsError> {
    let cert_hash = Sha256::digest(cert.to_der()?);
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 { hash_algorithm: None, cert_hash: OctetString::new(cert_hash.to_vec())?, issuer_serial: None }],
        policies: None,
    };
    let algorithm = signer.algorithm();
    let digest_alg = digest_for(&algorithm);
    let message_digest = digest(digest_alg, content).ok_or(CmsError::Digest(digest_alg))?;
    let mut attrs = vec![attribute(oid::ATTR_CONTENT_TYPE, Any::encode_from(&content_type)?)?];
    if let Some(at) = signing_time {
        let time = calendar::x509_time(at).map_err(|e| CmsError::Malformed(e.to_string()))?;
        attrs.push(attribute(oid::ATTR_SIGNING_TIME, Any::encode_from(&time)?)?);
    }
    attrs.push(attribute(oid::ATTR_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(message_digest)?)?)?);
    attrs.push(attribute(oid::ATTR_SIGNING_CERTIFICATE_V2, Any::encode_from(&signing_cert)?)?);
    let attrs: Attributes = SetOfVec::try_from(attrs)?;
    let signature = signer.sign(&attrs.to_der()?)?;
    let unsigned_attrs = match stamp {
        Some(stamp) => {
            let token = Any::from_der(&stamp(&signature)?)?;
            Some(SetOfVec::try_from(vec![attribute(oid::ATTR_SIGNATURE_TIME_STAMP, token)?])?)
        }
        None => None,
    };
    let digest_id = AlgorithmIdentifierOwned { oid: digest_alg, parameters: None };
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_id.clone(),
        signed_attrs: Some(attrs),
        signature_algorithm: algorithm,
        signature: OctetString::new(signature)?,
        unsigned_attrs,
    };
    let econtent = match how {
        Content::Attached => Some(Any::encode_from(&OctetString::new(content)?)?),
        Content::Detached => None,
    };
    let certificates = match chain {
        Some(chain) => {
            let all = std::iter::once(cert).chain(chain).map(|c| CertificateChoices::Certificate(c.clone())).collect::<Vec<_>>();
            Some(CertificateSet(SetOfVec::try_from(all)?))
        }
        None => None,
    };
    let data = SignedData {
        // RFC 5652 §5.1: version 3 for any content type other than data.
        version: if content_type == oid::CT_DATA { CmsVersion::V1 } else { CmsVersion::V3 },
        digest_algorithms: SetOfVec::try_from(vec![digest_id])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: content_type, econtent },
        certificates,
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![info])?),
    };
    Ok(ContentInfo { content_type: oid::CT_SIGNED_DATA, content: Any::encode_from(&data)? }.to_der()?)
}

/// Sign `content` detached with `signer`, whose certificate is `cert`, at `at`:
/// the signed requests of holders and operators.
pub fn sign_detached(content: &[u8], signer: &dyn Signer, cert: &Certificate, at: DateTime) -> Result<Vec<u8>, CmsError> {
    sign(content, Content::Detached, signer, cert, &[], at)
}

fn single_value<'a>(attrs: &'a Attributes, oid: Oid, name: &'static str) -> Result<Option<&'a Any>, CmsError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = found.next() else { return Ok(None) };
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(CmsError::Attribute(name));
    }
    attr.values.get(0).map(Some).ok_or(CmsError::Attribute(name))
}

/// ESSCertID (RFC 2634 §5.4.1): SHA-1 of the certificate.
#[derive(Clone, Debug, Sequence)]
struct EssCertId {
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<Any>,
}

/// SigningCertificate (RFC 2634 §5.4).
#[derive(Clone, Debug, Sequence)]
struct SigningCertificate {
    certs: Vec<EssCertId>,
    #[asn1(optional = "true")]
    policies: Option<Any>,
}

/// A parsed SignedData: the content, its certificates, and its signers.
pub struct SignedDocument {
    /// The SignedData, its certificates taken out into `certificates`.
    data: SignedData,
    certificates: Vec<Certificate>,
    /// The content: inside the signature, or given beside it.
    pub content: Vec<u8>,
    /// Whether the content was inside.
    pub attached: bool,
}

/// A ContentInfo from DER, or from BER as some writers make it.
pub(crate) fn content_info(bytes: &[u8]) -> Result<ContentInfo, der::Error> {
    match ContentInfo::from_der(bytes) {
        Ok(info) => Ok(info),
        Err(e) => {
            let der = crate::ber::to_der(bytes).map_err(|_| e)?;
            ContentInfo::from_der(&der)
        }
    }
}

impl SignedDocument {
    /// Read a CMS SignedData (DER, or BER as some writers make it); `detached` is
    /// the content when it is not inside.
    pub fn read(cms: &[u8], detached: Option<&[u8]>) -> Result<Self, CmsError> {
        let info = content_info(cms)?;
        if info.content_type != oid::CT_SIGNED_DATA {
            return Err(CmsError::Malformed(format!("content type {} is not signedData", info.content_type)));
        }
        let mut data: SignedData = info.content.decode_as()?;
        let inside = match &data.encap_content_info.econtent {
            Some(any) => Some(any.decode_as::<OctetString>()?.into_bytes()),
            None => None,
        };
        let (content, attached) = match (inside, detached) {
            (Some(c), None) => (c, true),
            (None, Some(d)) => (d.to_vec(), false),
            (Some(_), Some(_)) => return Err(CmsError::ContentTwice),
            (None, None) => return Err(CmsError::NoContent),
        };
        if data.signer_infos.0.is_empty() {
            return Err(CmsError::SignerCount(0));
        }
        let certificates = data
            .certificates
            .take()
            .into_iter()
            .flat_map(|set| set.0.into_vec())
            .filter_map(|c| match c {
                CertificateChoices::Certificate(c) => Some(c),
                _ => None,
            })
            .collect();
        Ok(SignedDocument { data, certificates, content, attached })
    }

    /// The certificates the signature carries.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// How many signers.
    pub fn signer_count(&self) -> usize {
        self.data.signer_infos.0.len()
    }

    /// Check every signer's signature, digest and signed attributes: the first that
    /// fails is the error.
    pub fn check_signers(&self) -> Result<Vec<SignedBy>, CmsError> {
        self.data.signer_infos.0.iter().map(|si| self.check_signer(si, &self.certificates)).collect()
    }

    fn check_signer(&self, si: &SignerInfo, certs: &[Certificate]) -> Result<SignedBy, CmsError> {
        let certificate = certs
            .iter()
            .find(|c| match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(sid) => {
                    c.tbs_certificate.issuer == sid.issuer && c.tbs_certificate.serial_number == sid.serial_number
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => {
                    crate::verify::subject_key_identifier(c).is_some_and(|k| k == ski.0.as_bytes())
                }
            })
            .cloned()
            .ok_or(CmsError::NoSignerCertificate)?;
        let digest_alg = si.digest_alg.oid;
        let content_digest = digest(digest_alg, &self.content).ok_or(CmsError::Digest(digest_alg))?;
        let spki = &certificate.tbs_certificate.subject_public_key_info;
        let alg = match si.signature_algorithm.oid {
            // Many CMS writers (OpenSSL among them) name the key algorithm, not the pair.
            oid::RSA_ENCRYPTION => rsa_with(digest_alg).ok_or(CmsError::Digest(digest_alg))?,
            _ => si.signature_algorithm.clone(),
        };
        let Some(attrs) = &si.signed_attrs else {
            // No signed attributes: the signature is over the content itself.
            verify::verify_signature(spki, &alg, &self.content, si.signature.as_bytes())?;
            return Ok(SignedBy {
                certificate,
                signing_time: None,
                certificate_bound: false,
                digest_algorithm: digest_alg,
                time_stamp: None,
            });
        };
        let content_type: Oid = single_value(attrs, oid::ATTR_CONTENT_TYPE, "contentType")?
            .ok_or(CmsError::Attribute("contentType"))?
            .decode_as()
            .map_err(|_| CmsError::Attribute("contentType"))?;
        if content_type != self.data.encap_content_info.econtent_type {
            return Err(CmsError::Attribute("contentType"));
        }
        let message_digest: OctetString = single_value(attrs, oid::ATTR_MESSAGE_DIGEST, "messageDigest")?
            .ok_or(CmsError::Attribute("messageDigest"))?
            .decode_as()
            .map_err(|_| CmsError::Attribute("messageDigest"))?;
        if message_digest.as_bytes() != content_digest.as_slice() {
            return Err(CmsError::DigestMismatch);
        }
        let signing_time = match single_value(attrs, oid::ATTR_SIGNING_TIME, "signingTime")? {
            Some(v) => Some(Time::from_der(&v.to_der()?).map_err(|_| CmsError::Attribute("signingTime"))?.to_date_time()),
            None => None,
        };
        let cert_der = certificate.to_der()?;
        let mut certificate_bound = false;
        if let Some(v) = single_value(attrs, oid::ATTR_SIGNING_CERTIFICATE_V2, "signingCertificateV2")? {
            let sc: SigningCertificateV2 = v.decode_as().map_err(|_| CmsError::Attribute("signingCertificateV2"))?;
            let first = sc.certs.first().ok_or(CmsError::Attribute("signingCertificateV2"))?;
            let hash_alg = first.hash_algorithm.as_ref().map(|a| a.oid).unwrap_or(oid::SHA256);
            if digest(hash_alg, &cert_der).as_deref() != Some(first.cert_hash.as_bytes()) {
                return Err(CmsError::SigningCertificateMismatch);
            }
            certificate_bound = true;
        }
        if let Some(v) = single_value(attrs, oid::ATTR_SIGNING_CERTIFICATE, "signingCertificate")? {
            let sc: SigningCertificate = v.decode_as().map_err(|_| CmsError::Attribute("signingCertificate"))?;
            let first = sc.certs.first().ok_or(CmsError::Attribute("signingCertificate"))?;
            if first.cert_hash.as_bytes() != sha1::Sha1::digest(&cert_der).as_slice() {
                return Err(CmsError::SigningCertificateMismatch);
            }
            certificate_bound = true;
        }
        verify::verify_signature(spki, &alg, &attrs.to_der()?, si.signature.as_bytes())?;
        let time_stamp =
            match si.unsigned_attrs.as_ref().map(|u| single_value(u, oid::ATTR_SIGNATURE_TIME_STAMP, "signatureTimeStampToken")) {
                Some(Err(e)) => return Err(e),
                Some(Ok(Some(token))) => Some(Box::new(check_time_stamp_token(&token.to_der()?, si.signature.as_bytes())?)),
                _ => None,
            };
        Ok(SignedBy { certificate, signing_time, certificate_bound, digest_algorithm: digest_alg, time_stamp })
    }
}

/// shaNNNWithRSAEncryption for a SHA-2 digest.
fn rsa_with(digest: Oid) -> Option<AlgorithmIdentifierOwned> {
    let oid = match digest {
        oid::SHA256 => oid::SHA256_WITH_RSA,
        oid::SHA384 => oid::SHA384_WITH_RSA,
        oid::SHA512 => oid::SHA512_WITH_RSA,
        _ => return None,
    };
    Some(AlgorithmIdentifierOwned { oid, parameters: Some(Any::null()) })
}

/// Verify a detached signature `cms_der` over `content` as the registration
/// authority requires of the requests it accepts: one signer, SHA-256, signingTime
/// and signingCertificateV2. Only the cryptography: the signer's standing is the
/// RA's decision.
pub fn verify_detached(cms_der: &[u8], content: &[u8]) -> Result<SignedBy, CmsError> {
    if cms_der.len() > MAX_CMS_BYTES {
        return Err(CmsError::TooLarge(cms_der.len()));
    }
    let doc = SignedDocument::read(cms_der, Some(content)).map_err(|e| match e {
        CmsError::ContentTwice => CmsError::NotDetached,
        other => other,
    })?;
    if doc.signer_count() != 1 {
        return Err(CmsError::SignerCount(doc.signer_count()));
    }
    let si = doc.data.signer_infos.0.get(0).ok_or(CmsError::SignerCount(0))?;
    // SHA-256, or the digest a GOST signer's algorithm goes with (Streebog-512).
    if si.digest_alg.oid != oid::SHA256 && si.digest_alg.oid != digest_for(&si.signature_algorithm) {
        return Err(CmsError::Digest(si.digest_alg.oid));
    }
    let signed = doc.check_signers()?.pop().ok_or(CmsError::SignerCount(0))?;
    if signed.signing_time.is_none() {
        return Err(CmsError::Attribute("signingTime"));
    }
    if !signed.certificate_bound {
        return Err(CmsError::Attribute("signingCertificateV2"));
    }
    Ok(signed)
}

/// One signer's verdict: its signature checked, then its certificate for a purpose.
#[derive(Debug)]
pub struct SignerVerdict {
    /// Who signed, and when they say they did.
    pub signed: SignedBy,
    /// What the certificate was checked for and when.
    pub checks: Checks,
    /// The certificate's verdict.
    pub verdict: Result<Verdict, PathError>,
    /// With a signature time-stamp: the time-stamp authority's certificate's verdict
    /// (time-stamping, at the stamp's time).
    pub time_stamp: Option<Result<Verdict, PathError>>,
}

impl SignerVerdict {
    /// Valid when the certificate is, and the time-stamp's authority if there is one.
    pub fn is_valid(&self) -> bool {
        self.verdict.is_ok() && self.time_stamp.as_ref().is_none_or(|t| t.is_ok())
    }
}

/// A signed document's verdict.
#[derive(Debug)]
pub struct DocumentVerdict {
    /// The content signed.
    pub content: Vec<u8>,
    /// Whether it was inside the signature.
    pub attached: bool,
    /// Each signer's verdict.
    pub signers: Vec<SignerVerdict>,
}

impl DocumentVerdict {
    /// Valid when every signer's signature and certificate are (and their time-stamps).
    pub fn is_valid(&self) -> bool {
        self.signers.iter().all(SignerVerdict::is_valid)
    }
}

/// Verify a signed document as a relying party: every signer's signature, digest
/// and signed attributes (a failure there is the error), then each signer's
/// certificate for `purpose` with `verifier`, at `at` when the caller vouches for a
/// time, else at a signature time-stamp's time (its authority judged first: a
/// revocation after it does not count), else now (the signingTime a signer states
/// is reported, never trusted).
pub fn verify_document(
    cms: &[u8],
    detached: Option<&[u8]>,
    verifier: &Verifier,
    purpose: Purpose,
    at: Option<DateTime>,
) -> Result<DocumentVerdict, CmsError> {
    let doc = SignedDocument::read(cms, detached)?;
    let extra = doc.certificates();
    let now = calendar::now();
    let signers = doc
        .check_signers()?
        .into_iter()
        .map(|signed| {
            let time_stamp = signed.time_stamp.as_ref().map(|ts| verifier.verify(&ts.tsa.certificate, &ts.certificates, &ts.checks(now)));
            // A time the caller vouches for; else a time-stamp's, once its authority
            // is found valid; else now. The signingTime the signer states proves
            // nothing: an expired certificate's key could claim any time (ETSI EN
            // 319 102-1: without a time-stamp the best signature time is now).
            let stamped = signed.time_stamp.as_ref().filter(|_| time_stamp.as_ref().is_some_and(|v| v.is_ok())).map(|ts| ts.gen_time);
            let checks = match (at, stamped) {
                (Some(at), _) | (None, Some(at)) => Checks { purpose, at, at_is_proven: true, now },
                (None, None) => Checks { purpose, at: now, at_is_proven: true, now },
            };
            let verdict = verifier.verify(&signed.certificate, extra, &checks);
            SignerVerdict { signed, checks, verdict, time_stamp }
        })
        .collect();
    Ok(DocumentVerdict { content: doc.content, attached: doc.attached, signers })
}

/// Seconds between a signature's time and `now` (positive: signed in the past).
pub fn age_seconds(signed: &SignedBy, now: DateTime) -> i64 {
    calendar::unix_seconds(&now) - signed.signing_time.map(|t| calendar::unix_seconds(&t)).unwrap_or(i64::MIN / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Problem, RevocationChecker, TrustStore};

    fn signer_and_cert() -> (crate::signing::RsaSigner, Certificate) {
        let (signer, cert) = crate::testing::self_signed("CMS TEST");
        (signer, cert)
    }

    #[test]
    fn round_trip_and_tampering() {
        let (signer, cert) = signer_and_cert();
        let now = calendar::now();
        let sig = sign_detached(b"request bytes", &signer, &cert, now).unwrap();
        let by = verify_detached(&sig, b"request bytes").unwrap();
        assert_eq!(by.certificate, cert);
        assert!(age_seconds(&by, now).abs() <= 1);
        assert!(matches!(verify_detached(&sig, b"request bytez"), Err(CmsError::DigestMismatch)));
        assert!(matches!(verify_detached(b"\x30\x03\x02\x01\x00", b""), Err(CmsError::Malformed(_))));
        // Flip one bit of the RSA signature (the last bytes of the structure).
        let mut bad = sig.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(verify_detached(&bad, b"request bytes"), Err(CmsError::Signature(_))));
    }

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/nca-test/");

    fn real(name: &str) -> Vec<u8> {
        crate::pem::read_der(&std::fs::read(format!("{DATA}{name}")).unwrap()).unwrap()
    }

    fn real_cert(name: &str) -> Certificate {
        Certificate::from_der(&real(name)).unwrap()
    }

    /// The authority's four real signatures over `asdasd`, with their issuing CA.
    fn real_signatures() -> Vec<(&'static str, &'static str, Purpose)> {
        vec![
            ("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9", "nca_rsa_test.pem", Purpose::Sign),
            ("AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d", "nca_rsa_test.pem", Purpose::Auth),
            ("AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790", "nca_rsa_test.pem", Purpose::Auth),
            ("GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b", "nca_gost_test.pem", Purpose::Sign),
        ]
    }

    fn june_2020() -> DateTime {
        DateTime::new(2020, 6, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn the_authoritys_signatures_verify_with_their_chains_for_their_purpose_only() {
        for (name, ca, purpose) in real_signatures() {
            let cms = real(&format!("{name}.cms"));
            let verifier = Verifier::new(TrustStore::new(vec![real_cert(ca)]), RevocationChecker::none());
            let doc = verify_document(&cms, None, &verifier, purpose, Some(june_2020())).unwrap();
            assert!(doc.attached);
            assert_eq!(doc.content, b"asdasd");
            assert_eq!(doc.signers.len(), 1);
            let signer = &doc.signers[0];
            assert_eq!(signer.signed.certificate, real_cert(&format!("{name}.cer")), "{name}");
            assert!(signer.signed.signing_time.is_some());
            let verdict = signer.verdict.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(verdict.path.certificates().len(), 2);
            assert_eq!(verdict.path.anchor(), &real_cert(ca));
            // Without --at it is checked now, whatever signingTime it states: expired.
            let now = verify_document(&cms, None, &verifier, purpose, None).unwrap();
            assert!(matches!(now.signers[0].verdict.as_ref().unwrap_err().problem, Problem::Expired { .. }), "{name}");
            let other = if purpose == Purpose::Sign { Purpose::Auth } else { Purpose::Sign };
            let wrong = verify_document(&cms, None, &verifier, other, Some(june_2020())).unwrap();
            let e = wrong.signers[0].verdict.as_ref().unwrap_err();
            assert_eq!(e.depth, 0, "{name}");
            assert!(matches!(e.problem, Problem::KeyUsage { .. } | Problem::ExtendedKeyUsage { .. }), "{name}: {e}");
            // An unknown root, and a time outside the certificate.
            let stranger = Verifier::new(TrustStore::new(vec![real_cert("nca_gost2022_test.der")]), RevocationChecker::none());
            let e = verify_document(&cms, None, &stranger, purpose, Some(june_2020())).unwrap().signers.remove(0).verdict.unwrap_err();
            assert_eq!(e.problem, Problem::UnknownIssuer, "{name}");
            let late = DateTime::new(2021, 6, 1, 0, 0, 0).unwrap();
            let e = verify_document(&cms, None, &verifier, purpose, Some(late)).unwrap().signers.remove(0).verdict.unwrap_err();
            assert!(matches!(e.problem, Problem::Expired { .. }), "{name}: {e}");
        }
    }

    #[test]
    fn a_changed_byte_in_content_signature_or_signed_attributes_has_its_own_reason() {
        for (name, _, _) in real_signatures() {
            let cms = real(&format!("{name}.cms"));
            let doc = SignedDocument::read(&cms, None).unwrap();
            doc.check_signers().unwrap();
            // Content: `asdasd` is the only occurrence of these bytes.
            let at = cms.windows(6).position(|w| w == b"asdasd").unwrap();
            let mut content = cms.clone();
            content[at] ^= 1;
            assert!(matches!(SignedDocument::read(&content, None).unwrap().check_signers(), Err(CmsError::DigestMismatch)), "{name}");
            // The signature value is the last bytes of the file.
            let mut sig = cms.clone();
            let last = sig.len() - 3;
            sig[last] ^= 1;
            assert!(matches!(SignedDocument::read(&sig, None).unwrap().check_signers(), Err(CmsError::Signature(_))), "{name}");
            // The signing time (UTCTime `2009…`) lies inside the signed attributes.
            let t = cms.windows(4).position(|w| w == b"2009").unwrap();
            let mut attrs = cms.clone();
            attrs[t + 3] = b'8';
            assert!(matches!(SignedDocument::read(&attrs, None).unwrap().check_signers(), Err(CmsError::Signature(_))), "{name}");
        }
    }

    #[test]
    fn attached_and_detached_with_rsa_and_gost_round_trip() {
        let (signer, cert) = signer_and_cert();
        let gost = crate::gost::GostSigner::generate();
        let now = calendar::now();
        for how in [Content::Attached, Content::Detached] {
            let sig = sign(b"document", how, &signer, &cert, &[], now).unwrap();
            let given = (how == Content::Detached).then_some(&b"document"[..]);
            let doc = SignedDocument::read(&sig, given).unwrap();
            assert_eq!(doc.content, b"document");
            let by = doc.check_signers().unwrap().remove(0);
            assert!(by.certificate_bound);
            assert_eq!(by.digest_algorithm, oid::SHA256);
            if how == Content::Attached {
                assert!(matches!(SignedDocument::read(&sig, Some(b"document")), Err(CmsError::ContentTwice)));
            } else {
                assert!(matches!(SignedDocument::read(&sig, None), Err(CmsError::NoContent)));
            }
        }
        // A GOST signer digests with Streebog-512; its certificate is self-made here.
        let gost_cert = {
            let mut c = cert.clone();
            c.tbs_certificate.subject_public_key_info = gost.public_key().clone();
            c
        };
        let sig = sign(b"document", Content::Attached, &gost, &gost_cert, &[], now).unwrap();
        let by = SignedDocument::read(&sig, None).unwrap().check_signers().unwrap().remove(0);
        assert_eq!(by.digest_algorithm, oid::STREEBOG_512);
        // The registration authority takes a GOST SIGN key's signed requests (a renewal).
        let request = sign_detached(b"renew", &gost, &gost_cert, now).unwrap();
        assert_eq!(verify_detached(&request, b"renew").unwrap().digest_algorithm, oid::STREEBOG_512);
    }

    #[test]
    fn openssl_shaped_truncations_never_panic() {
        let (signer, cert) = signer_and_cert();
        let sig = sign_detached(b"x", &signer, &cert, calendar::now()).unwrap();
        for len in 0..sig.len() {
            assert!(verify_detached(&sig[..len], b"x").is_err());
        }
    }
}
