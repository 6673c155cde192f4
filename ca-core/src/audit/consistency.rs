//! Checking the audit log against signed checkpoints: those the authority kept
//! (one per record, each signed with the audit key, so a rewrite is located
//! exactly) and one that somebody kept apart (`ca audit verify --checkpoint`),
//! which a rewrite of the database cannot reach.

use super::checkpoint::{Checkpoint, CheckpointError};
use super::merkle::{self, Frontier, Hash};
use super::AuditRecord;
use spki::SubjectPublicKeyInfoOwned;
use thiserror::Error;

/// The bytes of a record that its Merkle leaf hashes: sequence number and time
/// (8 bytes each, big-endian), then actor, action, object and detail, each with
/// its length (4 bytes, big-endian).
pub fn leaf_data(r: &AuditRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 16 + r.actor.len() + r.action.len() + r.object.len() + r.detail.len());
    out.extend_from_slice(&r.seq.to_be_bytes());
    out.extend_from_slice(&r.at.to_be_bytes());
    for field in [&r.actor, &r.action, &r.object, &r.detail] {
        out.extend_from_slice(&(field.len() as u32).to_be_bytes());
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// The leaf hash of a record.
pub fn leaf(r: &AuditRecord) -> Hash {
    merkle::leaf_hash(&leaf_data(r))
}

/// How the log differs from what a checkpoint vouched for.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inconsistency {
    /// A checkpoint the authority kept does not carry the audit key's signature.
    #[error("the kept checkpoint of size {size} is not signed by the audit key: it was forged or altered")]
    ForgedCheckpoint {
        /// Its size.
        size: u64,
    },
    /// Records up to a checkpoint's size no longer hash to its root. The first
    /// inconsistent record is at a position from `from` to `to` (1-based; one
    /// position when the authority kept a checkpoint for every record).
    #[error("{}", rewritten(*from, *to, *seq, *size))]
    Rewritten {
        /// The first position it may be.
        from: u64,
        /// The last position it may be.
        to: u64,
        /// The sequence number the log now shows at `to`, if it still has that many records.
        seq: Option<i64>,
        /// The checkpoint whose root no longer matches.
        size: u64,
    },
}

fn rewritten(from: u64, to: u64, seq: Option<i64>, size: u64) -> String {
    let at = match seq {
        Some(s) => format!("record {s}"),
        None => format!("the record at position {to}, which is gone"),
    };
    if from == to {
        format!("the first inconsistent record is {at}: the log no longer matches the checkpoint of size {size}")
    } else {
        format!(
            "the log no longer matches the checkpoint of size {size}: the first inconsistent record is between positions {from} and {to}"
        )
    }
}

/// What a check of the log found.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LogError {
    /// The log is not what a checkpoint vouched for.
    #[error(transparent)]
    Inconsistent(#[from] Inconsistency),
    /// The checkpoint given is not the authority's.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// A log consistent with every checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consistent {
    /// Records in the log.
    pub size: u64,
    /// Its Merkle root.
    pub root: Hash,
    /// Kept checkpoints checked.
    pub checkpoints: u64,
}

