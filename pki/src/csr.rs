//! PKCS#10 certificate requests from applicants: parsed totally, proof of possession
//! verified, keys judged. Only the public key is taken from a request: the subject
//! of an issued certificate comes from the applicant's verified data, never from
//! what the request claims.

use crate::model::Family;
use crate::verify::{self, SignatureError};
use base64ct::{Base64, Encoding};
use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use thiserror::Error;
use x509_cert::request::CertReq;

/// Smallest RSA key accepted.
pub const MIN_RSA_BITS: usize = 2048;
/// Largest RSA key accepted (what verifiers such as aws-lc-rs and ring handle).
pub const MAX_RSA_BITS: usize = 8192;
/// Largest request accepted, in bytes (an RSA-8192 request is under 3 KiB in PEM).
pub const MAX_CSR_BYTES: usize = 64 * 1024;

/// Why a certificate request was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrError {
    /// More bytes than any real request has.
    #[error("the certificate request is {0} bytes; requests over {MAX_CSR_BYTES} bytes are refused")]
    TooLarge(usize),
    /// Not PEM nor DER of a PKCS#10 request.
    #[error("not a PKCS#10 certificate request (PEM or DER): {0}")]
    Malformed(String),
    /// A key algorithm this authority does not certify.
    #[error("key algorithm {0} is not supported; make an RSA key of at least {MIN_RSA_BITS} bits or a GOST 34.10-2015 512-bit key")]
    UnsupportedKey(Oid),
    /// A key that is too small.
    #[error("the RSA key has {bits} bits; at least {MIN_RSA_BITS} are required")]
    KeyTooSmall {
        /// Key size in bits.
        bits: usize,
    },
    /// A key that is too large.
    #[error("the RSA key has {bits} bits; at most {MAX_RSA_BITS} are supported")]
    KeyTooLarge {
        /// Key size in bits.
        bits: usize,
    },
    /// A public exponent outside the CA/Browser Forum's rule: odd, from 2^16+1 to 2^256−1.
    #[error("the RSA public exponent {0} is not accepted: it must be odd and from 65537 to 2^256-1; make a new key (openssl and most tools use 65537)")]
    BadExponent(String),
    /// A signature algorithm that is weak or unknown.
    #[error("request signature algorithm {0} is not accepted; sign with sha256WithRSAEncryption (RSA keys) or GOST 34.10-2015 with Streebog-512 (GOST keys)")]
    UnsupportedSignature(Oid),
    /// The request is not signed by the key it carries.
    #[error("the request's signature does not verify: it was altered, or not signed by the key it carries")]
    BadSignature,
}

/// A request whose proof of possession has been checked.
#[derive(Clone, Debug)]
pub struct VerifiedCsr {
    public_key: SubjectPublicKeyInfoOwned,
    family: Family,
    bits: usize,
    fingerprint: [u8; 32],
}

impl VerifiedCsr {
    /// The applicant's public key.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.public_key
    }

    /// Key size: the RSA modulus's bits, 512 for GOST 34.10-2015 512-bit.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// RSA or GOST: which issuing CA certifies this key.
    pub fn family(&self) -> Family {
        self.family
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo: one key, one fingerprint.
    pub fn key_fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }
}

/// PEM (`CERTIFICATE REQUEST` or `NEW CERTIFICATE REQUEST`) or DER to DER.
fn request_der(bytes: &[u8]) -> Result<Vec<u8>, CsrError> {
    if !crate::pem::is_pem(bytes) {
        return Ok(bytes.to_vec());
    }
    let (label, der) = crate::pem::decode(bytes).map_err(|e| CsrError::Malformed(e.to_string()))?;
    match label.as_str() {
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => Ok(der),
        other => Err(CsrError::Malformed(format!("PEM label is {other:?}, expected CERTIFICATE REQUEST"))),
    }
}

