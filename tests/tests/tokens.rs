//! Keys on cards, through the real PC/SC stack: pcscd with the vsmartcard vpcd
//! driver (started by scripts/test.sh), the `virtual-card` emulator in a leased
//! reader, the `ca` program, the `card-sign` tool, OpenSC as an independent reader
//! of the card's PKCS#15 layout, and openssl for OCSP.

use e2e::card::{Lease, VirtualCard};
use e2e::{ca_env, fresh_authority, iin, p, program, Scratch, Server};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use token_drivers::{Pin, Role, Token, TokenError};

const KAZTOKEN_PIN: &str = "12345678";
const KAZTOKEN_PUK: &str = "87654321";
const IDCARD_PIN: &str = "4321";
const IDCARD_PUK: &str = "11112222";

/// A card of `profile` in a leased reader, with the environment `ca` needs for it.
struct Rig {
    // Dropped in this order: the card is pulled out before the reader is given back.
    card: Option<VirtualCard>,
    lease: Lease,
    pin: &'static str,
}

impl Rig {
    fn new(profile: &str, state: &Path) -> Rig {
        let lease = Lease::take();
        let (pin, extra): (&str, &[&str]) = match profile {
            "idcard" => (IDCARD_PIN, &["--pin", IDCARD_PIN, "--puk", IDCARD_PUK]),
            _ => (KAZTOKEN_PIN, &[]),
        };
        let card = VirtualCard::insert(&lease, profile, state, extra);
        Rig { lease, card: Some(card), pin }
    }

    fn env(&self) -> [(&'static str, &'static str); 2] {
        [("CA_TOKEN_READER", self.lease.reader()), ("CA_TOKEN_PIN", self.pin)]
    }

    fn card(&self) -> &VirtualCard {
        self.card.as_ref().expect("a card is inserted")
    }

    fn token(&self) -> Token {
        Token::open(Some(self.lease.reader()), Duration::from_secs(10)).expect("open the card")
    }
}

fn ok_json(out: Output, what: &str) -> Value {
    assert!(out.status.success(), "{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e})"))
}

/// Run `ca --json ARGS` expecting exit 1 with error `code`; its message.
fn refused_with(data: &Path, args: &[&str], env: &[(&str, &str)], code: &str) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ca_env(data, &all, env);
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(1), "ca {args:?}: {body} {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(body["error"]["code"], code, "ca {args:?}: {body}");
    body["error"]["message"].as_str().unwrap_or_default().to_string()
}

/// A certificate's status from the server's OCSP responder, through openssl; the
/// response's signature checked by openssl (RSA) or by our reader (GOST, which
/// openssl cannot check), and the responder authorised by the certificate's CA.
fn openssl_status(server: &Server, data: &Path, cert: &Path) -> String {
    let parsed = <x509_cert::Certificate as der::DecodePem>::from_pem(std::fs::read(cert).unwrap()).unwrap();
    let gost = parsed.tbs_certificate.subject_public_key_info.algorithm.oid == ca_core::oid::GOST_2015_512_KEY;
    let issuer = data.join(if gost { "gost_issuing.pem" } else { "issuing.pem" });
    let response = cert.with_extension("ocsp");
    let mut cmd = Command::new("openssl");
    cmd.args(["ocsp", "-url", &format!("{}/ocsp/", server.url()), "-timeout", "10", "-issuer"]).arg(&issuer);
    if gost {
        cmd.arg("-noverify");
    } else {
        cmd.arg("-CAfile").arg(data.join("root.pem"));
    }
    let out = cmd.arg("-cert").arg(cert).arg("-respout").arg(&response).output().expect("run openssl ocsp");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if gost {
        let issuer = <x509_cert::Certificate as der::DecodePem>::from_pem(std::fs::read(&issuer).unwrap()).unwrap();
        let info = ocsp::read_response(&std::fs::read(&response).unwrap(), Some(&issuer)).expect("a GOST OCSP response");
        assert_eq!(info.signature_valid, Some(true), "{text}");
    } else {
        assert!(text.contains("Response verify OK"), "{text}");
    }
    let line = text.lines().find(|l| l.starts_with(&format!("{}:", cert.display()))).unwrap_or_else(|| panic!("{text}"));
    line.rsplit(':').next().unwrap_or_default().trim().to_string()
}

