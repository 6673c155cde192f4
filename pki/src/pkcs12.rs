//! PKCS#12 key stores (RFC 7292), the files an applicant's keys live in on a PC.
//!
//! Written in the modern form by default: the key in a PBES2 shrouded key bag
//! (PBKDF2-HMAC-SHA256, AES-256-CBC), the certificates in PBES2-encrypted data, an
//! HMAC-SHA256 MAC over the whole. `friendlyName` and `localKeyID` carry the key id,
//! as in the authority's own files. Reading covers that form and the authority's
//! own legacy files: BER (indefinite lengths, segmented strings), a SHA-1 MAC, the
//! key in a pbeWithSHAAnd3-KeyTripleDES-CBC bag and the certificates under
//! pbeWithSHAAnd40BitRC2-CBC (2-key 3DES and 128-bit RC2 too). The key comes out
//! as PKCS#8 whatever its algorithm (RSA, GOST 34.10-2015, GOST 34.310-2004).

use crate::oid;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use der::{Decode, Encode};
use pkcs12::cert_type::CertBag;
use pkcs12::digest_info::DigestInfo;
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12::mac_data::MacData;
use pkcs12::pfx::{Pfx, Version};
use pkcs12::safe_bag::{SafeBag, SafeContents};
use pkcs8::pkcs5::{pbes2, EncryptionScheme};
use rand::RngCore;
use sha1::Sha1;
use sha2::Sha256;
use spki::AlgorithmIdentifierOwned;
use thiserror::Error;
use x509_cert::attr::Attribute;
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// PBKDF2 and MAC iterations of the files we write: the same work factor as the
/// authority's own keys, so the MAC is no cheaper a way to guess the password.
pub const ITERATIONS: u32 = crate::signing::PBKDF2_ITERATIONS;

/// The largest file read.
pub const MAX_PKCS12_BYTES: usize = 1024 * 1024;

/// PKCS#12 failures.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Pkcs12Error {
    /// Not a PKCS#12 file, or one this library cannot read.
    #[error("not a readable PKCS#12 file: {0}")]
    Malformed(String),
    /// The integrity check fails with this password, and the password opens nothing
    /// inside: it is the wrong password.
    #[error("wrong password: the key file's integrity check fails with it")]
    WrongPassword,
    /// A PKCS#12 file, but changed or broken inside: the integrity check fails
    /// although the password decrypts its contents, or the contents do not parse.
    #[error("the key file is damaged ({0}): restore it from a copy or ask for it again")]
    Damaged(String),
    /// Encrypted with something other than PBES2.
    #[error("the file is encrypted with {0}, which is not read; re-export it with PBES2 (AES-256)")]
    UnsupportedEncryption(String),
    /// No key or no certificate inside.
    #[error("the file holds no {0}")]
    Missing(&'static str),
    /// Larger than [`MAX_PKCS12_BYTES`].
    #[error("the file is {0} bytes, more than the {MAX_PKCS12_BYTES} accepted")]
    TooLarge(usize),
}

impl From<der::Error> for Pkcs12Error {
    fn from(e: der::Error) -> Self {
        Pkcs12Error::Malformed(e.to_string())
    }
}

impl From<pkcs8::Error> for Pkcs12Error {
    fn from(e: pkcs8::Error) -> Self {
        Pkcs12Error::Malformed(e.to_string())
    }
}

/// What a key store file holds: one private key and its certificate, plus the chain.
pub struct KeyStore {
    /// The private key, unencrypted PKCS#8 DER, wiped when dropped.
    pub key_pkcs8: Zeroizing<Vec<u8>>,
    /// The key's certificate.
    pub certificate: Certificate,
    /// The CA certificates that came with it.
    pub chain: Vec<Certificate>,
    /// The friendlyName of the key, if any.
    pub friendly_name: Option<String>,
    /// How the file was encrypted.
    pub protection: Protection,
    /// The key's localKeyID, if any.
    pub key_id: Option<Vec<u8>>,
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

fn pbes2_params<'a>(salt: &'a [u8; 16], iv: &'a [u8; 16], iterations: u32) -> Result<pbes2::Parameters<'a>, Pkcs12Error> {
    pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, salt, iv).map_err(|e| Pkcs12Error::Malformed(e.to_string()))
}

