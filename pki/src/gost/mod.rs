//! GOST signatures: GOST 34.10-2015 (GOST R 34.10-2012) 512-bit with Streebog-512,
//! the national standard the authority signs with, and GOST 34.310-2004 (the
//! CryptoPro-A curve with GOST R 34.11-94) for reading older certificates.
//!
//! Byte conventions, proven on the authority's real files: the hash's bytes are
//! read as a **little-endian** integer; a public key is x ‖ y and a signature r ‖ s,
//! each coordinate little-endian, in an OCTET STRING (key) or the BIT STRING
//! (signature). Signing is constant-time in the key and the nonce (fixed windows,
//! selections through `subtle`); the key and every nonce are [`Scalar`]s, wiped when
//! dropped. Nonces are hedged (RFC 6979 over HMAC-Streebog-512, mixed with fresh
//! randomness): a failing random source cannot give the key away. r = 0 or s = 0
//! are drawn again. The curves, the field and the bare signature equations are
//! [`hazmat`].

mod curve;
mod field;
pub mod hazmat;
mod nonce;
mod scalar;

pub use scalar::Scalar;

use crate::oid;
use crypto_bigint::subtle::ConstantTimeLess;
use crypto_bigint::{Uint, U256, U512};
use der::asn1::{Any, BitString, ObjectIdentifier as Oid, OctetString};
use der::{Decode, Encode};
use hazmat::{curve_256, curve_512, digest_to_e, sign_with, verify_with, Curve, Curve512, Field, Point};
use rand::RngCore;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use thiserror::Error;
use zeroize::Zeroizing;

/// GOST R 34.10-2012 512-bit paramSetA (the authority's `1.2.398.3.10.1.1.2.2.1`).
pub const CURVE_2015_512: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.2.2.1");
/// The hash parameter written beside the 2015 curve: Streebog-512.
pub const HASH_2015_512: Oid = Oid::new_unwrap("1.2.398.3.10.1.3.3");
/// The CryptoPro-A curve as the authority names it for GOST 34.310-2004.
pub const CURVE_2004: Oid = Oid::new_unwrap("1.2.398.3.10.1.1.1.1.1");

