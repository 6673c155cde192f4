//! The PKCS#15 (ISO/IEC 7816-15) files of the applet: EF.DIR, ODF, TokenInfo, and
//! the object directories (AODF, PrKDF, PuKDF, CDF). The card stores them as plain
//! files; this module is the one place that writes and reads their contents, for
//! the driver and for the personalisation of the virtual card.
//!
//! Object directories are runs of DER objects followed by zero padding up to the
//! file's size (PKCS#15 v1.1 §6.4).

use crate::profile::Profile;
use crate::tlv;
use der::asn1::{BitString, ContextSpecific, OctetString};
use der::{Decode, Encode, Enumerated, Sequence, TagMode, TagNumber};

/// A path on the card (PKCS#15 `Path`): file identifiers from the MF.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct Path {
    /// Concatenated file identifiers, starting with 3F00.
    pub path: OctetString,
}

impl Path {
    /// The absolute path of file `fid` in `profile`'s application DF.
    pub fn in_app(profile: &Profile, fid: u16) -> Path {
        let bytes = [0x3F, 0x00, (profile.files.app >> 8) as u8, profile.files.app as u8, (fid >> 8) as u8, fid as u8];
        Path { path: OctetString::new(bytes.to_vec()).unwrap_or_else(|_| unreachable!("six bytes")) }
    }

    /// The last file identifier of the path.
    pub fn file_id(&self) -> Option<u16> {
        let b = self.path.as_bytes();
        let tail = b.get(b.len().checked_sub(2)?..)?;
        Some(u16::from_be_bytes([tail[0], tail[1]]))
    }
}

/// `CommonObjectAttributes`: label, flags (private, modifiable), the PIN guarding it.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CommonObjectAttributes {
    /// A label for people.
    #[asn1(optional = "true")]
    pub label: Option<String>,
    /// `CommonObjectFlags`: private (0), modifiable (1).
    #[asn1(optional = "true")]
    pub flags: Option<BitString>,
    /// The authentication object (PIN) protecting it.
    #[asn1(optional = "true")]
    pub auth_id: Option<OctetString>,
}

/// `CommonKeyAttributes`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CommonKeyAttributes {
    /// The key identifier, shared by a key's private, public and certificate objects.
    pub id: OctetString,
    /// `KeyUsageFlags`.
    pub usage: BitString,
    /// Whether the card itself uses the key (DEFAULT TRUE, so absent when true).
    #[asn1(optional = "true")]
    pub native: Option<bool>,
    /// `KeyAccessFlags`: sensitive (0), extractable (1), alwaysSensitive (2),
    /// neverExtractable (3), local (4).
    #[asn1(optional = "true")]
    pub access_flags: Option<BitString>,
    /// The key's reference on the card (MSE:SET `84`).
    #[asn1(optional = "true")]
    pub key_reference: Option<u8>,
}

/// `PrivateRSAKeyAttributes` / `PublicRSAKeyAttributes`: where the key is, and its size.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RsaKeyAttributes {
    /// The key's file.
    pub value: Path,
    /// Modulus length in bits.
    pub modulus_length: u32,
}

/// A private or public RSA key object (`PrivateKeyObject{PrivateRSAKeyAttributes}`,
/// `PublicKeyObject{PublicRSAKeyAttributes}`): same shape.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct RsaKeyObject {
    /// Label, flags, PIN.
    pub common: CommonObjectAttributes,
    /// Identifier, usage, reference.
    pub key: CommonKeyAttributes,
    /// `typeAttributes [1]`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub rsa: RsaKeyAttributes,
}

/// `PrivateECKeyAttributes` / `PublicECKeyAttributes` as the applet writes them:
/// where the key is. The applet's elliptic-curve keys are GOST 34.10-2015 512-bit
/// (the slot table and the public key file say so).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EcKeyAttributes {
    /// The key's file.
    pub value: Path,
}

/// An elliptic-curve key object (`privateECKey [0]`, `publicECKey [0]`).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EcKeyObject {
    /// Label, flags, PIN.
    pub common: CommonObjectAttributes,
    /// Identifier, usage, reference.
    pub key: CommonKeyAttributes,
    /// `typeAttributes [1]`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub ec: EcKeyAttributes,
}

