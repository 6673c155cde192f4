//! The CA proper: keys behind the [`Signer`] trait, serial numbers, and turning a
//! to-be-signed structure into a signed one. Policy is decided elsewhere.
//!
//! RSA signatures are made with `aws-lc-rs` (constant time; AWS-LC has the AVX-512 IFMA RSA code that makes it about twice as fast as `ring` on this kind of machine). The `rsa` crate is used only
//! to generate keys: never to sign or decrypt (RUSTSEC-2023-0071).
//! CA keys rest on disk as PKCS#8 `EncryptedPrivateKeyInfo` (PBES2: PBKDF2-HMAC-SHA256
//! and AES-256-CBC), which `openssl pkey` also opens.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use der::asn1::{Any, BitString};
use der::Decode;
use pkcs8::pkcs5::pbes2;
use pkcs8::{EncryptedPrivateKeyInfo, PrivateKeyInfo};
use rand::RngCore;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::fmt;
use thiserror::Error;
use x509_cert::serial_number::SerialNumber;
use zeroize::Zeroizing;

/// PBKDF2 iterations protecting CA keys at rest (OWASP 2023 figure for HMAC-SHA256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;

/// Environment variable that holds the CA key passphrase.
pub const PASSPHRASE_ENV: &str = "CA_PASSPHRASE";

/// Why a key could not be made, opened or used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SigningError {
    /// Key generation failed.
    #[error("could not generate an RSA-{bits} key: {reason}")]
    KeyGeneration {
        /// Key size in bits.
        bits: usize,
        /// Why.
        reason: String,
    },
    /// The encrypted key file is not PKCS#8 or the passphrase is wrong.
    #[error("cannot decrypt the CA key: wrong passphrase or damaged key file")]
    Decrypt,
    /// The key is not an RSA key aws-lc-rs accepts (2048–8192 bits).
    #[error("the CA key is not a usable RSA key: {0}")]
    BadKey(String),
    /// The signing operation itself failed.
    #[error("signing failed")]
    Sign,
    /// The device holding the key (a smart card, a token) could not sign.
    #[error("the key's device could not sign: {0}")]
    Device(String),
    /// The passphrase file could not be read.
    #[error("cannot read the passphrase file {path}: {reason}")]
    PassphraseFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The passphrase is too short to protect a CA key.
    #[error("the CA key passphrase must be at least {min} characters")]
    WeakPassphrase {
        /// The least accepted.
        min: usize,
    },
    /// DER encoding failed.
    #[error("encoding failed: {0}")]
    Der(#[from] der::Error),
    /// PKCS#8 encoding or encryption failed.
    #[error("PKCS#8 failed: {0}")]
    Pkcs8(String),
}

/// A passphrase for CA keys. Never printed, wiped from memory when dropped.
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Shortest passphrase accepted for a CA key.
    pub const MIN_LEN: usize = 12;

    /// Wrap a passphrase, refusing one too short to protect a CA key. A trailing
    /// newline (as left by `echo` into a file) is not part of the passphrase.
    pub fn new(s: String) -> Result<Self, SigningError> {
        let s = Zeroizing::new(s);
        let trimmed = Zeroizing::new(s.trim_end_matches(['\r', '\n']).to_string());
        if trimmed.chars().count() < Self::MIN_LEN {
            return Err(SigningError::WeakPassphrase { min: Self::MIN_LEN });
        }
        Ok(Passphrase(trimmed))
    }

    /// A fresh random passphrase (32 bytes of entropy, hex) for an unattended first start.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut());
        Passphrase(Zeroizing::new(hex::encode(bytes.as_ref())))
    }

    /// A password whose length policy the caller enforces (an applicant's key store
    /// password, six characters at least as the national authority's clients ask).
    pub fn new_unchecked(s: &str) -> Self {
        Passphrase(Zeroizing::new(s.to_string()))
    }

    /// The passphrase an operator supplied: read from `file` when given, else from
    /// the [`PASSPHRASE_ENV`] environment variable; `None` when neither is set.
    pub fn from_file_or_env(file: Option<&std::path::Path>) -> Result<Option<Self>, SigningError> {
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| SigningError::PassphraseFile { path: path.to_path_buf(), reason: e.to_string() })?;
            return Self::new(text).map(Some);
        }
        match std::env::var(PASSPHRASE_ENV) {
            Ok(p) => Self::new(p).map(Some),
            Err(_) => Ok(None),
        }
    }

    /// The secret itself, for writing to a protected file.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase(<redacted>)")
    }
}

