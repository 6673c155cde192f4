//! The national certificate profiles (NCA-PROFILE.md): who a certificate is for,
//! its subject name attribute by attribute, its extensions in the authority's order,
//! and its validity. This module builds to-be-signed certificates; it never signs.

use crate::calendar;
use crate::identity::{Bin, IdentityError, Iin};
use crate::oid;
use der::asn1::{Any, BitString, Ia5StringRef, Null, ObjectIdentifier as Oid, OctetString, PrintableStringRef, SetOfVec};
use der::{DateTime, Encode, Tag};
use sha1::{Digest, Sha1};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::ext::pkix::certpolicy::{DisplayText, PolicyInformation, PolicyQualifierInfo, UserNotice};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CertificatePolicies, CrlDistributionPoints,
    ExtendedKeyUsage, FreshestCrl, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Longest common name X.520 allows (ub-common-name).
pub const MAX_COMMON_NAME: usize = 64;
/// Longest organization name X.520 allows (ub-organization-name).
pub const MAX_ORGANIZATION: usize = 64;
/// Longest e-mail address accepted (ub-emailaddress-length).
pub const MAX_EMAIL: usize = 255;

/// Why applicant data or a profile could not be turned into a certificate.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// The IIN or BIN is not acceptable.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A required field is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A field is longer than the certificate can hold.
    #[error("{field} is {len} characters long; at most {max} fit in a certificate")]
    TooLong { field: &'static str, len: usize, max: usize },
    /// A field contains a character that has no place in a name.
    #[error("{field} contains {found:?}, which is not allowed in a name")]
    BadCharacter { field: &'static str, found: char },
    /// The e-mail address is not a plain ASCII address.
    #[error("e-mail address {0:?} is not of the form name@domain in ASCII")]
    BadEmail(String),
    /// A role name that is not one of the five roles.
    #[error("unknown role {0:?}: use ceo, signer, financial, hr or employee")]
    UnknownRole(String),
    /// A URL that cannot go into a certificate.
    #[error("base URL {0:?} must start with http:// and contain only ASCII without spaces")]
    BadUrl(String),
    /// DER encoding failed (a value out of range for its ASN.1 type).
    #[error("encoding the certificate failed: {0}")]
    Der(#[from] der::Error),
}

/// The two certificates of a pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CertType {
    /// Login: digitalSignature + keyEncipherment, clientAuth.
    Auth,
    /// Documents: digitalSignature + nonRepudiation, emailProtection.
    Sign,
}

impl CertType {
    /// Name as stored and printed: `AUTH` or `SIGN`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CertType::Auth => "AUTH",
            CertType::Sign => "SIGN",
        }
    }

    /// File name stem the authority's key stores use, before the key id.
    pub fn file_prefix(&self) -> &'static str {
        match self {
            CertType::Auth => "AUTH_RSA256_",
            CertType::Sign => "RSA256_",
        }
    }
}

impl fmt::Display for CertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The role of a legal entity's representative.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// First head; may sign and approve employees.
    Ceo,
    /// Person with signing right.
    Signer,
    /// Person with the right to sign financial documents.
    Financial,
    /// HR officer; may approve employees' applications.
    Hr,
    /// Employee.
    Employee,
}

impl Role {
    /// Every role, in OID order.
    pub const ALL: [Role; 5] = [Role::Ceo, Role::Signer, Role::Financial, Role::Hr, Role::Employee];

    /// The role OID placed in extended key usage.
    pub fn oid(&self) -> Oid {
        match self {
            Role::Ceo => oid::ROLE_CEO,
            Role::Signer => oid::ROLE_SIGNER,
            Role::Financial => oid::ROLE_FINANCIAL,
            Role::Hr => oid::ROLE_HR,
            Role::Employee => oid::ROLE_EMPLOYEE,
        }
    }

    /// The role an OID names, if any.
    pub fn from_oid(o: &Oid) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.oid() == *o)
    }

    /// Name on the command line and in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Ceo => "ceo",
            Role::Signer => "signer",
            Role::Financial => "financial",
            Role::Hr => "hr",
            Role::Employee => "employee",
        }
    }
}

impl FromStr for Role {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ProfileError::UnknownRole(s.to_string()))
    }
}

/// How the applicant's identity was proven; recorded in extended key usage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentificationMethod {
    /// In person at a registration center.
    InPerson,
    /// Remotely, by video identification (such certificates cannot be renewed).
    Remote,
}

