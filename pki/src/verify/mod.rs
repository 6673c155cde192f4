//! What a relying party checks: signatures, who a certificate belongs to, and
//! whether it is valid for a purpose at a time ([`Verifier`]: path validation in
//! [`path`], revocation by OCSP and CRL in [`revocation`], fetching in [`fetch`]).
//!
//! Owner information is read leniently (the authority's own test certificates carry
//! an IIN that fails its check digit); signatures are checked strictly.

use crate::calendar;
use crate::identity::{Bin, Iin};
use crate::model::{AnyRole, CertType, IdentificationMethod, Serial, SubjectKind};
use crate::oid;
use crate::signing::key_identifier;
use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::ObjectIdentifier as Oid;
use der::{Decode, Encode, Tag, Tagged};
use serde::Serialize;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use thiserror::Error;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage};
use x509_cert::name::Name;
use x509_cert::Certificate;

mod fetch;
mod path;
pub mod revocation;
mod verifier;

#[cfg(feature = "fetch")]
pub use fetch::HttpFetch;
pub use fetch::{Fetch, FetchError, MAX_FETCH_BYTES};
pub use path::{PathError, Problem, Purpose, TrustStore, ValidPath, MAX_PATH_LENGTH};
pub use revocation::{OnUnavailable, RevocationChecker, RevocationMode, RevocationPolicy};
pub use verifier::{Checks, Verdict, VerdictReport, Verifier};

/// Who answered a status question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusSource {
    /// An OCSP responder.
    Ocsp,
    /// A full CRL.
    Crl,
    /// A delta CRL on top of a full one.
    DeltaCrl,
}

impl std::fmt::Display for StatusSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StatusSource::Ocsp => "OCSP",
            StatusSource::Crl => "the CRL",
            StatusSource::DeltaCrl => "the delta CRL",
        })
    }
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature algorithm is not one this library verifies (yet).
    #[error("signature algorithm {0} is not supported")]
    UnsupportedAlgorithm(Oid),
    /// The key is not RSA while the algorithm is.
    #[error("the signer's key ({0}) does not match an RSA signature")]
    KeyMismatch(Oid),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Invalid,
    /// A GOST key or signature is malformed or does not match.
    #[error("{0}")]
    Gost(crate::gost::GostError),
}

/// The aws-lc-rs algorithm for an RSA signature OID (2048–8192-bit keys).
fn rsa_algorithm(alg: &Oid) -> Option<&'static dyn VerificationAlgorithm> {
    match *alg {
        oid::SHA256_WITH_RSA => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
        oid::SHA384_WITH_RSA => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
        oid::SHA512_WITH_RSA => Some(&signature::RSA_PKCS1_2048_8192_SHA512),
        _ => None,
    }
}

/// Verify `sig` over `message` with `key` under algorithm `alg`.
pub fn verify_signature(
    key: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    if crate::gost::Algorithm::of_signature(alg.oid).is_some() {
        return crate::gost::verify(key, alg, message, sig).map_err(|e| match e {
            crate::gost::GostError::Invalid => SignatureError::Invalid,
            other => SignatureError::Gost(other),
        });
    }
    let lc_alg = rsa_algorithm(&alg.oid).ok_or(SignatureError::UnsupportedAlgorithm(alg.oid))?;
    if key.algorithm.oid != oid::RSA_ENCRYPTION {
        return Err(SignatureError::KeyMismatch(key.algorithm.oid));
    }
    match parsed_rsa_key(alg.oid, lc_alg, key.subject_public_key.raw_bytes()) {
        Some(parsed) => parsed.verify_sig(message, sig).map_err(|_| SignatureError::Invalid),
        None => {
            UnparsedPublicKey::new(lc_alg, key.subject_public_key.raw_bytes()).verify(message, sig).map_err(|_| SignatureError::Invalid)
        }
    }
}