/// The card's certificates by role, written as PEM files in `dir` with `tag`.
fn certificates_on_card(rig: &Rig, dir: &Path, tag: &str) -> Vec<PathBuf> {
    let objects = rig.token().objects().expect("list the card's objects");
    let mut files = Vec::new();
    for role in [Role::Auth, Role::Sign] {
        let der = objects.iter().find(|k| k.role == Some(role)).and_then(|k| k.certificate.clone()).expect("a certificate for each role");
        let path = dir.join(format!("{tag}-{}.pem", role.label()));
        std::fs::write(&path, der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &der).unwrap()).unwrap();
        files.push(path);
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The whole lifecycle on a card of `profile`: keys made on the card, apply, the
/// operator confirms, certificates written to the card, renewal on the same card
/// (OCSP shows the old pair revoked), revocation by the holder; and through it all
/// no answer from the card carries a private exponent or prime.
fn lifecycle(profile: &str, seq: u32, sign_key: &str) {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let rig = Rig::new(profile, &t.join("card.json"));
    let env = rig.env();
    let ks = t.join("keys");
    let ks_s = p(&ks);
    let mut private_keys = Vec::new();

    let made = ok_json(
        ca_env(&data, &["--json", "enroll", "keygen", "--storage", profile, "--sign-key", sign_key, "--dir", &ks_s], &env),
        "keygen",
    );
    assert_eq!(made["storage"], profile);
    assert!(!ks.join("pending/auth.key").exists() && !ks.join("pending/sign.key").exists(), "no key file when keys live on a card");
    private_keys.extend(rig.card().private_keys());
    assert_eq!(private_keys.len(), 2);

    let person = ["--iin", iin(seq), "--surname", "Картов", "--name", "Тест", "--center", "ЦОН Астана"];
    if profile == "idcard" {
        // A legal entity's keys never go on an ID card.
        let mut args = vec!["enroll", "apply", "--server", &url, "--dir", &ks_s];
        args.extend(person);
        args.extend(["--bin", "040840000015", "--org", "ТОО \"ТЕСТ\"", "--role", "ceo"]);
        let message = refused_with(&data, &args, &env, "server_refused");
        assert!(message.contains("storage_not_allowed") && message.contains("ID card"), "{message}");
        assert!(!ks.join("application.json").exists());
    }
    let mut args = vec!["--json", "enroll", "apply", "--server", &url, "--dir", &ks_s];
    args.extend(person);
    if sign_key == "gost" {
        // A legal entity's head, whose SIGN certificate the authority issues in GOST.
        args.extend(["--bin", "040840000015", "--org", "ТОО \"ТЕСТ\"", "--role", "ceo"]);
    }
    let receipt = ok_json(ca_env(&data, &args, &env), "apply");
    let number = receipt["number"].as_str().unwrap().to_string();
    let shown = ok_json(ca_env(&data, &["--json", "application", "show", &number], &[]), "application show");
    assert_eq!(shown["storage"], profile, "{shown}");
    ok_json(ca_env(&data, &["--json", "application", "confirm", &number], &[]), "confirm");

    // --legacy is about key files, and none is written for a card: said, not ignored.
    let legacy = ca_env(&data, &["enroll", "fetch", "--server", &url, &number, "--dir", &ks_s, "--legacy"], &env);
    assert_eq!(legacy.status.code(), Some(2), "{}", String::from_utf8_lossy(&legacy.stderr));
    let fetched = ok_json(
        ca_env(&data, &["--json", "enroll", "fetch", "--server", &url, &number, "--dir", &ks_s, "--storage", profile], &env),
        "fetch",
    );
    assert_eq!(fetched["serials"].as_array().map(Vec::len), Some(2), "{fetched}");
    let shown = ok_json(ca_env(&data, &["--json", "inspect", "--token"], &env), "inspect --token");
    assert_eq!(shown["profile"], profile);
    let keys = shown["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{shown}");
    for k in keys {
        assert_eq!(k["certificate"]["key_type"], k["role"], "{k}");
        assert_eq!(k["certificate"]["key_id"], k["key_id"], "the card's key id is the certificate's");
        let expected = if k["role"] == "SIGN" { sign_key } else { "rsa" };
        assert_eq!(k["algorithm"], expected, "{k}");
    }
    let old = certificates_on_card(&rig, t.path(), "old");
    for cert in &old {
        assert_eq!(openssl_status(&server, &data, cert), "good");
    }
    if profile == "kaztoken" {
        opensc_lists(&rig, keys);
    }

    let renewed = ok_json(ca_env(&data, &["--json", "enroll", "renew", "--server", &url, "--dir", &ks_s], &env), "renew");
    assert_eq!(renewed["erased"].as_array().map(Vec::len), Some(2), "{renewed}");
    private_keys.extend(rig.card().private_keys());
    assert_eq!(rig.card().private_keys().len(), 2, "the old pair's keys are destroyed");
    for cert in &old {
        assert_eq!(openssl_status(&server, &data, cert), "revoked");
    }
    let new = certificates_on_card(&rig, t.path(), "new");
    for cert in &new {
        assert_eq!(openssl_status(&server, &data, cert), "good");
    }

    let revoked = ok_json(
        ca_env(&data, &["--json", "enroll", "revoke", "--server", &url, "--dir", &ks_s, "--reason", "keyCompromise"], &env),
        "revoke",
    );
    assert_eq!(revoked["revoked"].as_array().map(Vec::len), Some(2), "{revoked}");
    for cert in &new {
        assert_eq!(openssl_status(&server, &data, cert), "revoked");
    }
    assert!(rig.card().private_keys().is_empty(), "a compromised pair's keys are destroyed on the card");

    // Every answer the card gave: public moduli yes, private parts never.
    let trace = rig.card().sent_data();
    assert_eq!(private_keys.len(), 4);
    for der in &private_keys {
        if let Ok(gost) = ca_core::gost::GostSigner::from_pkcs8(der) {
            // GOST: the public point went out, the secret scalar never (either byte order).
            let public = ca_core::signing::Signer::public_key(&gost).subject_public_key.raw_bytes()[3..].to_vec();
            assert!(contains(&trace, &public), "the trace holds the GOST public key the card sent");
            // The key as the card keeps it: PKCS#8 ending in the privateKey OCTET STRING 04 40 ‖ d.
            assert_eq!(der[der.len() - 66..der.len() - 64], [0x04, 0x40]);
            let d = der[der.len() - 64..].to_vec();
            let reversed: Vec<u8> = d.iter().rev().copied().collect();
            assert!(!contains(&trace, &d) && !contains(&trace, &reversed), "the GOST private key left the card");
            continue;
        }
        let key = <rsa::RsaPrivateKey as rsa::pkcs8::DecodePrivateKey>::from_pkcs8_der(der).expect("PKCS#8");
        assert!(contains(&trace, &key.n().to_bytes_be()), "the trace holds what the card sent (the public modulus)");
        assert!(!contains(&trace, &key.d().to_bytes_be()), "the private exponent left the card");
        for prime in key.primes() {
            assert!(!contains(&trace, &prime.to_bytes_be()), "a prime left the card");
        }
    }
}

#[test]
fn whole_lifecycle_on_an_id_card() {
    lifecycle("idcard", 60, "rsa");
}

/// A legal entity head's GOST SIGN key beside an RSA AUTH key on a Kaztoken:
/// generated there, certified by the GOST CA, the renewal signed in GOST on the card.
#[test]
fn whole_lifecycle_with_a_gost_sign_key_on_a_kaztoken() {
    lifecycle("kaztoken", 63, "gost");
}

#[test]
fn whole_lifecycle_on_a_kaztoken() {
    lifecycle("kaztoken", 61, "rsa");
}

/// OpenSC, knowing nothing of our code, reads the card's PKCS#15 layout.
fn opensc_lists(rig: &Rig, keys: &[Value]) {
    let dir = Scratch::new("opensc");
    let conf = dir.join("opensc.conf");
    std::fs::write(&conf, "app default {\n  enable_default_driver = true;\n  card_drivers = default;\n}\n").unwrap();
    let run = |arg: &str| {
        let out = Command::new("pkcs15-tool")
            .env("OPENSC_CONF", &conf)
            .args(["--reader", &rig.lease.number().to_string(), arg])
            .output()
            .expect("run pkcs15-tool");
        assert!(out.status.success(), "pkcs15-tool {arg}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_lowercase()
    };
    let certs = run("--list-certificates");
    let private = run("--list-keys");
    let public = run("--list-public-keys");
    for k in keys {
        let id = k["key_id"].as_str().unwrap();
        let role = k["role"].as_str().unwrap().to_lowercase();
        assert!(certs.contains(id) && certs.contains(&format!("[{role}]")), "{id} {role} in {certs}");
        assert!(private.contains(id), "{id} in {private}");
        assert!(public.contains(id), "{id} in {public}");
    }
    assert!(private.contains("2048"), "the RSA key's size: {private}");
    assert!(private.contains("nonrepudiation"), "the SIGN key is marked for non-repudiation: {private}");

    // OpenSC's PKCS#11 module lists the objects too, and (as the README says) cannot
    // sign with them: its default driver announces no algorithms. When this starts
    // to work, the README's note must change.
    let module = "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so";
    let p11 = |args: &[&str]| {
        let out = Command::new("pkcs11-tool")
            .env("OPENSC_CONF", &conf)
            .args(["--module", module, "--slot-description", rig.lease.reader()])
            .args(args)
            .output()
            .expect("run pkcs11-tool");
        String::from_utf8_lossy(&out.stdout).to_lowercase() + &String::from_utf8_lossy(&out.stderr).to_lowercase()
    };
    let objects = p11(&["--list-objects"]);
    for k in keys {
        assert!(objects.contains(k["key_id"].as_str().unwrap()), "{objects}");
    }
    let message = dir.join("message");
    std::fs::write(&message, b"hello").unwrap();
    let signed = p11(&["--login", "--pin", rig.pin, "--sign", "-m", "SHA256-RSA-PKCS", "--input-file", p(&message).as_str()]);
    assert!(signed.contains("ckr_mechanism_invalid"), "{signed}");
}

/// The card is pulled out after the authority granted a renewal, before the new
/// certificates were on it: the grant is kept, and the next `renew` finishes it
/// instead of asking again (the old pair is revoked by then, so asking again
/// would be refused).
#[test]
fn an_interrupted_renewal_on_a_card_is_finished_by_the_next_run() {
    let t = fresh_authority();
    let data = t.join("data");
    let server = Server::on(&data);
    let url = server.url();
    let state = t.join("card.json");
    let mut rig = Rig::new("kaztoken", &state);
    let env = rig.env();
    let ks_s = p(&t.join("keys"));
    ok_json(ca_env(&data, &["--json", "enroll", "keygen", "--storage", "kaztoken", "--dir", &ks_s], &env), "keygen");
    let args = [
        "--json",
        "enroll",
        "apply",
        "--server",
        &url,
        "--dir",
        &ks_s,
        "--iin",
        iin(62),
        "--surname",
        "Картов",
        "--name",
        "Тест",
        "--center",
        "ЦОН Астана",
    ];
    let number = ok_json(ca_env(&data, &args, &env), "apply")["number"].as_str().unwrap().to_string();
    ok_json(ca_env(&data, &["--json", "application", "confirm", &number], &[]), "confirm");
    ok_json(ca_env(&data, &["--json", "enroll", "fetch", "--server", &url, &number, "--dir", &ks_s], &env), "fetch");
    let old = certificates_on_card(&rig, t.path(), "old");

    rig.card.take().unwrap().pull();
    rig.card = Some(VirtualCard::insert(&rig.lease, "kaztoken", &state, &["--misbehave", "vanish-on-certificate-write"]));
    let out = ca_env(&data, &["--json", "enroll", "renew", "--server", &url, "--dir", &ks_s], &env);
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!((out.status.code(), body["error"]["code"].as_str()), (Some(3), Some("card_removed")), "{body}");
    assert!(t.join("keys/renewal.json").exists(), "the grant is kept");
    for cert in &old {
        assert_eq!(openssl_status(&server, &data, cert), "revoked", "the authority renewed: the old pair is superseded");
    }

    rig.card.take().unwrap().pull();
    rig.card = Some(VirtualCard::insert(&rig.lease, "kaztoken", &state, &[]));
    let finished = ok_json(ca_env(&data, &["--json", "enroll", "renew", "--server", &url, "--dir", &ks_s], &env), "renew again");
    assert_eq!(finished["serials"].as_array().map(Vec::len), Some(2), "{finished}");
    assert!(!t.join("keys/renewal.json").exists());
    assert_eq!(rig.card().private_keys().len(), 2, "the old keys are destroyed, the new ones kept");
    for cert in certificates_on_card(&rig, t.path(), "new") {
        assert_eq!(openssl_status(&server, &data, &cert), "good");
    }
}

#[test]
fn wrong_pins_block_the_puk_unblocks_and_a_blocked_puk_stays_blocked() {
    let t = Scratch::new("pins");
    let data = t.join("data");
    let rig = Rig::new("kaztoken", &t.join("card.json"));
    let reader = [("CA_TOKEN_READER", rig.lease.reader())];
    let with = |pin: &'static str, new: &'static str| [reader[0], ("CA_TOKEN_PIN", pin), ("CA_TOKEN_NEW_PIN", new)];
    let new_pin = "24682468";
    for left in [2, 1] {
        let m = refused_with(&data, &["token", "change-pin"], &with("00000000", new_pin), "wrong_pin");
        assert!(m.contains(&format!("{left} tries left")), "{m}");
    }
    let m = refused_with(&data, &["token", "change-pin"], &with("00000000", new_pin), "pin_blocked");
    assert!(m.contains("ca token unblock"), "a blocked PIN says how to unblock: {m}");
    // Blocked: the right PIN no longer works either.
    refused_with(&data, &["token", "change-pin"], &with(KAZTOKEN_PIN, new_pin), "pin_blocked");
    let info = ok_json(ca_env(&data, &["--json", "token", "info"], &reader), "token info");
    assert_eq!((info["pin"]["state"].as_str(), info["puk"]["tries_left"].as_u64()), (Some("blocked"), Some(10)), "{info}");

    let unblock = |puk: &'static str| [reader[0], ("CA_TOKEN_PUK", puk), ("CA_TOKEN_NEW_PIN", new_pin)];
    let m = refused_with(&data, &["token", "unblock"], &unblock("99999999"), "wrong_puk");
    assert!(m.contains("9 tries left"), "{m}");
    ok_json(ca_env(&data, &["--json", "token", "unblock"], &unblock(KAZTOKEN_PUK)), "unblock");
    // The new PIN works (changing it back proves it), the old one does not.
    refused_with(&data, &["token", "change-pin"], &with(KAZTOKEN_PIN, new_pin), "wrong_pin");
    ok_json(ca_env(&data, &["--json", "token", "change-pin"], &with(new_pin, KAZTOKEN_PIN)), "change-pin");

    // Ten wrong PUKs: blocked for good, the right PUK included.
    for _ in 0..9 {
        refused_with(&data, &["token", "unblock"], &unblock("99999999"), "wrong_puk");
    }
    refused_with(&data, &["token", "unblock"], &unblock("99999999"), "puk_blocked");
    refused_with(&data, &["token", "unblock"], &unblock(KAZTOKEN_PUK), "puk_blocked");
    // The counters live in the card: pulled out and put back, still blocked.
    let mut rig = rig;
    rig.card.take().expect("inserted").pull();
    rig.card = Some(VirtualCard::insert(&rig.lease, "kaztoken", &t.join("card.json"), &[]));
    let info = ok_json(ca_env(&data, &["--json", "token", "info"], &reader), "token info");
    assert_eq!(info["puk"]["state"], "blocked", "{info}");
    assert_eq!(info["pin"]["tries_left"], 3, "{info}");
}

#[test]
fn storage_must_match_the_card() {
    let t = Scratch::new("storage");
    let data = t.join("data");
    let rig = Rig::new("kaztoken", &t.join("card.json"));
    let ks = p(&t.join("keys"));
    let m = refused_with(&data, &["enroll", "keygen", "--storage", "idcard", "--dir", &ks], &rig.env(), "storage_mismatch");
    assert!(m.contains("kaztoken"), "{m}");
    assert!(!t.join("keys/pending").exists());
    let pin = [("CA_TOKEN_READER", rig.lease.reader()), ("CA_TOKEN_PIN", "1")];
    refused_with(&data, &["enroll", "keygen", "--storage", "kaztoken", "--dir", &ks], &pin, "bad_pin");

    // The right card: two keys; the factory PIN is pointed out.
    let out = ca_env(&data, &["--json", "enroll", "keygen", "--storage", "kaztoken", "--dir", &ks], &rig.env());
    assert!(String::from_utf8_lossy(&out.stderr).contains("factory PIN"), "{}", String::from_utf8_lossy(&out.stderr));
    ok_json(out, "keygen");
    let slots =
        |data: &Path| ok_json(ca_env(data, &["--json", "token", "info"], &rig.env()), "token info")["keys"].as_array().unwrap().len();
    assert_eq!(slots(&data), 2);
    ok_json(ca_env(&data, &["--json", "token", "erase", "--slot", "1"], &rig.env()), "erase");
    assert_eq!(slots(&data), 1);
    refused_with(&data, &["token", "erase", "--slot", "1"], &rig.env(), "empty_slot");
}

/// A card with one key generated, in a fresh state file.
fn card_with_key(t: &Scratch) -> (Lease, PathBuf, u8) {
    let lease = Lease::take();
    let state = t.join("card.json");
    let card = VirtualCard::insert(&lease, "kaztoken", &state, &[]);
    let mut token = Token::open(Some(lease.reader()), Duration::from_secs(10)).unwrap();
    token.verify_pin(&Pin::new(KAZTOKEN_PIN)).unwrap();
    let (key, _) = token.generate(Role::Sign, token_drivers::applet::KeyAlgorithm::Rsa2048).unwrap();
    drop(token);
    card.pull();
    (lease, state, key.slot)
}

#[test]
fn two_programs_sign_at_once_and_both_get_good_signatures() {
    let t = Scratch::new("concurrent");
    let (lease, state, slot) = card_with_key(&t);
    let _card = VirtualCard::insert(&lease, "kaztoken", &state, &[]);
    let run = || {
        Command::new(program("card-sign"))
            .args(["--reader", lease.reader(), "--slot", &slot.to_string(), "--count", "40"])
            .env("CA_TOKEN_PIN", KAZTOKEN_PIN)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start card-sign")
    };
    let (a, b) = (run(), run());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "card-sign failed");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((report["signatures"].as_u64(), report["verified"].as_u64()), (Some(40), Some(40)), "{report}");
    }
}