impl IdentificationMethod {
    /// The OID placed in extended key usage.
    pub fn oid(&self) -> Oid {
        match self {
            IdentificationMethod::InPerson => oid::IDENTIFIED_IN_PERSON,
            IdentificationMethod::Remote => oid::IDENTIFIED_REMOTELY,
        }
    }
}

/// A role inside the authority itself (CA staff), recorded in extended key usage.
/// An operator's SIGN certificate is the credential for the operator API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// CA administrator.
    Administrator,
    /// CA manager.
    Manager,
    /// Registration-center operator: confirms and rejects applications.
    Operator,
}

impl StaffRole {
    /// Every staff role, in OID order.
    pub const ALL: [StaffRole; 3] = [StaffRole::Administrator, StaffRole::Manager, StaffRole::Operator];

    /// The OID placed in extended key usage.
    pub fn oid(&self) -> Oid {
        match self {
            StaffRole::Administrator => oid::STAFF_ADMINISTRATOR,
            StaffRole::Manager => oid::STAFF_MANAGER,
            StaffRole::Operator => oid::STAFF_OPERATOR,
        }
    }

    /// The staff role an OID names, if any.
    pub fn from_oid(o: &Oid) -> Option<StaffRole> {
        StaffRole::ALL.into_iter().find(|r| r.oid() == *o)
    }

    /// Name on the command line and in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            StaffRole::Administrator => "ca_administrator",
            StaffRole::Manager => "ca_manager",
            StaffRole::Operator => "ca_operator",
        }
    }
}

impl FromStr for StaffRole {
    type Err = ProfileError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StaffRole::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ProfileError::UnknownRole(s.to_string()))
    }
}

/// A checked, upper-cased name field.
fn name_field(field: &'static str, value: &str, max: usize) -> Result<String, ProfileError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ProfileError::Empty(field));
    }
    if let Some(found) = value.chars().find(|c| c.is_control() || matches!(c, '<' | '>' | '\\' | '=' | '+' | ';')) {
        return Err(ProfileError::BadCharacter { field, found });
    }
    let len = value.chars().count();
    if len > max {
        return Err(ProfileError::TooLong { field, len, max });
    }
    Ok(value.to_uppercase())
}

/// The holder's full name as the authority writes it: upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName {
    surname: String,
    name: String,
    patronymic: Option<String>,
}

impl PersonName {
    /// Check and upper-case a name; the common name `SURNAME NAME` must fit in 64 characters.
    pub fn new(surname: &str, name: &str, patronymic: Option<&str>) -> Result<Self, ProfileError> {
        let surname = name_field("surname", surname, MAX_COMMON_NAME)?;
        let name = name_field("name", name, MAX_COMMON_NAME)?;
        let patronymic = patronymic.filter(|p| !p.trim().is_empty()).map(|p| name_field("patronymic", p, MAX_COMMON_NAME)).transpose()?;
        let pn = PersonName { surname, name, patronymic };
        let len = pn.common_name().chars().count();
        if len > MAX_COMMON_NAME {
            return Err(ProfileError::TooLong { field: "surname and name together", len, max: MAX_COMMON_NAME });
        }
        Ok(pn)
    }

    /// `SURNAME NAME`, the common name.
    pub fn common_name(&self) -> String {
        format!("{} {}", self.surname, self.name)
    }

    /// Surname.
    pub fn surname(&self) -> &str {
        &self.surname
    }

    /// Given name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Patronymic, if the holder has one.
    pub fn patronymic(&self) -> Option<&str> {
        self.patronymic.as_deref()
    }
}

/// The legal entity a representative acts for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegalEntity {
    bin: Bin,
    organization: String,
    role: Role,
}

impl LegalEntity {
    /// A checked legal entity: valid BIN, organization name that fits.
    pub fn new(bin: &str, organization: &str, role: Role) -> Result<Self, ProfileError> {
        let bin = Bin::parse(bin)?;
        let organization = organization.trim();
        if organization.is_empty() {
            return Err(ProfileError::Empty("organization"));
        }
        if let Some(found) = organization.chars().find(|c| c.is_control()) {
            return Err(ProfileError::BadCharacter { field: "organization", found });
        }
        let len = organization.chars().count();
        if len > MAX_ORGANIZATION {
            return Err(ProfileError::TooLong { field: "organization", len, max: MAX_ORGANIZATION });
        }
        Ok(LegalEntity { bin, organization: organization.to_string(), role })
    }

