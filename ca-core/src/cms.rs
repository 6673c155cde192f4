//! CMS SignedData (RFC 5652) in the CAdES-BES shape the authority's clients use:
//! detached content, RSA with SHA-256, and the signed attributes contentType,
//! signingTime, messageDigest and signingCertificateV2 (RFC 5035), which binds the
//! signature to the one certificate it was made with.
//!
//! This module checks the cryptography only. Whether the signer may do what it
//! signed (its status, key usage, role) is the registration authority's decision.

use crate::calendar;
use crate::oid;
use crate::profile;
use crate::signing::{Signer, SigningError};
use crate::verify::{self, SignatureError};
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
    /// A digest other than SHA-256.
    #[error("digest algorithm {0} is not accepted: sign with SHA-256")]
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
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
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

fn sha256_id() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: oid::SHA256, parameters: None }
}

fn attribute(oid: Oid, value: Any) -> Result<Attribute, CmsError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

/// Who signed, as the signature says; not yet judged against any policy.
#[derive(Clone, Debug)]
pub struct SignedBy {
    /// The signer's certificate, taken from the signature.
    pub certificate: Certificate,
    /// The signingTime attribute.
    pub signing_time: DateTime,
}

/// Sign `content` detached with `signer`, whose certificate is `cert`, at `at`.
pub fn sign_detached(content: &[u8], signer: &dyn Signer, cert: &Certificate, at: DateTime) -> Result<Vec<u8>, CmsError> {
    let cert_hash = Sha256::digest(cert.to_der()?);
    let signing_cert = SigningCertificateV2 {
        certs: vec![EssCertIdV2 { hash_algorithm: None, cert_hash: OctetString::new(cert_hash.to_vec())?, issuer_serial: None }],
        policies: None,
    };
    let time = profile::x509_time(at).map_err(|e| CmsError::Malformed(e.to_string()))?;
    let attrs: Attributes = SetOfVec::try_from(vec![
        attribute(oid::ATTR_CONTENT_TYPE, Any::encode_from(&oid::CT_DATA)?)?,
        attribute(oid::ATTR_SIGNING_TIME, Any::encode_from(&time)?)?,
        attribute(oid::ATTR_MESSAGE_DIGEST, Any::encode_from(&OctetString::new(Sha256::digest(content).to_vec())?)?)?,
        attribute(oid::ATTR_SIGNING_CERTIFICATE_V2, Any::encode_from(&signing_cert)?)?,
    ])?;
    let signature = signer.sign(&attrs.to_der()?)?;
    let info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: sha256_id(),
        signed_attrs: Some(attrs),
        signature_algorithm: signer.algorithm(),
        signature: OctetString::new(signature)?,
        unsigned_attrs: None,
    };
    let data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_id()])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: oid::CT_DATA, econtent: None },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![CertificateChoices::Certificate(cert.clone())])?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![info])?),
    };
    Ok(ContentInfo { content_type: oid::CT_SIGNED_DATA, content: Any::encode_from(&data)? }.to_der()?)
}

fn single_value<'a>(attrs: &'a Attributes, oid: Oid, name: &'static str) -> Result<&'a Any, CmsError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let attr = found.next().ok_or(CmsError::Attribute(name))?;
    if found.next().is_some() || attr.values.len() != 1 {
        return Err(CmsError::Attribute(name));
    }
    attr.values.get(0).ok_or(CmsError::Attribute(name))
}

/// Verify a detached signature `cms_der` over `content`: the digest, the signed
/// attributes, the binding to the included certificate and the RSA signature.
pub fn verify_detached(cms_der: &[u8], content: &[u8]) -> Result<SignedBy, CmsError> {
    if cms_der.len() > MAX_CMS_BYTES {
        return Err(CmsError::TooLarge(cms_der.len()));
    }
    let info = ContentInfo::from_der(cms_der)?;
    if info.content_type != oid::CT_SIGNED_DATA {
        return Err(CmsError::Malformed(format!("content type {} is not signedData", info.content_type)));
    }
    let data: SignedData = info.content.decode_as()?;
    if data.encap_content_info.econtent.is_some() {
        return Err(CmsError::NotDetached);
    }
    let signers = &data.signer_infos.0;
    if signers.len() != 1 {
        return Err(CmsError::SignerCount(signers.len()));
    }
    let si = signers.get(0).ok_or(CmsError::SignerCount(0))?;
    if si.digest_alg.oid != oid::SHA256 {
        return Err(CmsError::Digest(si.digest_alg.oid));
    }
    let SignerIdentifier::IssuerAndSerialNumber(sid) = &si.sid else {
        return Err(CmsError::NoSignerCertificate);
    };
    let certificate = data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .find_map(|c| match c {
            CertificateChoices::Certificate(c)
                if c.tbs_certificate.issuer == sid.issuer && c.tbs_certificate.serial_number == sid.serial_number =>
            {
                Some(c.clone())
            }
            _ => None,
        })
        .ok_or(CmsError::NoSignerCertificate)?;
    let attrs = si.signed_attrs.as_ref().ok_or(CmsError::Attribute("signedAttrs"))?;

    let content_type: Oid =
        single_value(attrs, oid::ATTR_CONTENT_TYPE, "contentType")?.decode_as().map_err(|_| CmsError::Attribute("contentType"))?;
    if content_type != oid::CT_DATA {
        return Err(CmsError::Attribute("contentType"));
    }
    let digest: OctetString =
        single_value(attrs, oid::ATTR_MESSAGE_DIGEST, "messageDigest")?.decode_as().map_err(|_| CmsError::Attribute("messageDigest"))?;
    if digest.as_bytes() != Sha256::digest(content).as_slice() {
        return Err(CmsError::DigestMismatch);
    }
    let time = Time::from_der(&single_value(attrs, oid::ATTR_SIGNING_TIME, "signingTime")?.to_der()?)
        .map_err(|_| CmsError::Attribute("signingTime"))?;
    let signing_cert: SigningCertificateV2 = single_value(attrs, oid::ATTR_SIGNING_CERTIFICATE_V2, "signingCertificateV2")?
        .decode_as()
        .map_err(|_| CmsError::Attribute("signingCertificateV2"))?;
    let first = signing_cert.certs.first().ok_or(CmsError::Attribute("signingCertificateV2"))?;
    if first.hash_algorithm.as_ref().is_some_and(|a| a.oid != oid::SHA256)
        || first.cert_hash.as_bytes() != Sha256::digest(certificate.to_der()?).as_slice()
    {
        return Err(CmsError::SigningCertificateMismatch);
    }
    let alg = match si.signature_algorithm.oid {
        // Many CMS writers (OpenSSL among them) name the key algorithm, not the pair.
        oid::RSA_ENCRYPTION => crate::signing::sha256_with_rsa(),
        _ => si.signature_algorithm.clone(),
    };
    verify::verify_signature(&certificate.tbs_certificate.subject_public_key_info, &alg, &attrs.to_der()?, si.signature.as_bytes())?;
    Ok(SignedBy { certificate, signing_time: time.to_date_time() })
}

/// Seconds between a signature's time and `now` (positive: signed in the past).
pub fn age_seconds(signed: &SignedBy, now: DateTime) -> i64 {
    calendar::unix_seconds(&now) - calendar::unix_seconds(&signed.signing_time)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn openssl_shaped_truncations_never_panic() {
        let (signer, cert) = signer_and_cert();
        let sig = sign_detached(b"x", &signer, &cert, calendar::now()).unwrap();
        for len in 0..sig.len() {
            assert!(verify_detached(&sig[..len], b"x").is_err());
        }
    }
}
