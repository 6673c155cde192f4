//! The group arithmetic and the signature equations themselves: the curves and
//! their field, k·G and u·G + v·Q, and (r, s) from a given nonce. Hazardous
//! material: `sign_with` takes the nonce from its caller, and a nonce used twice,
//! or a biased one, gives the key away. [`super::GostSigner`] is the safe way to
//! sign; this module is public for known-answer tests and benchmarks.

pub use super::curve::{Curve, Params, Point, Table};
pub use super::field::{Field, Fp512};
use super::{uint_le, GostError};
use crypto_bigint::modular::constant_mod::Residue;
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::subtle::{ConditionallySelectable, ConstantTimeEq, ConstantTimeLess};
use crypto_bigint::{impl_modulus, Uint, U256, U512};
use std::sync::OnceLock;
use zeroize::Zeroizing;

/// The field primes as types: P512 = 2^512 − 569 (paramSetA), P256 = 2^256 − 617
/// (CryptoPro-A).
pub mod primes {
    #![allow(missing_docs)] // the macro's structs
    use super::{impl_modulus, U256, U512};
    impl_modulus!(
        P512,
        U512,
        "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdc7"
    );
    impl_modulus!(P256, U256, "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd97");
}
use primes::P256;

fn params_512() -> Params<8> {
    let h = |s: &str| U512::from_be_hex(s);
    Params {
        p: h("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffdc7"),
        b: h("e8c2505dedfc86ddc1bd0b2b6667f1da34b82574761cb0e879bd081cfd0b6265ee3cb090f30d27614cb4574010da90dd862ef9d4ebee4761503190785a71c760"),
        q: h("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff27e69532f48d89116ff22b8d4e0560609b4b38abfad2b85dcacdb1411f10b275"),
        gx: U512::from_u64(3),
        gy: h("7503cfe87a836ae3a61b8816e25450e6ce5e1c93acf1abc1778064fdcbefa921df1626be4fd036e93d75e6a50e3a41e98028fe5fc235f5b889a589cb5215f2a4"),
    }
}

fn params_256() -> Params<4> {
    let h = |s: &str| U256::from_be_hex(s);
    Params {
        p: h("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffd97"),
        b: U256::from_u64(166),
        q: h("ffffffffffffffffffffffffffffffff6c611070995ad10045841b09b761b893"),
        gx: U256::ONE,
        gy: h("8d91e471e0989cda27df505a453f2b7635294f2ddf23e3b122acc99c9e9f1e14"),
    }
}

/// The 512-bit curve, made once.
pub fn curve_512() -> &'static Curve<Fp512, 8> {
    static C: OnceLock<Curve<Fp512, 8>> = OnceLock::new();
    C.get_or_init(|| Curve::new(&params_512()))
}

/// The CryptoPro-A curve, made once.
pub fn curve_256() -> &'static Curve<Residue<P256, 4>, 4> {
    static C: OnceLock<Curve<Residue<P256, 4>, 4>> = OnceLock::new();
    C.get_or_init(|| Curve::new(&params_256()))
}

/// What the signature scheme needs from a group: the order, k·G and u·G + v·Q as
/// x-coordinates. The national curves give it in constant time; tests give it for
/// the standard's example curve (a = 7) with schoolbook arithmetic.
pub trait Group<const L: usize> {
    /// A point of the group.
    type Element;
    /// The order q of the base point.
    fn order(&self) -> &Uint<L>;
    /// Montgomery parameters modulo q, made once per curve.
    fn scalars(&self) -> DynResidueParams<L>;
    /// x(k·G), or `None` at infinity.
    fn base_x(&self, k: &Uint<L>) -> Option<Uint<L>>;
    /// x(u·G + v·Q), or `None` at infinity.
    fn combined_x(&self, u: &Uint<L>, v: &Uint<L>, q: &Self::Element) -> Option<Uint<L>>;
}

/// Fixed-base tables of the public keys verified more than once (CA, responder and
/// frequent signers' keys): a repeated key's u·Q then costs what u·G does. At most
/// [`KEY_TABLES`] tables are kept; a key seen once gets none.
struct KeyTables<F: Field<L>, const L: usize> {
    seen: std::collections::HashSet<Vec<u8>>,
    tables: std::collections::HashMap<Vec<u8>, std::sync::Arc<Table<F, L>>>,
}

/// The most public-key tables kept per curve (about 400 KB each for 512 bits).
pub const KEY_TABLES: usize = 32;

impl<F: Field<L>, const L: usize> KeyTables<F, L> {
    fn new() -> Self {
        KeyTables { seen: Default::default(), tables: Default::default() }
    }
}

fn key_tables_512() -> &'static std::sync::Mutex<KeyTables<Fp512, 8>> {
    static T: OnceLock<std::sync::Mutex<KeyTables<Fp512, 8>>> = OnceLock::new();
    T.get_or_init(|| std::sync::Mutex::new(KeyTables::new()))
}