fn bag_attributes(friendly_name: &str, local_key_id: &[u8]) -> Result<SetOfVec<Attribute>, Pkcs12Error> {
    let one = |oid, value: Any| -> Result<Attribute, Pkcs12Error> { Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? }) };
    Ok(SetOfVec::try_from(vec![
        one(oid::ATTR_FRIENDLY_NAME, Any::encode_from(&BmpString::from_utf8(friendly_name)?)?)?,
        one(oid::ATTR_LOCAL_KEY_ID, Any::encode_from(&OctetString::new(local_key_id)?)?)?,
    ])?)
}

fn safe_bag(bag_id: der::asn1::ObjectIdentifier, value_der: Vec<u8>, attrs: Option<SetOfVec<Attribute>>) -> Result<SafeBag, Pkcs12Error> {
    // The pkcs12 crate adds the [0] EXPLICIT wrapper when encoding (and keeps it when decoding).
    Ok(SafeBag { bag_id, bag_value: value_der, bag_attributes: attrs })
}

fn mac_key(password: &str, salt: &[u8], iterations: i32) -> Result<aws_lc_rs::hmac::Key, Pkcs12Error> {
    let key = Zeroizing::new(derive_key_utf8::<Sha256>(password, salt, Pkcs12KeyType::Mac, iterations, 32)?);
    Ok(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key))
}

/// What goes into a key store file.
pub struct Entry<'a> {
    /// The private key, unencrypted PKCS#8 DER.
    pub key_pkcs8: &'a [u8],
    /// Its certificate.
    pub certificate: &'a Certificate,
    /// CA certificates to include.
    pub chain: &'a [Certificate],
    /// friendlyName of the key and certificate.
    pub friendly_name: &'a str,
    /// localKeyID tying the key to its certificate.
    pub local_key_id: &'a [u8],
}

/// Write a PBES2 key store holding `entry`, protected by `password`.
pub fn write(entry: &Entry<'_>, password: &str) -> Result<Vec<u8>, Pkcs12Error> {
    write_with_iterations(entry, password, ITERATIONS)
}

/// Iterations of the legacy files we write (the authority's use 1,024).
pub const LEGACY_ITERATIONS: i32 = 2_048;

/// Write a legacy key store, for clients that read nothing else, with exactly the
/// authority's algorithms: the key under pbeWithSHAAnd3-KeyTripleDES-CBC, the
/// certificates under pbeWithSHAAnd40BitRC2-CBC, an HMAC-SHA1 MAC. Weak by today's
/// measure (RC2-40 hides only the certificates, which are public anyway).
pub fn write_legacy(entry: &Entry<'_>, password: &str) -> Result<Vec<u8>, Pkcs12Error> {
    let Entry { key_pkcs8, certificate, chain, friendly_name, local_key_id } = *entry;
    let attrs = bag_attributes(friendly_name, local_key_id)?;
    let cert_bags = cert_bags(certificate, chain, &attrs)?;
    let (cert_alg, encrypted_certs) =
        legacy_encrypt(LegacyCipher::Rc2 { key_bytes: 5 }, &cert_bags.to_der()?, password, LEGACY_ITERATIONS)?;
    let certs_info = encrypted_data(cert_alg, encrypted_certs)?;
    let (key_alg, encrypted_key) = legacy_encrypt(LegacyCipher::TripleDes3Key, key_pkcs8, password, LEGACY_ITERATIONS)?;
    let shrouded = ShroudedKey { algorithm: key_alg, data: OctetString::new(encrypted_key)? };
    let key_bags: SafeContents = vec![safe_bag(oid::BAG_SHROUDED_KEY, shrouded.to_der()?, Some(attrs))?];
    let auth_safe = auth_safe(certs_info, key_bags)?;
    let mac_salt = random::<20>();
    let mac_key = Zeroizing::new(derive_key_utf8::<Sha1>(password, &mac_salt, Pkcs12KeyType::Mac, LEGACY_ITERATIONS, 20)?);
    let mac = aws_lc_rs::hmac::sign(&aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &mac_key), &auth_safe);
    pfx(auth_safe, oid::SHA1, mac.as_ref(), &mac_salt, LEGACY_ITERATIONS)
}

/// The certificate bags: the holder's (with the attributes that tie it to the key), then the chain.
fn cert_bags(certificate: &Certificate, chain: &[Certificate], attrs: &SetOfVec<Attribute>) -> Result<SafeContents, Pkcs12Error> {
    let mut bags = Vec::new();
    for (i, c) in std::iter::once(certificate).chain(chain).enumerate() {
        let bag = CertBag { cert_id: oid::CERT_TYPE_X509, cert_value: OctetString::new(c.to_der()?)? };
        bags.push(safe_bag(oid::BAG_CERT, bag.to_der()?, (i == 0).then(|| attrs.clone()))?);
    }
    Ok(bags)
}

