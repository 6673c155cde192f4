//! The profile's own check of a to-be-signed certificate, run before anything is
//! signed: catches a builder bug before it becomes a signed certificate.

use crate::oid;
use der::asn1::ObjectIdentifier as Oid;
use thiserror::Error;
use x509_cert::certificate::TbsCertificate;

/// What the lint found wrong; the first finding stops signing.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
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
    Ok(())
}