/// u·G + v·Q on the 512-bit curve, with Q's table when Q is a repeated key.
fn combined_512(c: &Curve<Fp512, 8>, u: &U512, v: &U512, q: &Point<Fp512, 8>) -> Point<Fp512, 8> {
    let key = c.to_affine(q).map(|(x, y)| [uint_le(&x), uint_le(&y)].concat()).unwrap_or_default();
    let table = {
        let mut t = key_tables_512().lock().unwrap_or_else(|e| e.into_inner());
        match t.tables.get(&key) {
            Some(table) => Some(table.clone()),
            None if t.seen.contains(&key) && t.tables.len() < KEY_TABLES => {
                let table = std::sync::Arc::new(c.table(q));
                t.tables.insert(key.clone(), table.clone());
                Some(table)
            }
            None => {
                if t.seen.len() >= 1024 {
                    t.seen.clear();
                }
                t.seen.insert(key);
                None
            }
        }
    };
    let vq = match table {
        Some(table) => c.mul_table(&table, v),
        None => c.mul_vartime(v, q),
    };
    c.add(&c.mul_base(u), &vq)
}

/// The national 512-bit curve, with its public-key tables.
pub(crate) struct Curve512;

impl Group<8> for Curve512 {
    type Element = Point<Fp512, 8>;
    fn order(&self) -> &U512 {
        &curve_512().q
    }
    fn scalars(&self) -> DynResidueParams<8> {
        curve_512().fq
    }
    fn base_x(&self, k: &U512) -> Option<U512> {
        curve_512().base_x(k)
    }
    fn combined_x(&self, u: &U512, v: &U512, q: &Point<Fp512, 8>) -> Option<U512> {
        let c = curve_512();
        c.to_affine(&combined_512(c, u, v, q)).map(|(x, _)| x)
    }
}

impl<F: Field<L>, const L: usize> Group<L> for Curve<F, L> {
    type Element = Point<F, L>;
    fn order(&self) -> &Uint<L> {
        &self.q
    }
    fn scalars(&self) -> DynResidueParams<L> {
        self.fq
    }
    fn base_x(&self, k: &Uint<L>) -> Option<Uint<L>> {
        self.to_affine(&self.mul_base(k)).map(|(x, _)| x)
    }
    fn combined_x(&self, u: &Uint<L>, v: &Uint<L>, q: &Point<F, L>) -> Option<Uint<L>> {
        let sum = self.add(&self.mul_base(u), &self.mul_vartime(v, q));
        self.to_affine(&sum).map(|(x, _)| x)
    }
}

/// a mod q for a < 2q (all the scheme needs: hashes, x-coordinates and random
/// numbers of the curve's size, since 2^n < 2q for these curves).
pub(crate) fn reduce<const L: usize>(a: &Uint<L>, q: &Uint<L>) -> Uint<L> {
    let less = a.ct_lt(q);
    let diff = a.wrapping_sub(q);
    Uint::conditional_select(&diff, a, less)
}

/// The hash as the scheme's e: little-endian, mod q, and 1 when that is 0.
pub fn digest_to_e<const L: usize>(digest: &Uint<L>, q: &Uint<L>) -> Uint<L> {
    let e = reduce(digest, q);
    Uint::conditional_select(&e, &Uint::ONE, e.ct_eq(&Uint::ZERO))
}

/// The signature (r, s) of e with private scalar d and nonce k, or `None` when r
/// or s is 0 (draw another k). The Montgomery forms of d and k and the products
/// that hold them are wiped before it returns.
pub fn sign_with<const L: usize, G: Group<L>>(group: &G, d: &Uint<L>, e: &Uint<L>, k: &Uint<L>) -> Option<(Uint<L>, Uint<L>)> {
    let q = group.order();
    let r = reduce(&group.base_x(k)?, q);
    let fq = group.scalars();
    let (r_, e_) = (DynResidue::new(&r, fq), DynResidue::new(e, fq));
    let (d_, k_) = (Zeroizing::new(DynResidue::new(d, fq)), Zeroizing::new(DynResidue::new(k, fq)));
    let (rd, ke) = (Zeroizing::new(r_ * *d_), Zeroizing::new(*k_ * e_));
    let s = (*rd + *ke).retrieve();
    (r != Uint::ZERO && s != Uint::ZERO).then_some((r, s))
}

/// Whether (r, s) is a valid signature of e under the public point `key`.
pub fn verify_with<const L: usize, G: Group<L>>(
    group: &G,
    key: &G::Element,
    e: &Uint<L>,
    r: &Uint<L>,
    s: &Uint<L>,
) -> Result<(), GostError> {
    let q = group.order();
    for v in [r, s] {
        if *v == Uint::ZERO || !bool::from(v.ct_lt(q)) {
            return Err(GostError::BadSignature("r or s is not between 1 and q − 1"));
        }
    }
    let fq = group.scalars();
    let (v, _) = DynResidue::new(e, fq).invert();
    let z1 = (DynResidue::new(s, fq) * v).retrieve();
    let z2 = (-(DynResidue::new(r, fq) * v)).retrieve();
    let x = group.combined_x(&z1, &z2, key).ok_or(GostError::Invalid)?;
    if reduce(&x, q) == *r {
        Ok(())
    } else {
        Err(GostError::Invalid)
    }
}