fn encrypted_data(alg: AlgorithmIdentifierOwned, ciphertext: Vec<u8>) -> Result<EncryptedData, Pkcs12Error> {
    Ok(EncryptedData {
        version: CmsVersion::V0,
        enc_content_info: EncryptedContentInfo {
            content_type: oid::CT_DATA,
            content_enc_alg: alg,
            encrypted_content: Some(OctetString::new(ciphertext)?),
        },
        unprotected_attrs: None,
    })
}

/// The authenticated safe: the encrypted certificates, then the key bags.
fn auth_safe(certs: EncryptedData, key_bags: SafeContents) -> Result<Vec<u8>, Pkcs12Error> {
    Ok(vec![
        ContentInfo { content_type: oid::CT_ENCRYPTED_DATA, content: Any::encode_from(&certs)? },
        ContentInfo { content_type: oid::CT_DATA, content: Any::encode_from(&OctetString::new(key_bags.to_der()?)?)? },
    ]
    .to_der()?)
}

fn pfx(auth_safe: Vec<u8>, digest: der::asn1::ObjectIdentifier, mac: &[u8], salt: &[u8], iterations: i32) -> Result<Vec<u8>, Pkcs12Error> {
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo { content_type: oid::CT_DATA, content: Any::encode_from(&OctetString::new(auth_safe)?)? },
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned { oid: digest, parameters: Some(Any::null()) },
                digest: OctetString::new(mac)?,
            },
            mac_salt: OctetString::new(salt.to_vec())?,
            iterations,
        }),
    };
    Ok(pfx.to_der()?)
}

fn write_with_iterations(entry: &Entry<'_>, password: &str, iterations: u32) -> Result<Vec<u8>, Pkcs12Error> {
    let Entry { key_pkcs8, certificate, chain, friendly_name, local_key_id } = *entry;
    let attrs = bag_attributes(friendly_name, local_key_id)?;
    let cert_bags = cert_bags(certificate, chain, &attrs)?;
    let (salt, iv) = (random::<16>(), random::<16>());
    let params = pbes2_params(&salt, &iv, iterations)?;
    let encrypted_certs = params.encrypt(password, &cert_bags.to_der()?).map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
    let certs_info = encrypted_data(AlgorithmIdentifierOwned::from_der(&EncryptionScheme::from(params).to_der()?)?, encrypted_certs)?;

    let (salt, iv) = (random::<16>(), random::<16>());
    let key_info = pkcs8::PrivateKeyInfo::from_der(key_pkcs8)?;
    let shrouded = key_info.encrypt_with_params(pbes2_params(&salt, &iv, iterations)?, password)?;
    let key_bags: SafeContents = vec![safe_bag(oid::BAG_SHROUDED_KEY, shrouded.as_bytes().to_vec(), Some(attrs))?];

    let auth_safe = auth_safe(certs_info, key_bags)?;
    let mac_salt = random::<16>();
    let iterations = i32::try_from(iterations).map_err(|_| Pkcs12Error::Malformed("iteration count".into()))?;
    let mac = aws_lc_rs::hmac::sign(&mac_key(password, &mac_salt, iterations)?, &auth_safe);
    pfx(auth_safe, oid::SHA256, mac.as_ref(), &mac_salt, iterations)
}

/// A decoded bag's value, without the [0] EXPLICIT wrapper the decoder leaves on.
fn bag_value(bag: &SafeBag) -> Result<Any, Pkcs12Error> {
    let explicit = der::asn1::ContextSpecific::<Any>::from_der(&bag.bag_value)?;
    Ok(explicit.value)
}