/// RSA public keys parsed once: a CA's key, a responder's, a frequent signer's are
/// used again and again, and parsing one (its Montgomery constants) costs about as
/// much as a verification with it. Bounded; emptied when full.
fn parsed_rsa_key(alg: Oid, lc_alg: &'static dyn VerificationAlgorithm, key: &[u8]) -> Option<std::sync::Arc<signature::ParsedPublicKey>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    type Keys = Mutex<HashMap<(Oid, Vec<u8>), Arc<signature::ParsedPublicKey>>>;
    const MAX_KEYS: usize = 4096;
    static KEYS: OnceLock<Keys> = OnceLock::new();
    let keys = KEYS.get_or_init(Keys::default);
    let lookup = (alg, key.to_vec());
    if let Some(k) = keys.lock().unwrap_or_else(|p| p.into_inner()).get(&lookup) {
        return Some(k.clone());
    }
    let parsed = Arc::new(signature::ParsedPublicKey::new(lc_alg, key).ok()?);
    let mut keys = keys.lock().unwrap_or_else(|p| p.into_inner());
    if keys.len() >= MAX_KEYS {
        keys.clear();
    }
    keys.insert(lookup, parsed.clone());
    Some(parsed)
}

/// Verify a signed structure as received, `SEQUENCE { tbs, algorithm, signature }`
/// (a CRL, an OCSP response): the signature covers the first element's bytes
/// exactly as they came, which re-encoding another writer's DER could change.
pub fn verify_signed(
    der: &[u8],
    key: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    sig: &der::asn1::BitString,
) -> Result<(), SignatureError> {
    let tbs = revocation::signed_part(der).map_err(|_| SignatureError::Invalid)?;
    verify_signature(key, alg, tbs, sig.as_bytes().ok_or(SignatureError::Invalid)?)
}

/// Check that `issuer`'s key signed `cert` and the names chain.
pub fn verify_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), SignatureError> {
    if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return Err(SignatureError::Invalid);
    }
    let tbs = cert.tbs_certificate.to_der().map_err(|_| SignatureError::Invalid)?;
    let sig = cert.signature.as_bytes().ok_or(SignatureError::Invalid)?;
    verify_signature(&issuer.tbs_certificate.subject_public_key_info, &cert.signature_algorithm, &tbs, sig)
}

/// A public key described for people: `RSA-2048`, `GOST-2015-512`, `GOST-2004-256`.
pub fn describe_public_key(spki: &SubjectPublicKeyInfoOwned) -> String {
    match spki.algorithm.oid {
        oid::RSA_ENCRYPTION => match rsa_modulus_bits(spki) {
            Some(bits) => format!("RSA-{bits}"),
            None => "RSA (malformed)".into(),
        },
        oid::GOST_2015_512_KEY => "GOST-2015-512".into(),
        oid::GOST_2004_KEY => "GOST-2004-256".into(),
        oid::EC_PUBLIC_KEY => "EC".into(),
        other => other.to_string(),
    }
}

/// Size of an RSA modulus in bits, if the key parses.
pub fn rsa_modulus_bits(spki: &SubjectPublicKeyInfoOwned) -> Option<usize> {
    let key = pkcs1::RsaPublicKey::from_der(spki.subject_public_key.as_bytes()?).ok()?;
    let m = key.modulus.as_bytes();
    let first = m.iter().position(|b| *b != 0)?;
    Some((m.len() - first) * 8 - m[first].leading_zeros() as usize)
}

/// Text of a DN attribute value when it is a string type; hex otherwise.
fn attribute_text(value: &der::asn1::Any) -> String {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString | Tag::TeletexString => {
            String::from_utf8_lossy(value.value()).into_owned()
        }
        Tag::BmpString => der::asn1::BmpString::from_der(&value.to_der().unwrap_or_default())
            .map(|s| s.to_string())
            .unwrap_or_else(|_| hex::encode(value.value())),
        _ => format!("#{}", hex::encode(value.value())),
    }
}

