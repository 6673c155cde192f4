//! Prime field elements, as the curve arithmetic sees them: the [`Field`] trait,
//! implemented by `crypto-bigint`'s constant-time Montgomery residues (any prime,
//! the prime as a type) and by [`Fp512`], arithmetic modulo the pseudo-Mersenne
//! prime p = 2^512 − 569 of GOST R 34.10-2012 paramSetA (the curve the authority
//! signs with).
//!
//! For that prime 2^512 ≡ 569 (mod p), so a 1024-bit product hi·2^512 + lo
//! reduces to lo + 569·hi and, once more, to below 2^512: a few single-word
//! multiplications instead of a Montgomery reduction's 64. Every operation on
//! [`Fp512`] runs the same instructions whatever the values (carries are
//! arithmetic, selections go through `subtle`, whose `Choice` the optimiser cannot
//! see through), so it may carry secrets. It has no `Debug`: it may be one.

// Limb loops index several arrays at once by the same position (and by i + j):
// written as the schoolbook arithmetic they are.
#![allow(clippy::needless_range_loop)]

use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};
use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::{Encoding, Uint};
use std::ops::{Add, Mul, Neg, Sub};

/// An element of a prime field: what the curve formulas compute with.
pub trait Field<const L: usize>:
    Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Neg<Output = Self> + ConditionallySelectable + ConstantTimeEq
{
    /// The prime.
    const MODULUS: Uint<L>;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The element `v`, which must be below [`Field::MODULUS`].
    fn new(v: &Uint<L>) -> Self;
    /// The element as an integer below the prime.
    fn retrieve(&self) -> Uint<L>;
    /// self².
    fn square(&self) -> Self;
    /// 1/self, and whether self was invertible (not zero).
    fn invert(&self) -> (Self, Choice);
    /// Whether self is zero, in variable time (for public values only).
    fn is_zero_vartime(&self) -> bool {
        self.retrieve() == Uint::ZERO
    }
}

impl<M: ResidueParams<L>, const L: usize> Field<L> for Residue<M, L> {
    const MODULUS: Uint<L> = M::MODULUS;
    const ZERO: Self = Residue::ZERO;
    const ONE: Self = Residue::ONE;

    fn new(v: &Uint<L>) -> Self {
        Residue::new(v)
    }

    fn retrieve(&self) -> Uint<L> {
        Residue::retrieve(self)
    }

    fn square(&self) -> Self {
        Residue::square(self)
    }

    fn invert(&self) -> (Self, Choice) {
        let (inv, ok) = Residue::invert(self);
        (inv, Choice::from(ok))
    }
}

/// 2^512 mod p for p = 2^512 − 569.
const C: u64 = 569;
/// Limbs of a 512-bit value.
const N: usize = 8;

/// An element of GF(2^512 − 569), fully reduced, as eight little-endian 64-bit words.
#[derive(Clone, Copy)]
pub struct Fp512([u64; N]);

/// The choice of a carry or borrow bit (0 or 1).
fn choice_of(bit: u64) -> Choice {
    Choice::from((bit & 1) as u8)
}

/// a + c·small for a single word `small` (c < 2^64), with the carry word.
fn add_small(a: &[u64; N], small: u128) -> ([u64; N], u64) {
    let mut out = [0u64; N];
    let mut carry = small;
    for i in 0..N {
        let v = u128::from(a[i]) + carry;
        out[i] = v as u64;
        carry = v >> 64;
    }
    (out, carry as u64)
}

/// `a` when `choice` is 0, `b` when it is 1: one mask made from the choice by
/// `subtle` (which keeps the optimiser from seeing the bit), applied to every word.
fn select(a: &[u64; N], b: &[u64; N], choice: Choice) -> [u64; N] {
    let mask = u64::conditional_select(&0, &u64::MAX, choice);
    let mut out = [0u64; N];
    for i in 0..N {
        out[i] = a[i] ^ (mask & (a[i] ^ b[i]));
    }
    out
}

impl Fp512 {
    /// t + carry·2^512 reduced below p, for carry < 2^54 or so (what the
    /// products and sums here leave).
    fn reduce_carry(t: &[u64; N], carry: u64) -> [u64; N] {
        // 2^512 ≡ C: fold the carry in; at most one more 2^512 can come out.
        let (t, c1) = add_small(t, u128::from(carry) * u128::from(C));
        // If it did, t is now small and adding C cannot carry again.
        let (t, _) = add_small(&t, u128::from(c1) * u128::from(C));
        // Below 2^512; subtract p once if t ≥ p, i.e. if t + C reaches 2^512.
        let (u, c2) = add_small(&t, u128::from(C));
        select(&t, &u, choice_of(c2))
    }