    /// The entity's BIN.
    pub fn bin(&self) -> &Bin {
        &self.bin
    }

    /// The organization name as it appears in `O=`.
    pub fn organization(&self) -> &str {
        &self.organization
    }

    /// The representative's role.
    pub fn role(&self) -> Role {
        self.role
    }
}

/// Everything the profile needs to know about whom a pair is for. Constructed only
/// through [`Applicant::new`], which enforces the enrollment rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applicant {
    iin: Iin,
    person: PersonName,
    email: Option<String>,
    entity: Option<LegalEntity>,
    identification: IdentificationMethod,
    staff: Option<StaffRole>,
}

impl Applicant {
    /// Check an applicant for enrollment on `today`: IIN with a valid check digit and
    /// birth date, age at least 16, e-mail in ASCII.
    pub fn new(
        iin: &str,
        person: PersonName,
        email: Option<&str>,
        entity: Option<LegalEntity>,
        identification: IdentificationMethod,
        today: calendar::Date,
    ) -> Result<Self, ProfileError> {
        let iin = Iin::parse(iin)?;
        iin.require_adult_on(today)?;
        let email = email.map(str::trim).filter(|e| !e.is_empty()).map(check_email).transpose()?;
        Ok(Applicant { iin, person, email, entity, identification, staff: None })
    }

    /// The holder's IIN.
    pub fn iin(&self) -> &Iin {
        &self.iin
    }

    /// The holder's name.
    pub fn person(&self) -> &PersonName {
        &self.person
    }

    /// The legal entity, for representatives.
    pub fn entity(&self) -> Option<&LegalEntity> {
        self.entity.as_ref()
    }

    /// The holder's e-mail address.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// How the holder's identity was proven.
    pub fn identification(&self) -> IdentificationMethod {
        self.identification
    }

    /// The holder's role inside the authority, if they are CA staff.
    pub fn staff(&self) -> Option<StaffRole> {
        self.staff
    }

    /// The same applicant as a member of CA staff.
    pub fn with_staff_role(mut self, role: StaffRole) -> Self {
        self.staff = Some(role);
        self
    }

    /// The subject-kind OIDs, then the role and identification method, for extended key usage.
    fn kind_oids(&self) -> Vec<Oid> {
        let mut oids = match &self.entity {
            None => vec![oid::KIND_INDIVIDUAL],
            Some(e) => vec![oid::KIND_LEGAL_ENTITY, e.role.oid()],
        };
        oids.extend(self.staff.map(|s| s.oid()));
        oids.push(self.identification.oid());
        oids
    }

    fn policy(&self, t: CertType) -> Oid {
        match (&self.entity, t) {
            (None, CertType::Auth) => oid::POLICY_INDIVIDUAL_AUTH,
            (None, CertType::Sign) => oid::POLICY_INDIVIDUAL_SIGN,
            (Some(_), CertType::Auth) => oid::POLICY_LEGAL_AUTH,
            (Some(_), CertType::Sign) => oid::POLICY_LEGAL_SIGN,
        }
    }

    /// The subject DN in the authority's order: CN, SN, serialNumber, C, [O, OU], GN, [E].
    pub fn subject(&self) -> Result<Name, ProfileError> {
        let p = &self.person;
        let mut attrs = vec![
            utf8(oid::AT_COMMON_NAME, &p.common_name())?,
            utf8(oid::AT_SURNAME, &p.surname)?,
            printable(oid::AT_SERIAL_NUMBER, &format!("IIN{}", self.iin))?,
            printable(oid::AT_COUNTRY, "KZ")?,
        ];
        if let Some(e) = &self.entity {
            attrs.push(utf8(oid::AT_ORGANIZATION, &e.organization)?);
            attrs.push(utf8(oid::AT_ORGANIZATIONAL_UNIT, &format!("BIN{}", e.bin))?);
        }
        if let Some(gn) = &p.patronymic {
            attrs.push(utf8(oid::AT_GIVEN_NAME, gn)?);
        }
        if let Some(email) = &self.email {
            attrs.push(ia5(oid::AT_EMAIL, email)?);
        }
        name(attrs)
    }
}