/// The algorithm and the ciphertext of an EncryptedData (RFC 5652 §8). Read by
/// hand because BER writers (the authority's Java) send the `[0] IMPLICIT OCTET
/// STRING` constructed, in segments, which DER tooling cannot tell from EXPLICIT.
fn read_encrypted_data(der: &[u8]) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pkcs12Error> {
    let bad = |what: &str| Pkcs12Error::Malformed(format!("encrypted data: {what}"));
    let outer = crate::ber::children(der).map_err(|e| bad(&e.to_string()))?;
    let (_, eci, _) = outer.get(1).ok_or_else(|| bad("no content info"))?;
    let parts = crate::ber::children(eci).map_err(|e| bad(&e.to_string()))?;
    let alg = AlgorithmIdentifierOwned::from_der(parts.get(1).ok_or_else(|| bad("no algorithm"))?.1)?;
    let (tag, whole, content) = *parts.get(2).ok_or(Pkcs12Error::Missing("encrypted content"))?;
    let data = match tag {
        0x80 => content.to_vec(),
        // Constructed: the segments' octets, in order.
        0xa0 => crate::ber::children(whole)
            .map_err(|e| bad(&e.to_string()))?
            .into_iter()
            .filter(|(t, _, _)| *t == 0x04)
            .flat_map(|(_, _, c)| c.to_vec())
            .collect(),
        _ => return Err(bad("no [0] encrypted content")),
    };
    Ok((alg, data))
}

/// How a key store's contents are encrypted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protection {
    /// PBES2 (PBKDF2 with AES), as we write by default.
    Pbes2,
    /// The PKCS#12 PBE schemes of RFC 7292 Appendix C (SHA-1 key derivation, 3DES or
    /// RC2), as the national authority writes its key files.
    Legacy,
}

/// The PKCS#12 password-based encryption schemes (RFC 7292, Appendix C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LegacyCipher {
    TripleDes3Key,
    TripleDes2Key,
    Rc2 { key_bytes: usize },
}

impl LegacyCipher {
    fn of(oid: der::asn1::ObjectIdentifier) -> Option<Self> {
        Some(match oid {
            oid::PBE_SHA1_3DES_3KEY => LegacyCipher::TripleDes3Key,
            oid::PBE_SHA1_3DES_2KEY => LegacyCipher::TripleDes2Key,
            oid::PBE_SHA1_RC2_128 => LegacyCipher::Rc2 { key_bytes: 16 },
            oid::PBE_SHA1_RC2_40 => LegacyCipher::Rc2 { key_bytes: 5 },
            _ => return None,
        })
    }

    fn key_bytes(self) -> usize {
        match self {
            LegacyCipher::TripleDes3Key => 24,
            LegacyCipher::TripleDes2Key => 16,
            LegacyCipher::Rc2 { key_bytes } => key_bytes,
        }
    }
}

/// EncryptedPrivateKeyInfo (RFC 5958) with whatever algorithm it names.
#[derive(der::Sequence)]
struct ShroudedKey {
    algorithm: AlgorithmIdentifierOwned,
    data: OctetString,
}

/// pkcs-12PbeParams: the salt and the iteration count.
#[derive(der::Sequence)]
struct PbeParams {
    salt: OctetString,
    iterations: i32,
}

/// The most iterations accepted anywhere in a file (a bound on the work a file can ask for).
const MAX_ITERATIONS: i32 = 10_000_000;

fn legacy_decrypt(
    cipher: LegacyCipher,
    alg: &AlgorithmIdentifierOwned,
    data: &[u8],
    password: &str,
) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
    use cbc::cipher::block_padding::Pkcs7;
    use cbc::cipher::{BlockDecryptMut, InnerIvInit, KeyIvInit};
    let params: PbeParams = alg.parameters.as_ref().ok_or(Pkcs12Error::Malformed("PBE parameters missing".into()))?.decode_as()?;
    let (key, iv) = legacy_key_iv(cipher, &params, password)?;
    let wrong = |_| Pkcs12Error::WrongPassword;
    let plain = match cipher {
        LegacyCipher::TripleDes3Key => cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
            .map_err(|_| Pkcs12Error::Malformed("3DES key".into()))?
            .decrypt_padded_vec_mut::<Pkcs7>(data)
            .map_err(wrong)?,
        LegacyCipher::TripleDes2Key => cbc::Decryptor::<des::TdesEde2>::new_from_slices(&key, &iv)
            .map_err(|_| Pkcs12Error::Malformed("3DES key".into()))?
            .decrypt_padded_vec_mut::<Pkcs7>(data)
            .map_err(wrong)?,
        LegacyCipher::Rc2 { key_bytes } => {
            // RC2's effective key length (40 or 128 bits) is what the scheme names.
            let rc2 = rc2::Rc2::new_with_eff_key_len(&key, key_bytes * 8);
            cbc::Decryptor::<rc2::Rc2>::inner_iv_slice_init(rc2, &iv)
                .map_err(|_| Pkcs12Error::Malformed("RC2 IV".into()))?
                .decrypt_padded_vec_mut::<Pkcs7>(data)
                .map_err(wrong)?
        }
    };
    Ok(Zeroizing::new(plain))
}

