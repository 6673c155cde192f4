//! Short Weierstrass curves y² = x³ − 3x + b over a prime field, in projective
//! coordinates with the complete addition and doubling formulas of Renes, Costello
//! and Batina ("Complete addition formulas for prime order elliptic curves", 2016,
//! algorithms 4 and 6 for a = −3): no special cases, so no branch depends on a
//! secret. Field arithmetic is any [`Field`]: `crypto-bigint`'s constant-time
//! Montgomery form with the prime as a type, or the dedicated `Fp512` for
//! p = 2^512 − 569; a field element is just its limbs.
//! Both national curves (GOST R 34.10-2012 512-bit paramSetA and CryptoPro-A)
//! have a = −3 and cofactor 1.

use super::field::Field;
use crypto_bigint::modular::runtime_mod::DynResidueParams;
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

/// A fixed-base table: `table[w][i]` = i·16^w·P for each 4-bit window w.
pub type Table<F, const L: usize> = Vec<[Point<F, L>; 16]>;

/// A curve ready to compute on; `M` is its field prime.
pub struct Curve<F: Field<L>, const L: usize> {
    b: F,
    /// The group order.
    pub q: Uint<L>,
    /// Montgomery parameters modulo q, for the signature's scalar arithmetic.
    pub fq: DynResidueParams<L>,
    g: Point<F, L>,
    /// `table[w][i]` = i·16^w·G: k·G is then one addition per 4-bit window of k and
    /// no doubling (fixed-base windows), made on first use.
    g_table: std::sync::OnceLock<Table<F, L>>,
}

/// A point in projective coordinates (X : Y : Z); the identity is (0 : 1 : 0).
#[derive(Clone, Copy, Debug)]
pub struct Point<F: Field<L>, const L: usize> {
    x: F,
    y: F,
    z: F,
}