#[test]
fn a_card_pulled_out_mid_signature_is_a_typed_error_and_works_when_back() {
    let t = Scratch::new("removed");
    let (lease, state, slot) = card_with_key(&t);
    let card = VirtualCard::insert(&lease, "kaztoken", &state, &["--misbehave", "vanish-on-sign"]);
    let mut token = Token::open(Some(lease.reader()), Duration::from_secs(10)).unwrap();
    token.verify_pin(&Pin::new(KAZTOKEN_PIN)).unwrap();
    let err = token.sign_digest(slot, &[1; 32]).expect_err("the card left while signing");
    assert!(matches!(err, TokenError::CardRemoved), "{err:?}");
    drop(card);
    // Back in the reader: the same handle connects again and restores the PIN it
    // verified (the card itself forgot it at power-up).
    let _card = VirtualCard::insert(&lease, "kaztoken", &state, &[]);
    let fresh = Token::open(Some(lease.reader()), Duration::from_secs(10)).unwrap().sign_digest(slot, &[1; 32]);
    assert!(matches!(fresh, Err(TokenError::PinNotVerified)), "a new power session needs the PIN: {fresh:?}");
    let spki = token.public_key(slot).unwrap();
    let sig = token.sign_digest(slot, &sha256(b"back")).unwrap();
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        spki.subject_public_key.raw_bytes(),
    );
    public.verify(b"back", &sig).expect("a good signature after re-insertion");
    // A slot without a key is named as such, by its own number.
    let empty = if slot == 8 { 7 } else { 8 };
    assert!(matches!(token.sign_digest(empty, &[1; 32]), Err(TokenError::EmptySlot(n)) if n == empty));
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

