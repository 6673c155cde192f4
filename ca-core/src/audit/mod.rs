//! The append-only, hash-chained audit log: every state change (application,
//! issuance, revocation, operator action) with who did it and when.
//!
//! Each record's hash covers the previous record's hash and all of its own fields,
//! and the database keeps the newest sequence number and hash apart from the log.
//! So an edited record breaks its own hash, a deleted one leaves a gap, reordered
//! ones break the chain, and a deleted tail no longer matches the head.
//! The records are written by [`crate::store`] in the same transaction as the
//! change they describe.
//!
//! The chain alone does not stop someone who can write the database: they can
//! edit a record and recompute every hash after it. So the log is also a Merkle
//! tree log (RFC 6962/9162 hashing, [`merkle`]), and the authority signs
//! checkpoints of it (size and root) with a dedicated audit key
//! ([`checkpoint`]), keeps them, and publishes the newest. Anyone who keeps a
//! checkpoint can later check, with a consistency proof, that the log still
//! extends it unchanged ([`consistency`]); the kept checkpoints locate the first
//! record that changed.

mod checkpoint;
mod consistency;
pub mod merkle;

pub use checkpoint::{key_id, Checkpoint, CheckpointError};
pub use consistency::{check as check_consistency, leaf, leaf_data, Consistent, Inconsistency, LogError};

use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// An application arrived.
    ApplicationSubmitted,
    /// A legal entity's head approved an employee's application.
    ApplicationApproved,
    /// An operator confirmed the applicant's identity (and the pair was issued).
    IdentityConfirmed,
    /// An operator rejected an application.
    ApplicationRejected,
    /// An application passed 30 days unconfirmed.
    ApplicationExpired,
    /// A pair was issued.
    PairIssued,
    /// A pair was renewed; the old one revoked as superseded.
    PairRenewed,
    /// A certificate was revoked (or put on hold).
    CertificateRevoked,
    /// A hold was lifted.
    HoldLifted,
    /// A staff request was refused (bad signature, revoked signer, role not allowed).
    StaffRefused,
}

impl AuditAction {
    /// Every action, in the order of the enum.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::ApplicationSubmitted,
        AuditAction::ApplicationApproved,
        AuditAction::IdentityConfirmed,
        AuditAction::ApplicationRejected,
        AuditAction::ApplicationExpired,
        AuditAction::PairIssued,
        AuditAction::PairRenewed,
        AuditAction::CertificateRevoked,
        AuditAction::HoldLifted,
        AuditAction::StaffRefused,
    ];

    /// The action stored under `name`.
    pub fn parse(name: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The name stored in the log.
    pub fn as_str(&self) -> &'static str {
        match self {
            AuditAction::ApplicationSubmitted => "application_submitted",
            AuditAction::ApplicationApproved => "application_approved",
            AuditAction::IdentityConfirmed => "identity_confirmed",
            AuditAction::ApplicationRejected => "application_rejected",
            AuditAction::ApplicationExpired => "application_expired",
            AuditAction::PairIssued => "pair_issued",
            AuditAction::PairRenewed => "pair_renewed",
            AuditAction::CertificateRevoked => "certificate_revoked",
            AuditAction::HoldLifted => "hold_lifted",
            AuditAction::StaffRefused => "staff_refused",
        }
    }
}

/// Who did it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An operator authenticated by their certificate (serial).
    Operator(String),
    /// Whoever holds the CA key passphrase: only to add the first administrator.
    KeyHolder,
    /// An applicant, known by application number.
    Applicant(String),
    /// A certificate holder, by the serial of the SIGN certificate that signed.
    Holder(String),
    /// The authority itself (expiry of applications).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Operator(s) => write!(f, "operator:{s}"),
            Actor::KeyHolder => f.write_str("ca_key_holder"),
            Actor::Applicant(n) => write!(f, "applicant:{n}"),
            Actor::Holder(s) => write!(f, "holder:{s}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// One event to append.
#[derive(Clone, Debug)]
pub struct AuditEvent {
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// On what: an application number or a serial.
    pub object: String,
    /// Details for people (reason, serials issued).
    pub detail: String,
}

impl AuditEvent {
    /// An event.
    pub fn new(actor: Actor, action: AuditAction, object: impl Into<String>, detail: impl Into<String>) -> Self {
        AuditEvent { actor, action, object: object.into(), detail: detail.into() }
    }
}

/// A stored record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the log, from 1 without gaps.
    pub seq: i64,
    /// When, Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub object: String,
    /// Details.
    pub detail: String,
    /// The chain hash through this record.
    pub hash: Vec<u8>,
}

