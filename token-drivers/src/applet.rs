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
/// GENERATE ASYMMETRIC KEY PAIR algorithm `80`: GOST 34.10-2015 512-bit
/// (GOST R 34.10-2012 paramSetA, the authority's `1.2.398.3.10.1.1.2.2.1`).
pub const ALG_GOST_2015_512: u8 = 0x03;
/// MSE:SET algorithm `80`: GOST 34.10-2015 512-bit; the command data of
/// PSO:COMPUTE DIGITAL SIGNATURE is the 64-byte Streebog-512 hash, computed off
/// the card, and the answer is r ‖ s, 64 bytes each, little-endian.
pub const ALG_GOST_2015_HASH: u8 = 0x04;
/// A slot holding a GOST 34.10-2015 512-bit key, in the slot table.
pub const SLOT_GOST_2015_512: u8 = 0x02;

/// The kinds of key the applet makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA-2048, e = 65537, signing PKCS#1 v1.5 DigestInfos.
    Rsa2048,
    /// GOST 34.10-2015 512-bit, signing Streebog-512 hashes.
    Gost2015,
}

impl KeyAlgorithm {
    /// Every kind of key the applet makes.
    pub const ALL: [KeyAlgorithm; 2] = [KeyAlgorithm::Rsa2048, KeyAlgorithm::Gost2015];

    /// GENERATE ASYMMETRIC KEY PAIR `80`.
    pub fn generate_ref(self) -> u8 {
        match self {
            KeyAlgorithm::Rsa2048 => ALG_RSA_2048,
            KeyAlgorithm::Gost2015 => ALG_GOST_2015_512,
        }
    }

    /// MSE:SET `80`.
    pub fn signature_ref(self) -> u8 {
        match self {
            KeyAlgorithm::Rsa2048 => ALG_RSA_PKCS1_DIGEST_INFO,
            KeyAlgorithm::Gost2015 => ALG_GOST_2015_HASH,
        }
    }

    /// The byte of the slot table.
    pub fn slot_code(self) -> u8 {
        match self {
            KeyAlgorithm::Rsa2048 => SLOT_RSA_2048,
            KeyAlgorithm::Gost2015 => SLOT_GOST_2015_512,
        }
    }

    /// The algorithm of a GENERATE reference.
    pub fn of_generate_ref(r: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.generate_ref() == r)
    }

    /// The algorithm of an MSE:SET reference.
    pub fn of_signature_ref(r: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.signature_ref() == r)
    }

    /// The algorithm of a slot table byte (`None` for an empty slot or an unknown kind).
    pub fn of_slot_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.slot_code() == c)
    }

    /// Key size in bits.
    pub fn bits(self) -> u32 {
        match self {
            KeyAlgorithm::Rsa2048 => 2048,
            KeyAlgorithm::Gost2015 => 512,
        }
    }
}

/// GOST 34.10-2015 512-bit public key (SubjectPublicKeyInfo algorithm).
const GOST_2015_KEY: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2");
/// Its curve, GOST R 34.10-2012 512-bit paramSetA, as the authority names it.
const GOST_2015_CURVE: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.2.2.1");
/// Its hash, Streebog-512, as the authority names it.
const GOST_2015_HASH: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.3");
/// Bytes of a GOST 34.10-2015 512-bit public key: x ‖ y.
pub const GOST_POINT_LEN: usize = 128;
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

/// The public key template of a GOST key: `7F49 { 86 x ‖ y }`, each 64 bytes
/// little-endian, as the authority's certificates carry them.
pub fn gost_public_key_template(point: &[u8]) -> Vec<u8> {
    tlv::encode(&[0x7F, 0x49], &tlv::encode(&[0x86], point))
}

/// The x ‖ y of a GOST template, when it is one of the right length.
pub fn read_gost_public_key_template(bytes: &[u8]) -> Option<Vec<u8>> {
    let outer = tlv::decode(bytes)?;
    let inner = tlv::decode(tlv::find(&outer, 0x7F49)?)?;
    tlv::find(&inner, 0x86).filter(|p| p.len() == GOST_POINT_LEN).map(<[u8]>::to_vec)
}

