//! Acceptance of the GOST hierarchy through the real `ca` and `ca-server`: `ca
//! init` makes a GOST root, issuing CA and OCSP responder beside the RSA ones; a
//! legal entity's CEO gets an RSA AUTH and a GOST SIGN certificate; the GOST CA's
//! full and delta CRLs and the one OCSP endpoint's GOST answers (good, revoked,
//! unknown; with and without nonce) verify with our code and with Python
//! `gostcrypto` over the to-be-signed bytes, and pkilint finds nothing of severity
//! WARNING or above in any of them.

use der::{Decode, DecodePem, Encode, EncodePem};
use e2e::{ca, ca_json, eventually, fresh_authority, openssl_csr, p, p12, pkilint_findings, Server};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use x509_cert::Certificate;

/// gostcrypto's verdict on each (public key, to-be-signed bytes, signature): it
/// hashes with its own Streebog-512; values are little-endian as the authority
/// writes them (x ‖ y, r ‖ s).
const GOSTCRYPTO_VERIFY: &str = r#"
import sys, json, gostcrypto
curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019['id-tc26-gost-3410-12-512-paramSetA']
g = gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_512, curve)
def be_halves(le):
    h = len(le) // 2
    return bytearray(le[:h][::-1] + le[h:][::-1])
verdicts = []
for line in sys.stdin:
    t = json.loads(line)
    key, tbs, sig = (bytes.fromhex(t[k]) for k in ('key', 'tbs', 'sig'))
    digest = gostcrypto.gosthash.new('streebog512', data=bytearray(tbs)).digest()
    verdicts.append(bool(g.verify(be_halves(key), bytearray(digest[::-1]), be_halves(sig))))
print(json.dumps(verdicts))
"#;

/// What was signed, by which key, with which signature.
struct Signed {
    what: String,
    key: Vec<u8>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
}

/// The x ‖ y bytes of a GOST certificate's key.
fn gost_key(cert: &Certificate) -> Vec<u8> {
    let bits = cert.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes();
    der::asn1::OctetString::from_der(bits).expect("a GOST key is an OCTET STRING").as_bytes().to_vec()
}

fn gostcrypto_verdicts(items: &[&Signed]) -> Vec<bool> {
    let mut child = Command::new("python3")
        .args(["-c", GOSTCRYPTO_VERIFY])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 with gostcrypto (scripts/test.sh installs it)");
    let mut stdin = child.stdin.take().unwrap();
    for s in items {
        let line = serde_json::json!({ "key": hex::encode(&s.key), "tbs": hex::encode(&s.tbs), "sig": hex::encode(&s.signature) });
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "gostcrypto failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// gostcrypto verifies every item, and refuses each with one bit of its
/// to-be-signed bytes flipped.
fn gostcrypto_agrees(items: &[Signed]) {
    let tampered: Vec<Signed> = items
        .iter()
        .map(|s| {
            let mut tbs = s.tbs.clone();
            let at = tbs.len() / 2;
            tbs[at] ^= 0x01;
            Signed { what: format!("{} (tampered)", s.what), key: s.key.clone(), tbs, signature: s.signature.clone() }
        })
        .collect();
    let all: Vec<&Signed> = items.iter().chain(&tampered).collect();
    let verdicts = gostcrypto_verdicts(&all);
    assert_eq!(verdicts.len(), all.len());
    for (i, (s, ok)) in all.iter().zip(verdicts).enumerate() {
        assert_eq!(ok, i < items.len(), "gostcrypto on {}", s.what);
    }
}

fn certificate_signed(what: &str, cert: &Certificate, by: &Certificate) -> Signed {
    Signed {
        what: what.into(),
        key: gost_key(by),
        tbs: cert.tbs_certificate.to_der().unwrap(),
        signature: cert.signature.raw_bytes().to_vec(),
    }
}

fn crl_signed(what: &str, der: &[u8], by: &Certificate) -> Signed {
    let crl = x509_cert::crl::CertificateList::from_der(der).unwrap();
    Signed { what: what.into(), key: gost_key(by), tbs: crl.tbs_cert_list.to_der().unwrap(), signature: crl.signature.raw_bytes().to_vec() }
}

fn ocsp_signed(what: &str, der: &[u8], by: &Certificate) -> Signed {
    let response = x509_ocsp::OcspResponse::from_der(der).unwrap();
    let basic = x509_ocsp::BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes()).unwrap();
    Signed {
        what: what.into(),
        key: gost_key(by),
        tbs: basic.tbs_response_data.to_der().unwrap(),
        signature: basic.signature.raw_bytes().to_vec(),
    }
}

fn read_cert(path: &Path) -> Certificate {
    Certificate::from_pem(std::fs::read(path).unwrap()).unwrap()
}

/// A GOST 34.10-2015 request made by our library (as `ca enroll keygen --sign-key gost` does).
fn gost_csr(work: &Path, name: &str) -> PathBuf {
    let key = ca_core::gost::GostSigner::generate();
    let der = ca_core::csr::create(&key).unwrap();
    let path = work.join(format!("{name}.csr"));
    std::fs::write(&path, der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &der).unwrap()).unwrap();
    path
}

