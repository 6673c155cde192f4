//! Short Weierstrass curves y² = x³ − 3x + b over a prime field, in projective
//! coordinates with the complete addition and doubling formulas of Renes, Costello
//! and Batina ("Complete addition formulas for prime order elliptic curves", 2016,
//! algorithms 4 and 6 for a = −3): no special cases, so no branch depends on a
//! secret. Field arithmetic is `crypto-bigint`'s constant-time Montgomery form.
//! Both national curves (GOST R 34.10-2012 512-bit paramSetA and CryptoPro-A)
//! have a = −3 and cofactor 1.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq, ConstantTimeLess};
use crypto_bigint::Uint;

/// A curve's defining numbers (a = −3 for all of them).
pub struct Params<const L: usize> {
    /// The field prime.
    pub p: Uint<L>,
    /// The constant b.
    pub b: Uint<L>,
    /// The prime order of the base point (cofactor 1).
    pub q: Uint<L>,
    /// The base point.
    pub gx: Uint<L>,
    /// The base point.
    pub gy: Uint<L>,
}

/// A curve ready to compute on.
pub struct Curve<const L: usize> {
    fp: DynResidueParams<L>,
    b: DynResidue<L>,
    /// The group order.
    pub q: Uint<L>,
    /// Montgomery parameters modulo q, for the signature's scalar arithmetic.
    pub fq: DynResidueParams<L>,
    g: Point<L>,
    p: Uint<L>,
}

/// A point in projective coordinates (X : Y : Z); the identity is (0 : 1 : 0).
#[derive(Clone, Copy, Debug)]
pub struct Point<const L: usize> {
    x: DynResidue<L>,
    y: DynResidue<L>,
    z: DynResidue<L>,
}