/// A request as applicants' clients send it in JSON: PEM, or base64 of the DER.
/// Text longer than the base64 of [`MAX_CSR_BYTES`] is refused before decoding.
pub fn from_text(text: &str) -> Result<Vec<u8>, CsrError> {
    let text = text.trim();
    if text.len() > MAX_CSR_BYTES * 4 / 3 + 4 {
        return Err(CsrError::TooLarge(text.len() / 4 * 3));
    }
    if crate::pem::is_pem(text.as_bytes()) {
        return request_der(text.as_bytes());
    }
    Base64::decode_vec(text).map_err(|_| CsrError::Malformed("neither PEM nor base64".into()))
}

/// The CA/Browser Forum Baseline Requirements §6.1.6 rule for RSA public
/// exponents: odd, at least 2^16+1, at most 2^256−1 (no e = 3 or 5).
fn check_exponent(key: &SubjectPublicKeyInfoOwned) -> Result<(), CsrError> {
    let malformed = || CsrError::Malformed("the RSA public key does not parse".into());
    let bits = key.subject_public_key.as_bytes().ok_or_else(malformed)?;
    let rsa = pkcs1::RsaPublicKey::from_der(bits).map_err(|_| malformed())?;
    let e = rsa.public_exponent.as_bytes();
    let e = &e[e.iter().position(|b| *b != 0).unwrap_or(e.len())..];
    let odd = e.last().is_some_and(|b| b & 1 == 1);
    let at_least_65537 = e.len() > 3 || (e.len() == 3 && u32::from_be_bytes([0, e[0], e[1], e[2]]) >= 65_537);
    if !odd || !at_least_65537 || e.len() > 32 {
        let shown = match e.len() {
            0..=8 => e.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b)).to_string(),
            _ => format!("0x{}", hex::encode(e)),
        };
        return Err(CsrError::BadExponent(shown));
    }
    Ok(())
}

/// Fingerprint of a public key: SHA-256 of its DER SubjectPublicKeyInfo.
pub fn key_fingerprint(spki: &SubjectPublicKeyInfoOwned) -> Result<[u8; 32], der::Error> {
    Ok(Sha256::digest(spki.to_der()?).into())
}

/// Parse a request, judge its key and verify its self-signature.
pub fn verify_csr(bytes: &[u8]) -> Result<VerifiedCsr, CsrError> {
    if bytes.len() > MAX_CSR_BYTES {
        return Err(CsrError::TooLarge(bytes.len()));
    }
    let der = request_der(bytes)?;
    let req = CertReq::from_der(&der).map_err(|e| CsrError::Malformed(e.to_string()))?;
    let key = req.info.public_key.clone();
    let family = Family::of_key(&key.algorithm.oid).ok_or(CsrError::UnsupportedKey(key.algorithm.oid))?;
    let bits = match family {
        Family::Rsa => check_rsa_key(&key)?,
        // The curve, the key's encoding and that it is a point of the curve are
        // checked with the signature below: a request with a bad key never verifies.
        Family::Gost => GOST_BITS,
    };
    let info = req.info.to_der().map_err(|e| CsrError::Malformed(e.to_string()))?;
    let sig = req.signature.as_bytes().ok_or(CsrError::BadSignature)?;
    verify::verify_signature(&key, &req.algorithm, &info, sig).map_err(|e| match e {
        SignatureError::UnsupportedAlgorithm(o) => CsrError::UnsupportedSignature(o),
        SignatureError::KeyMismatch(_) | SignatureError::Invalid | SignatureError::Gost(_) => CsrError::BadSignature,
    })?;
    let fingerprint = key_fingerprint(&key).map_err(|e| CsrError::Malformed(e.to_string()))?;
    Ok(VerifiedCsr { public_key: key, family, bits, fingerprint })
}

/// Size of a GOST 34.10-2015 key, bits.
const GOST_BITS: usize = 512;

/// An RSA key's size and exponent judged; its size in bits.
fn check_rsa_key(key: &SubjectPublicKeyInfoOwned) -> Result<usize, CsrError> {
    let bits = verify::rsa_modulus_bits(key).ok_or_else(|| CsrError::Malformed("the RSA public key does not parse".into()))?;
    if bits < MIN_RSA_BITS {
        return Err(CsrError::KeyTooSmall { bits });
    }
    if bits > MAX_RSA_BITS {
        return Err(CsrError::KeyTooLarge { bits });
    }
    check_exponent(key)?;
    Ok(bits)
}

