//! Whom a certificate is for: the holder's name, legal entity and e-mail, checked
//! for enrollment, and the subject DN in the authority's order and string types.

use super::ProfileError;
use crate::calendar;
use crate::identity::{Bin, Iin};
use crate::model::{CertType, IdentificationMethod, Role, StaffRole};
use crate::oid;
use der::asn1::{Any, Ia5StringRef, ObjectIdentifier as Oid, PrintableStringRef, SetOfVec};
use der::Tag;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

/// Longest common name X.520 allows (ub-common-name).
pub const MAX_COMMON_NAME: usize = 64;
/// Longest organization name X.520 allows (ub-organization-name).
pub const MAX_ORGANIZATION: usize = 64;
/// Longest e-mail address accepted (ub-emailaddress-length).
pub const MAX_EMAIL: usize = 255;

/// A code point that has no place in a name on a certificate: a control character
/// (Cc), a format character (Cf: bidirectional overrides and isolates, zero-width
/// spaces and joiners, the BOM, …), a private-use code point (Co) or a
/// noncharacter. They can make a name read differently from what it is.
pub fn is_forbidden_in_name(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || matches!(u,
            0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
            | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
            | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
        || matches!(u, 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
        || matches!(u, 0xFDD0..=0xFDEF)
        || (u & 0xFFFE) == 0xFFFE
}

/// `value` trimmed, 1 to `max` characters, with no character `is_forbidden_in_name`
/// refuses nor any of `also_refused`: the one check of names and free text.
fn checked<'a>(field: &'static str, value: &'a str, max: usize, also_refused: &[char]) -> Result<&'a str, ProfileError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ProfileError::Empty(field));
    }
    if let Some(found) = value.chars().find(|c| is_forbidden_in_name(*c) || also_refused.contains(c)) {
        return Err(ProfileError::BadCharacter { field, found });
    }
    let len = value.chars().count();
    if len > max {
        return Err(ProfileError::TooLong { field, len, max });
    }
    Ok(value)
}

/// A checked, upper-cased name field (DN syntax's special characters refused too).
fn name_field(field: &'static str, value: &str, max: usize) -> Result<String, ProfileError> {
    Ok(checked(field, value, max, &['<', '>', '\\', '=', '+', ';'])?.to_uppercase())
}

/// A checked free-text field the authority stores and shows (a registration
/// center, a reason): trimmed, 1 to `max` characters, and none of what may not
/// stand in a name either (controls, bidirectional and other format characters,
/// private-use code points) nor markup's angle brackets, so that what an operator
/// or applicant reads is what was written.
pub fn free_text(field: &'static str, value: &str, max: usize) -> Result<String, ProfileError> {
    Ok(checked(field, value, max, &['<', '>'])?.to_string())
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
        if let Some(found) = organization.chars().find(|c| is_forbidden_in_name(*c)) {
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
    pub(super) fn kind_oids(&self) -> Vec<Oid> {
        let mut oids = match &self.entity {
            None => vec![oid::KIND_INDIVIDUAL],
            Some(e) => vec![oid::KIND_LEGAL_ENTITY, e.role.oid()],
        };
        oids.extend(self.staff.map(|s| s.oid()));
        oids.push(self.identification.oid());
        oids
    }

    pub(super) fn policy(&self, t: CertType) -> Oid {
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
    if e.len() > MAX_EMAIL {
        return Err(ProfileError::TooLong { field: "e-mail address", len: e.len(), max: MAX_EMAIL });
    }
    if !is_mailbox(e) {
        return Err(ProfileError::BadEmail(e.to_string()));
    }
    Ok(e.to_ascii_lowercase())
}

/// Whether `e` is an RFC 5321 §4.1.2 Mailbox the authority writes into a
/// certificate: a Dot-string local part (atoms of atext joined by single dots, at
/// most 64 octets) `@` a domain of at least two LDH labels (each 1 to 63 octets, no
/// hyphen at either end, at most 253 octets in all, the last not all digits).
/// Quoted local parts and address literals, legal in SMTP, are refused: nobody
/// needs them on a national certificate, and they carry quotes, spaces and brackets.
pub fn is_mailbox(e: &str) -> bool {
    let Some((local, domain)) = e.rsplit_once('@') else { return false };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let local_ok = local.len() <= 64 && local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(atext));
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !l.starts_with('-') && !l.ends_with('-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| label_ok(l))
        && labels.last().is_some_and(|tld| !tld.chars().all(|c| c.is_ascii_digit()));
    local_ok && domain_ok
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

/// A server's subject: its host name as CN, country KZ.
pub(crate) fn server_name(host: &str) -> Result<Name, ProfileError> {
    ca_name(host, true)
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
    fn invisible_and_direction_changing_characters_are_refused() {
        // The name that was once issued: ТЕСТОВ ТЕСТ with a right-to-left override.
        for bad in [
            "ТЕСТ\u{202E}ВОТСЕТ",
            "ТЕ\u{200B}СТ",
            "ТЕСТ\u{2066}",
            "\u{FEFF}ТЕСТ",
            "ТЕ\u{E000}СТ",
            "ТЕСТ\u{FDD0}",
            "ТЕСТ\u{10FFFF}",
            "A\u{00AD}B",
        ] {
            let e = PersonName::new(bad, "ТЕСТ", None).unwrap_err();
            assert!(matches!(e, ProfileError::BadCharacter { field: "surname", .. }), "{bad:?}: {e}");
            assert!(LegalEntity::new("040840000124", bad, Role::Ceo).is_err(), "{bad:?}");
        }
        // Kazakh, Russian, Latin letters, hyphens, apostrophes and spaces stay.
        assert!(PersonName::new("Сәрсенбаев-Ким", "Әйгерім", Some("О'Нил")).is_ok());
        assert!(LegalEntity::new("040840000124", "ТОО «Қазақ Телеком»", Role::Ceo).is_ok());
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(check_email("A.B@Mail.KZ").unwrap(), "a.b@mail.kz");
        for bad in [
            "no-at",
            "a@b",
            "@x.kz",
            "a@b@c.kz",
            "тест@mail.kz",
            "a b@c.kz",
            "<script>alert(1)</script>@x.kz",
            "a..b@x.kz",
            ".a@x.kz",
            "a.@x.kz",
            "\"quoted\"@x.kz",
            "a@[127.0.0.1]",
            "a@-x.kz",
            "a@x-.kz",
            "a@x..kz",
            "a@x.kz.",
            "a@x.123",
            "a(comment)@x.kz",
            "a@x_y.kz",
            "a\u{202e}@x.kz",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        let long_local = format!("{}@x.kz", "a".repeat(65));
        assert!(check_email(&long_local).is_err());
        let long_label = format!("a@{}.kz", "b".repeat(64));
        assert!(check_email(&long_label).is_err());
        for good in ["o'neil@mail.kz", "a+tag@x.kz", "first.last@sub.gov.kz", "x@xn--80ao21a.xn--80aswg", "a-b@1x.kz"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
    }
}