/// A DN as one line, attributes in their encoded order: `C=KZ, CN=ҰКО 3.0 (RSA TEST)`.
pub fn name_to_string(name: &Name) -> String {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|a| format!("{}={}", oid::attribute_name(&a.oid), attribute_text(&a.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first value of attribute `oid` in `name`.
pub fn name_attribute(name: &Name, attr: Oid) -> Option<String> {
    name.0.iter().flat_map(|rdn| rdn.0.iter()).find(|a| a.oid == attr).map(|a| attribute_text(&a.value))
}

/// What a certificate is for, as the profile sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KeyType {
    /// Login certificate.
    #[serde(rename = "AUTH")]
    Auth,
    /// Signing certificate.
    #[serde(rename = "SIGN")]
    Sign,
    /// A CA certificate.
    #[serde(rename = "CA")]
    Ca,
    /// A delegated OCSP responder.
    #[serde(rename = "OCSP")]
    Ocsp,
    /// None of the above.
    #[serde(rename = "OTHER")]
    Other,
}

impl KeyType {
    /// `AUTH`, `SIGN`, `CA`, `OCSP`, `OTHER`.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyType::Auth => "AUTH",
            KeyType::Sign => "SIGN",
            KeyType::Ca => "CA",
            KeyType::Ocsp => "OCSP",
            KeyType::Other => "OTHER",
        }
    }
}

impl From<CertType> for KeyType {
    fn from(t: CertType) -> Self {
        match t {
            CertType::Auth => KeyType::Auth,
            CertType::Sign => KeyType::Sign,
        }
    }
}

/// The owner as the certificate names them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Owner {
    /// IIN from `serialNumber=IIN…`.
    pub iin: Option<String>,
    /// BIN from `OU=BIN…`.
    pub bin: Option<String>,
    /// Surname (SN).
    pub surname: Option<String>,
    /// Given name: the common name minus the surname.
    pub name: Option<String>,
    /// Patronymic (GN, as the authority uses it).
    pub patronymic: Option<String>,
    /// Organization (O).
    pub organization: Option<String>,
    /// E-mail address (E).
    pub email: Option<String>,
}

/// Everything `ca inspect` reports about a certificate (CLI.md's JSON shape).
#[derive(Clone, Debug, Serialize)]
pub struct CertificateInfo {
    /// Always `certificate`.
    pub kind: &'static str,
    /// Serial number.
    pub serial: Serial,
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// AUTH, SIGN, CA, OCSP.
    pub key_type: KeyType,
    /// `RSA-2048`, `GOST-2015-512`, …
    pub public_key: String,
    /// Signature algorithm, by name where known.
    pub signature_algorithm: String,
    /// Individual or legal entity; `None` for CA and responder certificates.
    pub subject_kind: Option<SubjectKind>,
    /// Roles of a legal entity's representative, and staff roles.
    pub roles: Vec<AnyRole>,
    /// How identity was proven, if the certificate says.
    pub identification: Option<IdentificationMethod>,
    /// Certificate policy OIDs.
    pub policies: Vec<String>,
    /// Subject key identifier, lowercase hex (names the key store files).
    pub key_id: Option<String>,
    /// The owner.
    pub owner: Owner,
    /// Whether the IIN's check digit is valid (`None` without an IIN).
    pub iin_check_digit_valid: Option<bool>,
}

/// A certificate's extension `id`, if it has one.
pub(crate) fn extension(cert: &Certificate, id: Oid) -> Option<&x509_cert::ext::Extension> {
    cert.tbs_certificate.extensions.as_deref()?.iter().find(|e| e.extn_id == id)
}

/// A certificate's extension `id`, decoded; `None` when absent or malformed.
pub(crate) fn decode_extension<'a, T: Decode<'a>>(cert: &'a Certificate, id: Oid) -> Option<T> {
    T::from_der(extension(cert, id)?.extn_value.as_bytes()).ok()
}

/// Name of a signature algorithm OID, for people.
pub fn signature_algorithm_name(alg: &Oid) -> String {
    match *alg {
        oid::SHA256_WITH_RSA => "sha256WithRSAEncryption".into(),
        oid::SHA384_WITH_RSA => "sha384WithRSAEncryption".into(),
        oid::SHA512_WITH_RSA => "sha512WithRSAEncryption".into(),
        oid::SHA1_WITH_RSA => "sha1WithRSAEncryption".into(),
        oid::GOST_2015_512_SIGNATURE => "GOST 34.10-2015-512 with Streebog-512".into(),
        oid::GOST_2004_SIGNATURE => "GOST 34.310-2004".into(),
        other => other.to_string(),
    }
}