/// Something that signs with a CA key: a key file now; a GOST key, a token or an
/// HSM later, each behind this one trait so the CA, CRL, OCSP and CMS code sign
/// without knowing which.
pub trait Signer: Send + Sync {
    /// The signature algorithm identifier to put in what is signed.
    fn algorithm(&self) -> AlgorithmIdentifierOwned;
    /// The public key that verifies this signer's signatures.
    fn public_key(&self) -> &SubjectPublicKeyInfoOwned;
    /// Sign `message` (the DER of a to-be-signed structure).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError>;
}

/// sha256WithRSAEncryption with its NULL parameters, as the authority writes it.
pub fn sha256_with_rsa() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: crate::oid::SHA256_WITH_RSA, parameters: Some(Any::null()) }
}

/// An RSA key held in memory by `aws-lc-rs`; signs sha256WithRSAEncryption.
pub struct RsaSigner {
    key: RsaKeyPair,
    spki: SubjectPublicKeyInfoOwned,
    rng: SystemRandom,
}

impl RsaSigner {
    /// A signer from an unencrypted PKCS#8 RSA key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, SigningError> {
        let key = RsaKeyPair::from_pkcs8(der).map_err(|e| SigningError::BadKey(e.to_string()))?;
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: AlgorithmIdentifierOwned { oid: crate::oid::RSA_ENCRYPTION, parameters: Some(Any::null()) },
            subject_public_key: BitString::from_bytes(key.public_key().as_ref())?,
        };
        let rng = SystemRandom::new();
        // AWS-LC seeds its generator (CPU jitter entropy, some 40 ms) at the first
        // draw in a process; pay that here, with the key loading, and not in the
        // first signature (a CRL or OCSP response someone is waiting for).
        aws_lc_rs::rand::SecureRandom::fill(&rng, &mut [0u8; 1]).map_err(|_| SigningError::BadKey("no randomness".into()))?;
        Ok(RsaSigner { key, spki, rng })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.public_modulus_len() * 8
    }
}

impl Signer for RsaSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        sha256_with_rsa()
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut sig).map_err(|_| SigningError::Sign)?;
        Ok(sig)
    }
}

impl Signer for crate::gost::GostSigner {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        crate::gost::GostSigner::algorithm(self)
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        crate::gost::GostSigner::public_key(self)
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        Ok(self.sign_message(message))
    }
}

/// A private key of either family, as PKCS#8 holds it: the authority's CA keys
/// and the applicants' keys are RSA or GOST 34.10-2015, and whoever signs with
/// one needs not know which.
pub enum SigningKey {
    /// RSA, signing sha256WithRSAEncryption.
    Rsa(RsaSigner),
    /// GOST 34.10-2015 512-bit, signing with Streebog-512.
    Gost(crate::gost::GostSigner),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey::{:?}(<private key>)", self.family())
    }
}