/// An entry of the PrKDF or PuKDF: an RSA key (`SEQUENCE`) or an elliptic-curve
/// (GOST) key (`[0]`), as PKCS#15's `PrivateKeyType` and `PublicKeyType` choose.
#[derive(Clone, Debug, Eq, PartialEq, der::Choice)]
pub enum KeyEntry {
    /// `privateRSAKey` / `publicRSAKey`.
    Rsa(RsaKeyObject),
    /// `privateECKey [0]` / `publicECKey [0]`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", constructed = "true")]
    Ec(EcKeyObject),
}

impl KeyEntry {
    /// Identifier, usage, reference.
    pub fn key(&self) -> &CommonKeyAttributes {
        match self {
            KeyEntry::Rsa(k) => &k.key,
            KeyEntry::Ec(k) => &k.key,
        }
    }

    /// Key size in bits: the RSA modulus's, 512 for the applet's GOST keys.
    pub fn bits(&self) -> u32 {
        match self {
            KeyEntry::Rsa(k) => k.rsa.modulus_length,
            KeyEntry::Ec(_) => crate::applet::KeyAlgorithm::Gost2015.bits(),
        }
    }
}

/// `CommonCertificateAttributes`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CommonCertificateAttributes {
    /// The identifier of the key this certifies.
    pub id: OctetString,
}

/// `X509CertificateAttributes`: where the certificate is.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct X509CertificateAttributes {
    /// The certificate's file.
    pub value: Path,
}

/// A certificate object (`CertificateObject{X509CertificateAttributes}`).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CertificateObject {
    /// Label and flags.
    pub common: CommonObjectAttributes,
    /// The key identifier.
    pub cert: CommonCertificateAttributes,
    /// `typeAttributes [1]`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub x509: X509CertificateAttributes,
}

/// `PinAttributes.pinType`.
#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
pub enum PinType {
    /// Binary coded decimal.
    Bcd = 0,
    /// ASCII digits.
    AsciiNumeric = 1,
    /// UTF-8 characters.
    Utf8 = 2,
}

/// `PinAttributes`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PinAttributes {
    /// `PinFlags`: initialized (4), needs-padding (5), unblockingPin (6).
    pub pin_flags: BitString,
    /// Character set.
    pub pin_type: PinType,
    /// Fewest characters.
    pub min_length: u32,
    /// Length on the wire after padding.
    pub stored_length: u32,
    /// Most characters.
    #[asn1(optional = "true")]
    pub max_length: Option<u32>,
    /// `pinReference [0]`: P2 of VERIFY.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub pin_reference: Option<u8>,
    /// The padding byte.
    #[asn1(optional = "true")]
    pub pad_char: Option<OctetString>,
}

/// `CommonAuthenticationObjectAttributes`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct CommonAuthenticationObjectAttributes {
    /// The identifier keys name in their `authId`.
    pub auth_id: OctetString,
}

/// A PIN object (`AuthenticationObject{PinAttributes}`).
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct PinObject {
    /// Label and flags.
    pub common: CommonObjectAttributes,
    /// Identifier.
    pub auth: CommonAuthenticationObjectAttributes,
    /// `typeAttributes [1]`.
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT")]
    pub pin: PinAttributes,
}

/// `TokenInfo`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct TokenInfo {
    /// v1 is 0.
    pub version: u8,
    /// The card's serial number.
    pub serial_number: OctetString,
    /// Who made it.
    #[asn1(optional = "true")]
    pub manufacturer_id: Option<String>,
    /// `label [0]`.
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub label: Option<String>,
    /// `TokenFlags`: readonly (0), loginRequired (1), prnGeneration (2).
    pub token_flags: BitString,
}

/// The object directories the ODF points to, by their `PKCS15Objects` choice number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Directory {
    /// `privateKeys [0]`.
    PrivateKeys = 0,
    /// `publicKeys [1]`.
    PublicKeys = 1,
    /// `certificates [4]`.
    Certificates = 4,
    /// `authObjects [8]`.
    AuthObjects = 8,
}