/// A PKCS#10 request for `signer`'s key, as the applicant's client makes it. The
/// subject is left empty: the authority takes the subject from the verified
/// applicant data, never from a request.
pub fn create(signer: &dyn crate::signing::Signer) -> Result<Vec<u8>, crate::signing::SigningError> {
    let info = x509_cert::request::CertReqInfo {
        version: x509_cert::request::Version::V1,
        subject: x509_cert::name::Name::default(),
        public_key: signer.public_key().clone(),
        attributes: der::asn1::SetOfVec::new(),
    };
    let signature = signer.sign(&info.to_der()?)?;
    let req = CertReq { info, algorithm: signer.algorithm(), signature: der::asn1::BitString::from_bytes(&signature)? };
    Ok(req.to_der()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::ApplicantKey;

    #[test]
    fn accepts_a_good_request_pem_and_der() {
        let k = ApplicantKey::generate(2048);
        let der = k.csr_der("ИГНОРИРУЕТСЯ");
        let v = verify_csr(&der).unwrap();
        assert_eq!(v.bits(), 2048);
        let pem = k.csr_pem("x");
        assert_eq!(verify_csr(pem.as_bytes()).unwrap().key_fingerprint(), v.key_fingerprint());
    }

    #[test]
    fn accepts_a_gost_request_and_refuses_a_tampered_one() {
        let key = crate::gost::GostSigner::generate();
        let der = create(&key).unwrap();
        let v = verify_csr(&der).unwrap();
        assert_eq!((v.family(), v.bits()), (Family::Gost, 512));
        assert_eq!(v.public_key(), key.public_key());
        // A flipped bit in the signature, in the key, or a key off the curve: refused.
        let mut bad = der.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(verify_csr(&bad).unwrap_err(), CsrError::BadSignature);
        let key_bytes = key.public_key().subject_public_key.raw_bytes();
        let at = der.windows(key_bytes.len()).position(|w| w == key_bytes).unwrap();
        let mut off_curve = der.clone();
        off_curve[at + 10] ^= 1;
        assert_eq!(verify_csr(&off_curve).unwrap_err(), CsrError::BadSignature);
        // The RSA signature algorithm on a GOST key is refused, not tried.
        let mut req = CertReq::from_der(&der).unwrap();
        req.algorithm = crate::signing::sha256_with_rsa();
        assert!(verify_csr(&req.to_der().unwrap()).is_err());
    }

    #[test]
    fn refuses_a_broken_signature() {
        let mut der = ApplicantKey::generate(2048).csr_der("x");
        let last = der.len() - 1;
        der[last] ^= 0x01;
        assert_eq!(verify_csr(&der).unwrap_err(), CsrError::BadSignature);
    }

    #[test]
    fn refuses_a_small_key() {
        let der = ApplicantKey::generate(1024).csr_der("x");
        assert_eq!(verify_csr(&der).unwrap_err(), CsrError::KeyTooSmall { bits: 1024 });
    }

    #[test]
    fn refuses_garbage_and_truncation() {
        assert!(matches!(verify_csr(b"\x00\x01garbage"), Err(CsrError::Malformed(_))));
        assert!(matches!(verify_csr(b""), Err(CsrError::Malformed(_))));
        let der = ApplicantKey::generate(2048).csr_der("x");
        for cut in [1, 10, der.len() / 2, der.len() - 1] {
            assert!(matches!(verify_csr(&der[..cut]), Err(CsrError::Malformed(_))), "cut at {cut}");
        }
        assert!(matches!(verify_csr(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), Err(CsrError::Malformed(_))));
        assert!(matches!(verify_csr(&vec![0x30; MAX_CSR_BYTES + 1]), Err(CsrError::TooLarge(_))));
    }
}
