//! Full and delta CRLs (RFC 5280 §5), issued from the status store; reading
//! anyone's CRL is [`pki::crl`]'s, re-exported here.
//!
//! A revocation never triggers a full rebuild: full CRLs are issued on a schedule,
//! delta CRLs (everything that changed since their base full CRL, including lifted
//! holds as `removeFromCRL`) often. CRL numbers come from the database and are
//! recorded before the CRL is signed, so they never go backwards.
//!
//! Memory stays bounded for a million entries: the entries are encoded straight
//! from the database rows into the one buffer that is signed and written, with
//! room left in front for the headers whose lengths are known only at the end.
//! Nothing else holds the entries.

pub use pki::crl::{push_header, read, CrlInfo, CrlReadError, EntryInfo, REMOVE_FROM_CRL};

use crate::calendar;
use crate::model::Family;
use crate::oid;
use crate::profile::ProfileError;
use crate::profile::{self, IssuerRef, Urls};
use crate::signing::Signer;
use crate::signing::SigningError;
use crate::store::StoreError;
use crate::store::{CrlRecord, CrlRow, StatusStore};
use der::asn1::ObjectIdentifier as Oid;
use der::Encode;
use thiserror::Error;
use x509_cert::ext::Extensions;

/// DER tags used by the hand-written encoder.
const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const ENUMERATED: u8 = 0x0a;
const BIT_STRING: u8 = 0x03;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
const EXPLICIT_0: u8 = 0xa0;
/// Longest DER header this encoder writes: tag, 0x84, four length bytes.
const MAX_HEADER: usize = 6;

fn header(tag: u8, len: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(MAX_HEADER);
    push_header(&mut h, tag, len);
    h
}

/// Which CRL to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrlKind {
    /// Every revoked certificate.
    Full,
    /// What changed since the newest full CRL.
    Delta,
}

impl CrlKind {
    /// `full` or `delta`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CrlKind::Full => "full",
            CrlKind::Delta => "delta",
        }
    }
}

/// Why a CRL was not issued. Nothing is published when one is returned.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A delta CRL needs a base.
    #[error("no full CRL has been issued yet: issue a full CRL before a delta CRL")]
    NoBase,
    /// No issuing CA of this family to sign with.
    #[error("no {0} issuing CA to sign this CRL")]
    NoIssuer(Family),
    /// Encoding failed (a value out of range).
    #[error("cannot encode the CRL: {0}")]
    Encoding(String),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// The profile refused a value.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

impl From<der::Error> for CrlError {
    fn from(e: der::Error) -> Self {
        CrlError::Encoding(e.to_string())
    }
}

/// Who signs a CRL and where its deltas are published.
pub struct CrlIssuer<'a> {
    /// Which hierarchy's CA: its CRL lists only the certificates it issued.
    pub family: Family,
    /// The CA key.
    pub signer: &'a dyn Signer,
    /// The CA's name and key identifier.
    pub issuer: IssuerRef,
    /// Publication URLs, for the full CRL's pointer to its deltas; `None` for a
    /// CA that publishes no deltas (the root).
    pub urls: Option<&'a Urls>,
}

/// A CRL just issued.
#[derive(Debug)]
pub struct IssuedCrl {
    /// What was recorded: number, base, status position, times.
    pub record: CrlRecord,
    /// Full or delta.
    pub kind: CrlKind,
    /// How many entries it lists.
    pub entries: u64,
    /// The signed CRL, DER.
    pub der: Vec<u8>,
}