/// Why a GOST key or signature was refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum GostError {
    /// The key names a curve or hash this library does not know.
    #[error("unknown GOST parameters {0}")]
    UnknownParameters(String),
    /// The key is malformed: wrong length, coordinates not below p, or not on the curve.
    #[error("malformed GOST public key: {0}")]
    BadKey(&'static str),
    /// The private key is malformed or out of range.
    #[error("malformed GOST private key: {0}")]
    BadPrivateKey(&'static str),
    /// The signature has the wrong length, or r or s is not in 1..q.
    #[error("malformed GOST signature: {0}")]
    BadSignature(&'static str),
    /// Well formed, and does not verify.
    #[error("the GOST signature does not verify")]
    Invalid,
    /// The algorithm is not a GOST signature, or does not match the key.
    #[error("the algorithm {0} is not a GOST signature for this key")]
    WrongAlgorithm(String),
}

/// The two national GOST signature algorithms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// GOST 34.10-2015, 512-bit, Streebog-512.
    Gost2015,
    /// GOST 34.310-2004, 256-bit, GOST R 34.11-94 (verification only).
    Gost2004,
}

impl Algorithm {
    /// The algorithm of a signature OID.
    pub fn of_signature(oid: Oid) -> Option<Self> {
        match oid {
            oid::GOST_2015_512_SIGNATURE => Some(Algorithm::Gost2015),
            oid::GOST_2004_SIGNATURE => Some(Algorithm::Gost2004),
            _ => None,
        }
    }

    /// The algorithm of a public key OID.
    pub fn of_key(oid: Oid) -> Option<Self> {
        match oid {
            oid::GOST_2015_512_KEY => Some(Algorithm::Gost2015),
            oid::GOST_2004_KEY => Some(Algorithm::Gost2004),
            _ => None,
        }
    }
}

fn le_uint<const L: usize>(bytes: &[u8]) -> Uint<L> {
    Uint::from_le_slice(bytes)
}

fn uint_le<const L: usize>(v: &Uint<L>) -> Vec<u8> {
    v.as_words().iter().flat_map(|w| w.to_le_bytes()).collect()
}

/// The curve's size in bytes for `alg`.
fn size(alg: Algorithm) -> usize {
    match alg {
        Algorithm::Gost2015 => 64,
        Algorithm::Gost2004 => 32,
    }
}

/// The curve (and hash) parameters a GOST key names, checked against `alg`.
fn check_parameters(spki_alg: &AlgorithmIdentifierOwned, alg: Algorithm) -> Result<(), GostError> {
    let params = spki_alg.parameters.as_ref().ok_or(GostError::UnknownParameters("no parameters".into()))?;
    let oids: Vec<Oid> = params.decode_as::<Vec<Oid>>().map_err(|e| GostError::UnknownParameters(e.to_string()))?;
    let curve = oids.first().ok_or(GostError::UnknownParameters("no curve".into()))?;
    match (alg, *curve) {
        (Algorithm::Gost2015, CURVE_2015_512) | (Algorithm::Gost2004, CURVE_2004) => Ok(()),
        (_, other) => Err(GostError::UnknownParameters(other.to_string())),
    }
}

/// The public key's coordinates, checked to be a point of the curve.
fn public_point<F: Field<L>, const L: usize>(
    curve: &Curve<F, L>,
    spki: &SubjectPublicKeyInfoOwned,
    alg: Algorithm,
) -> Result<Point<F, L>, GostError> {
    check_parameters(&spki.algorithm, alg)?;
    let bits = spki.subject_public_key.as_bytes().ok_or(GostError::BadKey("unused bits in the key"))?;
    let octets = OctetString::from_der(bits).map_err(|_| GostError::BadKey("not an OCTET STRING"))?;
    let xy = octets.as_bytes();
    let n = size(alg);
    if xy.len() != 2 * n {
        return Err(GostError::BadKey("wrong length"));
    }
    curve.point(&le_uint(&xy[..n]), &le_uint(&xy[n..])).ok_or(GostError::BadKey("not a point of the curve"))
}

fn signature_parts<const L: usize>(sig: &[u8], alg: Algorithm) -> Result<(Uint<L>, Uint<L>), GostError> {
    let n = size(alg);
    if sig.len() != 2 * n {
        return Err(GostError::BadSignature("wrong length"));
    }
    Ok((le_uint(&sig[..n]), le_uint(&sig[n..])))
}

/// Streebog-512 of `message`, as the scheme's integer.
fn hash_2015(message: &[u8]) -> U512 {
    le_uint(&streebog512(message))
}

/// GOST 34.10-2015 512-bit with Streebog-512, with its NULL parameters as the
/// authority writes it: the algorithm of every GOST signature we make.
pub fn signature_algorithm() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: oid::GOST_2015_512_SIGNATURE, parameters: Some(Any::null()) }
}

/// Streebog-512 of `message`, the 64 bytes as the hash outputs them: what a
/// device signing for us (a card) is given to sign.
pub fn streebog512(message: &[u8]) -> [u8; 64] {
    use streebog::Digest;
    streebog::Streebog512::digest(message).into()
}

/// GOST R 34.11-94 (test parameters) of `message`, as the scheme's integer.
fn hash_2004(message: &[u8]) -> U256 {
    use gost94::Digest;
    le_uint(&gost94::Gost94Test::digest(message))
}

/// Verify a GOST signature `sig` (the BIT STRING's bytes) over `message` made by
/// the key `spki`, with the signature algorithm `alg`.
pub fn verify(spki: &SubjectPublicKeyInfoOwned, alg: &AlgorithmIdentifierOwned, message: &[u8], sig: &[u8]) -> Result<(), GostError> {
    let which = Algorithm::of_signature(alg.oid).ok_or_else(|| GostError::WrongAlgorithm(alg.oid.to_string()))?;
    if Algorithm::of_key(spki.algorithm.oid) != Some(which) {
        return Err(GostError::WrongAlgorithm(format!("{} with a {} key", alg.oid, spki.algorithm.oid)));
    }
    match which {
        Algorithm::Gost2015 => {
            let c = curve_512();
            let key = public_point(c, spki, which)?;
            let (r, s) = signature_parts(sig, which)?;
            verify_with(&Curve512, &key, &digest_to_e(&hash_2015(message), &c.q), &r, &s)
        }
        Algorithm::Gost2004 => {
            let c = curve_256();
            let key = public_point(c, spki, which)?;
            let (r, s) = signature_parts(sig, which)?;
            verify_with(c, &key, &digest_to_e(&hash_2004(message), &c.q), &r, &s)
        }
    }
}