fn check_email(e: &str) -> Result<String, ProfileError> {
    let bad = || ProfileError::BadEmail(e.to_string());
    let (local, domain) = e.split_once('@').ok_or_else(bad)?;
    let ok_chars = e.chars().all(|c| c.is_ascii_graphic());
    if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') || !ok_chars {
        return Err(bad());
    }
    if e.len() > MAX_EMAIL {
        return Err(ProfileError::TooLong { field: "e-mail address", len: e.len(), max: MAX_EMAIL });
    }
    Ok(e.to_ascii_lowercase())
}

fn atv(oid: Oid, tag: Tag, value: &str) -> Result<AttributeTypeAndValue, ProfileError> {
    Ok(AttributeTypeAndValue { oid, value: Any::new(tag, value.as_bytes())? })
}

fn utf8(oid: Oid, value: &str) -> Result<AttributeTypeAndValue, ProfileError> {
    atv(oid, Tag::Utf8String, value)
}

fn printable(oid: Oid, value: &str) -> Result<AttributeTypeAndValue, ProfileError> {
    PrintableStringRef::new(value)?;
    atv(oid, Tag::PrintableString, value)
}

fn ia5(oid: Oid, value: &str) -> Result<AttributeTypeAndValue, ProfileError> {
    Ia5StringRef::new(value)?;
    atv(oid, Tag::Ia5String, value)
}

/// A DN with one attribute per RDN, in the given order.
fn name(attrs: Vec<AttributeTypeAndValue>) -> Result<Name, ProfileError> {
    let rdns =
        attrs.into_iter().map(|a| Ok(RelativeDistinguishedName(SetOfVec::try_from(vec![a])?))).collect::<Result<Vec<_>, der::Error>>()?;
    Ok(RdnSequence(rdns))
}

/// A CA's own name: `C=KZ, CN=…` like the authority's issuing CA, or `CN=…, C=KZ` for the root.
pub fn ca_name(common_name: &str, country_first: bool) -> Result<Name, ProfileError> {
    let cn = utf8(oid::AT_COMMON_NAME, &name_field("CA name", common_name, MAX_COMMON_NAME)?)?;
    let c = printable(oid::AT_COUNTRY, "KZ")?;
    name(if country_first { vec![c, cn] } else { vec![cn, c] })
}

/// Where the authority publishes its certificates, CRLs, OCSP and CPS. Every URL in
/// every certificate comes from here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Urls {
    base: String,
}

/// Path of the root certificate under the base URL.
pub const ROOT_CERT_PATH: &str = "/cert/root_rsa.cer";
/// Path of the issuing CA certificate.
pub const ISSUING_CERT_PATH: &str = "/cert/nca_rsa.cer";
/// Path of the root's CRL.
pub const ROOT_CRL_PATH: &str = "/crl/root_rsa.crl";
/// Path of the issuing CA's full CRL.
pub const FULL_CRL_PATH: &str = "/crl/nca_rsa.crl";
/// Path of the issuing CA's delta CRL.
pub const DELTA_CRL_PATH: &str = "/crl/nca_d_rsa.crl";
/// Path of the OCSP responder.
pub const OCSP_PATH: &str = "/ocsp/";
/// Path of the certification practice statement.
pub const CPS_PATH: &str = "/cps";

impl Urls {
    /// Check a base URL such as `http://pki.example.kz` (no trailing slash needed).
    /// Plain HTTP on purpose: CRLs and OCSP must be fetchable without TLS (RFC 5280 §4.2.1.13).
    pub fn new(base: &str) -> Result<Self, ProfileError> {
        let base = base.trim_end_matches('/');
        let ok = base.starts_with("http://")
            && base.len() > "http://".len()
            && base.chars().all(|c| c.is_ascii_graphic())
            && Ia5StringRef::new(base).is_ok();
        if !ok {
            return Err(ProfileError::BadUrl(base.to_string()));
        }
        Ok(Urls { base: base.to_string() })
    }

    /// The base URL, without trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The absolute URL of `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    fn uri(&self, path: &str) -> Result<GeneralName, ProfileError> {
        Ok(GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(&self.at(path))?))
    }
}

/// What the profile needs to know of the CA that will sign: its name and key id.
#[derive(Clone, Debug)]
pub struct IssuerRef {
    /// The issuer's subject name, which becomes the certificate's issuer name.
    pub name: Name,
    /// The issuer's subject key identifier.
    pub key_id: Vec<u8>,
}