/// `ca issue` for a CEO with an RSA AUTH request from openssl and a GOST SIGN
/// request; returns (AUTH file, SIGN file, SIGN serial).
fn issue_ceo(data: &Path, work: &Path, tag: &str) -> (PathBuf, PathBuf, String) {
    let auth = openssl_csr(work, &format!("{tag}-auth"), 2048);
    let sign = gost_csr(work, &format!("{tag}-sign"));
    let out = work.join(format!("{tag}-out"));
    let who = e2e::ceo();
    let mut args = vec!["issue", "--iin", who.iin];
    args.extend(who.flags.iter().copied());
    let (auth, sign, out) = (p(&auth), p(&sign), p(&out));
    args.extend(["--auth-csr", &auth, "--sign-csr", &sign, "--out", &out]);
    let v = ca_json(data, &args);
    let files: Vec<PathBuf> = v["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().into()).collect();
    (files[0].clone(), files[1].clone(), v["sign"]["serial"].as_str().unwrap().to_string())
}

fn serious_cert_findings(file: &Path) -> Vec<String> {
    pkilint_findings(&["lint_pkix_cert", "lint"], file)
}

fn serious_crl_findings(file: &Path) -> Vec<String> {
    pkilint_findings(&["lint_crl", "lint", "-t", "CRL", "-p", "PKIX"], file)
}

fn serious_ocsp_findings(file: &Path) -> Vec<String> {
    pkilint_findings(&["lint_ocsp_response", "lint"], file)
}

#[test]
fn init_makes_a_gost_hierarchy_whose_certificates_and_crls_gostcrypto_verifies() {
    let s = fresh_authority();
    let data = s.join("data");
    let [root, issuing, ocsp] = ["gost_root.pem", "gost_issuing.pem", "gost_ocsp.pem"].map(|f| data.join(f));
    let (root_cert, issuing_cert, ocsp_cert) = (read_cert(&root), read_cert(&issuing), read_cert(&ocsp));
    let (auth, sign, sign_serial) = issue_ceo(&data, s.path(), "ceo");
    let name = |f: &Path| f.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name(&auth).starts_with("AUTH_RSA256_"), "{}", name(&auth));
    assert!(name(&sign).starts_with("GOSTKNCA_"), "the authority's name for a GOST SIGN file: {}", name(&sign));
    let sign_cert = read_cert(&sign);

    // Our own verification, through the CLI.
    let inspected = ca_json(&data, &["inspect", "--issuer", &p(&issuing), &p(&sign)]);
    assert_eq!(inspected["signature_valid"], true, "{inspected}");
    let wrong = ca(&data, &["inspect", "--issuer", &p(&data.join("issuing.pem")), &p(&sign)]);
    assert!(!wrong.status.success(), "the RSA CA did not sign a GOST SIGN certificate");
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("does not verify"));
    assert_eq!(inspected["owner"]["bin"], "040840000124");

    // The GOST CA's CRLs: a full one, a revocation, a delta and a full one listing it.
    let crl = |args: &[&str], file: &str| {
        let out = s.join(file);
        let mut all = vec!["crl", "--gost", "--out"];
        let out_s = p(&out);
        all.push(&out_s);
        all.extend(args);
        ca_json(&data, &all);
        out
    };
    let full = crl(&[], "gost-full.crl");
    ca_json(&data, &["revoke", &sign_serial, "--reason", "keyCompromise"]);
    let delta = crl(&["--delta"], "gost-delta.crl");
    let full2 = crl(&[], "gost-full2.crl");
    let root_crl = crl(&["--root"], "gost-root.crl");
    let rsa_full = s.join("rsa-full.crl");
    ca_json(&data, &["crl", "--out", &p(&rsa_full)]);
    for (file, listed) in [(&full, false), (&delta, true), (&full2, true)] {
        let v = ca_json(&data, &["inspect", "--issuer", &p(&issuing), &p(file)]);
        assert_eq!(v["signature_valid"], true, "{v}");
        let serials: Vec<String> = v["entries"].as_array().unwrap().iter().map(|e| e["serial"].as_str().unwrap().to_string()).collect();
        assert_eq!(serials.contains(&sign_serial), listed, "{} lists {sign_serial}: {serials:?}", file.display());
    }
    // The RSA CA's CRL does not list what the GOST CA issued.
    let rsa = ca_json(&data, &["inspect", "--issuer", &p(&data.join("issuing.pem")), &p(&rsa_full)]);
    assert!(!rsa.to_string().contains(&sign_serial));

    // pkilint: nothing of WARNING or above (it checks structure, not GOST signatures).
    for f in [&root, &issuing, &ocsp, &sign] {
        assert_eq!(serious_cert_findings(f), Vec::<String>::new(), "{}", f.display());
    }
    for f in [&full, &delta, &full2, &root_crl] {
        assert_eq!(serious_crl_findings(f), Vec::<String>::new(), "{}", f.display());
    }

    // gostcrypto verifies every GOST signature over the to-be-signed bytes.
    let der = |f: &Path| std::fs::read(f).unwrap();
    gostcrypto_agrees(&[
        certificate_signed("GOST root", &root_cert, &root_cert),
        certificate_signed("GOST issuing CA", &issuing_cert, &root_cert),
        certificate_signed("GOST OCSP responder", &ocsp_cert, &issuing_cert),
        certificate_signed("GOST SIGN certificate", &sign_cert, &issuing_cert),
        crl_signed("full CRL", &der(&full), &issuing_cert),
        crl_signed("delta CRL", &der(&delta), &issuing_cert),
        crl_signed("second full CRL", &der(&full2), &issuing_cert),
        crl_signed("root CRL", &der(&root_crl), &root_cert),
    ]);
}