/// Check `records` (in log order) against the checkpoints the authority `kept`
/// and the one `given`, all to be signed by the audit key `key`.
pub fn check(
    records: impl IntoIterator<Item = AuditRecord>,
    kept: &[Checkpoint],
    given: Option<&Checkpoint>,
    key: &SubjectPublicKeyInfoOwned,
) -> Result<Consistent, LogError> {
    let mut roots: std::collections::BTreeMap<u64, Hash> = std::collections::BTreeMap::new();
    for c in kept {
        let root = c.verify(key).map_err(|_| Inconsistency::ForgedCheckpoint { size: c.size })?;
        roots.insert(c.size, root);
    }
    let given_root = given.map(|c| c.verify(key)).transpose()?;
    let mut leaves = Vec::new();
    let mut seqs = Vec::new();
    let mut frontier = Frontier::default();
    let mut last_good = 0u64;
    let mut first_bad: Option<Inconsistency> = None;
    for r in records {
        let h = leaf(&r);
        leaves.push(h);
        seqs.push(r.seq);
        frontier.push(h);
        if first_bad.is_some() {
            continue;
        }
        if let Some(root) = roots.get(&frontier.size()) {
            if *root == frontier.root() {
                last_good = frontier.size();
            } else {
                let size = frontier.size();
                first_bad = Some(Inconsistency::Rewritten { from: last_good + 1, to: size, seq: Some(r.seq), size });
            }
        }
    }
    let n = frontier.size();
    // A kept checkpoint beyond the end: records were removed.
    if first_bad.is_none() {
        if let Some((&size, _)) = roots.range(n + 1..).next() {
            first_bad = Some(Inconsistency::Rewritten { from: last_good + 1, to: n + 1, seq: None, size });
        }
    }
    if let Some(bad) = first_bad {
        return Err(bad.into());
    }
    if let (Some(c), Some(old)) = (given, given_root) {
        let m = c.size;
        let seq_at = |pos: u64| seqs.get(pos as usize - 1).copied();
        let consistent = m <= n && {
            let proof = merkle::consistency_proof(m as usize, &leaves);
            merkle::verify_consistency(m, n, &old, &frontier.root(), &proof)
        };
        if !consistent {
            let to = m.min(n + 1);
            let from = if last_good < to { last_good + 1 } else { 1 };
            return Err(Inconsistency::Rewritten { from, to, seq: seq_at(to), size: m }.into());
        }
    }
    Ok(Consistent { size: n, root: frontier.root(), checkpoints: roots.len() as u64 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{self, RsaSigner, Signer};

    fn record(seq: i64, actor: &str) -> AuditRecord {
        AuditRecord {
            seq,
            at: 1_700_000_000 + seq,
            actor: actor.into(),
            action: "pair_issued".into(),
            object: seq.to_string(),
            detail: String::new(),
            hash: vec![],
        }
    }

    #[test]
    fn kept_checkpoints_locate_a_change_and_a_given_one_catches_it_alone() {
        let key = RsaSigner::from_pkcs8(&signing::generate_rsa_pkcs8(2048).unwrap()).unwrap();
        let log: Vec<AuditRecord> = (1..=10).map(|s| record(s, "operator:01")).collect();
        let sign_at = |size: usize, log: &[AuditRecord]| {
            let leaves: Vec<Hash> = log[..size].iter().map(leaf).collect();
            Checkpoint::sign("http://pki.test.kz", size as u64, &merkle::root(&leaves), 0, &key).unwrap()
        };
        let kept: Vec<Checkpoint> = [3, 6, 10].iter().map(|&n| sign_at(n, &log)).collect();
        let given = sign_at(10, &log);
        let ok = check(log.clone(), &kept, Some(&given), key.public_key()).unwrap();
        assert_eq!((ok.size, ok.checkpoints), (10, 3));

        let mut changed = log.clone();
        changed[4].actor = "operator:02".into(); // position 5
        let err = check(changed.clone(), &kept, None, key.public_key()).unwrap_err();
        assert!(matches!(err, LogError::Inconsistent(Inconsistency::Rewritten { from: 4, to: 6, size: 6, .. })), "{err}");
        let dense: Vec<Checkpoint> = (1..=10).map(|n| sign_at(n, &log)).collect();
        let err = check(changed.clone(), &dense, None, key.public_key()).unwrap_err();
        assert!(matches!(err, LogError::Inconsistent(Inconsistency::Rewritten { from: 5, to: 5, seq: Some(5), .. })), "{err}");
        assert!(err.to_string().contains("first inconsistent record is record 5"), "{err}");
        // Without kept checkpoints, the one given still catches it; a truncated log too.
        assert!(check(changed, &[], Some(&given), key.public_key()).is_err());
        assert!(check(log[..7].to_vec(), &[], Some(&given), key.public_key()).is_err());
        // A log that only grew is consistent with the old checkpoint.
        let mut grown = log.clone();
        grown.push(record(11, "system"));
        assert!(check(grown, &kept, Some(&given), key.public_key()).is_ok());
        // A kept checkpoint that is not signed by the key.
        let mut forged = kept.clone();
        forged[1].root = given.root.clone();
        let err = check(log, &forged, None, key.public_key()).unwrap_err();
        assert!(matches!(err, LogError::Inconsistent(Inconsistency::ForgedCheckpoint { size: 6 })), "{err}");
    }
}