/// A `BIT STRING` with named bits set (DER: trailing zero bits dropped).
pub fn named_bits(bits: &[u8]) -> BitString {
    let Some(&highest) = bits.iter().max() else {
        return BitString::new(0, Vec::new()).unwrap_or_else(|_| unreachable!("empty bit string"));
    };
    let mut bytes = vec![0u8; usize::from(highest) / 8 + 1];
    for &b in bits {
        bytes[usize::from(b) / 8] |= 0x80 >> (b % 8);
    }
    let unused = 7 - highest % 8;
    BitString::new(unused, bytes).unwrap_or_else(|_| unreachable!("unused bits below 8"))
}

/// Whether named bit `n` is set.
pub fn has_bit(bits: &BitString, n: u8) -> bool {
    bits.raw_bytes().get(usize::from(n) / 8).is_some_and(|byte| byte & (0x80 >> (n % 8)) != 0)
}

/// Key usage bits.
pub mod usage {
    /// `sign`.
    pub const SIGN: u8 = 2;
    /// `verify`.
    pub const VERIFY: u8 = 6;
    /// `nonRepudiation`.
    pub const NON_REPUDIATION: u8 = 9;
}

/// EF.DIR: one application template (`61`) naming the PKCS#15 application.
pub fn ef_dir(profile: &Profile) -> Vec<u8> {
    let app = [(profile.files.app >> 8) as u8, profile.files.app as u8];
    let path = [&[0x3F, 0x00][..], &app].concat();
    let inner = [tlv::encode(&[0x4F], profile.aid), tlv::encode(&[0x50], profile.label.as_bytes()), tlv::encode(&[0x51], &path)].concat();
    tlv::encode(&[0x61], &inner)
}

/// The ODF: where each object directory lives.
pub fn odf(profile: &Profile) -> Result<Vec<u8>, der::Error> {
    let f = &profile.files;
    let mut out = Vec::new();
    for (dir, fid) in [
        (Directory::AuthObjects, f.aodf),
        (Directory::PrivateKeys, f.prkdf),
        (Directory::PublicKeys, f.pukdf),
        (Directory::Certificates, f.cdf),
    ] {
        let entry =
            ContextSpecific { tag_number: TagNumber::new(dir as u8), tag_mode: TagMode::Explicit, value: Path::in_app(profile, fid) };
        entry.encode_to_vec(&mut out)?;
    }
    Ok(out)
}

/// Read the ODF: each directory's path.
pub fn read_odf(bytes: &[u8]) -> Result<Vec<(u8, Path)>, der::Error> {
    objects::<der::Any>(bytes)?
        .into_iter()
        .filter_map(|any| match der::Tagged::tag(&any) {
            der::Tag::ContextSpecific { constructed: true, number } => Some((number.value(), any)),
            _ => None,
        })
        .map(|(n, any)| Ok((n, Path::from_der(any.value())?)))
        .collect()
}

/// The AODF: the user PIN (auth id 01) and the PUK (auth id 02).
pub fn aodf(profile: &Profile) -> Result<Vec<u8>, der::Error> {
    let pin = |label: &str, id: u8, policy: &crate::profile::SecretPolicy, flags: &[u8]| -> Result<Vec<u8>, der::Error> {
        PinObject {
            common: CommonObjectAttributes { label: Some(label.into()), flags: Some(named_bits(&[1])), auth_id: None },
            auth: CommonAuthenticationObjectAttributes { auth_id: OctetString::new(vec![id])? },
            pin: PinAttributes {
                pin_flags: named_bits(flags),
                pin_type: PinType::Utf8,
                min_length: policy.min_len as u32,
                stored_length: policy.max_len as u32,
                max_length: Some(policy.max_len as u32),
                pin_reference: Some(policy.reference),
                pad_char: Some(OctetString::new(vec![0xFF])?),
            },
        }
        .to_der()
    };
    Ok([pin("PIN", 1, &profile.pin, &[4, 5])?, pin("PUK", 2, &profile.puk, &[4, 5, 6])?].concat())
}