/// The hash of a record given the previous record's hash (all zero before the first).
pub fn link_hash(prev: &[u8], seq: i64, at: i64, actor: &str, action: &str, object: &str, detail: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"nca-audit-v1");
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    // Length prefixes keep field boundaries unambiguous.
    for field in [actor, action, object, detail] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.finalize().into()
}

/// Where the chain is broken.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditBreak {
    /// A record's hash does not match its contents and predecessor.
    #[error("audit record {0} was edited, or the records before it were changed or reordered")]
    Altered(i64),
    /// A sequence number is missing.
    #[error("audit record {0} is missing (deleted) before record {1}")]
    Missing(i64, i64),
    /// The log ends before the recorded head.
    #[error("the audit log ends at record {found} but the head says {expected}: records at the end were deleted or replaced")]
    Truncated {
        /// Last record found.
        found: i64,
        /// Last record the head names.
        expected: i64,
    },
}

/// Walks records in order and checks the chain; see [`Chain::finish`].
#[derive(Debug)]
pub struct Chain {
    last_seq: i64,
    last_hash: Vec<u8>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain { last_seq: 0, last_hash: vec![0; 32] }
    }
}

impl Chain {
    /// The next record, in sequence order.
    pub fn check(&mut self, r: &AuditRecord) -> Result<(), AuditBreak> {
        if r.seq != self.last_seq + 1 {
            return Err(AuditBreak::Missing(self.last_seq + 1, r.seq));
        }
        let expected = link_hash(&self.last_hash, r.seq, r.at, &r.actor, &r.action, &r.object, &r.detail);
        if r.hash != expected {
            return Err(AuditBreak::Altered(r.seq));
        }
        self.last_seq = r.seq;
        self.last_hash = r.hash.clone();
        Ok(())
    }

    /// After the last record: compare with the head (sequence and hash); returns
    /// how many records were checked.
    pub fn finish(self, head: Option<(i64, Vec<u8>)>) -> Result<i64, AuditBreak> {
        let (seq, hash) = head.unwrap_or((0, vec![0; 32]));
        if seq != self.last_seq || hash != self.last_hash {
            return Err(AuditBreak::Truncated { found: self.last_seq, expected: seq });
        }
        Ok(self.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = vec![0u8; 32];
        (1..=n)
            .map(|seq| {
                let hash = link_hash(&prev, seq, 100 + seq, "system", "pair_issued", "01", "d").to_vec();
                prev = hash.clone();
                AuditRecord {
                    seq,
                    at: 100 + seq,
                    actor: "system".into(),
                    action: "pair_issued".into(),
                    object: "01".into(),
                    detail: "d".into(),
                    hash,
                }
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head: Option<(i64, Vec<u8>)>) -> Result<i64, AuditBreak> {
        let mut c = Chain::default();
        for r in records {
            c.check(r)?;
        }
        c.finish(head)
    }

    #[test]
    fn intact_edited_deleted_reordered_truncated() {
        let log = chain(4);
        let head = Some((4, log[3].hash.clone()));
        assert_eq!(verify(&log, head.clone()), Ok(4));
        let mut edited = log.clone();
        edited[1].detail = "x".into();
        assert_eq!(verify(&edited, head.clone()), Err(AuditBreak::Altered(2)));
        let deleted: Vec<_> = log.iter().filter(|r| r.seq != 3).cloned().collect();
        assert_eq!(verify(&deleted, head.clone()), Err(AuditBreak::Missing(3, 4)));
        let mut swapped = log.clone();
        swapped.swap(1, 2);
        (swapped[1].seq, swapped[2].seq) = (2, 3);
        assert_eq!(verify(&swapped, head.clone()), Err(AuditBreak::Altered(2)));
        assert!(matches!(verify(&log[..3], head), Err(AuditBreak::Truncated { found: 3, expected: 4 })));
    }
}