/// A GOST 34.10-2015 512-bit private key, wiped when dropped; signs with
/// Streebog-512, also through `signing::Signer` next to RSA.
pub struct GostSigner {
    d: Scalar,
    spki: SubjectPublicKeyInfoOwned,
}

impl std::fmt::Debug for GostSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GostSigner(<private key>)")
    }
}

/// The parameters of a 2015 key as the authority writes them: curve and hash OIDs.
fn key_algorithm_2015() -> Result<AlgorithmIdentifierOwned, der::Error> {
    Ok(AlgorithmIdentifierOwned { oid: oid::GOST_2015_512_KEY, parameters: Some(Any::encode_from(&vec![CURVE_2015_512, HASH_2015_512])?) })
}

/// 64 fresh random bytes, wiped when dropped.
fn random_64() -> Zeroizing<[u8; 64]> {
    let mut bytes = Zeroizing::new([0u8; 64]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    bytes
}

impl GostSigner {
    /// A signer for the private scalar d.
    pub fn from_scalar(d: Scalar) -> Result<Self, GostError> {
        let c = curve_512();
        let (x, y) = c.to_affine(&c.mul_base(d.as_uint())).ok_or(GostError::BadPrivateKey("zero"))?;
        let xy = [uint_le(&x), uint_le(&y)].concat();
        let key = OctetString::new(xy).and_then(|o| o.to_der()).map_err(|_| GostError::BadKey("encoding"))?;
        let spki = SubjectPublicKeyInfoOwned {
            algorithm: key_algorithm_2015().map_err(|_| GostError::BadKey("encoding"))?,
            subject_public_key: BitString::from_bytes(&key).map_err(|_| GostError::BadKey("encoding"))?,
        };
        Ok(GostSigner { d, spki })
    }

    /// A fresh key pair.
    pub fn generate() -> Self {
        loop {
            if let Some(Ok(s)) = Scalar::from_le_bytes(&random_64()).map(Self::from_scalar) {
                return s;
            }
        }
    }

    /// A signer from a PKCS#8 `PrivateKeyInfo` as the authority writes it: the
    /// privateKey OCTET STRING holds an OCTET STRING of d, 64 bytes little-endian.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, GostError> {
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| GostError::BadPrivateKey("not PKCS#8"))?;
        if info.algorithm.oid != oid::GOST_2015_512_KEY {
            return Err(GostError::WrongAlgorithm(info.algorithm.oid.to_string()));
        }
        let params = info.algorithm.parameters.ok_or(GostError::UnknownParameters("no parameters".into()))?;
        let oids: Vec<Oid> = params.decode_as().map_err(|e| GostError::UnknownParameters(e.to_string()))?;
        if oids.first() != Some(&CURVE_2015_512) {
            return Err(GostError::UnknownParameters(format!("{oids:?}")));
        }
        let inner = der::asn1::OctetStringRef::from_der(info.private_key).map_err(|_| GostError::BadPrivateKey("not an OCTET STRING"))?;
        let bytes: &[u8; 64] = inner.as_bytes().try_into().map_err(|_| GostError::BadPrivateKey("not 64 bytes"))?;
        let d = Scalar::from_le_bytes(bytes).ok_or(GostError::BadPrivateKey("the scalar is not between 1 and q − 1"))?;
        Self::from_scalar(d)
    }

    /// The private key as PKCS#8 (the authority's layout), wiped when dropped.
    pub fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, der::Error> {
        // OCTET STRING (64 bytes): 04 40, then d little-endian, all in wiped memory.
        let mut inner = Zeroizing::new(vec![0x04, 0x40]);
        inner.extend_from_slice(self.d.to_le_bytes().as_ref());
        let algorithm = key_algorithm_2015()?.to_der()?;
        let info = pkcs8::PrivateKeyInfo {
            algorithm: pkcs8::AlgorithmIdentifierRef::from_der(&algorithm)?,
            private_key: &inner,
            public_key: None,
        };
        Ok(Zeroizing::new(info.to_der()?))
    }

    /// The signature algorithm identifier: GOST 34.10-2015 512-bit with Streebog-512.
    pub fn algorithm(&self) -> AlgorithmIdentifierOwned {
        signature_algorithm()
    }

    /// The public key.
    pub fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    /// Sign `message`: (r, s) little-endian, r first.
    pub fn sign_message(&self, message: &[u8]) -> Vec<u8> {
        self.sign_hash(&streebog512(message))
    }

    /// Sign a Streebog-512 hash computed elsewhere (the bytes as [`streebog512`]
    /// gives them): (r, s) little-endian, r first. What a card does. The nonce is
    /// hedged: derived from the key and e with fresh randomness mixed in.
    pub fn sign_hash(&self, hash: &[u8; 64]) -> Vec<u8> {
        let c = curve_512();
        let e = digest_to_e(&le_uint::<8>(hash), &c.q);
        loop {
            let Some(k) = nonce::hedged(&self.d, &e, &random_64()) else { continue };
            if let Some((r, s)) = sign_with(c, self.d.as_uint(), &e, k.as_uint()) {
                return [uint_le(&r), uint_le(&s)].concat();
            }
        }
    }
}