impl SigningKey {
    /// A signer from an unencrypted PKCS#8 key of either family.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, SigningError> {
        let info = PrivateKeyInfo::from_der(der).map_err(|e| SigningError::BadKey(e.to_string()))?;
        match crate::model::Family::of_key(&info.algorithm.oid) {
            Some(crate::model::Family::Rsa) => Ok(SigningKey::Rsa(RsaSigner::from_pkcs8(der)?)),
            Some(crate::model::Family::Gost) => {
                crate::gost::GostSigner::from_pkcs8(der).map(SigningKey::Gost).map_err(|e| SigningError::BadKey(e.to_string()))
            }
            None => Err(SigningError::BadKey(format!("key algorithm {} is neither RSA nor GOST 34.10-2015", info.algorithm.oid))),
        }
    }

    /// A new key of `family` (RSA of `rsa_bits`), with its unencrypted PKCS#8 DER.
    pub fn generate(family: crate::model::Family, rsa_bits: usize) -> Result<(Self, Zeroizing<Vec<u8>>), SigningError> {
        let pkcs8 = match family {
            crate::model::Family::Rsa => generate_rsa_pkcs8(rsa_bits)?,
            crate::model::Family::Gost => crate::gost::GostSigner::generate().to_pkcs8()?,
        };
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    /// RSA or GOST.
    pub fn family(&self) -> crate::model::Family {
        match self {
            SigningKey::Rsa(_) => crate::model::Family::Rsa,
            SigningKey::Gost(_) => crate::model::Family::Gost,
        }
    }

    fn inner(&self) -> &dyn Signer {
        match self {
            SigningKey::Rsa(k) => k,
            SigningKey::Gost(k) => k,
        }
    }
}

impl Signer for SigningKey {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        self.inner().algorithm()
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        self.inner().public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        self.inner().sign(message)
    }
}

/// A new RSA private key of 2048, 3072, 4096 or 8192 bits as unencrypted PKCS#8
/// DER, wiped when dropped. Made by aws-lc-rs (constant time, and far quicker than a
/// pure-Rust generator).
pub fn generate_rsa_pkcs8(bits: usize) -> Result<Zeroizing<Vec<u8>>, SigningError> {
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    let fail = |reason: &str| SigningError::KeyGeneration { bits, reason: reason.to_string() };
    let size = match bits {
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        8192 => KeySize::Rsa8192,
        _ => return Err(fail("the size must be 2048, 3072, 4096 or 8192 bits")),
    };
    let key = KeyPair::generate(size).map_err(|_| fail("the generator failed"))?;
    let der = key.as_der().map_err(|_| fail("the key does not encode"))?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}

/// The key identifier of a public key: the SHA-1 of its bits (RFC 5280
/// §4.2.1.2, method 1), as the authority writes subject and authority key identifiers.
pub fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> [u8; 20] {
    use sha1::{Digest, Sha1};
    Sha1::digest(spki.subject_public_key.raw_bytes()).into()
}

/// Encrypt a PKCS#8 key under `passphrase` (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC), PEM.
pub fn encrypt_pkcs8(der: &[u8], passphrase: &Passphrase) -> Result<String, SigningError> {
    encrypt_pkcs8_with_iterations(der, passphrase, PBKDF2_ITERATIONS)
}

fn encrypt_pkcs8_with_iterations(der: &[u8], passphrase: &Passphrase, iterations: u32) -> Result<String, SigningError> {
    let info = PrivateKeyInfo::from_der(der)?;
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    rand::rngs::OsRng.fill_bytes(&mut iv);
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv).map_err(|e| SigningError::Pkcs8(e.to_string()))?;
    let doc = info.encrypt_with_params(params, passphrase.expose().as_bytes()).map_err(|e| SigningError::Pkcs8(e.to_string()))?;
    let pem = doc.to_pem("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF).map_err(|e| SigningError::Pkcs8(e.to_string()))?;
    Ok(pem.to_string())
}