/// The subject key identifier of a public key: SHA-1 of the subjectPublicKey bits
/// (RFC 5280 §4.2.1.2, method 1). Its hex names the holder's key store files.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> [u8; 20] {
    Sha1::digest(spki.subject_public_key.raw_bytes()).into()
}

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
    ext(oid::EXT_FRESHEST_CRL, false, &FreshestCrl(vec![distribution_point(urls, DELTA_CRL_PATH)?]))
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
    Ok(if dt.year() < 2050 {
        Time::UtcTime(der::asn1::UtcTime::from_date_time(dt)?)
    } else {
        Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt))
    })
}

/// Validity of `years` calendar years from `not_before` (see [`calendar::add_years`]
/// for 29 February: the end moves to 28 February, never to 1 March).
pub fn validity_years(not_before: DateTime, years: u16) -> Result<Validity, ProfileError> {
    Ok(Validity { not_before: x509_time(not_before)?, not_after: x509_time(calendar::add_years(&not_before, years)?)? })
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
        crl_distribution(urls, FULL_CRL_PATH)?,
        freshest_crl(urls)?,
        info_access(urls, ISSUING_CERT_PATH, true)?,
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
        info_access(urls, ROOT_CERT_PATH, false)?,
        policies(oid::POLICY_REGULATIONS, urls, false)?,
        crl_distribution(urls, ROOT_CRL_PATH)?,
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

/// The profile's own check of a to-be-signed certificate, run before anything is
/// signed: catches a builder bug before it becomes a signed certificate.
pub fn lint(tbs: &TbsCertificate) -> Result<(), String> {
    let serial = tbs.serial_number.as_bytes();
    if serial.is_empty() || serial.len() > 20 || serial[0] & 0x80 != 0 {
        return Err(format!("serial number of {} bytes is not a positive integer of at most 20 bytes", serial.len()));
    }
    let exts = tbs.extensions.as_deref().unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    for e in exts {
        if !seen.insert(e.extn_id) {
            return Err(format!("extension {} appears twice", e.extn_id));
        }
    }
    let ku = exts.iter().find(|e| e.extn_id == oid::EXT_KEY_USAGE).ok_or("no key usage extension")?;
    if !ku.critical {
        return Err("key usage must be critical".into());
    }
    if !exts.iter().any(|e| e.extn_id == oid::EXT_SUBJECT_KEY_ID) {
        return Err("no subject key identifier".into());
    }
    let start = tbs.validity.not_before.to_unix_duration();
    let end = tbs.validity.not_after.to_unix_duration();
    if end <= start {
        return Err("validity ends before it starts".into());
    }
    Ok(())
}

/// A signature BIT STRING from raw signature bytes.
pub fn signature_bits(sig: &[u8]) -> Result<BitString, ProfileError> {
    Ok(BitString::from_bytes(sig)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person() -> PersonName {
        PersonName::new("Тестов", "тест", Some("Тестович")).unwrap()
    }

    #[test]
    fn names_are_upper_case_and_bounded() {
        let p = person();
        assert_eq!(p.common_name(), "ТЕСТОВ ТЕСТ");
        assert_eq!(p.patronymic(), Some("ТЕСТОВИЧ"));
        assert!(matches!(PersonName::new("", "A", None), Err(ProfileError::Empty("surname"))));
        assert!(matches!(PersonName::new("A=B", "A", None), Err(ProfileError::BadCharacter { found: '=', .. })));
        let long = "Ж".repeat(40);
        assert!(matches!(PersonName::new(&long, &long, None), Err(ProfileError::TooLong { max: 64, .. })));
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(check_email("A.B@Mail.KZ").unwrap(), "a.b@mail.kz");
        for bad in ["no-at", "a@b", "@x.kz", "a@b@c.kz", "тест@mail.kz", "a b@c.kz"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
            assert_eq!(Role::from_oid(&r.oid()), Some(r));
        }
        assert!("boss".parse::<Role>().is_err());
    }

    #[test]
    fn urls_are_http_ascii() {
        assert_eq!(Urls::new("http://pki.example.kz/").unwrap().at(FULL_CRL_PATH), "http://pki.example.kz/crl/nca_rsa.crl");
        assert!(Urls::new("ftp://x").is_err());
        assert!(Urls::new("http://").is_err());
        assert!(Urls::new("http://a b").is_err());
        assert!(Urls::new("http://пки.kz").is_err());
    }

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