    /// The 1024-bit product of two 512-bit values, as (low, high) halves.
    fn mul_wide(a: &[u64; N], b: &[u64; N]) -> ([u64; N], [u64; N]) {
        let mut r = [0u64; 2 * N];
        for i in 0..N {
            let mut carry = 0u128;
            for j in 0..N {
                let v = u128::from(r[i + j]) + u128::from(a[i]) * u128::from(b[j]) + carry;
                r[i + j] = v as u64;
                carry = v >> 64;
            }
            r[i + N] = carry as u64;
        }
        let mut lo = [0u64; N];
        let mut hi = [0u64; N];
        lo.copy_from_slice(&r[..N]);
        hi.copy_from_slice(&r[N..]);
        (lo, hi)
    }

    /// a + factor·b reduced below p, for a single-word factor no larger than C:
    /// a sum (factor 1), or a product's halves lo + C·hi (as lo + hi·2^512 ≡).
    fn reduce_sum(a: &[u64; N], b: &[u64; N], factor: u64) -> [u64; N] {
        let mut t = [0u64; N];
        let mut carry = 0u128;
        for i in 0..N {
            let v = u128::from(a[i]) + u128::from(b[i]) * u128::from(factor) + carry;
            t[i] = v as u64;
            carry = v >> 64;
        }
        Self::reduce_carry(&t, carry as u64)
    }

    /// self^(2^n) by n squarings.
    fn square_n(&self, n: usize) -> Self {
        let mut x = *self;
        for _ in 0..n {
            x = x.square();
        }
        x
    }
}

impl Add for Fp512 {
    type Output = Fp512;
    fn add(self, rhs: Fp512) -> Fp512 {
        Fp512(Self::reduce_sum(&self.0, &rhs.0, 1))
    }
}

// A limb's borrow is the OR of its two subtractions' borrows, not a slip for `-`.
#[allow(clippy::suspicious_arithmetic_impl)]
impl Sub for Fp512 {
    type Output = Fp512;
    fn sub(self, rhs: Fp512) -> Fp512 {
        let mut t = [0u64; N];
        let mut borrow = 0u64;
        for i in 0..N {
            let (d, b1) = self.0[i].overflowing_sub(rhs.0[i]);
            let (d, b2) = d.overflowing_sub(borrow);
            t[i] = d;
            borrow = u64::from(b1 | b2);
        }
        // On a borrow t = a − b + 2^512; a − b + p is that minus C (no new borrow:
        // t ≥ 2^512 − p + 1 > C).
        let m = u64::conditional_select(&0, &C, choice_of(borrow));
        let mut out = [0u64; N];
        let mut b = m;
        for i in 0..N {
            let (d, b1) = t[i].overflowing_sub(b);
            out[i] = d;
            b = u64::from(b1);
        }
        Fp512(out)
    }
}

impl Neg for Fp512 {
    type Output = Fp512;
    fn neg(self) -> Fp512 {
        Fp512::ZERO - self
    }
}

impl Mul for Fp512 {
    type Output = Fp512;
    fn mul(self, rhs: Fp512) -> Fp512 {
        let (lo, hi) = Self::mul_wide(&self.0, &rhs.0);
        Fp512(Self::reduce_sum(&lo, &hi, C))
    }
}

impl ConditionallySelectable for Fp512 {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Fp512(select(&a.0, &b.0, choice))
    }
}

impl ConstantTimeEq for Fp512 {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.0[..].ct_eq(&other.0[..])
    }
}

impl Field<8> for Fp512 {
    const MODULUS: Uint<8> = Uint::from_be_hex(
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdc7",
    );
    const ZERO: Self = Fp512([0; N]);
    const ONE: Self = Fp512([1, 0, 0, 0, 0, 0, 0, 0]);