/// Whether the GOST private key `pkcs8` (2015: OCTET STRING of d little-endian;
/// 2004: INTEGER d) is the key of the certified public key `spki`: checked by
/// deriving d·G.
pub fn key_matches(pkcs8: &[u8], spki: &SubjectPublicKeyInfoOwned) -> Result<bool, GostError> {
    let info = pkcs8::PrivateKeyInfo::try_from(pkcs8).map_err(|_| GostError::BadPrivateKey("not PKCS#8"))?;
    let which = Algorithm::of_key(info.algorithm.oid).ok_or_else(|| GostError::WrongAlgorithm(info.algorithm.oid.to_string()))?;
    if Algorithm::of_key(spki.algorithm.oid) != Some(which) {
        return Ok(false);
    }
    match which {
        Algorithm::Gost2015 => {
            let signer = GostSigner::from_pkcs8(pkcs8)?;
            let c = curve_512();
            let mine = public_point(c, signer.public_key(), which)?;
            Ok(c.to_affine(&mine) == c.to_affine(&public_point(c, spki, which)?))
        }
        Algorithm::Gost2004 => {
            let c = curve_256();
            let d = der::asn1::UintRef::from_der(info.private_key).map_err(|_| GostError::BadPrivateKey("not an INTEGER"))?;
            let bytes = d.as_bytes();
            if bytes.len() > 32 {
                return Err(GostError::BadPrivateKey("longer than 32 bytes"));
            }
            let mut padded = Zeroizing::new([0u8; 32]);
            padded[32 - bytes.len()..].copy_from_slice(bytes);
            let d = Zeroizing::new(U256::from_be_slice(padded.as_ref()));
            if *d == U256::ZERO || !bool::from(d.ct_lt(&c.q)) {
                return Err(GostError::BadPrivateKey("the scalar is not between 1 and q − 1"));
            }
            let mine = c.mul_base(&d);
            Ok(c.to_affine(&mine) == c.to_affine(&public_point(c, spki, which)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::hazmat::Group;
    use super::*;
    use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
    use x509_cert::crl::CertificateList;
    use x509_cert::Certificate;

    fn file(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/nca-test").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn certificate(name: &str) -> Certificate {
        let bytes = file(name);
        der::DecodePem::from_pem(&bytes).or_else(|_| Certificate::from_der(&bytes)).unwrap()
    }

    fn check(tbs: &[u8], alg: &AlgorithmIdentifierOwned, sig: &[u8], issuer: &Certificate) -> Result<(), GostError> {
        verify(&issuer.tbs_certificate.subject_public_key_info, alg, tbs, sig)
    }

    /// Each real signature verifies, and with any one bit of it or of the signed
    /// bytes flipped, it does not.
    fn verifies_and_flips_fail(tbs: Vec<u8>, alg: &AlgorithmIdentifierOwned, sig: &[u8], issuer: &Certificate, what: &str) {
        check(&tbs, alg, sig, issuer).unwrap_or_else(|e| panic!("{what}: {e}"));
        for i in [0, sig.len() / 3, sig.len() - 1] {
            let mut bad = sig.to_vec();
            bad[i] ^= 0x01;
            assert!(check(&tbs, alg, &bad, issuer).is_err(), "{what}: signature bit {i}");
        }
        let mut bad = tbs.clone();
        let n = bad.len();
        bad[n / 2] ^= 0x80;
        assert_eq!(check(&bad, alg, sig, issuer), Err(GostError::Invalid), "{what}: signed bytes");
    }

    fn cert_parts(c: &Certificate) -> (Vec<u8>, AlgorithmIdentifierOwned, Vec<u8>) {
        (c.tbs_certificate.to_der().unwrap(), c.signature_algorithm.clone(), c.signature.raw_bytes().to_vec())
    }

    #[test]
    fn the_authoritys_gost_signatures_verify() {
        let ca2022 = certificate("nca_gost2022_test.der");
        let crl = CertificateList::from_der(&file("nca_gost2022_test.crl")).unwrap();
        verifies_and_flips_fail(
            crl.tbs_cert_list.to_der().unwrap(),
            &crl.signature_algorithm,
            crl.signature.raw_bytes(),
            &ca2022,
            "2022 CRL",
        );
        let (tbs, alg, sig) = cert_parts(&certificate("gost2015_sign_individual.cer"));
        verifies_and_flips_fail(tbs, &alg, &sig, &ca2022, "2015 individual");
        let ca2004 = certificate("nca_gost_test.pem");
        for name in ["ceo_sign_gost2004.pem", "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.cer"] {
            let (tbs, alg, sig) = cert_parts(&certificate(name));
            verifies_and_flips_fail(tbs, &alg, &sig, &ca2004, name);
        }
        // A 2004 signature is not checked with a 2015 key.
        let (tbs, alg, sig) = cert_parts(&certificate("ceo_sign_gost2004.pem"));
        assert!(matches!(check(&tbs, &alg, &sig, &ca2022), Err(GostError::WrongAlgorithm(_))));
    }

    #[test]
    fn the_real_2015_key_signs_what_its_certificate_verifies() {
        let store = crate::pkcs12::read(&file("gost2015_sign_individual.p12"), "Qwerty12").unwrap();
        let signer = GostSigner::from_pkcs8(&store.key_pkcs8).unwrap();
        assert_eq!(signer.public_key(), &store.certificate.tbs_certificate.subject_public_key_info, "the key derives the certified point");
        let a = signer.sign_message(b"asdasd");
        let b = signer.sign_message(b"asdasd");
        assert_ne!(a, b, "a fresh nonce for each signature");
        for sig in [&a, &b] {
            verify(signer.public_key(), &signer.algorithm(), b"asdasd", sig).unwrap();
        }
        assert_eq!(verify(signer.public_key(), &signer.algorithm(), b"asdasD", &a), Err(GostError::Invalid));
        assert_eq!(key_matches(&store.key_pkcs8, &store.certificate.tbs_certificate.subject_public_key_info), Ok(true));
        // The 2004 key (INTEGER d) is its certificate's too, and not another's.
        let old = crate::pkcs12::read(&file("GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.p12"), "Qwerty12").unwrap();
        assert_eq!(key_matches(&old.key_pkcs8, &old.certificate.tbs_certificate.subject_public_key_info), Ok(true));
        let other = certificate("ceo_sign_gost2004.pem");
        assert_eq!(key_matches(&old.key_pkcs8, &other.tbs_certificate.subject_public_key_info), Ok(false));
        // Written back as PKCS#8 the authority's way, it reads the same.
        let again = GostSigner::from_pkcs8(&signer.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.public_key(), signer.public_key());
    }

    #[test]
    fn malformed_keys_and_signatures_are_typed_errors() {
        let signer = GostSigner::generate();
        let alg = signer.algorithm();
        let sig = signer.sign_message(b"m");
        let spki = signer.public_key().clone();
        assert_eq!(verify(&spki, &alg, b"m", &sig[..127]), Err(GostError::BadSignature("wrong length")));
        let q = uint_le(&curve_512().q);
        let zero = [vec![0u8; 64], sig[64..].to_vec()].concat();
        let big = [q.clone(), sig[64..].to_vec()].concat();
        for bad in [zero, big] {
            assert!(matches!(verify(&spki, &alg, b"m", &bad), Err(GostError::BadSignature(_))));
        }
        // A point off the curve: y + 1.
        let xy = OctetString::from_der(spki.subject_public_key.raw_bytes()).unwrap().as_bytes().to_vec();
        let mut off = xy.clone();
        off[64] ^= 0x01;
        let with_key = |xy: &[u8]| SubjectPublicKeyInfoOwned {
            algorithm: spki.algorithm.clone(),
            subject_public_key: BitString::from_bytes(&OctetString::new(xy.to_vec()).unwrap().to_der().unwrap()).unwrap(),
        };
        assert_eq!(verify(&with_key(&off), &alg, b"m", &sig), Err(GostError::BadKey("not a point of the curve")));
        assert_eq!(verify(&with_key(&xy[..100]), &alg, b"m", &sig), Err(GostError::BadKey("wrong length")));
        // Unknown curve parameters.
        let mut other = spki.clone();
        other.algorithm.parameters = Some(Any::encode_from(&vec![CURVE_2004, HASH_2015_512]).unwrap());
        assert!(matches!(verify(&other, &alg, b"m", &sig), Err(GostError::UnknownParameters(_))));
        // Out-of-range and truncated private keys.
        assert!(Scalar::from_le_bytes(&[0; 64]).is_none());
        assert!(Scalar::from_le_bytes(&uint_le(&curve_512().q).try_into().unwrap()).is_none());
        let pkcs8 = signer.to_pkcs8().unwrap();
        assert!(GostSigner::from_pkcs8(&pkcs8[..pkcs8.len() - 1]).is_err());
    }

    /// Schoolbook affine arithmetic on any curve y² = x³ + ax + b (variable time;
    /// only for the standard's example, whose curve has a = 7).
    struct Affine {
        p: crypto_bigint::modular::runtime_mod::DynResidueParams<8>,
        a: U512,
        q: U512,
        g: (U512, U512),
    }

    impl Affine {
        fn fe(&self, v: &U512) -> DynResidue<8> {
            DynResidue::new(v, self.p)
        }
        fn add(&self, s: Option<(U512, U512)>, t: Option<(U512, U512)>) -> Option<(U512, U512)> {
            let ((x1, y1), (x2, y2)) = match (s, t) {
                (None, t) => return t,
                (s, None) => return s,
                (Some(s), Some(t)) => (s, t),
            };
            let (fx1, fy1, fx2, fy2) = (self.fe(&x1), self.fe(&y1), self.fe(&x2), self.fe(&y2));
            let l = if x1 == x2 {
                if (fy1 + fy2).retrieve() == U512::ZERO {
                    return None;
                }
                let three = self.fe(&U512::from_u64(3));
                (three * fx1.square() + self.fe(&self.a)) * (fy1 + fy1).invert().0
            } else {
                (fy2 - fy1) * (fx2 - fx1).invert().0
            };
            let x3 = l.square() - fx1 - fx2;
            let y3 = l * (fx1 - x3) - fy1;
            Some((x3.retrieve(), y3.retrieve()))
        }
        fn mul(&self, k: &U512, pt: (U512, U512)) -> Option<(U512, U512)> {
            let mut acc = None;
            for i in (0..512).rev() {
                acc = self.add(acc, acc);
                if bool::from(k.bit(i)) {
                    acc = self.add(acc, Some(pt));
                }
            }
            acc
        }
    }

    impl Group<8> for Affine {
        type Element = (U512, U512);
        fn order(&self) -> &U512 {
            &self.q
        }
        fn scalars(&self) -> DynResidueParams<8> {
            DynResidueParams::new(&self.q)
        }
        fn base_x(&self, k: &U512) -> Option<U512> {
            self.mul(k, self.g).map(|(x, _)| x)
        }
        fn combined_x(&self, u: &U512, v: &U512, q: &(U512, U512)) -> Option<U512> {
            self.add(self.mul(u, self.g), self.mul(v, *q)).map(|(x, _)| x)
        }
    }

    /// GOST R 34.10-2012, Appendix A.2: the 512-bit example (its own curve, a = 7):
    /// the public key from d, the signature from d, e and k, and its verification.
    #[test]
    fn the_standards_512_bit_example() {
        let h = U512::from_be_hex;
        let curve = Affine {
            p: crypto_bigint::modular::runtime_mod::DynResidueParams::new(&h("4531acd1fe0023c7550d267b6b2fee80922b14b2ffb90f04d4eb7c09b5d2d15df1d852741af4704a0458047e80e4546d35b8336fac224dd81664bbf528be6373")),
            a: U512::from_u64(7),
            q: h("4531acd1fe0023c7550d267b6b2fee80922b14b2ffb90f04d4eb7c09b5d2d15da82f2d7ecb1dbac719905c5eecc423f1d86e25edbe23c595d644aaf187e6e6df"),
            g: (
                h("24d19cc64572ee30f396bf6ebbfd7a6c5213b3b3d7057cc825f91093a68cd762fd60611262cd838dc6b60aa7eee804e28bc849977fac33b4b530f1b120248a9a"),
                h("2bb312a43bd2ce6e0d020613c857acddcfbf061e91e5f2c3f32447c259f39b2c83ab156d77f1496bf7eb3351e1ee4e43dc1a18b91b24640b6dbb92cb1add371e"),
            ),
        };
        let d = h("0ba6048aadae241ba40936d47756d7c93091a0e8514669700ee7508e508b102072e8123b2200a0563322dad2827e2714a2636b7bfd18aadfc62967821fa18dd4");
        let alpha = h("3754f3cfacc9e0615c4f4a7c4d8dab531b09b6f9c170c533a71d147035b0c5917184ee536593f4414339976c647c5d5a407adedb1d560c4fc6777d2972075b8c");
        let k = h("0359e7f4b1410feacc570456c6801496946312120b39d019d455986e364f365886748ed7a44b3e794434006011842286212273a6d14cf70ea3af71bb1ae679f1");
        let r = h("2f86fa60a081091a23dd795e1e3c689ee512a3c82ee0dcc2643c78eea8fcacd35492558486b20f1c9ec197c90699850260c93bcbcd9c5c3317e19344e173ae36");
        let s = h("1081b394696ffe8e6585e7a9362d26b6325f56778aadbc081c0bfbe933d52ff5823ce288e8c4f362526080df7f70ce406a6eeb1f56919cb92a9853bde73e5b4a");
        let public = (
            h("115dc5bc96760c7b48598d8ab9e740d4c4a85a65be33c1815b5c320c854621dd5a515856d13314af69bc5b924c8b4ddff75c45415c1d9dd9dd33612cd530efe1"),
            h("37c7c90cd40b0f5621dc3ac1b751cfa0e2634fa0503b3d52639f5d7fb72afd61ea199441d943ffe7f0c70a2759a3cdb84c114e1f9339fdf27f35eca93677beec"),
        );
        assert_eq!(curve.mul(&d, curve.g), Some(public), "Q = d·G");
        // This curve's q is far below 2^512, so α is reduced fully here, not by
        // the one subtraction that suffices for the national curves.
        let e = DynResidue::new(&alpha, crypto_bigint::modular::runtime_mod::DynResidueParams::new(&curve.q)).retrieve();
        assert_eq!(sign_with(&curve, &d, &e, &k), Some((r, s)));
        verify_with(&curve, &public, &e, &r, &s).unwrap();
        assert_eq!(verify_with(&curve, &public, &e, &s, &r), Err(GostError::Invalid));
    }
}
