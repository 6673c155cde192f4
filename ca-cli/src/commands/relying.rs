//! What relying parties run: `ca verify` (a certificate for a purpose), `ca cms
//! verify` and `ca cms sign`. Verdicts print as a document (text or `--json`); the
//! exit status is 0 only when the verdict is valid.

use super::read_input;
use crate::args::{CheckArgs, SigningKeyArgs};
use crate::error::{CliError, CliResult};
use crate::output::{print, Output};
use ca_core::api::verification::{CmsReport, XmlReport};
use ca_core::calendar;
use ca_core::cms::{self, Content};
use ca_core::tsp;
use ca_core::verify::HttpFetch;
use ca_core::verify::{Checks, OnUnavailable, RevocationChecker, RevocationMode, RevocationPolicy, TrustStore, VerdictReport, Verifier};
use ca_core::xml::dsig;
use der::DateTime;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use x509_cert::Certificate;

fn bad(path: &Path, what: impl std::fmt::Display) -> CliError {
    CliError::refused("bad_input", format!("{}: {what}", path.display()))
}

/// Every certificate in a file: DER, base64, or one or several PEM blocks.
pub fn certificates(path: &Path) -> CliResult<Vec<Certificate>> {
    ca_core::pem::certificates(&read_input(path)?).map_err(|e| bad(path, e))
}

fn one_certificate(path: &Path) -> CliResult<Certificate> {
    certificates(path)?.into_iter().next().ok_or_else(|| bad(path, "no certificate in it"))
}

/// `--at` as a time.
fn at(checks: &CheckArgs) -> CliResult<Option<DateTime>> {
    checks
        .at
        .as_deref()
        .map(|s| {
            calendar::parse_rfc3339_time(s)
                .ok_or_else(|| CliError::usage(format!("--at {s:?} is not an RFC 3339 time such as 2020-06-01T00:00:00Z")))
        })
        .transpose()
}