    fn new(v: &Uint<8>) -> Self {
        let mut words = [0u64; N];
        let bytes = v.to_le_bytes();
        for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
            let mut b = [0u8; 8];
            b.copy_from_slice(chunk);
            *w = u64::from_le_bytes(b);
        }
        // Callers give values below p; reduce anyway so the invariant always holds.
        Fp512(Self::reduce_carry(&words, 0))
    }

    fn retrieve(&self) -> Uint<8> {
        let mut bytes = [0u8; 8 * N];
        for (chunk, w) in bytes.chunks_exact_mut(8).zip(&self.0) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        Uint::from_le_slice(&bytes)
    }

    fn square(&self) -> Self {
        *self * *self
    }

    /// Fermat: self^(p−2), p − 2 = 2^512 − 571, along a fixed chain (no branch
    /// on the value): x^(2^k − 1) for growing k, then the low nine bits of
    /// −571 mod 2^512 (…1 1100 0101).
    fn invert(&self) -> (Self, Choice) {
        let x = *self;
        let x2 = x.square() * x; // 2^2 − 1
        let x3 = x2.square() * x; // 2^3 − 1
        let x6 = x3.square_n(3) * x3;
        let x12 = x6.square_n(6) * x6;
        let x24 = x12.square_n(12) * x12;
        let x48 = x24.square_n(24) * x24;
        let x96 = x48.square_n(48) * x48;
        let x192 = x96.square_n(96) * x96;
        let x384 = x192.square_n(192) * x192;
        let x480 = x384.square_n(96) * x96;
        let x501 = x480.square_n(21) * x12.square_n(9) * x6.square_n(3) * x3;
        // p − 2 = (2^501 − 1)·2^11 + (2^11 − 571): 2^11 − 571 = 1477 = 101 1100 0101.
        let low = 1477u64;
        let mut acc = x501;
        for bit in (0..11).rev() {
            acc = acc.square();
            let with = acc * x;
            acc = Fp512::conditional_select(&acc, &with, Choice::from(((low >> bit) & 1) as u8));
        }
        (acc, !self.ct_eq(&Fp512::ZERO))
    }

    fn is_zero_vartime(&self) -> bool {
        self.0 == [0; N]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gost::hazmat::primes::P512;
    use crypto_bigint::U512;
    use rand::RngCore;

    fn random_below_p() -> U512 {
        loop {
            let mut b = [0u8; 64];
            rand::rngs::OsRng.fill_bytes(&mut b);
            let v = U512::from_le_bytes(b);
            if v < Fp512::MODULUS {
                return v;
            }
        }
    }

    /// Values at the edges: 0, 1, 2, p − 1, p − 2, just below 2^512 − 569, powers of two.
    fn edges() -> Vec<U512> {
        let p = Fp512::MODULUS;
        let mut v = vec![U512::ZERO, U512::ONE, U512::from_u64(2), p.wrapping_sub(&U512::ONE), p.wrapping_sub(&U512::from_u64(2))];
        v.extend([0usize, 63, 64, 255, 256, 510, 511].map(|k| U512::ONE.shl_vartime(k)));
        v.push(U512::from_u64(C));
        v.push(U512::MAX.shr_vartime(1));
        v
    }

    #[test]
    fn agrees_with_montgomery_arithmetic_modulo_the_same_prime() {
        assert_eq!(Fp512::MODULUS, P512::MODULUS);
        let mut values = edges();
        values.extend((0..300).map(|_| random_below_p()));
        let m = |v: &U512| Residue::<P512, 8>::new(v);
        for (i, a) in values.iter().enumerate() {
            let fa = Fp512::new(a);
            assert_eq!(fa.retrieve(), *a, "round trip");
            assert_eq!((-fa).retrieve(), (-m(a)).retrieve(), "−a");
            assert_eq!(fa.square().retrieve(), m(a).square().retrieve(), "a²");
            let (inv, ok) = fa.invert();
            assert_eq!(bool::from(ok), *a != U512::ZERO);
            if *a != U512::ZERO {
                assert_eq!((inv * fa).retrieve(), U512::ONE, "a · 1/a for {a}");
            }
            // Against the next few values (edges against edges, randoms against their neighbours).
            for b in values.iter().skip(i).take(12) {
                let fb = Fp512::new(b);
                assert_eq!((fa + fb).retrieve(), (m(a) + m(b)).retrieve(), "{a} + {b}");
                assert_eq!((fa - fb).retrieve(), (m(a) - m(b)).retrieve(), "{a} − {b}");
                assert_eq!((fb - fa).retrieve(), (m(b) - m(a)).retrieve(), "{b} − {a}");
                assert_eq!((fa * fb).retrieve(), (m(a) * m(b)).retrieve(), "{a} · {b}");
                assert_eq!(bool::from(fa.ct_eq(&fb)), a == b);
                let picked = Fp512::conditional_select(&fa, &fb, Choice::from(1));
                assert_eq!(picked.retrieve(), *b);
            }
        }
    }
}
