//! The applet's own conventions that both sides share (APPLET.md): algorithm
//! references, the GET DATA object, the public key template, the DigestInfo.

use crate::tlv;
use der::asn1::{Any, BitString, UintRef};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// GENERATE ASYMMETRIC KEY PAIR algorithm `80`: RSA-2048, public exponent 65537.
pub const ALG_RSA_2048: u8 = 0x01;
/// MSE:SET algorithm `80`: RSA with PKCS#1 v1.5 padding; the command data of
/// PSO:COMPUTE DIGITAL SIGNATURE is the DigestInfo.
pub const ALG_RSA_PKCS1_DIGEST_INFO: u8 = 0x02;
/// GET DATA P1 P2 of the key slot table: one byte per slot.
pub const GET_DATA_SLOTS: [u8; 2] = [0x01, 0x01];
/// A slot without a key, in the slot table.
pub const SLOT_EMPTY: u8 = 0x00;
/// A slot holding an RSA-2048 key, in the slot table.
pub const SLOT_RSA_2048: u8 = 0x01;
/// The largest chunk UPDATE BINARY carries.
pub const MAX_UPDATE: usize = 255;

const SHA256_PREFIX: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// The PKCS#1 v1.5 DigestInfo of a SHA-256 digest (RFC 8017 §9.2, note 1).
pub fn digest_info_sha256(digest: &[u8; 32]) -> Vec<u8> {
    [&SHA256_PREFIX[..], digest].concat()
}

/// The SHA-256 digest inside a DigestInfo, when that is what it is.
pub fn sha256_of_digest_info(info: &[u8]) -> Option<&[u8]> {
    info.strip_prefix(&SHA256_PREFIX[..]).filter(|d| d.len() == 32)
}

/// The public key template `7F49 { 81 modulus, 82 exponent }` (ISO/IEC 7816-8).
pub fn public_key_template(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    tlv::encode(&[0x7F, 0x49], &[tlv::encode(&[0x81], modulus), tlv::encode(&[0x82], exponent)].concat())
}

#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// The modulus and exponent (big-endian, no sign byte) of a template.
pub fn read_public_key_template(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let outer = tlv::decode(bytes)?;
    let inner = tlv::decode(tlv::find(&outer, 0x7F49)?)?;
    Some((tlv::find(&inner, 0x81)?.to_vec(), tlv::find(&inner, 0x82)?.to_vec()))
}

/// The `SubjectPublicKeyInfo` of an RSA public key.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
    let key = RsaPublicKey { modulus: UintRef::new(modulus)?, public_exponent: UintRef::new(exponent)? }.to_der()?;
    rsa_spki_from_pkcs1(&key)
}

/// The `RSAPublicKey` (PKCS#1) DER inside an RSA `SubjectPublicKeyInfo`: what the
/// applet keeps in a slot's public key file.
pub fn pkcs1_of(spki: &SubjectPublicKeyInfoOwned) -> &[u8] {
    spki.subject_public_key.raw_bytes()
}

/// The `SubjectPublicKeyInfo` of an `RSAPublicKey` (PKCS#1) DER, checked to be one.
pub fn rsa_spki_from_pkcs1(der: &[u8]) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
    RsaPublicKey::from_der(der)?;
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: der::oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
            parameters: Some(Any::null()),
        },
        subject_public_key: BitString::from_bytes(der)?,
    })
}

/// Modulus length in bits of an RSA `SubjectPublicKeyInfo`.
pub fn rsa_bits(spki: &SubjectPublicKeyInfoOwned) -> Option<u32> {
    let key = RsaPublicKey::from_der(spki.subject_public_key.as_bytes()?).ok()?;
    let m = key.modulus.as_bytes();
    let lead = *m.first()?;
    Some(((m.len() as u32) - 1) * 8 + (8 - lead.leading_zeros()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_digest_infos_round_trip() {
        let n = vec![0xC5; 256];
        let t = public_key_template(&n, &[1, 0, 1]);
        assert_eq!(read_public_key_template(&t), Some((n.clone(), vec![1, 0, 1])));
        assert_eq!(read_public_key_template(&t[..t.len() - 1]), None);
        let spki = rsa_spki(&n, &[1, 0, 1]).unwrap();
        assert_eq!(rsa_bits(&spki), Some(2048));
        let info = digest_info_sha256(&[9; 32]);
        assert_eq!(info.len(), 51);
        assert_eq!(sha256_of_digest_info(&info), Some(&[9u8; 32][..]));
        assert_eq!(sha256_of_digest_info(&info[..50]), None);
    }
}