/// The verifier the flags describe: anchors, intermediates, revocation policy,
/// supplied CRLs (each checked against the anchors and intermediates that signed it).
fn verifier(checks: &CheckArgs) -> CliResult<Verifier> {
    let all = |paths: &[std::path::PathBuf]| paths.iter().map(|p| certificates(p)).collect::<CliResult<Vec<_>>>().map(|v| v.concat());
    let trust = TrustStore::new(all(&checks.trust)?).with_intermediates(all(&checks.intermediate)?);
    let policy = RevocationPolicy {
        mode: checks.revocation,
        on_unavailable: if checks.soft_fail { OnUnavailable::SoftFail } else { OnUnavailable::HardFail },
        ocsp_url: checks.ocsp_url.clone(),
        ..RevocationPolicy::default()
    };
    let fetch = (checks.revocation != RevocationMode::None).then(|| Box::new(HttpFetch::new(Duration::from_secs(15))) as _);
    let revocation = RevocationChecker::new(policy, fetch);
    for p in &checks.crl {
        let der = ca_core::pem::read_der(&read_input(p)?).map_err(|e| bad(p, e))?;
        let issuers = trust.anchors().iter().chain(trust.intermediates());
        let mut last = None;
        let mut added = false;
        for issuer in issuers {
            match revocation.add_crl(&der, issuer) {
                Ok(()) => {
                    added = true;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if !added {
            return Err(bad(
                p,
                format!("no trusted or intermediate CA signed this CRL ({})", last.map(|e| e.to_string()).unwrap_or_default()),
            ));
        }
    }
    Ok(Verifier::new(trust, revocation))
}

impl Output for VerdictReport {
    fn human(&self) -> String {
        let owner = &self.certificate.owner;
        let who = [owner.surname.as_deref(), owner.name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let id = match (&owner.iin, &owner.bin) {
            (Some(i), Some(b)) => format!(" (IIN {i}, BIN {b})"),
            (Some(i), None) => format!(" (IIN {i})"),
            _ => String::new(),
        };
        let mut out = format!(
            "{}: {} certificate {} of {}{}, for {} as of {}\n",
            if self.valid { "VALID" } else { "NOT VALID" },
            self.certificate.key_type.as_str(),
            self.certificate.serial,
            if who.is_empty() { &self.certificate.subject } else { &who },
            id,
            self.purpose,
            self.at
        );
        if let Some(m) = &self.message {
            out.push_str(&format!("  {m}\n"));
        }
        if self.valid {
            out.push_str(&format!("  path: {}\n", self.path.join(" → ")));
        }
        for s in &self.statuses {
            let said = match (&s.source, &s.unavailable) {
                (Some(src), _) => format!("not revoked, according to {src}"),
                (None, Some(why)) => format!("status not established: {why}"),
                (None, None) => "status not checked".to_string(),
            };
            out.push_str(&format!("  {}: {said}\n", s.serial));
        }
        out
    }
}

/// `ca verify CERT`.
pub fn verify(cert: &Path, args: &CheckArgs, json: bool) -> CliResult<()> {
    let cert = one_certificate(cert)?;
    let verifier = verifier(args)?;
    let checks = Checks::at_or_now(args.purpose, at(args)?);
    let result = verifier.verify(&cert, &[], &checks);
    let report = VerdictReport::of(&cert, &checks, &result);
    print(&report, json)?;
    match result {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::verdict(e.problem.code(), e.to_string())),
    }
}

impl Output for CmsReport {
    fn human(&self) -> String {
        let mut out = format!(
            "{}: CMS signature ({}, {} bytes of content), {} signer(s)\n",
            if self.valid { "VALID" } else { "NOT VALID" },
            if self.attached { "content inside" } else { "detached" },
            self.content_bytes,
            self.signers.len()
        );
        for s in &self.signers {
            out.push_str(&format!("signed {}\n", s.signing_time.as_deref().unwrap_or("at no stated time")));
            if let Some(t) = &s.time_stamp {
                out.push_str(&format!("time-stamped {} (serial {}):\n{}", t.time, t.serial, t.authority.human()));
            }
            out.push_str(&s.verdict.human());
        }
        out
    }
}

/// `ca cms verify FILE [--content FILE]`.
pub fn cms_verify(file: &Path, content: Option<&Path>, out_content: Option<&Path>, args: &CheckArgs, json: bool) -> CliResult<()> {
    let cms_bytes = ca_core::pem::read_der(&read_input(file)?).map_err(|e| bad(file, e))?;
    let content = content.map(read_input).transpose()?;
    let verifier = verifier(args)?;
    let doc = cms::verify_document(&cms_bytes, content.as_deref(), &verifier, args.purpose, at(args)?)?;
    if let Some(out) = out_content {
        std::fs::write(out, &doc.content).map_err(|e| CliError::writing(out, e))?;
    }
    let report = CmsReport::of(&doc);
    print(&report, json)?;
    let failed = doc.signers.iter().find_map(|s| s.verdict.as_ref().err().or_else(|| s.time_stamp.as_ref().and_then(|t| t.as_ref().err())));
    match failed {
        None => Ok(()),
        Some(e) => Err(CliError::verdict(e.problem.code(), e.to_string())),
    }
}

/// What `ca cms sign` or `ca xml sign` did.
#[derive(Serialize)]
pub struct Signed {
    out: String,
    bytes: usize,
    /// CMS only: whether the content is inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    attached: Option<bool>,
    signer: String,
}

impl Output for Signed {
    fn human(&self) -> String {
        let how = match self.attached {
            Some(true) => " (content inside)",
            Some(false) => " (detached)",
            None => "",
        };
        format!("signed by {}{how}: {} ({} bytes)\n", self.signer, self.out, self.bytes)
    }
}

/// The key store a signing command names: its key (RSA or GOST 2015), certificate and chain.
fn key_store(key: &SigningKeyArgs) -> CliResult<(ca_core::signing::SigningKey, ca_core::pkcs12::KeyStore)> {
    let password = super::enroll::secret(key.password_file.as_deref(), super::enroll::PASSWORD_ENV, "--password-file")?;
    let store = ca_core::pkcs12::read(&read_input(&key.key_file)?, &password)?;
    Ok((ca_core::signing::SigningKey::from_pkcs8(&store.key_pkcs8)?, store))
}

fn written(out: &Path, bytes: &[u8], attached: Option<bool>, cert: &Certificate) -> CliResult<Signed> {
    std::fs::write(out, bytes).map_err(|e| CliError::writing(out, e))?;
    Ok(Signed {
        out: out.display().to_string(),
        bytes: bytes.len(),
        attached,
        signer: ca_core::verify::name_to_string(&cert.tbs_certificate.subject),
    })
}

/// Ask the time-stamp authority at `url` to stamp `data`; the answer checked.
fn time_stamp(url: &str, data: &[u8]) -> CliResult<(Vec<u8>, Vec<u8>, cms::TimeStamp)> {
    use ca_core::verify::Fetch;
    let (request, nonce) = tsp::request(data)?;
    let answer = HttpFetch::new(Duration::from_secs(30))
        .post(url, "application/timestamp-query", &request)
        .map_err(|e| CliError::internal("tsa_unreachable", e.to_string()))?;
    let (token, stamp) =
        tsp::check_response(&answer, data, Some(&nonce)).map_err(|e| CliError::refused("bad_time_stamp", e.to_string()))?;
    Ok((answer, token, stamp))
}

/// `ca cms sign FILE --key-file P12 --out FILE [--detached] [--tsp URL]`.
pub fn cms_sign(file: &Path, key: &SigningKeyArgs, detached: bool, tsp_url: Option<&str>, out: &Path) -> CliResult<Signed> {
    let content = read_input(file)?;
    let (key, store) = key_store(key)?;
    let how = if detached { Content::Detached } else { Content::Attached };
    let sig = match tsp_url {
        None => cms::sign(&content, how, &key, &store.certificate, &store.chain, calendar::now())?,
        Some(url) => {
            let stamp = |signature: &[u8]| {
                time_stamp(url, signature).map(|(_, token, _)| token).map_err(|e| ca_core::cms::CmsError::TimeStamp(e.message))
            };
            cms::sign_time_stamped(&content, how, &key, &store.certificate, &store.chain, calendar::now(), &stamp)?
        }
    };
    written(out, &sig, Some(!detached), &store.certificate)
}

/// What `ca tsp query` got.
#[derive(Serialize)]
pub struct Stamped {
    out: String,
    time: String,
    serial: String,
    policy: String,
    authority: String,
}

impl Output for Stamped {
    fn human(&self) -> String {
        format!("time-stamped at {} by {} (serial {}, policy {}): {}\n", self.time, self.authority, self.serial, self.policy, self.out)
    }
}

/// `ca tsp query FILE --url URL --out FILE`.
pub fn tsp_query(file: &Path, url: &str, out: &Path) -> CliResult<Stamped> {
    let (answer, _, stamp) = time_stamp(url, &read_input(file)?)?;
    std::fs::write(out, &answer).map_err(|e| CliError::writing(out, e))?;
    Ok(Stamped {
        out: out.display().to_string(),
        time: calendar::rfc3339(&stamp.gen_time),
        serial: stamp.serial.to_string(),
        policy: stamp.policy.to_string(),
        authority: ca_core::verify::name_to_string(&stamp.tsa.certificate.tbs_certificate.subject),
    })
}

/// `ca tsp verify`'s document.
#[derive(Serialize)]
struct TspReport {
    kind: &'static str,
    valid: bool,
    time: String,
    serial: String,
    policy: String,
    #[serde(flatten)]
    authority: VerdictReport,
}

impl Output for TspReport {
    fn human(&self) -> String {
        format!(
            "{}: time-stamp of {} (serial {}, policy {})\n{}",
            if self.valid { "VALID" } else { "NOT VALID" },
            self.time,
            self.serial,
            self.policy,
            self.authority.human()
        )
    }
}

/// `ca tsp verify FILE --data FILE`: a TimeStampResp or a bare token.
pub fn tsp_verify(file: &Path, data: &Path, args: &CheckArgs, json: bool) -> CliResult<()> {
    let bytes = ca_core::pem::read_der(&read_input(file)?).map_err(|e| bad(file, e))?;
    let data = read_input(data)?;
    let stamp = match tsp::check_response(&bytes, &data, None) {
        Ok((_, stamp)) => stamp,
        Err(tsp::TspError::Malformed(_)) => cms::check_time_stamp_token(&bytes, &data)?,
        Err(e) => return Err(CliError::refused("bad_time_stamp", e.to_string())),
    };
    let verifier = verifier(args)?;
    let checks = stamp.checks(calendar::now());
    let result = verifier.verify(&stamp.tsa.certificate, &stamp.certificates, &checks);
    let report = TspReport {
        kind: "time_stamp",
        valid: result.is_ok(),
        time: calendar::rfc3339(&stamp.gen_time),
        serial: stamp.serial.to_string(),
        policy: stamp.policy.to_string(),
        authority: VerdictReport::of(&stamp.tsa.certificate, &checks, &result),
    };
    print(&report, json)?;
    result.map(|_| ()).map_err(|e| CliError::verdict(e.problem.code(), e.to_string()))
}

/// `ca xml sign FILE --key-file P12 --out FILE`.
pub fn xml_sign(file: &Path, key: &SigningKeyArgs, out: &Path) -> CliResult<Signed> {
    let xml = read_input(file)?;
    let (key, store) = key_store(key)?;
    let signed = dsig::sign_enveloped(&xml, &key, &store.certificate, &store.chain)?;
    written(out, &signed, None, &store.certificate)
}

impl Output for XmlReport {
    fn human(&self) -> String {
        let mut out = format!("{}: XML document, {} signature(s)\n", if self.valid { "VALID" } else { "NOT VALID" }, self.signers.len());
        for s in &self.signers {
            let what = if s.references.iter().all(String::is_empty) { "the whole document".to_string() } else { s.references.join(", ") };
            out.push_str(&format!("signed with {} over {what}\n", s.signature_method));
            out.push_str(&s.verdict.human());
        }
        out
    }
}

/// `ca xml verify FILE`.
pub fn xml_verify(file: &Path, args: &CheckArgs, json: bool) -> CliResult<()> {
    let xml = read_input(file)?;
    let verifier = verifier(args)?;
    let signers = dsig::verify_document(&xml, &verifier, args.purpose, at(args)?)?;
    let report = XmlReport::of(&signers);
    print(&report, json)?;
    match signers.iter().find_map(|s| s.verdict.as_ref().err()) {
        None => Ok(()),
        Some(e) => Err(CliError::verdict(e.problem.code(), e.to_string())),
    }
}