impl<const L: usize> ConditionallySelectable for Point<L> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Point {
            x: DynResidue::conditional_select(&a.x, &b.x, choice),
            y: DynResidue::conditional_select(&a.y, &b.y, choice),
            z: DynResidue::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl<const L: usize> Curve<L> {
    /// The curve of `params`.
    pub fn new(params: &Params<L>) -> Self {
        let fp = DynResidueParams::new(&params.p);
        let g = Point { x: DynResidue::new(&params.gx, fp), y: DynResidue::new(&params.gy, fp), z: DynResidue::one(fp) };
        Curve { fp, b: DynResidue::new(&params.b, fp), q: params.q, fq: DynResidueParams::new(&params.q), g, p: params.p }
    }

    /// The base point.
    pub fn generator(&self) -> Point<L> {
        self.g
    }

    /// The point at infinity.
    pub fn identity(&self) -> Point<L> {
        Point { x: DynResidue::zero(self.fp), y: DynResidue::one(self.fp), z: DynResidue::zero(self.fp) }
    }

    /// The affine point (x, y), if both are below p and it lies on the curve.
    pub fn point(&self, x: &Uint<L>, y: &Uint<L>) -> Option<Point<L>> {
        if !bool::from(x.ct_lt(&self.p)) || !bool::from(y.ct_lt(&self.p)) {
            return None;
        }
        let (x, y) = (DynResidue::new(x, self.fp), DynResidue::new(y, self.fp));
        let three_x = x + x + x;
        let rhs = x.square() * x - three_x + self.b;
        bool::from(y.square().retrieve().ct_eq(&rhs.retrieve())).then_some(Point { x, y, z: DynResidue::one(self.fp) })
    }

    /// P + Q, complete (RCB16 algorithm 4, a = −3).
    pub fn add(&self, p: &Point<L>, q: &Point<L>) -> Point<L> {
        let b = self.b;
        let xx = p.x * q.x;
        let yy = p.y * q.y;
        let zz = p.z * q.z;
        let xy = (p.x + p.y) * (q.x + q.y) - (xx + yy);
        let yz = (p.y + p.z) * (q.y + q.z) - (yy + zz);
        let xz = (p.x + p.z) * (q.x + q.z) - (xx + zz);
        let t = xz - b * zz;
        let t3 = t + t + t;
        let minus = yy - t3;
        let plus = yy + t3;
        let zz3 = zz + zz + zz;
        let u = b * xz - (zz3 + xx);
        let u3 = u + u + u;
        let w = xx + xx + xx - zz3;
        Point { x: plus * xy - yz * u3, y: plus * minus + w * u3, z: minus * yz + xy * w }
    }

    /// 2P, complete (RCB16 algorithm 6, a = −3).
    pub fn double(&self, p: &Point<L>) -> Point<L> {
        let b = self.b;
        let xx = p.x.square();
        let yy = p.y.square();
        let zz = p.z.square();
        let xy = p.x * p.y;
        let xy2 = xy + xy;
        let xz = p.x * p.z;
        let xz2 = xz + xz;
        let t = b * zz - xz2;
        let t3 = t + t + t;
        let minus = yy - t3;
        let plus = yy + t3;
        let zz3 = zz + zz + zz;
        let u = b * xz2 - (zz3 + xx);
        let u3 = u + u + u;
        let w = xx + xx + xx - zz3;
        let yz = p.y * p.z;
        let yz2 = yz + yz;
        let z = yz2 * yy;
        let z2 = z + z;
        Point { x: minus * xy2 - u3 * yz2, y: plus * minus + w * u3, z: z2 + z2 }
    }

    /// k·P in constant time: 4-bit fixed windows over all bits of k, each table
    /// entry chosen by scanning the whole table.
    pub fn mul(&self, k: &Uint<L>, p: &Point<L>) -> Point<L> {
        let mut table = [self.identity(); 16];
        for i in 1..16 {
            table[i] = self.add(&table[i - 1], p);
        }
        let words = k.as_words();
        let mut acc = self.identity();
        for window in (0..L * 16).rev() {
            for _ in 0..4 {
                acc = self.double(&acc);
            }
            let word = words[window / 16];
            let nibble = ((word >> ((window % 16) * 4)) & 0xF) as u8;
            let mut chosen = self.identity();
            for (i, entry) in table.iter().enumerate() {
                chosen.conditional_assign(entry, (i as u8).ct_eq(&nibble));
            }
            acc = self.add(&acc, &chosen);
        }
        acc
    }

    /// The affine coordinates; `None` for the identity.
    pub fn to_affine(&self, p: &Point<L>) -> Option<(Uint<L>, Uint<L>)> {
        let (inv, ok) = p.z.invert();
        bool::from(Choice::from(ok)).then(|| ((p.x * inv).retrieve(), (p.y * inv).retrieve()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::U256;

    /// A toy curve small enough to check against schoolbook affine arithmetic:
    /// y² = x³ − 3x + 7 over p = 10007 (the group order is whatever it is; the
    /// formulas are checked point by point, not through the order).
    fn toy() -> (Curve<4>, u64) {
        let p = 10007u64;
        let params = Params { p: U256::from_u64(p), b: U256::from_u64(7), q: U256::from_u64(10009), gx: U256::ZERO, gy: U256::ZERO };
        (Curve::new(&params), p)
    }

    fn inv(a: u64, p: u64) -> u64 {
        let (mut r, mut base, mut e) = (1u128, a as u128 % p as u128, p - 2);
        while e > 0 {
            if e & 1 == 1 {
                r = r * base % p as u128;
            }
            base = base * base % p as u128;
            e >>= 1;
        }
        r as u64
    }

    /// Schoolbook affine addition, None for the identity.
    fn affine_add(a: Option<(u64, u64)>, b: Option<(u64, u64)>, p: u64) -> Option<(u64, u64)> {
        let ((x1, y1), (x2, y2)) = match (a, b) {
            (None, b) => return b,
            (a, None) => return a,
            (Some(a), Some(b)) => (a, b),
        };
        if x1 == x2 && (y1 + y2) % p == 0 {
            return None;
        }
        let l = if x1 == x2 {
            (3 * x1 % p * x1 % p + p - 3) % p * inv(2 * y1 % p, p) % p
        } else {
            (y2 + p - y1) % p * inv((x2 + p - x1) % p, p) % p
        };
        let x3 = (l * l % p + 2 * p - x1 - x2) % p;
        let y3 = (l * ((x1 + p - x3) % p) % p + p - y1) % p;
        Some((x3, y3))
    }

    fn points(c: &Curve<4>, p: u64) -> Vec<(u64, u64)> {
        (0..200u64)
            .filter_map(|x| (0..p).find(|y| c.point(&U256::from_u64(x), &U256::from_u64(*y)).is_some()).map(|y| (x, y)))
            .take(12)
            .collect()
    }

    fn affine(c: &Curve<4>, pt: &Point<4>) -> Option<(u64, u64)> {
        c.to_affine(pt).map(|(x, y)| (x.as_words()[0], y.as_words()[0]))
    }

    #[test]
    fn complete_formulas_agree_with_schoolbook_arithmetic() {
        let (c, p) = toy();
        let pts = points(&c, p);
        assert!(pts.len() >= 10);
        for &a in &pts {
            let pa = c.point(&U256::from_u64(a.0), &U256::from_u64(a.1)).unwrap();
            assert_eq!(affine(&c, &c.double(&pa)), affine_add(Some(a), Some(a), p), "2P");
            assert_eq!(affine(&c, &c.add(&pa, &c.identity())), Some(a), "P + O");
            let neg = c.point(&U256::from_u64(a.0), &U256::from_u64((p - a.1) % p)).unwrap();
            assert_eq!(affine(&c, &c.add(&pa, &neg)), None, "P − P");
            for &b in &pts {
                let pb = c.point(&U256::from_u64(b.0), &U256::from_u64(b.1)).unwrap();
                assert_eq!(affine(&c, &c.add(&pa, &pb)), affine_add(Some(a), Some(b), p), "{a:?} + {b:?}");
            }
            // k·P by the ladder equals repeated schoolbook addition.
            let mut expect = None;
            for k in 0..40u64 {
                assert_eq!(affine(&c, &c.mul(&U256::from_u64(k), &pa)), expect, "{k}·{a:?}");
                expect = affine_add(expect, Some(a), p);
            }
        }
    }

    #[test]
    fn points_off_the_curve_or_out_of_range_are_refused() {
        let (c, p) = toy();
        let (x, y) = points(&c, p)[0];
        assert!(c.point(&U256::from_u64(x), &U256::from_u64((y + 1) % p)).is_none());
        assert!(c.point(&U256::from_u64(x + p), &U256::from_u64(y)).is_none());
    }
}