#[test]
fn a_misbehaving_card_gives_typed_errors_never_a_panic_or_a_hang() {
    let t = Scratch::new("misbehave");
    let (lease, state, slot) = card_with_key(&t);
    for mode in ["truncate", "bad-status", "overlong", "garbage"] {
        let _card = VirtualCard::insert(&lease, "kaztoken", &state, &["--misbehave", mode]);
        let started = Instant::now();
        let reader = lease.reader().to_string();
        let outcome = std::thread::spawn(move || {
            let mut token = Token::open(Some(&reader), Duration::from_secs(5)).expect("pcscd still sees a card");
            [
                token.describe().map(drop),
                token.verify_pin(&Pin::new(KAZTOKEN_PIN)),
                token.objects().map(drop),
                token.sign_digest(slot, &[2; 32]).map(drop),
                token.public_key(slot).map(drop),
            ]
            .into_iter()
            .map(|r| r.map_err(|e| format!("{e:?}")))
            .collect::<Vec<_>>()
        })
        .join()
        .unwrap_or_else(|_| panic!("the driver panicked on a {mode} card"));
        assert!(started.elapsed() < Duration::from_secs(30), "{mode}: took {:?}", started.elapsed());
        for r in outcome {
            let e = r.expect_err(&format!("a {mode} card's answer was accepted"));
            assert!(e.starts_with("Malformed") || e.starts_with("Status"), "{mode}: {e}");
        }
    }
}
