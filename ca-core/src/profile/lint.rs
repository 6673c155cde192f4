//! The profile's own check of a to-be-signed certificate, run before anything is
//! signed: catches a builder bug before it becomes a signed certificate.

use super::subject::is_mailbox;
use crate::oid;
use der::asn1::{Ia5StringRef, ObjectIdentifier as Oid};
use der::Decode;
use thiserror::Error;
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

/// What the lint found wrong; the first finding stops signing.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum LintFinding {
    /// The serial is not a positive integer of 1 to 20 bytes (RFC 5280 §4.1.2.2).
    #[error("serial number of {0} bytes is not a positive integer of at most 20 bytes")]
    BadSerial(usize),
    /// An extension appears twice (RFC 5280 §4.2).
    #[error("extension {0} appears twice")]
    DuplicateExtension(Oid),
    /// No key usage extension.
    #[error("no key usage extension")]
    NoKeyUsage,
    /// Key usage not marked critical, as the profile requires.
    #[error("key usage must be critical")]
    KeyUsageNotCritical,
    /// No subject key identifier.
    #[error("no subject key identifier")]
    NoSubjectKeyId,
    /// notAfter is not after notBefore.
    #[error("validity ends before it starts")]
    EmptyValidity,
    /// An e-mail address (subject emailAddress or SAN rfc822Name) that is not an
    /// RFC 5321 mailbox, or an emailAddress that is not an IA5String.
    #[error("e-mail address {0:?} is not an RFC 5321 mailbox")]
    BadEmail(String),
}

/// Check `tbs` against the rules every certificate of this authority keeps.
pub fn lint(tbs: &TbsCertificate) -> Result<(), LintFinding> {
    let serial = tbs.serial_number.as_bytes();
    if serial.is_empty() || serial.len() > 20 || serial[0] & 0x80 != 0 {
        return Err(LintFinding::BadSerial(serial.len()));
    }
    let exts = tbs.extensions.as_deref().unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    if let Some(e) = exts.iter().find(|e| !seen.insert(e.extn_id)) {
        return Err(LintFinding::DuplicateExtension(e.extn_id));
    }
    let ku = exts.iter().find(|e| e.extn_id == oid::EXT_KEY_USAGE).ok_or(LintFinding::NoKeyUsage)?;
    if !ku.critical {
        return Err(LintFinding::KeyUsageNotCritical);
    }
    if !exts.iter().any(|e| e.extn_id == oid::EXT_SUBJECT_KEY_ID) {
        return Err(LintFinding::NoSubjectKeyId);
    }
    if tbs.validity.not_after.to_unix_duration() <= tbs.validity.not_before.to_unix_duration() {
        return Err(LintFinding::EmptyValidity);
    }
    lint_emails(tbs)
}

/// Every e-mail address the certificate carries is a mailbox (pkilint's
/// `pkix.invalid_email_address_syntax`).
fn lint_emails(tbs: &TbsCertificate) -> Result<(), LintFinding> {
    for atv in tbs.subject.0.iter().flat_map(|rdn| rdn.0.iter()).filter(|atv| atv.oid == oid::AT_EMAIL) {
        let text = Ia5StringRef::try_from(&atv.value).map(|s| s.as_str().to_string());
        match text {
            Ok(t) if is_mailbox(&t) => {}
            Ok(t) => return Err(LintFinding::BadEmail(t)),
            Err(_) => return Err(LintFinding::BadEmail(String::from_utf8_lossy(atv.value.value()).into_owned())),
        }
    }
    let exts = tbs.extensions.as_deref().unwrap_or_default();
    for e in exts.iter().filter(|e| e.extn_id == oid::EXT_SUBJECT_ALT_NAME) {
        let san = SubjectAltName::from_der(e.extn_value.as_bytes()).map_err(|_| LintFinding::BadEmail(String::new()))?;
        for name in &san.0 {
            if let GeneralName::Rfc822Name(m) = name {
                if !is_mailbox(m.as_str()) {
                    return Err(LintFinding::BadEmail(m.as_str().to_string()));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar;
    use crate::model::{CertType, IdentificationMethod};
    use crate::profile::{end_entity, validity_years, Applicant, IssuerRef, PersonName, TbsBasics, Urls};
    use der::asn1::Ia5String;
    use der::{DecodePem, Encode};
    use x509_cert::Certificate;

    /// A SIGN certificate's to-be-signed part for a holder with an e-mail address.
    fn tbs_with_email() -> TbsCertificate {
        let real = Certificate::from_pem(include_bytes!("../../../tests/data/nca-test/individual_sign_rsa.pem")).unwrap();
        let now = calendar::now();
        let person = PersonName::new("ПОЧТОВ", "ТЕСТ", None).unwrap();
        let who =
            Applicant::new("880515300120", person, Some("a@x.kz"), None, IdentificationMethod::InPerson, calendar::Date::of(&now)).unwrap();
        let basics = TbsBasics {
            serial: real.tbs_certificate.serial_number.clone(),
            signature: real.signature_algorithm.clone(),
            issuer: IssuerRef { name: real.tbs_certificate.issuer.clone(), key_id: vec![1; 20], certificate: None },
            validity: validity_years(now, 1).unwrap(),
            public_key: real.tbs_certificate.subject_public_key_info.clone(),
        };
        end_entity(basics, &who, CertType::Sign, &Urls::new("http://pki.test.kz").unwrap()).unwrap()
    }

    #[test]
    fn an_address_that_is_no_mailbox_is_refused_in_the_subject_and_the_san() {
        let good = tbs_with_email();
        assert_eq!(lint(&good), Ok(()));
        let hostile = "<script>alert(1)</script>@x.kz";
        let mut in_subject = good.clone();
        for rdn in in_subject.subject.0.iter_mut() {
            let mut atvs: Vec<_> = rdn.0.iter().cloned().collect();
            for atv in atvs.iter_mut().filter(|a| a.oid == oid::AT_EMAIL) {
                atv.value = der::Any::new(der::Tag::Ia5String, hostile.as_bytes()).unwrap();
            }
            rdn.0 = atvs.try_into().unwrap();
        }
        assert_eq!(lint(&in_subject), Err(LintFinding::BadEmail(hostile.into())));
        let mut in_san = good.clone();
        let san = SubjectAltName(vec![GeneralName::Rfc822Name(Ia5String::new(hostile).unwrap())]);
        for e in in_san.extensions.iter_mut().flatten().filter(|e| e.extn_id == oid::EXT_SUBJECT_ALT_NAME) {
            e.extn_value = der::asn1::OctetString::new(san.to_der().unwrap()).unwrap();
        }
        assert_eq!(lint(&in_san), Err(LintFinding::BadEmail(hostile.into())));
    }
}
