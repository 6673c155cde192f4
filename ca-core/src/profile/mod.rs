//! The national certificate profiles: who a certificate is for ([`Applicant`]),
//! its subject name attribute by attribute, its extensions in the authority's order,
//! and its validity; the CA, issuing CA and OCSP responder profiles; and the lint
//! that every to-be-signed certificate passes before it is signed. This module
//! builds to-be-signed certificates; it never signs.

mod lint;
mod subject;
mod urls;

pub use lint::{lint, LintFinding};
pub use subject::{
    ca_name, free_text, is_forbidden_in_name, is_mailbox, Applicant, LegalEntity, PersonName, MAX_COMMON_NAME, MAX_EMAIL, MAX_ORGANIZATION,
};
pub use urls::*;

use crate::calendar;
use crate::identity::IdentityError;
use crate::model::{CertType, UnknownName};
use crate::oid;
use der::asn1::{Any, BitString, Null, ObjectIdentifier as Oid, OctetString};
use der::{DateTime, Encode, Tag};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use thiserror::Error;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::certpolicy::{DisplayText, PolicyInformation, PolicyQualifierInfo, UserNotice};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, FreshestCrl, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Why applicant data or a profile could not be turned into a certificate.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The IIN or BIN is not acceptable.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A required field is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A field is longer than the certificate can hold.
    #[error("{field} is {len} characters long; at most {max} fit in a certificate")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// How long it was.
        len: usize,
        /// The most accepted.
        max: usize,
    },
    /// A field contains a character that has no place in a name.
    #[error("{field} contains {found:?}, which is not allowed there")]
    BadCharacter {
        /// Which field.
        field: &'static str,
        /// What was found.
        found: char,
    },
    /// The e-mail address is not a plain ASCII address.
    #[error("e-mail address {0:?} is not of the form name@domain in ASCII")]
    BadEmail(String),
    /// A role or other named value that is not one of its kind.
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    /// A URL that cannot go into a certificate.
    #[error("base URL {0:?} must start with http:// and contain only ASCII without spaces")]
    BadUrl(String),
    /// DER encoding failed (a value out of range for its ASN.1 type).
    #[error("encoding the certificate failed: {0}")]
    Der(#[from] der::Error),
}

impl ProfileError {
    /// What is wrong with the applicant's data, as a stable code, when it is the
    /// applicant's to fix.
    pub fn reason(&self) -> Option<&'static str> {
        Some(match self {
            ProfileError::Identity(e) => e.reason(),
            ProfileError::Empty(_) => "empty",
            ProfileError::TooLong { .. } => "too_long",
            ProfileError::BadCharacter { .. } => "bad_character",
            ProfileError::BadEmail(_) => "bad_email",
            ProfileError::UnknownName(_) => "unknown_value",
            ProfileError::BadUrl(_) | ProfileError::Der(_) => return None,
        })
    }

    /// The application form's field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        Some(match self {
            ProfileError::Identity(e) => e.field(),
            ProfileError::Empty(f) | ProfileError::TooLong { field: f, .. } | ProfileError::BadCharacter { field: f, .. } => match *f {
                "surname and name together" => "surname",
                "e-mail address" => "email",
                other => other,
            },
            ProfileError::BadEmail(_) => "email",
            _ => return None,
        })
    }
}

/// What the profile needs to know of the CA that will sign: its name and key id.
#[derive(Clone, Debug)]
pub struct IssuerRef {
    /// The issuer's subject name, which becomes the certificate's issuer name.
    pub name: Name,
    /// The issuer's subject key identifier.
    pub key_id: Vec<u8>,
    /// The issuer's own certificate's issuer and serial number, for an authority
    /// key identifier in the full form the GOST hierarchy writes; `None` before
    /// the issuer's certificate exists (a root signing itself).
    pub certificate: Option<(Name, SerialNumber)>,
}

impl IssuerRef {
    /// The issuer a CA certificate describes: its subject and the key identifier of its key.
    pub fn of(ca: &x509_cert::Certificate) -> Self {
        let tbs = &ca.tbs_certificate;
        IssuerRef {
            name: tbs.subject.clone(),
            key_id: key_identifier(&tbs.subject_public_key_info).to_vec(),
            certificate: Some((tbs.issuer.clone(), tbs.serial_number.clone())),
        }
    }
}

/// The subject key identifier of a public key (its hex names the holder's key
/// store files): the one `signing` computes.
pub use crate::signing::key_identifier;