/// Issue a full or delta CRL valid from `this_update` to `next_update` (Unix seconds),
/// and keep it with its bytes in the store: from then on it is the published one.
/// A delta is built on the newest published full CRL.
pub fn issue(
    store: &mut dyn StatusStore,
    ca: &CrlIssuer<'_>,
    kind: CrlKind,
    this_update: i64,
    next_update: i64,
) -> Result<IssuedCrl, CrlError> {
    let base = match kind {
        CrlKind::Full => None,
        CrlKind::Delta => Some(store.latest_crl(ca.family, false)?.ok_or(CrlError::NoBase)?),
    };
    let mut encoder = Encoder::new(ca, this_update, next_update)?;
    let mut failed = None;
    let status_seq = store.crl_rows(ca.family, base.map(|b| b.status_seq), &mut |row| {
        if failed.is_none() {
            failed = encoder.push(&row, kind).err();
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    let mut record = CrlRecord { family: ca.family, number: 0, base_number: base.map(|b| b.number), status_seq, this_update, next_update };
    record.number = store.record_crl(&record)?;
    let entries = encoder.entries;
    let der = encoder.finish(ca, record.number, record.base_number)?;
    store.save_crl(record.number, &der)?;
    Ok(IssuedCrl { record, kind, entries, der })
}

/// An empty full CRL numbered `number`: what the root publishes for the CA
/// certificates it signed (none revoked). Its number is its thisUpdate in Unix
/// seconds, so it grows without a database of the root's own.
pub fn issue_empty(ca: &CrlIssuer<'_>, this_update: i64, next_update: i64) -> Result<Vec<u8>, CrlError> {
    let number = u64::try_from(this_update).map_err(|_| CrlError::Encoding(format!("time {this_update} out of range")))?;
    Encoder::new(ca, this_update, next_update)?.finish(ca, number, None)
}

/// The CRL being written: entries go straight into the buffer that is signed,
/// after room for the headers whose lengths are known only at the end.
struct Encoder {
    buf: Vec<u8>,
    room: usize,
    prefix: Vec<u8>,
    entries: u64,
}

impl Encoder {
    fn new(ca: &CrlIssuer<'_>, this_update: i64, next_update: i64) -> Result<Self, CrlError> {
        let prefix = tbs_prefix(ca, this_update, next_update)?;
        // Room for: outer SEQUENCE header, TBS SEQUENCE header, the prefix, the entries' header.
        let room = 3 * MAX_HEADER + prefix.len();
        Ok(Encoder { buf: vec![0u8; room], room, prefix, entries: 0 })
    }

    fn push(&mut self, row: &CrlRow, kind: CrlKind) -> Result<(), CrlError> {
        if push_entry(&mut self.buf, row, kind)? {
            self.entries += 1;
        }
        Ok(())
    }

    /// Add the extensions, fill in the headers back to front, sign, and return the CRL.
    fn finish(self, ca: &CrlIssuer<'_>, number: u64, base: Option<u64>) -> Result<Vec<u8>, CrlError> {
        let Encoder { mut buf, room, prefix, entries } = self;
        let entries_len = buf.len() - room;
        let exts: Extensions = profile::crl_extensions(&ca.issuer, number, base, ca.urls)?;
        let exts = exts.to_der()?;
        push_header(&mut buf, EXPLICIT_0, exts.len());
        buf.extend_from_slice(&exts);
        let mut start = room;
        if entries > 0 {
            start = put_before(&mut buf, start, &header(SEQUENCE, entries_len));
        }
        start = put_before(&mut buf, start, &prefix);
        let tbs_len = buf.len() - start;
        start = put_before(&mut buf, start, &header(SEQUENCE, tbs_len));
        let signature = ca.signer.sign(&buf[start..])?;
        buf.extend_from_slice(&ca.signer.algorithm().to_der()?);
        push_header(&mut buf, BIT_STRING, signature.len() + 1);
        buf.push(0);
        buf.extend_from_slice(&signature);
        let total = buf.len() - start;
        start = put_before(&mut buf, start, &header(SEQUENCE, total));
        buf.drain(..start);
        Ok(buf)
    }
}

/// version, signature algorithm, issuer, thisUpdate, nextUpdate.
fn tbs_prefix(ca: &CrlIssuer<'_>, this_update: i64, next_update: i64) -> Result<Vec<u8>, CrlError> {
    let time = |secs: i64| -> Result<Vec<u8>, CrlError> {
        let dt = calendar::from_unix_seconds(secs).ok_or_else(|| CrlError::Encoding(format!("time {secs} out of range")))?;
        Ok(profile::x509_time(dt)?.to_der()?)
    };
    let mut p = vec![INTEGER, 1, 1]; // v2
    p.extend_from_slice(&ca.signer.algorithm().to_der()?);
    p.extend_from_slice(&ca.issuer.name.to_der()?);
    p.extend_from_slice(&time(this_update)?);
    p.extend_from_slice(&time(next_update)?);
    Ok(p)
}

/// Copy `bytes` to end at `end` in `buf`; returns where they start.
fn put_before(buf: &mut [u8], end: usize, bytes: &[u8]) -> usize {
    let start = end - bytes.len();
    buf[start..end].copy_from_slice(bytes);
    start
}

/// One revokedCertificates entry: serial, revocation date, reason code and, when
/// known, invalidity date. Returns whether an entry was written.
fn push_entry(buf: &mut Vec<u8>, row: &CrlRow, kind: CrlKind) -> Result<bool, CrlError> {
    let mut serial = [0u8; 32];
    let serial_len = row.serial.len() / 2;
    if !row.serial.len().is_multiple_of(2) || serial_len == 0 || serial_len > serial.len() {
        return Err(CrlError::Store(StoreError::Corrupt { column: "serial", value: row.serial.to_string() }));
    }
    hex::decode_to_slice(row.serial.as_str(), &mut serial[..serial_len])
        .map_err(|_| CrlError::Store(StoreError::Corrupt { column: "serial", value: row.serial.to_string() }))?;
    let (date, reason, invalid_since) = match (row.revocation, kind) {
        (Some(r), _) => (r.at, r.reason.code(), r.invalid_since),
        (None, CrlKind::Delta) => (row.changed_at, REMOVE_FROM_CRL, None),
        (None, CrlKind::Full) => return Ok(false), // the snapshot only yields revoked rows
    };
    let mut entry = Vec::with_capacity(96);
    push_header(&mut entry, INTEGER, serial_len);
    entry.extend_from_slice(&serial[..serial_len]);
    push_time(&mut entry, date, false)?;
    let mut exts = Vec::with_capacity(48);
    // reasonCode: Extension { 2.5.29.21, OCTET STRING { ENUMERATED } }
    let mut reason_ext = Vec::with_capacity(12);
    push_oid(&mut reason_ext, &oid::EXT_CRL_REASON);
    reason_ext.extend_from_slice(&[OCTET_STRING, 3, ENUMERATED, 1, reason]);
    push_header(&mut exts, SEQUENCE, reason_ext.len());
    exts.extend_from_slice(&reason_ext);
    if let Some(since) = invalid_since {
        let mut time = Vec::with_capacity(17);
        push_time(&mut time, since, true)?;
        let mut inv = Vec::with_capacity(26);
        push_oid(&mut inv, &oid::EXT_INVALIDITY_DATE);
        push_header(&mut inv, OCTET_STRING, time.len());
        inv.extend_from_slice(&time);
        push_header(&mut exts, SEQUENCE, inv.len());
        exts.extend_from_slice(&inv);
    }
    push_header(&mut entry, SEQUENCE, exts.len());
    entry.extend_from_slice(&exts);
    push_header(buf, SEQUENCE, entry.len());
    buf.extend_from_slice(&entry);
    Ok(true)
}

fn push_oid(buf: &mut Vec<u8>, o: &Oid) {
    push_header(buf, 0x06, o.as_bytes().len());
    buf.extend_from_slice(o.as_bytes());
}

/// UTCTime through 2049, else GeneralizedTime (RFC 5280 §5.1.2.4); `generalized`
/// forces GeneralizedTime (the invalidity date is always one).
fn push_time(buf: &mut Vec<u8>, secs: i64, generalized: bool) -> Result<(), CrlError> {
    let dt = calendar::from_unix_seconds(secs).ok_or_else(|| CrlError::Encoding(format!("time {secs} out of range")))?;
    let rest = format!("{:02}{:02}{:02}{:02}{:02}Z", dt.month(), dt.day(), dt.hour(), dt.minutes(), dt.seconds());
    if generalized || dt.year() >= 2050 {
        push_header(buf, GENERALIZED_TIME, 15);
        buf.extend_from_slice(format!("{:04}", dt.year()).as_bytes());
    } else {
        push_header(buf, UTC_TIME, 13);
        buf.extend_from_slice(format!("{:02}", dt.year() % 100).as_bytes());
    }
    buf.extend_from_slice(rest.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RevocationReason;
    use crate::store::{Revocation, SqliteStore};
    use der::Decode;

    #[test]
    fn headers_use_the_shortest_length_form() {
        assert_eq!(header(SEQUENCE, 5), vec![0x30, 5]);
        assert_eq!(header(SEQUENCE, 0x80), vec![0x30, 0x81, 0x80]);
        assert_eq!(header(SEQUENCE, 0x1_0000), vec![0x30, 0x83, 1, 0, 0]);
    }

    #[test]
    fn entries_decode_with_x509_cert() {
        let row = CrlRow {
            serial: "00ff01".parse().unwrap(),
            revocation: Some(Revocation { at: 1_700_000_000, reason: RevocationReason::KeyCompromise, invalid_since: Some(1_690_000_000) }),
            changed_at: 1_700_000_000,
        };
        let mut buf = Vec::new();
        push_entry(&mut buf, &row, CrlKind::Full).unwrap();
        let entry = x509_cert::crl::RevokedCert::from_der(&buf).unwrap();
        assert_eq!(entry.serial_number.as_bytes(), &[0x00, 0xff, 0x01]);
        assert_eq!(calendar::unix_seconds(&entry.revocation_date.to_date_time()), 1_700_000_000);
        let exts = entry.crl_entry_extensions.unwrap();
        assert_eq!(exts[0].extn_value.as_bytes(), &[ENUMERATED, 1, 1]);
        let inv = der::asn1::GeneralizedTime::from_der(exts[1].extn_value.as_bytes()).unwrap();
        assert_eq!(calendar::unix_seconds(&inv.to_date_time()), 1_690_000_000);

        let lifted = CrlRow { serial: "0a".parse().unwrap(), revocation: None, changed_at: 2_600_000_000 };
        let mut buf = Vec::new();
        push_entry(&mut buf, &lifted, CrlKind::Delta).unwrap();
        let entry = x509_cert::crl::RevokedCert::from_der(&buf).unwrap();
        assert!(matches!(entry.revocation_date, x509_cert::time::Time::GeneralTime(_)), "2052 needs GeneralizedTime");
        assert_eq!(entry.crl_entry_extensions.unwrap()[0].extn_value.as_bytes(), &[ENUMERATED, 1, REMOVE_FROM_CRL]);
    }

    #[test]
    fn a_delta_needs_a_base_and_numbers_only_grow() {
        let mut store = SqliteStore::in_memory().unwrap();
        let (key, cert) = crate::testing::self_signed("ЦЕНТР");
        let urls = Urls::new("http://pki.example.kz").unwrap();
        let name = cert.tbs_certificate.subject.clone();
        let ca = CrlIssuer {
            family: Family::Rsa,
            signer: &key,
            issuer: IssuerRef { name, key_id: vec![1; 20], certificate: None },
            urls: Some(&urls),
        };
        assert!(matches!(issue(&mut store, &ca, CrlKind::Delta, 1_000, 2_000), Err(CrlError::NoBase)));
        let full = issue(&mut store, &ca, CrlKind::Full, 1_000, 2_000).unwrap();
        let delta = issue(&mut store, &ca, CrlKind::Delta, 1_100, 1_200).unwrap();
        assert_eq!((full.record.number, delta.record.number, delta.record.base_number), (1, 2, Some(1)));
        assert_eq!((full.entries, delta.entries), (0, 0));
        let info = read(&full.der, Some(&cert)).unwrap();
        assert_eq!((info.number.as_deref(), info.delta_base, info.entry_count), (Some("1"), None, 0));
        let info = read(&delta.der, Some(&cert)).unwrap();
        assert_eq!((info.number.as_deref(), info.delta_base.as_deref()), (Some("2"), Some("1")));
        let mut bad = delta.der.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(matches!(read(&bad, Some(&cert)), Err(CrlReadError::Signature(_))));
        assert!(matches!(read(b"garbage", None), Err(CrlReadError::Malformed(_))));
        let root = issue_empty(&CrlIssuer { urls: None, ..ca }, 1_000, 2_000).unwrap();
        let info = read(&root, Some(&cert)).unwrap();
        assert_eq!((info.number.as_deref(), info.entry_count), (Some("1000"), 0));
    }
}