/// Decrypt a PEM `ENCRYPTED PRIVATE KEY` into PKCS#8 DER, wiped when dropped.
pub fn decrypt_pkcs8(pem: &str, passphrase: &Passphrase) -> Result<Zeroizing<Vec<u8>>, SigningError> {
    let (label, der) = der::pem::decode_vec(pem.as_bytes()).map_err(|_| SigningError::Decrypt)?;
    if label != "ENCRYPTED PRIVATE KEY" {
        return Err(SigningError::Decrypt);
    }
    let info = EncryptedPrivateKeyInfo::from_der(&der).map_err(|_| SigningError::Decrypt)?;
    let doc = info.decrypt(passphrase.expose().as_bytes()).map_err(|_| SigningError::Decrypt)?;
    Ok(Zeroizing::new(doc.as_bytes().to_vec()))
}

/// A fresh serial number: 20 random bytes, positive, first byte never zero, so it
/// is always exactly 20 bytes long in DER.
pub fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[0] = (bytes[0] % 0x7f) + 1;
    // 20 bytes, first in 1..=127: always a valid serial number.
    SerialNumber::new(&bytes).unwrap_or_else(|_| unreachable!("20 positive bytes are a valid serial"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_are_twenty_positive_bytes() {
        for _ in 0..200 {
            let s = random_serial();
            let b = s.as_bytes();
            assert_eq!(b.len(), 20);
            assert!(b[0] >= 1 && b[0] <= 0x7f);
        }
        assert_ne!(random_serial(), random_serial());
    }

    #[test]
    fn passphrase_is_redacted_and_checked() {
        let p = Passphrase::new("correct horse battery\n".to_string()).unwrap();
        assert_eq!(p.expose(), "correct horse battery");
        assert_eq!(format!("{p:?}"), "Passphrase(<redacted>)");
        assert!(matches!(Passphrase::new("short".into()), Err(SigningError::WeakPassphrase { .. })));
        assert_eq!(Passphrase::generate().expose().len(), 64);
    }

    #[test]
    fn encrypted_key_round_trip_and_wrong_passphrase() {
        let key = generate_rsa_pkcs8(2048).unwrap();
        let pass = Passphrase::new("a good long passphrase".into()).unwrap();
        // Few iterations: this test is about the format, not the work factor.
        let pem = encrypt_pkcs8_with_iterations(&key, &pass, 1000).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        assert_eq!(decrypt_pkcs8(&pem, &pass).unwrap().as_slice(), key.as_slice());
        let wrong = Passphrase::new("another long passphrase".into()).unwrap();
        assert!(matches!(decrypt_pkcs8(&pem, &wrong), Err(SigningError::Decrypt)));
        assert!(matches!(decrypt_pkcs8("garbage", &pass), Err(SigningError::Decrypt)));
    }

    #[test]
    fn either_family_from_pkcs8_signs_verifiably() {
        for family in crate::model::Family::ALL {
            let (key, pkcs8) = SigningKey::generate(family, 2048).unwrap();
            assert_eq!(key.family(), family);
            let again = SigningKey::from_pkcs8(&pkcs8).unwrap();
            assert_eq!(again.public_key(), key.public_key());
            let sig = again.sign(b"message").unwrap();
            crate::verify::verify_signature(key.public_key(), &key.algorithm(), b"message", &sig).unwrap();
            assert!(crate::verify::verify_signature(key.public_key(), &key.algorithm(), b"massage", &sig).is_err());
            assert!(!format!("{key:?}").contains(&hex::encode(&pkcs8[pkcs8.len() - 8..])));
        }
        assert!(matches!(SigningKey::from_pkcs8(b"\x30\x03\x02\x01\x00"), Err(SigningError::BadKey(_))));
    }

    #[test]
    fn signs_verifiably() {
        let key = generate_rsa_pkcs8(2048).unwrap();
        let signer = RsaSigner::from_pkcs8(&key).unwrap();
        assert_eq!(signer.bits(), 2048);
        let sig = signer.sign(b"message").unwrap();
        crate::verify::verify_signature(signer.public_key(), &signer.algorithm(), b"message", &sig).unwrap();
        assert!(crate::verify::verify_signature(signer.public_key(), &signer.algorithm(), b"massage", &sig).is_err());
    }
}