fn ext<T: Encode>(oid: Oid, critical: bool, value: &T) -> Result<Extension, ProfileError> {
    Ok(Extension { extn_id: oid, critical, extn_value: OctetString::new(value.to_der()?)? })
}

fn key_usage(bits: &[KeyUsages]) -> Result<Extension, ProfileError> {
    let set = bits.iter().fold(flagset::FlagSet::<KeyUsages>::default(), |s, b| s | *b);
    ext(oid::EXT_KEY_USAGE, true, &KeyUsage(set))
}

fn authority_key_id(issuer: &IssuerRef) -> Result<Extension, ProfileError> {
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer.key_id.clone())?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    ext(oid::EXT_AUTHORITY_KEY_ID, false, &aki)
}

/// The authority key identifier with the issuer's certificate named too (its
/// issuer as a directory name, and its serial), as the GOST CA certificates have it.
fn authority_key_id_full(issuer: &IssuerRef) -> Result<Extension, ProfileError> {
    let Some((cert_issuer, serial)) = &issuer.certificate else {
        return authority_key_id(issuer);
    };
    let aki = AuthorityKeyIdentifier {
        key_identifier: Some(OctetString::new(issuer.key_id.clone())?),
        authority_cert_issuer: Some(vec![GeneralName::DirectoryName(cert_issuer.clone())]),
        authority_cert_serial_number: Some(serial.clone()),
    };
    ext(oid::EXT_AUTHORITY_KEY_ID, false, &aki)
}

/// The serial number of a GOST CA certificate: its subject key identifier made a
/// positive INTEGER (top bit cleared), the authority's convention for its CA
/// certificates.
pub fn ca_serial(spki: &SubjectPublicKeyInfoOwned) -> Result<SerialNumber, ProfileError> {
    let mut id = key_identifier(spki);
    id[0] = (id[0] & 0x7f).max(1);
    Ok(SerialNumber::new(&id)?)
}

fn subject_key_id(spki: &SubjectPublicKeyInfoOwned) -> Result<Extension, ProfileError> {
    ext(oid::EXT_SUBJECT_KEY_ID, false, &SubjectKeyIdentifier(OctetString::new(key_identifier(spki).to_vec())?))
}

/// Certificate policies with a CPS pointer and, for end entities as the authority
/// does, a user notice repeating it.
fn policies(policy: Oid, urls: &Urls, with_notice: bool) -> Result<Extension, ProfileError> {
    let cps = urls.at(CPS_PATH);
    let mut qualifiers =
        vec![PolicyQualifierInfo { policy_qualifier_id: oid::QT_CPS, qualifier: Some(Any::new(Tag::Ia5String, cps.as_bytes())?) }];
    if with_notice {
        let notice = UserNotice { notice_ref: None, explicit_text: Some(DisplayText::Utf8String(cps.clone())) };
        qualifiers.push(PolicyQualifierInfo { policy_qualifier_id: oid::QT_UNOTICE, qualifier: Some(Any::encode_from(&notice)?) });
    }
    let info = PolicyInformation { policy_identifier: policy, policy_qualifiers: Some(qualifiers) };
    ext(oid::EXT_CERTIFICATE_POLICIES, false, &CertificatePolicies(vec![info]))
}

fn distribution_point(urls: &Urls, path: &str) -> Result<DistributionPoint, ProfileError> {
    Ok(DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![urls.uri(path)?])),
        reasons: None,
        crl_issuer: None,
    })
}

fn crl_distribution(urls: &Urls, path: &str) -> Result<Extension, ProfileError> {
    ext(oid::EXT_CRL_DISTRIBUTION_POINTS, false, &CrlDistributionPoints(vec![distribution_point(urls, path)?]))
}

fn freshest_crl(urls: &Urls) -> Result<Extension, ProfileError> {
    ext(oid::EXT_FRESHEST_CRL, false, &FreshestCrl(vec![distribution_point(urls, urls.paths().delta_crl)?]))
}

fn info_access(urls: &Urls, issuer_cert_path: &str, with_ocsp: bool) -> Result<Extension, ProfileError> {
    let mut access = vec![AccessDescription { access_method: oid::AD_CA_ISSUERS, access_location: urls.uri(issuer_cert_path)? }];
    if with_ocsp {
        access.push(AccessDescription { access_method: oid::AD_OCSP, access_location: urls.uri(OCSP_PATH)? });
    }
    ext(oid::EXT_AUTHORITY_INFO_ACCESS, false, &AuthorityInfoAccessSyntax(access))
}