/// The body of a GET, or `None` while the server has nothing there yet (503).
fn fetch(url: &str) -> Option<Vec<u8>> {
    let resp = ureq::get(url).timeout(Duration::from_secs(10)).call().ok()?;
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).ok()?;
    Some(body)
}

fn get(url: &str) -> Vec<u8> {
    fetch(url).unwrap_or_else(|| panic!("GET {url} failed"))
}

/// `openssl ocsp` against the server for the certificates each issuer issued,
/// `-noverify` (openssl cannot check GOST signatures; our code and gostcrypto do);
/// returns openssl's text and the response.
fn openssl_ocsp(server: &Server, work: &Path, pairs: &[(&Path, &Path)], extra: &[&str], tag: &str) -> (String, Vec<u8>) {
    let mut args = Vec::new();
    for (issuer, cert) in pairs {
        args.extend(["-issuer".to_string(), p(issuer), "-cert".to_string(), p(cert)]);
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    openssl_ocsp_args(server, work, &args, tag)
}

fn openssl_ocsp_args(server: &Server, work: &Path, args: &[String], tag: &str) -> (String, Vec<u8>) {
    let out_file = work.join(format!("{tag}.ocsp"));
    let mut cmd = Command::new("openssl");
    cmd.args(["ocsp", "-url", &format!("{}/ocsp/", server.url()), "-timeout", "10", "-noverify", "-resp_text"]).args(args);
    cmd.arg("-respout").arg(&out_file);
    let out = cmd.output().expect("run openssl ocsp");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, std::fs::read(&out_file).unwrap_or_default())
}