/// The key and IV of a PKCS#12 PBE scheme (RFC 7292 Appendix B, with SHA-1).
fn legacy_key_iv(cipher: LegacyCipher, params: &PbeParams, password: &str) -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), Pkcs12Error> {
    if !(1..=MAX_ITERATIONS).contains(&params.iterations) {
        return Err(Pkcs12Error::Malformed(format!("iteration count {}", params.iterations)));
    }
    let salt = params.salt.as_bytes();
    let key = Zeroizing::new(derive_key_utf8::<Sha1>(password, salt, Pkcs12KeyType::EncryptionKey, params.iterations, cipher.key_bytes())?);
    let iv = derive_key_utf8::<Sha1>(password, salt, Pkcs12KeyType::Iv, params.iterations, 8)?;
    Ok((key, iv))
}

/// Encrypt under a PKCS#12 PBE scheme with a fresh salt: the algorithm
/// identifier (with its parameters) and the ciphertext.
fn legacy_encrypt(
    cipher: LegacyCipher,
    data: &[u8],
    password: &str,
    iterations: i32,
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), Pkcs12Error> {
    use cbc::cipher::block_padding::Pkcs7;
    use cbc::cipher::{BlockEncryptMut, InnerIvInit, KeyIvInit};
    let params = PbeParams { salt: OctetString::new(random::<20>().to_vec())?, iterations };
    let (key, iv) = legacy_key_iv(cipher, &params, password)?;
    let bad = |_| Pkcs12Error::Malformed("cipher key".into());
    let out = match cipher {
        LegacyCipher::TripleDes3Key => {
            cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv).map_err(bad)?.encrypt_padded_vec_mut::<Pkcs7>(data)
        }
        LegacyCipher::TripleDes2Key => {
            cbc::Encryptor::<des::TdesEde2>::new_from_slices(&key, &iv).map_err(bad)?.encrypt_padded_vec_mut::<Pkcs7>(data)
        }
        LegacyCipher::Rc2 { key_bytes } => {
            cbc::Encryptor::<rc2::Rc2>::inner_iv_slice_init(rc2::Rc2::new_with_eff_key_len(&key, key_bytes * 8), &iv)
                .map_err(bad)?
                .encrypt_padded_vec_mut::<Pkcs7>(data)
        }
    };
    let oid = match cipher {
        LegacyCipher::TripleDes3Key => oid::PBE_SHA1_3DES_3KEY,
        LegacyCipher::TripleDes2Key => oid::PBE_SHA1_3DES_2KEY,
        LegacyCipher::Rc2 { key_bytes: 16 } => oid::PBE_SHA1_RC2_128,
        LegacyCipher::Rc2 { .. } => oid::PBE_SHA1_RC2_40,
    };
    Ok((AlgorithmIdentifierOwned { oid, parameters: Some(Any::encode_from(&params)?) }, out))
}

/// Decrypt a bag or encrypted data with whichever scheme it names.
fn decrypt(alg: &AlgorithmIdentifierOwned, data: &[u8], password: &str) -> Result<(Zeroizing<Vec<u8>>, Protection), Pkcs12Error> {
    match LegacyCipher::of(alg.oid) {
        Some(cipher) => Ok((legacy_decrypt(cipher, alg, data, password)?, Protection::Legacy)),
        None => Ok((pbes2_decrypt(alg, data, password)?, Protection::Pbes2)),
    }
}

fn pbes2_decrypt(alg: &AlgorithmIdentifierOwned, data: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
    let alg_der = alg.to_der()?;
    let scheme = EncryptionScheme::from_der(&alg_der).map_err(|_| Pkcs12Error::UnsupportedEncryption(alg.oid.to_string()))?;
    if !matches!(scheme, EncryptionScheme::Pbes2(_)) {
        return Err(Pkcs12Error::UnsupportedEncryption(alg.oid.to_string()));
    }
    scheme.decrypt(password, data).map(Zeroizing::new).map_err(|_| Pkcs12Error::WrongPassword)
}