impl<F: Field<L>, const L: usize> ConditionallySelectable for Point<F, L> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Point {
            x: F::conditional_select(&a.x, &b.x, choice),
            y: F::conditional_select(&a.y, &b.y, choice),
            z: F::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl<F: Field<L>, const L: usize> Curve<F, L> {
    /// The curve of `params`, whose prime must be `M`'s.
    pub fn new(params: &Params<L>) -> Self {
        assert!(params.p == F::MODULUS, "the curve's prime is its field type's");
        let g = Point { x: F::new(&params.gx), y: F::new(&params.gy), z: F::ONE };
        Curve { b: F::new(&params.b), q: params.q, fq: DynResidueParams::new(&params.q), g, g_table: std::sync::OnceLock::new() }
    }

    /// The base point.
    pub fn generator(&self) -> Point<F, L> {
        self.g
    }

    /// The point at infinity.
    pub fn identity(&self) -> Point<F, L> {
        Point { x: F::ZERO, y: F::ONE, z: F::ZERO }
    }

    /// The affine point (x, y), if both are below p and it lies on the curve.
    pub fn point(&self, x: &Uint<L>, y: &Uint<L>) -> Option<Point<F, L>> {
        if !bool::from(x.ct_lt(&F::MODULUS)) || !bool::from(y.ct_lt(&F::MODULUS)) {
            return None;
        }
        let (x, y) = (F::new(x), F::new(y));
        let three_x = x + x + x;
        let rhs = x.square() * x - three_x + self.b;
        bool::from(y.square().ct_eq(&rhs)).then_some(Point { x, y, z: F::ONE })
    }

    /// P + Q, complete (RCB16 algorithm 4, a = −3).
    pub fn add(&self, p: &Point<F, L>, q: &Point<F, L>) -> Point<F, L> {
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
    pub fn double(&self, p: &Point<F, L>) -> Point<F, L> {
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
    pub fn mul(&self, k: &Uint<L>, p: &Point<F, L>) -> Point<F, L> {
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

    /// The fixed-base table of `p`: `table[w][i]` = i·16^w·P.
    pub fn table(&self, p: &Point<F, L>) -> Table<F, L> {
        let mut rows = Vec::with_capacity(L * 16);
        let mut base = *p;
        for _ in 0..L * 16 {
            let mut row = [self.identity(); 16];
            for i in 1..16 {
                row[i] = self.add(&row[i - 1], &base);
            }
            rows.push(row);
            for _ in 0..4 {
                base = self.double(&base);
            }
        }
        rows
    }

    /// k·G in constant time, from G's fixed-base table.
    pub fn mul_base(&self, k: &Uint<L>) -> Point<F, L> {
        self.mul_table(self.g_table.get_or_init(|| self.table(&self.g)), k)
    }

    /// k·P from P's fixed-base table, in constant time: for each 4-bit window of
    /// k, the whole row is scanned and one entry added; no doubling at all.
    pub fn mul_table(&self, table: &[[Point<F, L>; 16]], k: &Uint<L>) -> Point<F, L> {
        let words = k.as_words();
        let mut acc = self.identity();
        for (window, row) in table.iter().enumerate() {
            let nibble = ((words[window / 16] >> ((window % 16) * 4)) & 0xF) as u8;
            let mut chosen = self.identity();
            for (i, entry) in row.iter().enumerate() {
                chosen.conditional_assign(entry, (i as u8).ct_eq(&nibble));
            }
            acc = self.add(&acc, &chosen);
        }
        acc
    }

    /// k·P in variable time, for verification only (k and P public): Jacobian
    /// coordinates (doubling with 3M + 5S for a = −3) and width-5 wNAF digits.
    pub fn mul_vartime(&self, k: &Uint<L>, p: &Point<F, L>) -> Point<F, L> {
        let start = Jacobian::from_projective(p);
        let twice = self.jac_double(&start);
        let mut odd = [start; 8]; // P, 3P, 5P, …, 15P
        for i in 1..8 {
            odd[i] = self.jac_add(&odd[i - 1], &twice);
        }
        let mut acc = Jacobian::INFINITY;
        for &d in wnaf5(k).iter().rev() {
            acc = self.jac_double(&acc);
            if d != 0 {
                let q = odd[usize::from(d.unsigned_abs() / 2)];
                acc = self.jac_add(&acc, &if d < 0 { q.neg() } else { q });
            }
        }
        acc.to_projective()
    }

    fn jac_double(&self, p: &Jacobian<F, L>) -> Jacobian<F, L> {
        if p.infinity {
            return *p;
        }
        let delta = p.z.square();
        let gamma = p.y.square();
        let beta = p.x * gamma;
        let t = (p.x - delta) * (p.x + delta);
        let alpha = t + t + t;
        let beta2 = beta + beta;
        let beta4 = beta2 + beta2;
        let x = alpha.square() - (beta4 + beta4);
        let z = (p.y + p.z).square() - gamma - delta;
        let g2 = gamma.square();
        let g4 = g2 + g2;
        let g8 = g4 + g4;
        let y = alpha * (beta4 - x) - (g8 + g8);
        Jacobian { x, y, z, infinity: false }
    }

    fn jac_add(&self, p: &Jacobian<F, L>, q: &Jacobian<F, L>) -> Jacobian<F, L> {
        if p.infinity {
            return *q;
        }
        if q.infinity {
            return *p;
        }
        let z1z1 = p.z.square();
        let z2z2 = q.z.square();
        let u1 = p.x * z2z2;
        let u2 = q.x * z1z1;
        let s1 = p.y * q.z * z2z2;
        let s2 = q.y * p.z * z1z1;
        let h = u2 - u1;
        let sd = s2 - s1;
        if h.is_zero_vartime() {
            return if sd.is_zero_vartime() { self.jac_double(p) } else { Jacobian::INFINITY };
        }
        let r = sd + sd;
        let i = (h + h).square();
        let j = h * i;
        let v = u1 * i;
        let x = r.square() - j - (v + v);
        let s1j = s1 * j;
        let y = r * (v - x) - (s1j + s1j);
        let z = ((p.z + q.z).square() - z1z1 - z2z2) * h;
        Jacobian { x, y, z, infinity: false }
    }

    /// The affine coordinates; `None` for the identity.
    pub fn to_affine(&self, p: &Point<F, L>) -> Option<(Uint<L>, Uint<L>)> {
        let (inv, ok) = p.z.invert();
        bool::from(ok).then(|| ((p.x * inv).retrieve(), (p.y * inv).retrieve()))
    }
}

/// A point in Jacobian coordinates (x = X/Z², y = Y/Z³), for variable-time work.
#[derive(Clone, Copy, Debug)]
struct Jacobian<F: Field<L>, const L: usize> {
    x: F,
    y: F,
    z: F,
    infinity: bool,
}

impl<F: Field<L>, const L: usize> Jacobian<F, L> {
    const INFINITY: Self = Jacobian { x: F::ONE, y: F::ONE, z: F::ZERO, infinity: true };

    /// From (X : Y : Z) with x = X/Z: (X·Z : Y·Z² : Z).
    fn from_projective(p: &Point<F, L>) -> Self {
        if p.z.is_zero_vartime() {
            return Self::INFINITY;
        }
        Jacobian { x: p.x * p.z, y: p.y * p.z.square(), z: p.z, infinity: false }
    }

    /// To (X·Z : Y : Z³), which has x = X/Z² and y = Y/Z³.
    fn to_projective(self) -> Point<F, L> {
        if self.infinity {
            return Point { x: F::ZERO, y: F::ONE, z: F::ZERO };
        }
        Point { x: self.x * self.z, y: self.y, z: self.z.square() * self.z }
    }

    fn neg(self) -> Self {
        Jacobian { y: -self.y, ..self }
    }
}

/// Width-5 non-adjacent form of k, least significant digit first: digits 0 or odd
/// in −15..=15, at most one non-zero in any five in a row. Variable time.
fn wnaf5<const L: usize>(k: &Uint<L>) -> Vec<i8> {
    let mut k = *k;
    let mut digits = Vec::with_capacity(L * 64 + 1);
    while k != Uint::ZERO {
        let mut d = 0i8;
        if bool::from(k.bit(0)) {
            let low = (k.as_words()[0] & 31) as i8;
            d = if low >= 16 { low - 32 } else { low };
            k = if d >= 0 {
                k.wrapping_sub(&Uint::from_u64(d as u64))
            } else {
                k.wrapping_add(&Uint::from_u64(u64::from(d.unsigned_abs())))
            };
        }
        digits.push(d);
        k = k.shr_vartime(1);
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto_bigint::modular::constant_mod::Residue;
    use crypto_bigint::{impl_modulus, U256};

    type T = Residue<Toy, 4>;

    impl_modulus!(Toy, U256, "0000000000000000000000000000000000000000000000000000000000002717");

    /// A toy curve small enough to check against schoolbook affine arithmetic:
    /// y² = x³ − 3x + 7 over p = 10007 (the group order is whatever it is; the
    /// formulas are checked point by point, not through the order).
    fn toy() -> (Curve<T, 4>, u64) {
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

    fn points(c: &Curve<T, 4>, p: u64) -> Vec<(u64, u64)> {
        (0..200u64)
            .filter_map(|x| (0..p).find(|y| c.point(&U256::from_u64(x), &U256::from_u64(*y)).is_some()).map(|y| (x, y)))
            .take(12)
            .collect()
    }

    fn affine(c: &Curve<T, 4>, pt: &Point<T, 4>) -> Option<(u64, u64)> {
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
            // k·P by windows equals repeated schoolbook addition.
            let mut expect = None;
            for k in 0..40u64 {
                assert_eq!(affine(&c, &c.mul(&U256::from_u64(k), &pa)), expect, "{k}·{a:?}");
                expect = affine_add(expect, Some(a), p);
            }
        }
        // The variable-time Jacobian wNAF path agrees with the constant-time one.
        for &a in &pts {
            let pa = c.point(&U256::from_u64(a.0), &U256::from_u64(a.1)).unwrap();
            for k in (0..70u64).chain([1 << 20, u64::MAX - 3]) {
                let k = U256::from_u64(k);
                assert_eq!(affine(&c, &c.mul_vartime(&k, &pa)), affine(&c, &c.mul(&k, &pa)), "{k}·{a:?}");
            }
        }
        // The fixed-base table agrees with the window method, for small and full-size k.
        let (gx, gy) = pts[1];
        let params =
            Params { p: U256::from_u64(p), b: U256::from_u64(7), q: U256::from_u64(10009), gx: U256::from_u64(gx), gy: U256::from_u64(gy) };
        let c: Curve<T, 4> = Curve::new(&params);
        for k in [0u64, 1, 2, 15, 16, 17, 255, 4097, 65535, u64::MAX] {
            let k = U256::from_u64(k);
            assert_eq!(affine(&c, &c.mul_base(&k)), affine(&c, &c.mul(&k, &c.generator())), "{k}");
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