/// Decode a directory file: DER objects up to the first padding byte.
pub fn objects<'a, T: Decode<'a>>(mut bytes: &'a [u8]) -> Result<Vec<T>, der::Error> {
    let mut out = Vec::new();
    while let Some(&first) = bytes.first() {
        if first == 0x00 || first == 0xFF {
            break;
        }
        let mut reader = der::SliceReader::new(bytes)?;
        let value = T::decode(&mut reader)?;
        let used = u32::from(der::Reader::position(&reader)) as usize;
        bytes = &bytes[used..];
        out.push(value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::KAZTOKEN;

    #[test]
    fn odf_names_the_directories() {
        let odf = odf(&KAZTOKEN).unwrap();
        // [8] authObjects first: A8 0A 30 08 04 06 3F00 5015 4401.
        assert_eq!(&odf[..12], &[0xA8, 0x0A, 0x30, 0x08, 0x04, 0x06, 0x3F, 0x00, 0x50, 0x15, 0x44, 0x01]);
        let mut padded = odf.clone();
        padded.extend_from_slice(&[0; 20]);
        let dirs = read_odf(&padded).unwrap();
        assert_eq!(dirs.len(), 4);
        assert_eq!(dirs[1].0, Directory::PrivateKeys as u8);
        assert_eq!(dirs[1].1.file_id(), Some(KAZTOKEN.files.prkdf));
    }

    #[test]
    fn named_bits_are_minimal() {
        // nonRepudiation alone: 03 03 06 00 40.
        assert_eq!(named_bits(&[9]).to_der().unwrap(), vec![0x03, 0x03, 0x06, 0x00, 0x40]);
        // sign alone: 03 02 05 20.
        assert_eq!(named_bits(&[2]).to_der().unwrap(), vec![0x03, 0x02, 0x05, 0x20]);
        assert!(has_bit(&named_bits(&[2, 9]), 9));
        assert!(!has_bit(&named_bits(&[2]), 9));
    }

    #[test]
    fn key_objects_round_trip_through_a_padded_file() {
        let key = RsaKeyObject {
            common: CommonObjectAttributes {
                label: Some("SIGN".into()),
                flags: Some(named_bits(&[0, 1])),
                auth_id: Some(OctetString::new(vec![1]).unwrap()),
            },
            key: CommonKeyAttributes {
                id: OctetString::new(vec![7; 20]).unwrap(),
                usage: named_bits(&[usage::NON_REPUDIATION]),
                native: None,
                access_flags: Some(named_bits(&[0, 2, 3, 4])),
                key_reference: Some(2),
            },
            rsa: RsaKeyAttributes { value: Path::in_app(&KAZTOKEN, 0x4B02), modulus_length: 2048 },
        };
        let mut file = [key.to_der().unwrap(), key.to_der().unwrap()].concat();
        file.resize(300, 0);
        let back: Vec<RsaKeyObject> = objects(&file).unwrap();
        // RSA and GOST keys side by side in one directory.
        let ec = EcKeyObject {
            common: key.common.clone(),
            key: key.key.clone(),
            ec: EcKeyAttributes { value: Path::in_app(&KAZTOKEN, 0x4B03) },
        };
        let mixed = [KeyEntry::Rsa(key.clone()), KeyEntry::Ec(ec.clone())];
        let mut bytes = Vec::new();
        for k in &mixed {
            k.encode_to_vec(&mut bytes).unwrap();
        }
        let ec_start = key.to_der().unwrap().len();
        assert_eq!(bytes[ec_start], 0xA0, "privateECKey [0], constructed");
        bytes.extend([0u8; 16]);
        let entries: Vec<KeyEntry> = objects(&bytes).unwrap();
        assert_eq!(entries, mixed);
        assert_eq!((entries[0].bits(), entries[1].bits()), (2048, 512));
        assert_eq!(back, vec![key.clone(), key]);
        assert!(objects::<RsaKeyObject>(&[0x30, 0x05, 1]).is_err());
        let pins: Vec<PinObject> = objects(&aodf(&KAZTOKEN).unwrap()).unwrap();
        assert_eq!(pins[1].pin.pin_reference, Some(KAZTOKEN.puk.reference));
    }
}