/// The extensions of a CRL of the issuer `issuer` (RFC 5280 §5.2): authority key
/// identifier, CRL number, and for a delta CRL the (critical) delta CRL indicator
/// naming its base; a full CRL says where its deltas are (freshest CRL) when
/// `urls` is given.
pub fn crl_extensions(
    issuer: &IssuerRef,
    number: u64,
    delta_base: Option<u64>,
    urls: Option<&Urls>,
) -> Result<Vec<Extension>, ProfileError> {
    let mut exts = vec![authority_key_id(issuer)?, ext(oid::EXT_CRL_NUMBER, false, &der::asn1::Uint::new(&number.to_be_bytes())?)?];
    match (delta_base, urls) {
        (Some(base), _) => exts.push(ext(oid::EXT_DELTA_CRL_INDICATOR, true, &der::asn1::Uint::new(&base.to_be_bytes())?)?),
        (None, Some(urls)) => exts.push(freshest_crl(urls)?),
        (None, None) => {}
    }
    Ok(exts)
}

fn basic_constraints_ca() -> Result<Extension, ProfileError> {
    ext(oid::EXT_BASIC_CONSTRAINTS, true, &BasicConstraints { ca: true, path_len_constraint: None })
}

/// X.509 time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
pub fn x509_time(dt: DateTime) -> Result<Time, ProfileError> {
    Ok(calendar::x509_time(dt)?)
}

/// Validity of `years` calendar years from `not_before` (see [`calendar::add_years`]
/// for 29 February: the end moves to 28 February, never to 1 March).
pub fn validity_years(not_before: DateTime, years: u16) -> Result<Validity, ProfileError> {
    Ok(Validity { not_before: x509_time(not_before)?, not_after: x509_time(calendar::add_years(&not_before, years)?)? })
}

/// A validity of `days` days from `not_before`.
pub fn validity_days(not_before: DateTime, days: i64) -> Result<Validity, ProfileError> {
    let end = calendar::from_unix_seconds(calendar::unix_seconds(&not_before) + days * 86_400)
        .ok_or(der::Error::from(der::ErrorKind::DateTime))?;
    Ok(Validity { not_before: x509_time(not_before)?, not_after: x509_time(end)? })
}

/// The fields every certificate needs before its extensions.
pub struct TbsBasics {
    /// Serial number (20 random positive bytes for end entities).
    pub serial: SerialNumber,
    /// The signer's algorithm identifier.
    pub signature: AlgorithmIdentifierOwned,
    /// The issuer.
    pub issuer: IssuerRef,
    /// Validity period.
    pub validity: Validity,
    /// The certified public key.
    pub public_key: SubjectPublicKeyInfoOwned,
}

fn tbs(b: TbsBasics, subject: Name, extensions: Vec<Extension>) -> TbsCertificate {
    TbsCertificate {
        version: Version::V3,
        serial_number: b.serial,
        signature: b.signature,
        issuer: b.issuer.name,
        validity: b.validity,
        subject,
        subject_public_key_info: b.public_key,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    }
}

/// An end-entity AUTH or SIGN certificate, extensions in the authority's order:
/// key usage, extended key usage, AKI, SKI, policies, CDP, freshest CRL, AIA; then,
/// only when the holder gave an e-mail address, a subject alternative name with it.
pub fn end_entity(b: TbsBasics, applicant: &Applicant, t: CertType, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let (usage, purpose) = match t {
        CertType::Auth => ([KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment], oid::KP_CLIENT_AUTH),
        CertType::Sign => ([KeyUsages::DigitalSignature, KeyUsages::NonRepudiation], oid::KP_EMAIL_PROTECTION),
    };
    let mut eku = vec![purpose];
    eku.extend(applicant.kind_oids());
    let mut extensions = vec![
        key_usage(&usage)?,
        ext(oid::EXT_EXTENDED_KEY_USAGE, false, &ExtendedKeyUsage(eku))?,
        authority_key_id(&b.issuer)?,
        subject_key_id(&b.public_key)?,
        policies(applicant.policy(t), urls, true)?,
        crl_distribution(urls, urls.paths().full_crl)?,
        freshest_crl(urls)?,
        info_access(urls, urls.paths().issuing_cert, true)?,
    ];
    // RFC 5280 §4.1.2.6: an e-mail address in the subject must also be in the SAN.
    if let Some(email) = applicant.email() {
        let san = SubjectAltName(vec![GeneralName::Rfc822Name(der::asn1::Ia5String::new(email)?)]);
        extensions.push(ext(oid::EXT_SUBJECT_ALT_NAME, false, &san)?);
    }
    Ok(tbs(b, applicant.subject()?, extensions))
}

