//! A secret scalar of the 512-bit curve: a private key d or a nonce k.

use super::hazmat::curve_512;
use crypto_bigint::subtle::{Choice, ConstantTimeEq, ConstantTimeLess};
use crypto_bigint::{Encoding, U512};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// An integer 1 ≤ v < q of GOST 34.10-2015 paramSetA (512 bits): a private key or
/// a nonce. Wiped when dropped, never printed (no `Debug`), compared in constant
/// time. Only checked values are ever made, so a signer cannot hold 0 or a value ≥ q.
#[derive(Clone)]
pub struct Scalar(U512);

impl Scalar {
    /// The scalar of 64 little-endian bytes (the national layout of a private key),
    /// when it is between 1 and q − 1. The check runs in constant time; only its
    /// outcome is revealed.
    pub fn from_le_bytes(bytes: &[u8; 64]) -> Option<Self> {
        Self::from_uint(Zeroizing::new(U512::from_le_slice(bytes)))
    }

    /// The scalar of 64 big-endian bytes, when it is between 1 and q − 1.
    pub(crate) fn from_be_bytes(bytes: &[u8; 64]) -> Option<Self> {
        Self::from_uint(Zeroizing::new(U512::from_be_slice(bytes)))
    }

    fn from_uint(v: Zeroizing<U512>) -> Option<Self> {
        let ok: Choice = !v.ct_eq(&U512::ZERO) & v.ct_lt(&curve_512().q);
        bool::from(ok).then(|| Scalar(*v))
    }

    /// The value, for the arithmetic.
    pub(crate) fn as_uint(&self) -> &U512 {
        &self.0
    }

    /// 64 little-endian bytes, wiped when dropped.
    pub fn to_le_bytes(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.0.to_le_bytes())
    }

    /// 64 big-endian bytes, wiped when dropped (RFC 6979's int2octets).
    pub(crate) fn to_be_bytes(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.0.to_be_bytes())
    }
}

impl ConstantTimeEq for Scalar {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Scalar {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl ZeroizeOnDrop for Scalar {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_values_between_one_and_q_minus_one_are_scalars() {
        let q = curve_512().q;
        assert!(Scalar::from_le_bytes(&[0; 64]).is_none());
        assert!(Scalar::from_le_bytes(&q.to_le_bytes()).is_none());
        assert!(Scalar::from_le_bytes(&[0xff; 64]).is_none());
        let q_minus_one = q.wrapping_sub(&U512::ONE).to_le_bytes();
        assert_eq!(Scalar::from_le_bytes(&q_minus_one).map(|s| *s.to_le_bytes()), Some(q_minus_one));
        let mut one = [0u8; 64];
        one[0] = 1;
        let s = Scalar::from_le_bytes(&one).unwrap();
        assert_eq!(s.as_uint(), &U512::ONE);
        assert!(bool::from(s.ct_eq(&Scalar::from_be_bytes(&s.to_be_bytes()).unwrap())));
    }

    #[test]
    fn a_scalar_is_wiped() {
        let mut s = Scalar::from_le_bytes(&[7; 64]).unwrap();
        s.zeroize();
        assert_eq!(s.as_uint(), &U512::ZERO);
    }
}