#[test]
fn the_server_publishes_the_gost_hierarchy_and_one_ocsp_endpoint_answers_for_both_cas() {
    let s = fresh_authority();
    let data = s.join("data");
    e2e::configure(&data, "crl", serde_json::json!({ "full_interval_seconds": 3600, "delta_interval_seconds": 1 }));
    e2e::configure(&data, "ocsp", serde_json::json!({ "validity_seconds": 600, "status_poll_ms": 200 }));
    let (rsa_auth, sign, sign_serial) = issue_ceo(&data, s.path(), "ceo");
    let issuing = data.join("gost_issuing.pem");
    let issuing_cert = read_cert(&issuing);
    let ocsp_cert = read_cert(&data.join("gost_ocsp.pem"));
    let server = Server::on(&data);

    // The certificates at the URLs the certificates name, the CRLs at theirs.
    assert_eq!(get(&format!("{}/cert/nca_gost.cer", server.url())), issuing_cert.to_der().unwrap());
    assert_eq!(get(&format!("{}/cert/root_gost.cer", server.url())), read_cert(&data.join("gost_root.pem")).to_der().unwrap());
    let aia = String::from_utf8_lossy(&read_cert(&sign).to_der().unwrap()).into_owned();
    assert!(aia.contains("http://pki.test.kz/cert/nca_gost.cer") && aia.contains("http://pki.test.kz/crl/nca_gost.crl"));
    for path in ["/crl/nca_gost.crl", "/crl/nca_d_gost.crl", "/crl/root_gost.crl"] {
        let issuer = if path.contains("root") { read_cert(&data.join("gost_root.pem")) } else { issuing_cert.clone() };
        let mut crl = Vec::new();
        assert!(
            eventually(Duration::from_secs(20), || {
                crl = fetch(&format!("{}{path}", server.url())).unwrap_or_default();
                ca_core::crl::read(&crl, Some(&issuer)).is_ok()
            }),
            "{path} served and signed by its GOST CA"
        );
    }

    // good, without a nonce (cached) and with one (signed for the request).
    let pair = [(issuing.as_path(), sign.as_path())];
    let (text, good) = openssl_ocsp(&server, s.path(), &pair, &["-no_nonce"], "good");
    assert!(text.contains(": good"), "{text}");
    let (text, good_nonce) = openssl_ocsp(&server, s.path(), &pair, &[], "good-nonce");
    assert!(text.contains(": good") && text.contains("OCSP Nonce"), "{text}");
    // The RSA AUTH certificate, through the same endpoint, from the RSA responder.
    let (text, _) = openssl_ocsp(&server, s.path(), &[(&data.join("issuing.pem"), &rsa_auth)], &["-no_nonce"], "rsa");
    assert!(text.contains(": good") && text.contains("sha256WithRSAEncryption"), "{text}");
    // The RSA certificate's serial asked of the GOST CA: that CA never issued it.
    let rsa_serial = format!("0x{}", ca_core::model::Serial::of(&read_cert(&rsa_auth)).as_str());
    let ask = ["-issuer".to_string(), p(&issuing), "-serial".into(), rsa_serial, "-no_nonce".into()];
    let (text, unknown) = openssl_ocsp_args(&server, s.path(), &ask, "unknown");
    assert!(text.contains(": unknown"), "{text}");
    // One request naming both CAs cannot be signed by one responder.
    let (text, _) = openssl_ocsp(&server, s.path(), &[(&issuing, &sign), (&data.join("issuing.pem"), &rsa_auth)], &[], "mixed");
    assert!(text.contains("unauthorized"), "{text}");

    ca_json(&data, &["revoke", &sign_serial, "--reason", "keyCompromise"]);
    let mut revoked = Vec::new();
    assert!(eventually(Duration::from_secs(20), || {
        let (text, der) = openssl_ocsp(&server, s.path(), &pair, &["-no_nonce"], "revoked");
        revoked = der;
        text.contains(": revoked") && text.contains("Reason: keyCompromise")
    }));
    let (text, revoked_nonce) = openssl_ocsp(&server, s.path(), &pair, &[], "revoked-nonce");
    assert!(text.contains(": revoked"), "{text}");

    let answers = [
        ("good", &good),
        ("good with nonce", &good_nonce),
        ("unknown", &unknown),
        ("revoked", &revoked),
        ("revoked with nonce", &revoked_nonce),
    ];
    for (what, der) in answers {
        // Our reader checks the GOST signature and that the responder is the GOST CA's.
        let info = ocsp::read_response(der, Some(&issuing_cert)).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(info.signature_valid, Some(true), "{what}");
        let file = s.join(&format!("{}.der", what.replace(' ', "-")));
        std::fs::write(&file, der).unwrap();
        assert_eq!(serious_ocsp_findings(&file), Vec::<String>::new(), "{what}");
        // And through the CLI: `ca inspect --issuer` checks the responder's GOST signature.
        let inspected = ca_json(&data, &["inspect", "--issuer", &p(&issuing), &p(&file)]);
        assert_eq!(inspected["signature_valid"], true, "{what}: {inspected}");
    }
    gostcrypto_agrees(&answers.map(|(what, der)| ocsp_signed(what, der, &ocsp_cert)));
    let mut tampered = good.clone();
    let signature = {
        let response = x509_ocsp::OcspResponse::from_der(&good).unwrap();
        let basic = x509_ocsp::BasicOcspResponse::from_der(response.response_bytes.unwrap().response.as_bytes()).unwrap();
        basic.signature.raw_bytes().to_vec()
    };
    let at = tampered.windows(signature.len()).position(|w| w == signature.as_slice()).unwrap() + signature.len() / 2;
    tampered[at] ^= 1;
    // One bit of the GOST signature flipped: the answer still decodes, and its signature fails.
    let read = ocsp::read_response(&tampered, Some(&issuing_cert));
    assert!(matches!(read, Err(ocsp::OcspError::Signature(_))), "{:?}", read.map(|i| i.signature_valid));

    // The GOST delta CRL served lists the revocation.
    assert!(eventually(Duration::from_secs(20), || {
        let crl = fetch(&format!("{}/crl/nca_d_gost.crl", server.url())).unwrap_or_default();
        ca_core::crl::read(&crl, Some(&issuing_cert)).is_ok_and(|i| i.entries.iter().any(|e| e.serial.as_str() == sign_serial))
    }));
}