/// The self-signed root: SKI, basic constraints (CA, no path length), key usage
/// keyCertSign + cRLSign, the regulations policy.
pub fn root_ca(b: TbsBasics, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let subject = b.issuer.name.clone();
    let extensions = vec![
        subject_key_id(&b.public_key)?,
        basic_constraints_ca()?,
        key_usage(&[KeyUsages::KeyCertSign, KeyUsages::CRLSign])?,
        policies(oid::POLICY_REGULATIONS, urls, false)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// The issuing CA, as the authority's: SKI, AKI, basic constraints (CA, no path
/// length), key usage, AIA caIssuers → root, regulations policy, CDP → root CRL.
pub fn issuing_ca(b: TbsBasics, subject: Name, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let extensions = vec![
        subject_key_id(&b.public_key)?,
        authority_key_id(&b.issuer)?,
        basic_constraints_ca()?,
        key_usage(&[KeyUsages::KeyCertSign, KeyUsages::CRLSign])?,
        info_access(urls, urls.paths().root_cert, false)?,
        policies(oid::POLICY_REGULATIONS, urls, false)?,
        crl_distribution(urls, urls.paths().root_crl)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// The GOST hierarchy's self-signed root, in the style of the authority's GOST
/// CA certificates: basic constraints and key usage (both critical) first, then
/// SKI and the GOST CA policy.
pub fn gost_root_ca(b: TbsBasics, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let subject = b.issuer.name.clone();
    let extensions = vec![
        basic_constraints_ca()?,
        key_usage(&[KeyUsages::KeyCertSign, KeyUsages::CRLSign])?,
        subject_key_id(&b.public_key)?,
        policies(oid::POLICY_GOST_CA, urls, false)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// The GOST issuing CA, field by field as the authority's "ҰЛТТЫҚ КУӘЛАНДЫРУШЫ
/// ОРТАЛЫҚ (GOST)": basic constraints and key usage (critical), CDP → the GOST
/// root's CRL, SKI, AKI naming the root's certificate in full, AIA caIssuers →
/// the GOST root, the GOST CA policy with the CPS.
pub fn gost_issuing_ca(b: TbsBasics, subject: Name, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let extensions = vec![
        basic_constraints_ca()?,
        key_usage(&[KeyUsages::KeyCertSign, KeyUsages::CRLSign])?,
        crl_distribution(urls, urls.paths().root_crl)?,
        subject_key_id(&b.public_key)?,
        authority_key_id_full(&b.issuer)?,
        info_access(urls, urls.paths().root_cert, false)?,
        policies(oid::POLICY_GOST_CA, urls, false)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// The delegated OCSP responder: digitalSignature, OCSPSigning, and
/// `id-pkix-ocsp-nocheck` whose value is a DER NULL (RFC 6960 §4.2.2.2.1) — the
/// authority's own responder certificate leaves it empty, which linters reject.
pub fn ocsp_responder(b: TbsBasics, subject: Name) -> Result<TbsCertificate, ProfileError> {
    let extensions = vec![
        key_usage(&[KeyUsages::DigitalSignature])?,
        ext(oid::EXT_EXTENDED_KEY_USAGE, false, &ExtendedKeyUsage(vec![oid::KP_OCSP_SIGNING]))?,
        authority_key_id(&b.issuer)?,
        subject_key_id(&b.public_key)?,
        ext(oid::OCSP_NOCHECK, false, &Null)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// A name a TLS server answers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsHost {
    /// A DNS name.
    Dns(String),
    /// An IP address.
    Ip(std::net::IpAddr),
}

impl TlsHost {
    /// An IP address if `s` is one, else a DNS name.
    pub fn parse(s: &str) -> Self {
        let bare = s.trim_start_matches('[').trim_end_matches(']');
        bare.parse().map(TlsHost::Ip).unwrap_or_else(|_| TlsHost::Dns(s.to_ascii_lowercase()))
    }

    fn general_name(&self) -> Result<GeneralName, ProfileError> {
        Ok(match self {
            TlsHost::Dns(name) => GeneralName::DnsName(der::asn1::Ia5String::new(name)?),
            TlsHost::Ip(std::net::IpAddr::V4(ip)) => GeneralName::IpAddress(OctetString::new(ip.octets().to_vec())?),
            TlsHost::Ip(std::net::IpAddr::V6(ip)) => GeneralName::IpAddress(OctetString::new(ip.octets().to_vec())?),
        })
    }
}

impl std::fmt::Display for TlsHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsHost::Dns(name) => f.write_str(name),
            TlsHost::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The authority's own TLS server certificate (the API over HTTPS): the names in
/// the subject alternative name (the first also as CN), digitalSignature only (no
/// RSA key exchange: TLS 1.3, and ECDHE in TLS 1.2), serverAuth, and the issuing CA's CDP and AIA so that clients
/// can check its status like any other certificate's.
pub fn tls_server(b: TbsBasics, hosts: &[TlsHost], urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let first = hosts.first().ok_or(ProfileError::Empty("the TLS host names"))?;
    let san = SubjectAltName(hosts.iter().map(TlsHost::general_name).collect::<Result<_, _>>()?);
    let extensions = vec![
        key_usage(&[KeyUsages::DigitalSignature])?,
        ext(oid::EXT_EXTENDED_KEY_USAGE, false, &ExtendedKeyUsage(vec![oid::KP_SERVER_AUTH]))?,
        authority_key_id(&b.issuer)?,
        subject_key_id(&b.public_key)?,
        ext(oid::EXT_SUBJECT_ALT_NAME, false, &san)?,
        crl_distribution(urls, urls.paths().full_crl)?,
        info_access(urls, urls.paths().issuing_cert, true)?,
    ];
    Ok(tbs(b, subject::server_name(&first.to_string())?, extensions))
}

/// The time-stamp authority's certificate (RFC 3161 §2.3): extended key usage
/// timeStamping alone and critical, digitalSignature and nonRepudiation, with the
/// CRL and AIA of the issuing CA's holders so relying parties can check its status.
pub fn time_stamp_authority(b: TbsBasics, subject: Name, urls: &Urls) -> Result<TbsCertificate, ProfileError> {
    let extensions = vec![
        key_usage(&[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation])?,
        ext(oid::EXT_EXTENDED_KEY_USAGE, true, &ExtendedKeyUsage(vec![oid::KP_TIME_STAMPING]))?,
        authority_key_id(&b.issuer)?,
        subject_key_id(&b.public_key)?,
        crl_distribution(urls, urls.paths().full_crl)?,
        freshest_crl(urls)?,
        info_access(urls, urls.paths().issuing_cert, true)?,
    ];
    Ok(tbs(b, subject, extensions))
}

/// A signature BIT STRING from raw signature bytes.
pub fn signature_bits(sig: &[u8]) -> Result<BitString, ProfileError> {
    Ok(BitString::from_bytes(sig)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_encodes_like_the_authority() {
        // The real SIGN certificate carries 03 02 06 C0; AUTH 03 02 05 A0.
        let sign = key_usage(&[KeyUsages::DigitalSignature, KeyUsages::NonRepudiation]).unwrap();
        assert_eq!(sign.extn_value.as_bytes(), [0x03, 0x02, 0x06, 0xC0]);
        let auth = key_usage(&[KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment]).unwrap();
        assert_eq!(auth.extn_value.as_bytes(), [0x03, 0x02, 0x05, 0xA0]);
    }

    #[test]
    fn ocsp_nocheck_is_der_null() {
        let e = ext(oid::OCSP_NOCHECK, false, &Null).unwrap();
        assert_eq!(e.extn_value.as_bytes(), [0x05, 0x00]);
    }

    #[test]
    fn validity_across_leap_day() {
        let v = validity_years(DateTime::new(2028, 2, 29, 10, 0, 0).unwrap(), 1).unwrap();
        assert_eq!(calendar::rfc3339(&v.not_after.to_date_time()), "2029-02-28T10:00:00Z");
        let v = validity_years(DateTime::new(2049, 6, 1, 0, 0, 0).unwrap(), 1).unwrap();
        assert!(matches!(v.not_before, Time::UtcTime(_)));
        assert!(matches!(v.not_after, Time::GeneralTime(_)));
    }
}