/// Read a PBES2 key store with `password`: check the MAC, decrypt, return the key
/// and certificates. The certificate whose localKeyID matches the key's is the holder's.
pub fn read(file: &[u8], password: &str) -> Result<KeyStore, Pkcs12Error> {
    if file.len() > MAX_PKCS12_BYTES {
        return Err(Pkcs12Error::TooLarge(file.len()));
    }
    // The authority's files are BER (indefinite lengths, segmented strings).
    let file = crate::ber::to_der(file).map_err(|e| Pkcs12Error::Malformed(e.to_string()))?;
    let pfx = Pfx::from_der(&file)?;
    if pfx.auth_safe.content_type != oid::CT_DATA {
        return Err(Pkcs12Error::Malformed("the authenticated safe is not plain data (public-key integrity mode)".into()));
    }
    let auth_safe = pfx.auth_safe.content.decode_as::<OctetString>()?;
    let mac_data = pfx.mac_data.as_ref().ok_or(Pkcs12Error::Missing("integrity MAC"))?;
    if !(1..=MAX_ITERATIONS).contains(&mac_data.iterations) {
        return Err(Pkcs12Error::Malformed(format!("MAC iteration count {}", mac_data.iterations)));
    }
    let (salt, rounds) = (mac_data.mac_salt.as_bytes(), mac_data.iterations);
    let key = match mac_data.mac.algorithm.oid {
        oid::SHA256 => mac_key(password, salt, rounds)?,
        // The authority's files: HMAC-SHA1, the key derived with SHA-1.
        oid::SHA1 => aws_lc_rs::hmac::Key::new(
            aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            &Zeroizing::new(derive_key_utf8::<Sha1>(password, salt, Pkcs12KeyType::Mac, rounds, 20)?),
        ),
        other => return Err(Pkcs12Error::UnsupportedEncryption(format!("MAC digest {other}"))),
    };
    if aws_lc_rs::hmac::verify(&key, auth_safe.as_bytes(), mac_data.mac.digest.as_bytes()).is_err() {
        return Err(if password_opens(auth_safe.as_bytes(), password) {
            Pkcs12Error::Damaged(
                "the integrity check fails, yet the password decrypts the contents: the file was changed after it was made".into(),
            )
        } else {
            Pkcs12Error::WrongPassword
        });
    }
    // The MAC holds: anything that does not parse now was broken when the file was made.
    read_contents(auth_safe.as_bytes(), password).map_err(|e| match e {
        Pkcs12Error::Malformed(why) => Pkcs12Error::Damaged(why),
        other => other,
    })
}

/// Whether `password` demonstrably opens an encrypted part of `auth_safe`: a part
/// decrypts and what comes out parses (certificate bags, or a PKCS#8 key). A wrong
/// password passes this by chance with negligible probability.
fn password_opens(auth_safe: &[u8], password: &str) -> bool {
    let ber = |b: &[u8]| crate::ber::to_der(b).ok();
    let Some(infos) = ber(auth_safe).and_then(|d| Vec::<ContentInfo>::from_der(&d).ok()) else { return false };
    infos.iter().any(|info| match info.content_type {
        oid::CT_ENCRYPTED_DATA => info
            .content
            .to_der()
            .ok()
            .and_then(|d| read_encrypted_data(&d).ok())
            .and_then(|(alg, data)| decrypt(&alg, &data, password).ok())
            .and_then(|(plain, _)| ber(&plain))
            .is_some_and(|plain| SafeContents::from_der(&plain).is_ok()),
        oid::CT_DATA => info
            .content
            .decode_as::<OctetString>()
            .ok()
            .and_then(|o| ber(o.as_bytes()))
            .and_then(|d| SafeContents::from_der(&d).ok())
            .is_some_and(|bags| {
                bags.iter().filter(|b| b.bag_id == oid::BAG_SHROUDED_KEY).any(|bag| {
                    bag_value(bag)
                        .ok()
                        .and_then(|v| v.decode_as::<ShroudedKey>().ok())
                        .and_then(|k| decrypt(&k.algorithm, k.data.as_bytes(), password).ok())
                        .is_some_and(|(plain, _)| pkcs8::PrivateKeyInfo::try_from(plain.as_slice()).is_ok())
                })
            }),
        _ => false,
    })
}