/// The `SubjectPublicKeyInfo` of a GOST 34.10-2015 512-bit public key x ‖ y, in
/// the authority's form: parameters (curve, hash), an OCTET STRING in the BIT STRING.
/// Whether the point lies on the curve is for whoever uses the key to check.
pub fn gost_spki(point: &[u8]) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
    if point.len() != GOST_POINT_LEN {
        return Err(der::Tag::OctetString.length_error());
    }
    let params = [GOST_2015_CURVE.to_der()?, GOST_2015_HASH.to_der()?].concat();
    let params = tlv::encode(&[0x30], &params);
    Ok(SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned { oid: GOST_2015_KEY, parameters: Some(Any::from_der(&params)?) },
        subject_public_key: BitString::from_bytes(&der::asn1::OctetString::new(point)?.to_der()?)?,
    })
}

/// What a slot's public key file holds: the key's subjectPublicKey bits, an
/// `RSAPublicKey` (PKCS#1) or the OCTET STRING of a GOST point.
pub fn key_file_of(spki: &SubjectPublicKeyInfoOwned) -> &[u8] {
    spki.subject_public_key.raw_bytes()
}

/// The `SubjectPublicKeyInfo` of a public key file's contents (padding removed),
/// RSA or GOST by its first byte (SEQUENCE or OCTET STRING); checked to be one.
pub fn spki_of_key_file(der: &[u8]) -> Result<(KeyAlgorithm, SubjectPublicKeyInfoOwned), der::Error> {
    match der.first() {
        Some(0x04) => {
            let point = der::asn1::OctetString::from_der(der)?;
            Ok((KeyAlgorithm::Gost2015, gost_spki(point.as_bytes())?))
        }
        _ => Ok((KeyAlgorithm::Rsa2048, rsa_spki_from_pkcs1(der)?)),
    }
}

/// The `SubjectPublicKeyInfo` of an RSA public key.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Result<SubjectPublicKeyInfoOwned, der::Error> {
    let key = RsaPublicKey { modulus: UintRef::new(modulus)?, public_exponent: UintRef::new(exponent)? }.to_der()?;
    rsa_spki_from_pkcs1(&key)
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

    #[test]
    fn gost_templates_and_key_files_round_trip() {
        let point: Vec<u8> = (0..128u8).collect();
        let t = gost_public_key_template(&point);
        assert_eq!(read_gost_public_key_template(&t), Some(point.clone()));
        assert_eq!(read_gost_public_key_template(&gost_public_key_template(&point[..127])), None);
        assert_eq!(read_public_key_template(&t), None, "not an RSA template");
        let spki = gost_spki(&point).unwrap();
        let file = key_file_of(&spki);
        assert_eq!(&file[..3], &[0x04, 0x81, 0x80]);
        assert_eq!(spki_of_key_file(file).unwrap(), (KeyAlgorithm::Gost2015, spki.clone()));
        // The authority's encoding: the same algorithm identifier as its certificates.
        let real = include_bytes!("../../tests/data/nca-test/nca_gost2022_test.der");
        let cert = x509_cert::Certificate::from_der(real).unwrap();
        assert_eq!(spki.algorithm, cert.tbs_certificate.subject_public_key_info.algorithm);
        let rsa = rsa_spki(&[0xC5; 256], &[1, 0, 1]).unwrap();
        assert_eq!(spki_of_key_file(key_file_of(&rsa)).unwrap(), (KeyAlgorithm::Rsa2048, rsa));
        assert!(spki_of_key_file(&[0x04, 0x02, 1, 2]).is_err());
        assert!(spki_of_key_file(&[]).is_err());
        assert_eq!(KeyAlgorithm::of_generate_ref(ALG_GOST_2015_512), Some(KeyAlgorithm::Gost2015));
        assert_eq!(KeyAlgorithm::of_generate_ref(0x7F), None);
    }
}