#[test]
fn a_ceo_applies_online_and_gets_an_rsa_auth_and_a_gost_sign_pair_then_renews_and_revokes() {
    let s = fresh_authority();
    let data = s.join("data");
    e2e::configure(&data, "ocsp", serde_json::json!({ "status_poll_ms": 200 }));
    let server = Server::on(&data);
    let url = server.url();
    let ks = s.join("ceo");
    let made = ca_json(&data, &["enroll", "keygen", "--dir", &p(&ks), "--sign-key", "gost"]);
    assert_eq!(made["storage"], "pc");
    let csr = std::fs::read(ks.join("pending/sign.csr")).unwrap();
    let verified = ca_core::csr::verify_csr(&csr).unwrap();
    assert_eq!(verified.family(), ca_core::model::Family::Gost, "the SIGN key is GOST 34.10-2015");
    assert!(std::fs::read_to_string(ks.join("pending/sign.key")).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));

    let who = e2e::ceo();
    let mut args = vec!["enroll", "apply", "--server", &url, "--dir"];
    let ks_s = p(&ks);
    args.push(&ks_s);
    args.extend(["--iin", who.iin, "--surname", "Тестов", "--name", "Тест", "--center", "ЦОН Астана"]);
    args.extend(["--bin", "040840000124", "--org", "АО \"ТЕСТ\"", "--role", "ceo"]);
    let number = ca_json(&data, &args)["number"].as_str().unwrap().to_string();
    ca_json(&data, &["application", "confirm", &number]);
    let fetched = ca_json(&data, &["enroll", "fetch", "--server", &url, &number, "--dir", &p(&ks)]);
    assert_eq!(fetched["files"].as_array().unwrap().len(), 2, "{fetched}");

    // The authority's file names; the GOST key in its PKCS#12 file matches its certificate.
    let auth_file = p12(&ks, "AUTH_RSA256_");
    let sign_file = p12(&ks, "GOSTKNCA_");
    let gost_issuing = read_cert(&data.join("gost_issuing.pem"));
    let rsa_issuing = read_cert(&data.join("issuing.pem"));
    let password = ["--password", e2e::KEY_PASSWORD];
    let inspect = |file: &Path| {
        let mut a = vec!["inspect"];
        a.extend(password);
        let f = p(file);
        a.push(&f);
        ca_json(&data, &a)
    };
    let sign = inspect(&sign_file);
    let entries = sign["entries"].as_array().unwrap();
    assert_eq!(entries[0]["key_algorithm"], "1.2.398.3.10.1.1.2.2");
    assert_eq!(entries[0]["key_matches_certificate"], true);
    assert_eq!(entries[0]["owner"]["bin"], "040840000124");
    // Its chain is the GOST CA's: issuing CA, then root.
    assert_eq!(entries.len(), 3, "{sign}");
    assert!(entries[1]["subject"].as_str().unwrap().contains("(GOST)"), "{sign}");
    let auth = inspect(&auth_file);
    assert_eq!(auth["entries"][0]["key_algorithm"], "1.2.840.113549.1.1.1");
    assert!(auth["entries"][1]["subject"].as_str().unwrap().contains("(RSA)"), "{auth}");
    let store = ca_core::pkcs12::read(&std::fs::read(&sign_file).unwrap(), e2e::KEY_PASSWORD).unwrap();
    ca_core::verify::verify_issued_by(&store.certificate, &gost_issuing).unwrap();
    let old_sign = store.certificate.clone();
    let old_auth = ca_core::pkcs12::read(&std::fs::read(&auth_file).unwrap(), e2e::KEY_PASSWORD).unwrap().certificate;
    ca_core::verify::verify_issued_by(&old_auth, &rsa_issuing).unwrap();

    // Renewal, signed with the GOST SIGN key: a new GOST SIGN and RSA AUTH pair.
    let renewed = ca_json(&data, &["enroll", "renew", "--server", &url, "--dir", &p(&ks)]);
    assert_eq!(renewed["files"].as_array().unwrap().len(), 2, "{renewed}");
    let new_sign = ca_core::pkcs12::read(&std::fs::read(p12(&ks, "GOSTKNCA_")).unwrap(), e2e::KEY_PASSWORD).unwrap();
    assert_ne!(new_sign.certificate, old_sign);
    assert_eq!(new_sign.certificate.tbs_certificate.subject_public_key_info.algorithm.oid, ca_core::oid::GOST_2015_512_KEY);
    ca_core::verify::verify_issued_by(&new_sign.certificate, &gost_issuing).unwrap();
    for old in [&old_sign, &old_auth] {
        let shown = ca_json(&data, &["show", ca_core::model::Serial::of(old).as_str()]);
        assert_eq!(shown["status"]["status"], "revoked");
        assert_eq!(shown["status"]["reason"], "superseded");
    }
    // OCSP for the superseded GOST certificate says so, signed in GOST.
    let old_file = s.join("old-sign.pem");
    std::fs::write(&old_file, old_sign.to_pem(der::pem::LineEnding::LF).unwrap()).unwrap();
    let issuing = data.join("gost_issuing.pem");
    assert!(eventually(Duration::from_secs(20), || {
        let (text, der) = openssl_ocsp(&server, s.path(), &[(&issuing, &old_file)], &["-no_nonce"], "superseded");
        text.contains(": revoked") && ocsp::read_response(&der, Some(&gost_issuing)).is_ok_and(|i| i.signature_valid == Some(true))
    }));

    // The holder revokes the new pair, signing with the GOST key.
    let revoked = ca_json(&data, &["enroll", "revoke", "--server", &url, "--dir", &p(&ks), "--reason", "keyCompromise"]);
    assert_eq!(revoked["revoked"].as_array().unwrap().len(), 2, "{revoked}");
    let shown = ca_json(&data, &["show", ca_core::model::Serial::of(&new_sign.certificate).as_str()]);
    assert_eq!(shown["status"]["reason"], "keyCompromise");
}
