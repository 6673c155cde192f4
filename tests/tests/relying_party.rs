//! Acceptance for relying parties: the authority's real CMS files and ours verify
//! (and `openssl cms -verify` agrees), every path failure has its own verdict, and
//! revocation is learnt from our server's OCSP and CRLs, never from an answer that
//! is unauthorised, stale or echoes another nonce.

use ca_core::verify::{Fetch, FetchError, HttpFetch};
use ca_core::verify::revocation::{self, OcspProblem, StatusSource};
use ca_core::verify::{
    Checks, OnUnavailable, PathError, Problem, Purpose, RevocationChecker, RevocationMode, RevocationPolicy, TrustStore, Verifier,
};
use der::{Decode, DecodePem, Encode};
use e2e::{
    ca, ca_anywhere, eventually, fresh_authority, issue, json_of, key_store_from_openssl, p, program, reference, run_ok, Scratch, Server,
    KEY_PASSWORD,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;
use x509_cert::Certificate;

const SIGN_FILE: &str = "RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9";
const AUTH_FILES: [&str; 2] =
    ["AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d", "AUTH_RSA256_d682726b55b3e62600ea8fe1c74e75fc96f47790"];
const GOST_FILE: &str = "GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b";
const JUNE_2020: &str = "2020-06-01T00:00:00Z";

/// The base64 `.cms` file as DER, for openssl.
fn der_file(work: &Path, name: &str) -> PathBuf {
    let der = ca_core::pem::read_der(&std::fs::read(reference(&format!("{name}.cms"))).unwrap()).unwrap();
    let path = work.join(format!("{name}.der"));
    std::fs::write(&path, der).unwrap();
    path
}

fn openssl_cms_verify(cms: &Path, ca_file: &Path, extra: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(cms)
        .arg("-CAfile")
        .arg(ca_file)
        .args(["-partial_chain", "-out", "/dev/null"])
        .args(extra)
        .output()
        .expect("run openssl cms");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `ca cms|xml verify FILE` against `trust` as of 2020-06-01, offline, for `purpose`.
fn as_of_june_2020(kind: &str, file: &Path, trust: &Path, purpose: &str) -> Output {
    ca_anywhere(&[
        kind,
        "verify",
        &p(file),
        "--trust",
        &p(trust),
        "--at",
        JUNE_2020,
        "--revocation",
        "none",
        "--purpose",
        purpose,
        "--json",
    ])
}

fn june_2020_epoch() -> String {
    ca_core::calendar::parse_rfc3339(JUNE_2020).unwrap().to_string()
}

#[test]
fn the_authoritys_signatures_verify_for_their_purpose_and_openssl_agrees() {
    let work = Scratch::new("rp-real");
    let ca_pem = reference("nca_rsa_test.pem");
    let attime = june_2020_epoch();
    let verify = |name: &str, trust: &Path, purpose: &str| as_of_june_2020("cms", &reference(&format!("{name}.cms")), trust, purpose);
    // The SIGN key's signature: valid for signing, here and in openssl (S/MIME signing purpose).
    let out = verify(SIGN_FILE, &ca_pem, "sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json_of(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["attached"], true);
    assert_eq!(v["signers"][0]["certificate"]["owner"]["iin"], "123456789011");
    assert_eq!(v["signers"][0]["path"].as_array().unwrap().len(), 2);
    let (ok, err) = openssl_cms_verify(&der_file(work.path(), SIGN_FILE), &ca_pem, &["-attime", &attime]);
    assert!(ok, "openssl: {err}");
    // The AUTH keys' signatures: not for signing (openssl: unsuitable purpose), fine for login.
    for name in AUTH_FILES {
        let out = verify(name, &ca_pem, "sign");
        assert_eq!(out.status.code(), Some(1), "{name}");
        let v = json_of(&out);
        assert_eq!(v["valid"], false);
        assert_eq!(v["signers"][0]["problem"], "key_usage", "{name}");
        assert_eq!(v["signers"][0]["failed_at_depth"], 0);
        let der = der_file(work.path(), name);
        let (ok, err) = openssl_cms_verify(&der, &ca_pem, &["-attime", &attime]);
        assert!(!ok && err.contains("unsuitable certificate purpose"), "openssl: {err}");
        let out = verify(name, &ca_pem, "auth");
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let (ok, err) = openssl_cms_verify(&der, &ca_pem, &["-attime", &attime, "-purpose", "sslclient"]);
        assert!(ok, "openssl: {err}");
    }
    // The GOST 34.310-2004 signature of a legal entity's CEO.
    let out = verify(GOST_FILE, &reference("nca_gost_test.pem"), "sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_of(&out)["signers"][0]["certificate"]["owner"]["bin"], "123456789021");
    // Trusting the other hierarchy, or checking a year later, is not valid.
    let out = verify(GOST_FILE, &ca_pem, "sign");
    assert_eq!(json_of(&out)["signers"][0]["problem"], "unknown_issuer");
    let out = ca_anywhere(&[
        "verify",
        &p(&reference(&format!("{SIGN_FILE}.cer"))),
        "--trust",
        &p(&ca_pem),
        "--at",
        "2021-06-01T00:00:00Z",
        "--revocation",
        "none",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["problem"], "expired");
}

#[test]
fn a_changed_byte_fails_with_its_own_reason_and_openssl_fails_too() {
    let work = Scratch::new("rp-tamper");
    let der = std::fs::read(der_file(work.path(), SIGN_FILE)).unwrap();
    let ca_pem = reference("nca_rsa_test.pem");
    let content_at = der.windows(6).position(|w| w == b"asdasd").unwrap();
    let time_at = der.windows(4).position(|w| w == b"2009").unwrap() + 3;
    let last = der.len() - 3;
    for (at, code) in [(content_at, "content_changed"), (time_at, "bad_signature"), (last, "bad_signature")] {
        let mut bad = der.clone();
        bad[at] ^= 1;
        let file = work.join("bad.der");
        std::fs::write(&file, &bad).unwrap();
        let out = ca_anywhere(&["cms", "verify", &p(&file), "--trust", &p(&ca_pem), "--at", JUNE_2020, "--revocation", "none", "--json"]);
        assert_eq!(out.status.code(), Some(1), "byte {at}");
        assert_eq!(json_of(&out)["error"]["code"], code, "byte {at}");
        let (ok, _) = openssl_cms_verify(&file, &ca_pem, &["-attime", &june_2020_epoch()]);
        assert!(!ok, "openssl accepted a changed byte at {at}");
    }
}

/// An authority with a pair issued to an individual and key stores made of it.
struct Issued {
    scratch: Scratch,
    issued: Value,
    ks: PathBuf,
}

impl Issued {
    fn new(tag: &str) -> Issued {
        let scratch = fresh_authority();
        let work = scratch.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let issued = issue(&scratch.join("data"), &work, &e2e::individual(), tag);
        let ks = scratch.join("ks");
        key_store_from_openssl(&work, &issued, tag, &ks);
        Issued { scratch, issued, ks }
    }

    fn data(&self) -> PathBuf {
        self.scratch.join("data")
    }

    fn cert(&self, kind: &str) -> Certificate {
        let i = if kind == "auth" { 0 } else { 1 };
        Certificate::from_pem(std::fs::read(self.issued["files"][i].as_str().unwrap()).unwrap()).unwrap()
    }

    fn cert_file(&self, kind: &str) -> String {
        self.issued["files"][if kind == "auth" { 0 } else { 1 }].as_str().unwrap().to_string()
    }

    fn ca_cert(&self, name: &str) -> Certificate {
        Certificate::from_pem(std::fs::read(self.data().join(name)).unwrap()).unwrap()
    }

    fn chain_file(&self) -> PathBuf {
        let path = self.scratch.join("chain.pem");
        let mut pem = std::fs::read(self.data().join("root.pem")).unwrap();
        pem.extend(std::fs::read(self.data().join("issuing.pem")).unwrap());
        std::fs::write(&path, pem).unwrap();
        path
    }

    /// `ca cms verify` of `sig` (with `content` beside it) against this authority's CAs.
    fn cms_verify(&self, sig: &Path, content: Option<&Path>, purpose: &str) -> Output {
        let (root, issuing) = (p(&self.data().join("root.pem")), p(&self.data().join("issuing.pem")));
        let sig = p(sig);
        let mut args = vec![
            "cms",
            "verify",
            &sig,
            "--trust",
            &root,
            "--intermediate",
            &issuing,
            "--revocation",
            "none",
            "--purpose",
            purpose,
            "--json",
        ];
        let content = content.map(p);
        if let Some(c) = &content {
            args.extend(["--content", c]);
        }
        ca_anywhere(&args)
    }

    fn key(&self, tag: &str, kind: &str) -> ca_core::signing::RsaSigner {
        let pem = std::fs::read(self.scratch.join(&format!("work/{tag}-{kind}.key"))).unwrap();
        let (_, der) = ca_core::pem::decode(&pem).unwrap();
        ca_core::signing::RsaSigner::from_pkcs8(&der).unwrap()
    }
}

#[test]
fn our_signatures_verify_here_and_in_openssl_attached_and_detached() {
    let a = Issued::new("rp-ours");
    let doc = a.scratch.join("contract.txt");
    std::fs::write(&doc, "Договор № 1: стороны согласны.\n").unwrap();
    let pw = a.scratch.join("pw");
    std::fs::write(&pw, KEY_PASSWORD).unwrap();
    let chain = a.chain_file();
    for (prefix, purpose, openssl_purpose) in [("RSA256_", "sign", "smimesign"), ("AUTH_RSA256_", "auth", "sslclient")] {
        let key_file = p(&a.ks.join(format!("{prefix}rp-ours.p12")));
        for detached in [false, true] {
            let sig = a.scratch.join(&format!("{prefix}{detached}.cms"));
            let (doc_s, pw_s, sig_s) = (p(&doc), p(&pw), p(&sig));
            let mut args = vec!["cms", "sign", &doc_s, "--key-file", &key_file, "--password-file", &pw_s, "--out", &sig_s];
            if detached {
                args.push("--detached");
            }
            run_ok(Command::new(program("ca")).args(&args));
            let content = detached.then_some(doc.as_path());
            let out = a.cms_verify(&sig, content, purpose);
            assert!(out.status.success(), "{prefix} detached={detached}: {}", String::from_utf8_lossy(&out.stdout));
            let v = json_of(&out);
            assert_eq!(v["signers"][0]["certificate_bound"], true);
            assert_eq!(v["signers"][0]["path"].as_array().unwrap().len(), 3);
            let mut extra = vec!["-purpose", openssl_purpose];
            if detached {
                extra.extend(["-binary", "-content", &doc_s]);
            }
            let (ok, err) = openssl_cms_verify(&sig, &chain, &extra);
            assert!(ok, "openssl {prefix} detached={detached}: {err}");
            // The AUTH certificate is not for signing, here or in openssl.
            if purpose == "auth" {
                let out = a.cms_verify(&sig, content, "sign");
                assert_eq!(out.status.code(), Some(1));
                assert_eq!(json_of(&out)["signers"][0]["problem"], "key_usage");
                let extra: Vec<&str> = extra.iter().map(|a| if *a == "sslclient" { "smimesign" } else { a }).collect();
                assert!(!openssl_cms_verify(&sig, &chain, &extra).0);
            }
        }
    }
    // A detached signature over other content.
    let sig = a.scratch.join("RSA256_true.cms");
    let other = a.scratch.join("other.txt");
    std::fs::write(&other, "Договор № 2\n").unwrap();
    let out = a.cms_verify(&sig, Some(&other), "sign");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["error"]["code"], "content_changed");
}

fn problem(r: Result<ca_core::verify::Verdict, PathError>) -> (usize, Problem) {
    let e = r.expect_err("a verdict that is not valid");
    (e.depth, e.problem)
}

#[test]
fn each_path_failure_has_its_own_verdict() {
    let a = Issued::new("rp-path");
    let (root, issuing) = (a.ca_cert("root.pem"), a.ca_cert("issuing.pem"));
    let (auth, sign) = (a.cert("auth"), a.cert("sign"));
    let mut trust = TrustStore::new(vec![root.clone()]);
    trust.add_intermediate(issuing.clone());
    let v = Verifier::new(trust, RevocationChecker::none());
    let now = Checks::now(Purpose::Sign);
    let verdict = v.verify(&sign, &[], &now).unwrap();
    assert_eq!(verdict.path.certificates(), [sign.clone(), issuing.clone(), root.clone()]);
    assert!(!verdict.status_established());
    assert!(v.verify(&auth, &[], &Checks::now(Purpose::Auth)).is_ok());
    // An AUTH certificate used to sign.
    assert!(matches!(problem(v.verify(&auth, &[], &now)), (0, Problem::KeyUsage { purpose: Purpose::Sign, .. })));
    // A SIGN certificate used to log in: no digitalSignature is not the case here, so the EKU decides.
    assert!(matches!(
        problem(v.verify(&sign, &[], &Checks::now(Purpose::Auth))),
        (0, Problem::ExtendedKeyUsage { purpose: Purpose::Auth })
    ));
    // Before and after its validity.
    let validity = &sign.tbs_certificate.validity;
    let shifted = |t: &x509_cert::time::Time, by: i64| {
        ca_core::calendar::from_unix_seconds(ca_core::calendar::unix_seconds(&t.to_date_time()) + by).unwrap()
    };
    assert!(matches!(
        problem(v.verify(&sign, &[], &Checks::at(Purpose::Sign, shifted(&validity.not_before, -60)))),
        (0, Problem::NotYetValid { .. })
    ));
    assert!(matches!(
        problem(v.verify(&sign, &[], &Checks::at(Purpose::Sign, shifted(&validity.not_after, 60)))),
        (0, Problem::Expired { .. })
    ));
    // A broken signature.
    let mut broken = sign.clone();
    let mut bits = broken.signature.raw_bytes().to_vec();
    bits[10] ^= 1;
    broken.signature = der::asn1::BitString::from_bytes(&bits).unwrap();
    assert!(matches!(problem(v.verify(&broken, &[], &now)), (0, Problem::Signature(_))));
    // An unknown root: trusting only the authority's real test CA.
    let stranger = Verifier::new(
        TrustStore::new(vec![Certificate::from_pem(std::fs::read(reference("nca_rsa_test.pem")).unwrap()).unwrap()]),
        RevocationChecker::none(),
    );
    assert!(matches!(problem(stranger.verify(&sign, std::slice::from_ref(&issuing), &now)), (1, Problem::UnknownIssuer)));
    // A holder who issues a certificate with their SIGN key: their certificate is no CA.
    let mut forged = auth.clone();
    forged.tbs_certificate.issuer = sign.tbs_certificate.subject.clone();
    forged.tbs_certificate.extensions.as_mut().unwrap().retain(|e| e.extn_id != ca_core::oid::EXT_AUTHORITY_KEY_ID);
    let key = a.key("rp-path", "sign");
    let tbs = forged.tbs_certificate.to_der().unwrap();
    let sig = ca_core::signing::Signer::sign(&key, &tbs).unwrap();
    forged.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    let v_issuing = Verifier::new(TrustStore::new(vec![issuing.clone()]), RevocationChecker::none());
    assert!(matches!(problem(v_issuing.verify(&forged, std::slice::from_ref(&sign), &Checks::now(Purpose::Auth))), (1, Problem::NotCa)));
}

/// Fetches the authority's URLs (`http://pki.test.kz/...`, as its certificates name
/// them) from the test server instead, as a local mirror would serve them.
struct Mirror {
    base: String,
    http: HttpFetch,
}

impl Mirror {
    fn url(&self, url: &str) -> String {
        url.replace("http://pki.test.kz", &self.base)
    }
}

impl Fetch for Mirror {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.http.get(&self.url(url))
    }
    fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, FetchError> {
        self.http.post(&self.url(url), content_type, body)
    }
}

fn mirror(server: &Server) -> Box<dyn Fetch> {
    Box::new(Mirror { base: server.url(), http: HttpFetch::new(Duration::from_secs(10)) })
}

fn checker(server: &Server, mode: RevocationMode) -> RevocationChecker {
    RevocationChecker::new(RevocationPolicy { mode, ocsp_cache_seconds: 0, ..RevocationPolicy::default() }, Some(mirror(server)))
}

/// A fresh authority whose server publishes a delta CRL every second.
fn quick(a: &Issued) {
    e2e::configure(&a.data(), "crl", serde_json::json!({ "full_interval_seconds": 3600, "delta_interval_seconds": 1 }));
    e2e::configure(&a.data(), "ocsp", serde_json::json!({ "validity_seconds": 600, "status_poll_ms": 200 }));
}

#[test]
fn revocation_is_learnt_from_ocsp_and_from_the_crl_and_its_delta() {
    let a = Issued::new("rp-rev");
    quick(&a);
    let server = Server::on(&a.data());
    let (root, issuing) = (a.ca_cert("root.pem"), a.ca_cert("issuing.pem"));
    let (auth, sign) = (a.cert("auth"), a.cert("sign"));
    let verifier = |mode| {
        let mut trust = TrustStore::new(vec![root.clone()]);
        trust.add_intermediate(issuing.clone());
        Verifier::new(trust, checker(&server, mode))
    };
    // Only the root trusted and no intermediate at hand: the issuing CA comes from
    // the certificate's AIA caIssuers URL when fetching is allowed, not otherwise.
    let bare = || Verifier::new(TrustStore::new(vec![root.clone()]), RevocationChecker::none());
    assert!(matches!(problem(bare().verify(&sign, &[], &Checks::now(Purpose::Sign))), (0, Problem::UnknownIssuer)));
    let via_aia = bare().fetching_issuers(mirror(&server)).verify(&sign, &[], &Checks::now(Purpose::Sign)).unwrap();
    assert_eq!(via_aia.path.certificates(), [sign.clone(), issuing.clone(), root.clone()]);
    // Before: good by OCSP, and by the CRLs (a delta on top of the full one).
    let by_ocsp = verifier(RevocationMode::Ocsp).verify(&sign, &[], &Checks::now(Purpose::Sign)).unwrap();
    assert_eq!(by_ocsp.statuses[0].source, Some(StatusSource::Ocsp));
    let by_crl = verifier(RevocationMode::Crl);
    assert!(eventually(Duration::from_secs(20), || by_crl.verify(&sign, &[], &Checks::now(Purpose::Sign)).is_ok()));
    let good = by_crl.verify(&sign, &[], &Checks::now(Purpose::Sign)).unwrap();
    assert_eq!(good.statuses[0].source, Some(StatusSource::DeltaCrl));

    let serial = a.issued["sign"]["serial"].as_str().unwrap().to_string();
    let out = ca(&a.data(), &["revoke", &serial, "--reason", "keyCompromise"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let revoked_by = |mode| match verifier(mode).verify(&sign, &[], &Checks::now(Purpose::Sign)) {
        Err(PathError { depth: 0, problem: Problem::Revoked { by, reason, .. }, .. }) => Some((by, reason)),
        _ => None,
    };
    assert!(eventually(Duration::from_secs(20), || revoked_by(RevocationMode::Ocsp).is_some()), "OCSP never said revoked");
    assert_eq!(revoked_by(RevocationMode::Ocsp), Some((StatusSource::Ocsp, Some(ca_core::RevocationReason::KeyCompromise))));
    assert!(eventually(Duration::from_secs(20), || revoked_by(RevocationMode::Crl).is_some()), "the delta CRL never said revoked");
    assert_eq!(revoked_by(RevocationMode::Crl).unwrap().0, StatusSource::DeltaCrl);
    // Whatever became of the pair's AUTH certificate, OCSP and the CRLs agree on it.
    let auth_ocsp =
        verifier(RevocationMode::Ocsp).verify(&auth, &[], &Checks::now(Purpose::Auth)).map(|_| ()).map_err(|e| e.problem.code());
    let auth_crl = verifier(RevocationMode::Crl).verify(&auth, &[], &Checks::now(Purpose::Auth)).map(|_| ()).map_err(|e| e.problem.code());
    assert_eq!(auth_ocsp, auth_crl);

    // The command line: OCSP at the server, and CRL files fetched beforehand.
    let root_f = p(&a.data().join("root.pem"));
    let issuing_f = p(&a.data().join("issuing.pem"));
    let cert_f = a.cert_file("sign");
    let ocsp_url = format!("{}/ocsp/", server.url());
    let out = ca_anywhere(&["verify", &cert_f, "--trust", &root_f, "--intermediate", &issuing_f, "--ocsp-url", &ocsp_url, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["problem"], "revoked");
    let full = a.scratch.join("full.crl");
    let delta = a.scratch.join("delta.crl");
    std::fs::write(&full, mirror(&server).get(&first_url(&sign, false)).unwrap()).unwrap();
    std::fs::write(&delta, mirror(&server).get(&first_url(&sign, true)).unwrap()).unwrap();
    let out = ca_anywhere(&[
        "verify",
        &cert_f,
        "--trust",
        &root_f,
        "--intermediate",
        &issuing_f,
        "--revocation",
        "crl",
        "--crl",
        &p(&full),
        "--crl",
        &p(&delta),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["problem"], "revoked");
    // Unreachable sources: hard fail by default, soft fail when asked.
    let dead = "http://127.0.0.1:9/ocsp/";
    let out = ca_anywhere(&[
        "verify",
        &p(&PathBuf::from(a.cert_file("auth"))),
        "--purpose",
        "auth",
        "--trust",
        &root_f,
        "--intermediate",
        &issuing_f,
        "--ocsp-url",
        dead,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out)["problem"], "status_unknown");
    let soft = RevocationChecker::new(
        RevocationPolicy {
            mode: RevocationMode::Ocsp,
            on_unavailable: OnUnavailable::SoftFail,
            ocsp_url: Some(dead.into()),
            ..RevocationPolicy::default()
        },
        Some(Box::new(HttpFetch::new(Duration::from_secs(5)))),
    );
    let mut trust = TrustStore::new(vec![root.clone()]);
    trust.add_intermediate(issuing.clone());
    // Whatever the AUTH certificate's status, a checker that cannot learn it says so and lets it pass.
    let v = Verifier::new(trust, soft).verify(&auth, &[], &Checks::now(Purpose::Auth)).expect("soft fail");
    assert!(!v.status_established());
    assert!(v.statuses[0].unavailable.as_deref().unwrap_or("").contains("OCSP"), "{:?}", v.statuses);
}

fn first_url(cert: &Certificate, delta: bool) -> String {
    let id = if delta { ca_core::oid::EXT_FRESHEST_CRL } else { ca_core::oid::EXT_CRL_DISTRIBUTION_POINTS };
    let ext = cert.tbs_certificate.extensions.as_ref().unwrap().iter().find(|e| e.extn_id == id).unwrap();
    let dp = x509_cert::ext::pkix::CrlDistributionPoints::from_der(ext.extn_value.as_bytes()).unwrap();
    match &dp.0[0].distribution_point {
        Some(x509_cert::ext::pkix::name::DistributionPointName::FullName(names)) => match &names[0] {
            x509_cert::ext::pkix::name::GeneralName::UniformResourceIdentifier(u) => u.to_string(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn ocsp_answers_unauthorised_stale_or_with_another_nonce_are_refused() {
    let a = Issued::new("rp-ocsp");
    let server = Server::on(&a.data());
    let issuing = a.ca_cert("issuing.pem");
    let sign = a.cert("sign");
    let policy = RevocationPolicy::default();
    let fetch = mirror(&server);
    let query = revocation::ocsp_request(&sign, &issuing, true).unwrap();
    let body = fetch.post("http://pki.test.kz/ocsp/", "application/ocsp-request", &query.der).unwrap();
    let now = ca_core::calendar::now();
    let answer = revocation::check_ocsp_response(&body, &sign, &issuing, query.nonce.as_deref(), now, &policy).unwrap();
    assert_eq!(answer.status, revocation::CertStatus::Good);
    assert_eq!(revocation::check_ocsp_response(&body, &sign, &issuing, Some(&[7u8; 32]), now, &policy), Err(OcspProblem::NonceMismatch));
    let next = answer.next_update.expect("our responder sets nextUpdate");
    let after = ca_core::calendar::from_unix_seconds(ca_core::calendar::unix_seconds(&next) + 3600).unwrap();
    assert!(matches!(
        revocation::check_ocsp_response(&body, &sign, &issuing, query.nonce.as_deref(), after, &policy),
        Err(OcspProblem::Stale(_))
    ));
    // A response signed by a holder's key (a certificate of the same CA, without OCSPSigning).
    let impostor = ocsp::Responder::new(
        vec![ocsp::ResponderCa { issuer: issuing.clone(), responder: sign.clone(), signer: Box::new(a.key("rp-ocsp", "sign")) }],
        Box::new(AllGood),
        Duration::from_secs(600),
        1 << 20,
    )
    .unwrap();
    let forged = impostor.respond(&query.der, ca_core::calendar::unix_now());
    match revocation::check_ocsp_response(&forged.der, &sign, &issuing, query.nonce.as_deref(), now, &policy) {
        Err(OcspProblem::NotAuthorised(why)) => assert!(why.contains("OCSPSigning"), "{why}"),
        other => panic!("an impostor's answer was {other:?}"),
    }
    // The real responder's answer, checked against another CA (the root).
    let root = a.ca_cert("root.pem");
    assert!(revocation::check_ocsp_response(&body, &sign, &root, query.nonce.as_deref(), now, &policy).is_err());
}

struct AllGood;

impl ocsp::StatusSource for AllGood {
    fn status(&self, _: ca_core::model::Family, _: &[u8]) -> Result<ocsp::CertState, ocsp::StatusUnavailable> {
        Ok(ocsp::CertState::Good)
    }
}

fn xmlsec1(args: &[&str]) -> (bool, String) {
    let out = Command::new("xmlsec1").args(args).output().expect("run xmlsec1 (scripts/test.sh installs it)");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_authoritys_xml_signatures_verify_for_their_purpose_and_xmlsec1_agrees() {
    let work = Scratch::new("rp-xml-real");
    let verify = |file: &Path, trust: &str, purpose: &str| as_of_june_2020("xml", file, &reference(trust), purpose);
    for (name, purpose) in [(SIGN_FILE, "sign"), (AUTH_FILES[0], "auth"), (AUTH_FILES[1], "auth")] {
        let file = reference(&format!("{name}.xml"));
        let out = verify(&file, "nca_rsa_test.pem", purpose);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stdout));
        let v = json_of(&out);
        assert_eq!(v["signers"][0]["certificate"]["owner"]["iin"], "123456789011");
        assert_eq!(v["signers"][0]["references"], serde_json::json!([""]));
        // xmlsec1 checks the digest and the value with the certificate in KeyInfo
        // (--insecure: it cannot build a path to a root it was not given).
        let (ok, err) = xmlsec1(&["--verify", "--insecure", "--enabled-reference-uris", "empty", &p(&file)]);
        assert!(ok, "xmlsec1 {name}: {err}");
        if purpose == "auth" {
            let out = verify(&file, "nca_rsa_test.pem", "sign");
            assert_eq!(out.status.code(), Some(1));
            assert_eq!(json_of(&out)["signers"][0]["problem"], "key_usage");
        }
        // The signed content changed: both refuse.
        let changed = work.join(&format!("{name}.xml"));
        std::fs::write(&changed, std::fs::read_to_string(&file).unwrap().replacen("NCANode", "NCANodf", 1)).unwrap();
        let out = verify(&changed, "nca_rsa_test.pem", purpose);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(json_of(&out)["error"]["code"], "content_changed");
        assert!(!xmlsec1(&["--verify", "--insecure", "--enabled-reference-uris", "empty", &p(&changed)]).0);
    }
    let gost = reference(&format!("{GOST_FILE}.xml"));
    let out = verify(&gost, "nca_gost_test.pem", "sign");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["signers"][0]["signature_method"], "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311");
}

/// A document with namespaces, comments and characters to escape, and a signature
/// template xmlsec1 fills in with the canonicalisation `c14n`.
fn xmlsec1_template(c14n: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- before -->\n<gov:request xmlns:gov=\"urn:kz:gov:test\" xmlns:x=\"urn:x\" xmlns=\"urn:default\" xml:lang=\"kk\">\n  <gov:applicant iin=\"880515300120\" x:note=\"a &amp; b &lt; c\">Тестов Тест</gov:applicant>\n  <!-- inside -->\n  <body x:y=\"1\">text &amp; &#x41; <![CDATA[<raw>]]></body>\n<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n<ds:SignedInfo>\n<ds:CanonicalizationMethod Algorithm=\"{c14n}\"/>\n<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>\n<ds:Reference URI=\"\">\n<ds:Transforms>\n<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>\n<ds:Transform Algorithm=\"{c14n}\"/>\n</ds:Transforms>\n<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>\n<ds:DigestValue/>\n</ds:Reference>\n</ds:SignedInfo>\n<ds:SignatureValue/>\n<ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>\n</ds:Signature>\n</gov:request>\n<!-- after -->\n"
    )
}

#[test]
fn our_xml_signatures_verify_in_xmlsec1_and_xmlsec1s_verify_here() {
    let a = Issued::new("rp-xml");
    let pw = a.scratch.join("pw");
    std::fs::write(&pw, KEY_PASSWORD).unwrap();
    let (root, issuing) = (p(&a.data().join("root.pem")), p(&a.data().join("issuing.pem")));
    let key_file = p(&a.ks.join("RSA256_rp-xml.p12"));
    let ours_verify = |file: &Path| {
        ca_anywhere(&["xml", "verify", &p(file), "--trust", &root, "--intermediate", &issuing, "--revocation", "none", "--json"])
    };
    let theirs_verify = |file: &Path| xmlsec1(&["--verify", "--trusted-pem", &root, "--untrusted-pem", &issuing, &p(file)]);
    // Ours, in xmlsec1, with its full path check.
    let doc = a.scratch.join("doc.xml");
    std::fs::write(&doc, "<?xml version=\"1.0\"?>\n<request xmlns=\"urn:kz:gov\"><iin>880515300120</iin><!-- c --><sum currency=\"KZT\">100 &amp; 0</sum></request>\n").unwrap();
    let signed = a.scratch.join("signed.xml");
    run_ok(Command::new(program("ca")).args([
        "xml",
        "sign",
        &p(&doc),
        "--key-file",
        &key_file,
        "--password-file",
        &p(&pw),
        "--out",
        &p(&signed),
    ]));
    let out = ours_verify(&signed);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(json_of(&out)["signers"][0]["path"].as_array().unwrap().len(), 3);
    let (ok, err) = theirs_verify(&signed);
    assert!(ok, "xmlsec1: {err}");
    let tampered = a.scratch.join("tampered.xml");
    std::fs::write(&tampered, std::fs::read_to_string(&signed).unwrap().replacen("100", "900", 1)).unwrap();
    assert_eq!(json_of(&ours_verify(&tampered))["error"]["code"], "content_changed");
    assert!(!theirs_verify(&tampered).0);
    // xmlsec1's, with inclusive and exclusive canonicalisation, with and without comments.
    let key = a.scratch.join("work/rp-xml-sign.key");
    let cert = a.cert_file("sign");
    for c14n in [
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/10/xml-exc-c14n#WithComments",
    ] {
        let template = a.scratch.join("template.xml");
        std::fs::write(&template, xmlsec1_template(c14n)).unwrap();
        let made = a.scratch.join("xmlsec1.xml");
        let (ok, err) = xmlsec1(&["--sign", "--privkey-pem", &format!("{},{cert}", p(&key)), "--output", &p(&made), &p(&template)]);
        assert!(ok, "xmlsec1 --sign: {err}");
        let out = ours_verify(&made);
        assert!(out.status.success(), "{c14n}: {}", String::from_utf8_lossy(&out.stdout));
        let text = std::fs::read_to_string(&made).unwrap();
        // Inclusive C14N carries the document element's xml:lang into SignedInfo, so
        // changing it changes what was signed: the signature fails before any digest.
        let lang_changes = if c14n.contains("exc-c14n") { "content_changed" } else { "bad_signature" };
        for (from, to, code) in [
            ("Тестов", "Тестова", "content_changed"),
            ("xml:lang=\"kk\"", "xml:lang=\"ru\"", lang_changes),
            ("x:y=\"1\"", "x:y=\"2\"", "content_changed"),
        ] {
            let changed = a.scratch.join("changed.xml");
            std::fs::write(&changed, text.replacen(from, to, 1)).unwrap();
            let out = ours_verify(&changed);
            assert_eq!(json_of(&out)["error"]["code"], code, "{c14n}: {from}");
        }
    }
}

/// POST `body` to the server's `route`: status and JSON.
fn post_json(server: &Server, route: &str, body: &Value) -> (u16, Value) {
    match ureq::post(&format!("{}{route}", server.url())).timeout(Duration::from_secs(30)).send_json(body.clone()) {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
        Err(e) => panic!("POST {route}: {e}"),
    }
}

#[test]
fn the_http_verification_api_checks_as_the_command_line_does() {
    let a = Issued::new("rp-http");
    quick(&a);
    e2e::configure(&a.data(), "verify", serde_json::json!({ "trust": [reference("nca_rsa_test.pem")], "intermediates": [] }));
    let server = Server::on(&a.data());
    let b64 = |bytes: &[u8]| {
        use base64ct::Encoding;
        base64ct::Base64::encode_string(bytes)
    };
    // The authority's real signatures, through the configured anchor.
    let cms = std::fs::read_to_string(reference(&format!("{SIGN_FILE}.cms"))).unwrap();
    let (status, v) = post_json(&server, "/api/v1/verify/cms", &serde_json::json!({ "cms": cms, "at": JUNE_2020, "revocation": "none" }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signers"][0]["certificate"]["owner"]["iin"], "123456789011");
    let (_, v) = post_json(
        &server,
        "/api/v1/verify/cms",
        &serde_json::json!({ "cms": cms, "at": JUNE_2020, "revocation": "none", "purpose": "auth" }),
    );
    assert_eq!((v["valid"].as_bool(), v["signers"][0]["problem"].as_str()), (Some(false), Some("extended_key_usage")));
    let xml = std::fs::read_to_string(reference(&format!("{SIGN_FILE}.xml"))).unwrap();
    let (status, v) = post_json(&server, "/api/v1/verify/xml", &serde_json::json!({ "xml": xml, "at": JUNE_2020, "revocation": "none" }));
    assert_eq!((status, v["valid"].as_bool()), (200, Some(true)), "{v}");
    let (status, v) = post_json(&server, "/api/v1/verify/xml", &serde_json::json!({ "xml": xml.replacen("NCANode", "NCANodf", 1) }));
    assert_eq!((status, v["error"]["code"].as_str()), (422, Some("content_changed")));
    // A changed byte in a signature, and what is no signature at all.
    let mut der = ca_core::pem::read_der(cms.as_bytes()).unwrap();
    let at = der.windows(6).position(|w| w == b"asdasd").unwrap();
    der[at] ^= 1;
    let (status, v) = post_json(&server, "/api/v1/verify/cms", &serde_json::json!({ "cms": b64(&der) }));
    assert_eq!((status, v["error"]["code"].as_str()), (422, Some("content_changed")));
    let (status, _) = post_json(&server, "/api/v1/verify/certificate", &serde_json::json!({ "certificate": "bm90IGEgY2VydGlmaWNhdGU=" }));
    assert_eq!(status, 400);
    let (status, _) = post_json(&server, "/api/v1/verify/certificate", &serde_json::json!({ "certificate": "", "at": "yesterday" }));
    assert_eq!(status, 400);

    // Our own certificate: its status from this server's responder, in process.
    let pem = std::fs::read_to_string(a.cert_file("sign")).unwrap();
    let check = || post_json(&server, "/api/v1/verify/certificate", &serde_json::json!({ "certificate": pem, "revocation": "ocsp" }));
    let (status, v) = check();
    assert_eq!((status, v["valid"].as_bool()), (200, Some(true)), "{v}");
    assert_eq!(v["statuses"][0]["source"], "ocsp");
    assert_eq!(v["path"].as_array().unwrap().len(), 3);
    let serial = a.issued["sign"]["serial"].as_str().unwrap().to_string();
    assert!(ca(&a.data(), &["revoke", &serial, "--reason", "keyCompromise"]).status.success());
    assert!(eventually(Duration::from_secs(20), || check().1["problem"] == "revoked"), "{}", check().1);
    let (_, v) = post_json(&server, "/api/v1/verify/certificate", &serde_json::json!({ "certificate": pem, "revocation": "crl" }));
    assert!(
        eventually(Duration::from_secs(20), || {
            post_json(&server, "/api/v1/verify/certificate", &serde_json::json!({ "certificate": pem, "revocation": "crl" })).1["problem"]
                == "revoked"
        }),
        "{v}"
    );
}