/// The key and certificates inside an authenticated safe whose MAC has been checked.
fn read_contents(auth_safe: &[u8], password: &str) -> Result<KeyStore, Pkcs12Error> {
    // Legacy when any part is under a legacy scheme.
    let mut legacy = false;
    // The key, its localKeyID and friendlyName.
    type KeyBag = (Zeroizing<Vec<u8>>, Option<Vec<u8>>, Option<String>);
    let mut key: Option<KeyBag> = None;
    let mut certs: Vec<(Certificate, Option<Vec<u8>>)> = Vec::new();
    let ber = |b: &[u8]| crate::ber::to_der(b).map_err(|e| Pkcs12Error::Malformed(e.to_string()));
    for info in Vec::<ContentInfo>::from_der(&ber(auth_safe)?)? {
        let contents: Zeroizing<Vec<u8>> = match info.content_type {
            oid::CT_DATA => Zeroizing::new(info.content.decode_as::<OctetString>()?.as_bytes().to_vec()),
            oid::CT_ENCRYPTED_DATA => {
                let (alg, data) = read_encrypted_data(&info.content.to_der()?)?;
                let (plain, how) = decrypt(&alg, &data, password)?;
                legacy |= how == Protection::Legacy;
                plain
            }
            other => return Err(Pkcs12Error::UnsupportedEncryption(other.to_string())),
        };
        for bag in SafeContents::from_der(&ber(&contents)?)? {
            let local_id = attribute::<OctetString>(&bag, oid::ATTR_LOCAL_KEY_ID).map(|o| o.as_bytes().to_vec());
            match bag.bag_id {
                oid::BAG_SHROUDED_KEY => {
                    // EncryptedPrivateKeyInfo, read with any algorithm (pkcs8's knows only PBES1/2).
                    let shrouded: ShroudedKey = bag_value(&bag)?.decode_as()?;
                    let name = attribute::<BmpString>(&bag, oid::ATTR_FRIENDLY_NAME).map(|b| b.to_string());
                    let (plain, how) = decrypt(&shrouded.algorithm, shrouded.data.as_bytes(), password)?;
                    legacy |= how == Protection::Legacy;
                    key = Some((plain, local_id, name));
                }
                oid::BAG_CERT => {
                    let cert_bag: CertBag = bag_value(&bag)?.decode_as()?;
                    if cert_bag.cert_id == oid::CERT_TYPE_X509 {
                        certs.push((Certificate::from_der(cert_bag.cert_value.as_bytes())?, local_id));
                    }
                }
                _ => {}
            }
        }
    }
    let (key_pkcs8, key_id, friendly_name) = key.ok_or(Pkcs12Error::Missing("private key"))?;
    let holder = certs.iter().position(|(_, id)| key_id.is_some() && *id == key_id).unwrap_or(0);
    if certs.is_empty() {
        return Err(Pkcs12Error::Missing("certificate"));
    }
    let (certificate, _) = certs.remove(holder);
    Ok(KeyStore {
        key_pkcs8,
        certificate,
        chain: certs.into_iter().map(|(c, _)| c).collect(),
        friendly_name,
        protection: if legacy { Protection::Legacy } else { Protection::Pbes2 },
        key_id,
    })
}