impl CertificateInfo {
    /// Read the owner data and profile facts off any certificate.
    pub fn of(cert: &Certificate) -> Self {
        let tbs = &cert.tbs_certificate;
        let eku: Vec<Oid> = decode_extension::<ExtendedKeyUsage>(cert, oid::EXT_EXTENDED_KEY_USAGE).map(|e| e.0).unwrap_or_default();
        let is_ca = decode_extension::<BasicConstraints>(cert, oid::EXT_BASIC_CONSTRAINTS).is_some_and(|b| b.ca);
        let key_type = if is_ca {
            KeyType::Ca
        } else if eku.contains(&oid::KP_OCSP_SIGNING) {
            KeyType::Ocsp
        } else if eku.contains(&oid::KP_CLIENT_AUTH) {
            KeyType::Auth
        } else if eku.contains(&oid::KP_EMAIL_PROTECTION) {
            KeyType::Sign
        } else {
            KeyType::Other
        };
        let subject = &tbs.subject;
        let strip = |v: Option<String>, prefix: &str| v.map(|s| s.strip_prefix(prefix).map(str::to_string).unwrap_or(s));
        let iin = strip(name_attribute(subject, oid::AT_SERIAL_NUMBER), "IIN");
        let bin = strip(name_attribute(subject, oid::AT_ORGANIZATIONAL_UNIT), "BIN").filter(|b| Bin::parse_lenient(b).is_ok());
        let surname = name_attribute(subject, oid::AT_SURNAME);
        let cn = name_attribute(subject, oid::AT_COMMON_NAME);
        let given = match (&cn, &surname) {
            (Some(cn), Some(sn)) => cn.strip_prefix(sn.as_str()).map(|rest| rest.trim().to_string()).filter(|s| !s.is_empty()),
            _ => None,
        };
        let subject_kind = if eku.contains(&oid::KIND_LEGAL_ENTITY) || (bin.is_some() && key_type != KeyType::Ca) {
            Some(SubjectKind::LegalEntity)
        } else if eku.contains(&oid::KIND_INDIVIDUAL) || iin.is_some() {
            Some(SubjectKind::Individual)
        } else {
            None
        };
        let identification = eku.iter().find_map(IdentificationMethod::from_oid);
        let policies = decode_extension::<x509_cert::ext::pkix::CertificatePolicies>(cert, oid::EXT_CERTIFICATE_POLICIES)
            .map(|p| p.0.iter().map(|i| i.policy_identifier.to_string()).collect())
            .unwrap_or_default();
        let key_id = subject_key_id(cert);
        CertificateInfo {
            kind: "certificate",
            serial: Serial::of(cert),
            subject: name_to_string(subject),
            issuer: name_to_string(&tbs.issuer),
            not_before: calendar::rfc3339(&tbs.validity.not_before.to_date_time()),
            not_after: calendar::rfc3339(&tbs.validity.not_after.to_date_time()),
            key_type,
            public_key: describe_public_key(&tbs.subject_public_key_info),
            signature_algorithm: signature_algorithm_name(&cert.signature_algorithm.oid),
            subject_kind,
            roles: eku.iter().filter_map(AnyRole::from_oid).collect(),
            identification,
            policies,
            key_id,
            iin_check_digit_valid: iin.as_deref().and_then(|i| Iin::parse_lenient(i).ok()).map(|i| i.check_digit_valid()),
            owner: Owner {
                iin,
                bin,
                surname,
                name: given,
                patronymic: name_attribute(subject, oid::AT_GIVEN_NAME),
                organization: name_attribute(subject, oid::AT_ORGANIZATION),
                email: name_attribute(subject, oid::AT_EMAIL),
            },
        }
    }
}

/// The key id that names a certificate's key store files: its subject key
/// identifier, or one computed from the key when the certificate has none.
pub fn file_key_id(cert: &Certificate) -> String {
    subject_key_id(cert).unwrap_or_else(|| hex::encode(key_identifier(&cert.tbs_certificate.subject_public_key_info)))
}

/// The subject key identifier extension's value, lowercase hex.
fn subject_key_id(cert: &Certificate) -> Option<String> {
    subject_key_identifier(cert).map(hex::encode)
}

/// The subject key identifier extension's value.
pub fn subject_key_identifier(cert: &Certificate) -> Option<Vec<u8>> {
    decode_extension::<x509_cert::ext::pkix::SubjectKeyIdentifier>(cert, oid::EXT_SUBJECT_KEY_ID).map(|k| k.0.as_bytes().to_vec())
}
