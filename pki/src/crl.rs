//! Reading anyone's CRL (RFC 5280 §5): its entries, numbers and reasons, with the
//! issuer's signature checked when the issuer is given. Issuing CRLs is the
//! authority's (`ca-core`).

use crate::calendar;
use crate::model::RevocationReason;
use crate::oid;
use crate::verify::{self, revocation, SignatureError};
use der::Decode;
use serde::Serialize;
use thiserror::Error;
use x509_cert::crl::CertificateList;
use x509_cert::Certificate;

/// The CRL reason code for an entry leaving the CRL (a lifted hold), delta CRLs only.
pub const REMOVE_FROM_CRL: u8 = 8;

/// Why a CRL was not read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CrlReadError {
    /// The bytes are not a CRL.
    #[error("not a CRL: {0}")]
    Malformed(String),
    /// The signature does not verify under the given issuer.
    #[error("the CRL's signature does not verify under the given issuer: {0}")]
    Signature(#[from] SignatureError),
}

/// Append a DER tag and length (shortest form) to `buf`: the hand-written encoders
/// (CRL entries here, OCSP responses in the `ocsp` crate) use it.
pub fn push_header(buf: &mut Vec<u8>, tag: u8, len: usize) {
    buf.push(tag);
    if len < 0x80 {
        buf.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        buf.push(0x80 | (8 - skip) as u8);
        buf.extend_from_slice(&bytes[skip..]);
    }
}

/// One entry of a CRL as read.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct EntryInfo {
    /// Serial number.
    pub serial: crate::model::Serial,
    /// Revocation date, RFC 3339.
    pub revoked_at: String,
    /// Reason (RFC 5280 name), `removeFromCRL` in a delta, `null` when absent.
    pub reason: Option<String>,
    /// Invalidity date, RFC 3339, when given.
    pub invalidity_date: Option<String>,
}

/// A CRL as read: ours or anyone's.
#[derive(Clone, Debug, Serialize)]
pub struct CrlInfo {
    /// Always `crl`.
    pub kind: &'static str,
    /// Issuer DN.
    pub issuer: String,
    /// thisUpdate, RFC 3339.
    pub this_update: String,
    /// nextUpdate, RFC 3339, if any.
    pub next_update: Option<String>,
    /// CRL number, decimal, if any.
    pub number: Option<String>,
    /// For a delta CRL, the base CRL number.
    pub delta_base: Option<String>,
    /// Signature algorithm.
    pub signature_algorithm: String,
    /// Number of entries.
    pub entry_count: usize,
    /// The entries.
    pub entries: Vec<EntryInfo>,
}

fn time_string(t: &x509_cert::time::Time) -> String {
    calendar::rfc3339(&t.to_date_time())
}

fn uint_string(bytes: &[u8]) -> String {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return "0".into(),
    };
    if bytes.len() <= 16 {
        let mut v = [0u8; 16];
        v[16 - bytes.len()..].copy_from_slice(bytes);
        u128::from_be_bytes(v).to_string()
    } else {
        format!("0x{}", hex::encode(bytes))
    }
}

fn reason_name(code: u8) -> String {
    match code {
        0 => "unspecified".into(),
        REMOVE_FROM_CRL => "removeFromCRL".into(),
        c => RevocationReason::from_code(c).map(|r| r.as_str().to_string()).unwrap_or_else(|| format!("reason {c}")),
    }
}

/// Decode a CRL (DER) and, with `issuer`, check its signature and issuer name.
pub fn read(der: &[u8], issuer: Option<&Certificate>) -> Result<CrlInfo, CrlReadError> {
    let crl = CertificateList::from_der(der).map_err(|e| CrlReadError::Malformed(e.to_string()))?;
    let tbs = &crl.tbs_cert_list;
    if let Some(ca) = issuer {
        revocation::crl_signed_by(der, &crl, ca)?;
    }
    let (number, delta_base) = revocation::crl_numbers(tbs).map_err(CrlReadError::Malformed)?;
    let (number, delta_base) = (number.map(|n| uint_string(n.as_bytes())), delta_base.map(|n| uint_string(n.as_bytes())));
    let entries: Vec<EntryInfo> = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| {
            let reason = match revocation::crl_entry_reason(r) {
                revocation::EntryReason::Absent => None,
                revocation::EntryReason::Code(code) => Some(reason_name(code)),
                revocation::EntryReason::Malformed => Some("malformed".into()),
            };
            let invalidity_date = r
                .crl_entry_extensions
                .iter()
                .flatten()
                .find(|e| e.extn_id == oid::EXT_INVALIDITY_DATE)
                .and_then(|e| der::asn1::GeneralizedTime::from_der(e.extn_value.as_bytes()).ok())
                .map(|t| calendar::rfc3339(&t.to_date_time()));
            EntryInfo {
                serial: crate::model::Serial::from_der_bytes(r.serial_number.as_bytes()),
                revoked_at: time_string(&r.revocation_date),
                reason,
                invalidity_date,
            }
        })
        .collect();
    Ok(CrlInfo {
        kind: "crl",
        issuer: verify::name_to_string(&tbs.issuer),
        this_update: time_string(&tbs.this_update),
        next_update: tbs.next_update.as_ref().map(time_string),
        number,
        delta_base,
        signature_algorithm: verify::signature_algorithm_name(&crl.signature_algorithm.oid),
        entry_count: entries.len(),
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_national_authority_crl() {
        use der::DecodePem;
        let ca = Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem")).unwrap();
        let info = read(include_bytes!("../../tests/data/nca-test/nca_rsa_test.crl"), Some(&ca)).unwrap();
        assert_eq!(info.entry_count, 126);
        assert!(info.number.is_some());
        assert!(info.entries.iter().all(|e| e.reason.as_deref().is_none_or(|r| r.parse::<RevocationReason>().is_ok())));
        assert!(info.entries.iter().any(|e| e.reason.is_some()), "reasons decoded");
    }
}
