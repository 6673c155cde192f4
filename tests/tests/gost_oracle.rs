//! Our GOST 34.10-2015 512-bit signatures against an independent implementation,
//! Python `gostcrypto` (PyPI), in both directions: it verifies ours, we verify its.
//! gostcrypto is pure Python (about 0.14 s per scalar multiplication here), so the
//! suite checks 100 keys and messages each way; `GOST_ORACLE_ROUNDS=1000` runs the
//! full thousand (about ten minutes on two cores).

use ca_core::gost::{self, GostSigner};
use ca_core::signing::Signer;
use crypto_bigint::U512;
use der::Decode;
use rand::RngCore;
use std::io::Write;
use std::process::{Command, Stdio};

fn rounds() -> usize {
    std::env::var("GOST_ORACLE_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(100)
}

fn reversed(b: &[u8]) -> Vec<u8> {
    b.iter().rev().copied().collect()
}

/// Big-endian halves of a little-endian x ‖ y or r ‖ s.
fn be_halves(le: &[u8]) -> String {
    let (a, b) = le.split_at(le.len() / 2);
    hex::encode([reversed(a), reversed(b)].concat())
}

const PYTHON: &str = r#"
import sys, os, json, gostcrypto
curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019['id-tc26-gost-3410-12-512-paramSetA']
g = gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_512, curve)
q = int.from_bytes(curve['q'], 'big') if isinstance(curve['q'], (bytes, bytearray)) else curve['q']
mode = sys.argv[1]
if mode == 'verify':
    bad = 0
    for line in sys.stdin:
        t = json.loads(line)
        if not g.verify(bytearray.fromhex(t['key']), bytearray.fromhex(t['digest']), bytearray.fromhex(t['sig'])):
            bad += 1
    print(json.dumps({'bad': bad}))
else:
    for _ in range(int(sys.argv[2])):
        while True:
            d = int.from_bytes(os.urandom(64), 'big') % q
            if d: break
        key = bytearray(d.to_bytes(64, 'big'))
        digest = bytearray(os.urandom(64))
        pub = g.public_key_generate(key)
        print(json.dumps({'key': pub.hex(), 'digest': digest.hex(), 'sig': g.sign(key, digest).hex()}), flush=True)
"#;

fn python(args: &[&str]) -> std::process::Child {
    Command::new("python3")
        .args(["-c", PYTHON])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with gostcrypto (scripts/test.sh installs it)")
}

#[test]
fn gostcrypto_verifies_ours_and_we_verify_gostcryptos() {
    let n = rounds();
    // Its signatures, made while we make ours (the two directions use both cores).
    let theirs = python(&["sign", &n.to_string()]);
    let mut check = python(&["verify"]);
    let mut stdin = check.stdin.take().unwrap();
    let mut previous: Option<Vec<u8>> = None;
    for i in 0..n {
        let signer = GostSigner::generate();
        let mut message = vec![0u8; 1 + i % 300];
        rand::rngs::OsRng.fill_bytes(&mut message);
        let sig = signer.sign(&message).unwrap();
        if i == 0 {
            // The same message and key twice: different signatures (a fresh nonce).
            assert_ne!(sig, signer.sign(&message).unwrap());
        }
        assert_ne!(previous.as_ref(), Some(&sig));
        previous = Some(sig.clone());
        let xy = der::asn1::OctetString::from_der(signer.public_key().subject_public_key.raw_bytes()).unwrap();
        // gostcrypto reads the digest big-endian; we read Streebog's bytes little-endian.
        use streebog::Digest;
        let digest = streebog::Streebog512::digest(&message);
        let line = serde_json::json!({ "key": be_halves(xy.as_bytes()), "digest": hex::encode(reversed(&digest)), "sig": be_halves(&sig) });
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success());
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["bad"], 0, "gostcrypto refused some of our signatures");

    let out = theirs.wait_with_output().unwrap();
    assert!(out.status.success());
    let c = gost::hazmat::curve_512();
    let mut seen = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let t: serde_json::Value = serde_json::from_str(line).unwrap();
        let be = |field: &str| hex::decode(t[field].as_str().unwrap()).unwrap();
        let (key, digest, sig) = (be("key"), be("digest"), be("sig"));
        let point = c.point(&U512::from_be_slice(&key[..64]), &U512::from_be_slice(&key[64..])).expect("its key is on the curve");
        let e = gost::hazmat::digest_to_e(&U512::from_be_slice(&digest), &c.q);
        let (r, s) = (U512::from_be_slice(&sig[..64]), U512::from_be_slice(&sig[64..]));
        gost::hazmat::verify_with(c, &point, &e, &r, &s).unwrap_or_else(|err| panic!("gostcrypto's signature {line}: {err}"));
        let wrong = gost::hazmat::digest_to_e(&U512::from_be_slice(&reversed(&digest)), &c.q);
        assert!(gost::hazmat::verify_with(c, &point, &wrong, &r, &s).is_err());
        seen += 1;
    }
    assert_eq!(seen, n);
}
