//! Checkpoints: the audit log's size and Merkle root at a moment, signed with the
//! authority's audit key (RSA, SHA-256) so that anyone who keeps one can later
//! check that the log still holds exactly what it vouched for. The signed text is
//! `origin\nsize\nroot(base64)\ntime\n`, in the spirit of transparency-log
//! checkpoints; the key is named by the SHA-256 of its SubjectPublicKeyInfo.

use super::merkle::Hash;
use crate::signing::{self, Signer, SigningError};
use crate::verify::{self, SignatureError};
use base64ct::{Base64, Encoding};
use der::Encode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spki::SubjectPublicKeyInfoOwned;
use thiserror::Error;

/// A signed tree head of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Which log: the authority's base URL.
    pub origin: String,
    /// Records in the log.
    pub size: u64,
    /// The Merkle root of those records, base64.
    pub root: String,
    /// When it was signed, Unix seconds.
    pub time: i64,
    /// SHA-256 of the audit key's SubjectPublicKeyInfo DER, hex.
    pub key_id: String,
    /// The signature over the checkpoint's text, base64.
    pub signature: String,
}

/// Why a checkpoint is not one to trust.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Not a checkpoint.
    #[error("not a checkpoint: {0}")]
    Malformed(String),
    /// Signed with another key than the one given.
    #[error("the checkpoint is signed with key {found}, not this authority's audit key {expected}")]
    OtherKey {
        /// The key the checkpoint names.
        found: String,
        /// The key given.
        expected: String,
    },
    /// The signature does not verify.
    #[error("the checkpoint's signature does not verify: {0}")]
    Signature(#[from] SignatureError),
    /// Signing failed.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// The id of an audit key: SHA-256 of its SubjectPublicKeyInfo DER, hex.
pub fn key_id(key: &SubjectPublicKeyInfoOwned) -> Result<String, CheckpointError> {
    let der = key.to_der().map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(der)))
}

impl Checkpoint {
    fn text(origin: &str, size: u64, root: &str, time: i64) -> String {
        format!("{origin}\n{size}\n{root}\n{time}\n")
    }

    /// Sign the tree head (`size`, `root`) of the log `origin` at `time`.
    pub fn sign(origin: &str, size: u64, root: &Hash, time: i64, signer: &dyn Signer) -> Result<Self, CheckpointError> {
        let root = Base64::encode_string(root);
        let signature = signer.sign(Self::text(origin, size, &root, time).as_bytes())?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
            time,
            key_id: key_id(signer.public_key())?,
            signature: Base64::encode_string(&signature),
        })
    }

    /// Check the signature with the audit key `key`; the root.
    pub fn verify(&self, key: &SubjectPublicKeyInfoOwned) -> Result<Hash, CheckpointError> {
        let expected = key_id(key)?;
        if self.key_id != expected {
            return Err(CheckpointError::OtherKey { found: self.key_id.clone(), expected });
        }
        let signature = Base64::decode_vec(&self.signature).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        let text = Self::text(&self.origin, self.size, &self.root, self.time);
        verify::verify_signature(key, &signing::sha256_with_rsa(), text.as_bytes(), &signature)?;
        self.root_hash()
    }

    /// The root, decoded (not checked).
    pub fn root_hash(&self) -> Result<Hash, CheckpointError> {
        let bytes = Base64::decode_vec(&self.root).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        bytes.try_into().map_err(|_| CheckpointError::Malformed("the root is not 32 bytes".into()))
    }
}
