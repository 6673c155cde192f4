//! Hedged nonces for GOST signatures: k is a PRF of the private key and the value e
//! being signed, keyed by the key as RFC 6979 keys its generator, and mixed with 64
//! bytes of fresh randomness (RFC 6979 §3.6's "additional data", the hedged form
//! RustCrypto's `ecdsa` uses). A broken or predictable random source then still
//! gives a nonce no one can compute without the key; a good one makes even a
//! repeated signature of the same hash use a new nonce.
//!
//! The PRF is HMAC-Streebog-512 (R 50.1.113-2016), one invocation per nonce:
//! k = HMAC_d(int2octets(e) ‖ random ‖ counter), taken when 1 ≤ k < q (q is within
//! 2^−255 of 2^512, so a candidate is refused with that probability). RFC 6979's full
//! HMAC_DRBG costs about 50 Streebog compressions, 17.7 µs or 9 % of a signature
//! on this machine; one HMAC costs 11.
use super::Scalar;
use crypto_bigint::{Encoding, U512};
use hmac::{Hmac, Mac};
use streebog::Streebog512;
use zeroize::Zeroizing;

type HmacStreebog512 = Hmac<Streebog512>;

/// How many candidates the generator may reject before giving up; each is ≥ q
/// with a probability near 2^−255, so this is never reached in practice.
const MAX_CANDIDATES: usize = 64;

/// The nonce for signing `e` with `d`, hedged with `extra` randomness; `None` only
/// if [`MAX_CANDIDATES`] candidates in a row were out of range.
pub(super) fn hedged(d: &Scalar, e: &U512, extra: &[u8; 64]) -> Option<Scalar> {
    let keyed = <HmacStreebog512 as Mac>::new_from_slice(d.to_be_bytes().as_ref())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    let h = Zeroizing::new(e.to_be_bytes());
    for counter in 0..MAX_CANDIDATES as u8 {
        let mut mac = keyed.clone();
        mac.update(h.as_ref());
        mac.update(extra);
        mac.update(&[counter]);
        let mut candidate = Zeroizing::new([0u8; 64]);
        candidate.copy_from_slice(&mac.finalize().into_bytes());
        if let Some(nonce) = Scalar::from_be_bytes(&candidate) {
            return Some(nonce);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_streebog_512_gives_the_standards_example() {
        // R 50.1.113-2016 (RFC 7836) §4.1.2: HMAC_GOSTR3411_2012_512.
        let key: Vec<u8> = (0u8..32).collect();
        let mut mac = <HmacStreebog512 as Mac>::new_from_slice(&key).unwrap();
        mac.update(&hex::decode("0126bdb87800af214341456563780100").unwrap());
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "a59bab22ecae19c65fbde6e5f4e9f5d8549d31f037f9df9b905500e171923a773d5f1530f2ed7e964cb2eedc29e9ad2f3afe93b2814f79f5000ffc0366c251e6"
        );
    }

    #[test]
    fn the_nonce_depends_on_the_key_the_hash_and_the_randomness_and_nothing_else() {
        let d = Scalar::from_le_bytes(&[5; 64]).unwrap();
        let other_key = Scalar::from_le_bytes(&[6; 64]).unwrap();
        let e = U512::from_u64(1234);
        let k = |d: &Scalar, e: &U512, extra: &[u8; 64]| *hedged(d, e, extra).unwrap().to_le_bytes();
        let same = k(&d, &e, &[1; 64]);
        assert_eq!(same, k(&d, &e, &[1; 64]), "a deterministic function of its inputs");
        for other in [k(&d, &e, &[2; 64]), k(&d, &U512::from_u64(1235), &[1; 64]), k(&other_key, &e, &[1; 64])] {
            assert_ne!(same, other);
        }
    }
}