fn attribute<T: for<'b> der::Decode<'b>>(bag: &SafeBag, oid: der::asn1::ObjectIdentifier) -> Option<T> {
    T::from_der(&bag.bag_attributes.as_ref()?.iter().find(|a| a.oid == oid)?.values.get(0)?.to_der().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_wrong_password_and_garbage() {
        let (signer, cert) = crate::testing::self_signed("PKCS");
        let _ = signer;
        let key = crate::signing::generate_rsa_pkcs8(2048).unwrap();
        let entry = Entry {
            key_pkcs8: &key,
            certificate: &cert,
            chain: std::slice::from_ref(&cert),
            friendly_name: "ab12",
            local_key_id: &[0xab, 0x12],
        };
        let file = write_with_iterations(&entry, "123456", 1000).unwrap();
        let read_back = read(&file, "123456").unwrap();
        assert_eq!(read_back.protection, Protection::Pbes2);
        // The legacy form reads back the same, and says so.
        let legacy = read(&write_legacy(&entry, "Qwerty12").unwrap(), "Qwerty12").unwrap();
        assert_eq!((legacy.protection, &legacy.key_pkcs8, &legacy.certificate), (Protection::Legacy, &read_back.key_pkcs8, &cert));
        assert_eq!(legacy.friendly_name.as_deref(), Some("ab12"));
        assert_eq!(read_back.key_pkcs8.as_slice(), key.as_slice());
        assert_eq!(read_back.certificate, cert);
        assert_eq!(read_back.chain.len(), 1);
        assert_eq!(read_back.friendly_name.as_deref(), Some("ab12"));
        assert!(matches!(read(&file, "654321"), Err(Pkcs12Error::WrongPassword)));
        for len in [0, 1, 10, file.len() / 2, file.len() - 1] {
            assert!(read(&file[..len], "123456").is_err());
        }
    }
}

#[cfg(test)]
mod authority_files {
    //! The national authority's real key files (legacy PKCS#12: a 3DES key bag, an
    //! RC2-40 certificate bag, a SHA-1 MAC; password `Qwerty12`).
    use super::*;
    use der::DecodePem;

    fn file(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/nca-test").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn certificate(name: &str) -> Certificate {
        let bytes = file(name);
        Certificate::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).unwrap()
    }

    #[test]
    fn every_real_key_file_opens_with_its_key_and_certificate() {
        for (stem, key_algorithm) in [
            ("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9", "1.2.840.113549.1.1.1"),
            ("AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d", "1.2.840.113549.1.1.1"),
            ("AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790", "1.2.840.113549.1.1.1"),
            ("GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b", "1.2.398.3.10.1.1.1.1"),
            ("gost2015_sign_individual", "1.2.398.3.10.1.1.2.2"),
        ] {
            let bytes = file(&format!("{stem}.p12"));
            let store = read(&bytes, "Qwerty12").unwrap_or_else(|e| panic!("{stem}: {e}"));
            assert_eq!(store.protection, Protection::Legacy, "{stem}");
            assert_eq!(store.certificate, certificate(&format!("{stem}.cer")), "{stem}: the certificate beside the file");
            let key = pkcs8::PrivateKeyInfo::try_from(store.key_pkcs8.as_slice()).unwrap_or_else(|e| panic!("{stem}: {e}"));
            assert_eq!(key.algorithm.oid.to_string(), key_algorithm, "{stem}");
            assert_eq!(store.certificate.tbs_certificate.subject_public_key_info.algorithm.oid.to_string(), key_algorithm, "{stem}");
            assert!(matches!(read(&bytes, "Qwerty13"), Err(Pkcs12Error::WrongPassword)), "{stem}: a wrong password");
        }
        // An RSA key is the certificate's: the public key it derives is the one certified.
        let store = read(&file("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12"), "Qwerty12").unwrap();
        let signer = crate::signing::RsaSigner::from_pkcs8(&store.key_pkcs8).unwrap();
        assert_eq!(crate::signing::Signer::public_key(&signer), &store.certificate.tbs_certificate.subject_public_key_info);
    }

    #[test]
    fn a_damaged_file_a_wrong_password_and_not_a_key_file_are_told_apart() {
        for (name, file) in [
            ("the authority's", file("RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.p12")),
            ("ours", {
                let (_, cert) = crate::testing::self_signed("DAMAGE");
                let key = crate::signing::generate_rsa_pkcs8(2048).unwrap();
                let entry = Entry { key_pkcs8: &key, certificate: &cert, chain: &[], friendly_name: "d", local_key_id: &[1] };
                write_with_iterations(&entry, "Qwerty12", 1000).unwrap()
            }),
        ] {
            // One byte of the MAC changed: the right password still decrypts the contents.
            let der = crate::ber::to_der(&file).unwrap();
            let pfx = Pfx::from_der(&der).unwrap();
            let digest = pfx.mac_data.as_ref().unwrap().mac.digest.as_bytes().to_vec();
            let at = der.windows(digest.len()).position(|w| w == digest.as_slice()).unwrap();
            let mut damaged = der.clone();
            damaged[at] ^= 0x01;
            assert!(matches!(read(&damaged, "Qwerty12"), Err(Pkcs12Error::Damaged(_))), "{name}: a changed MAC");
            assert!(matches!(read(&damaged, "Qwerty13"), Err(Pkcs12Error::WrongPassword)), "{name}: wrong password");
            // A byte of the contents changed near the end (a certificate): damaged, not a wrong password.
            let mut changed = der.clone();
            let n = changed.len();
            changed[n - digest.len() - 200] ^= 0x40;
            let e = read(&changed, "Qwerty12").err();
            assert!(matches!(e, Some(Pkcs12Error::Damaged(_))), "{name}: changed contents: {e:?}");
            // Not a PKCS#12 file at all.
            assert!(matches!(read(b"hello, key store", "Qwerty12"), Err(Pkcs12Error::Malformed(_))), "{name}");
        }
    }
}
