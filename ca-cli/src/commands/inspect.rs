//! `ca inspect`: describe a certificate, request, CRL, or OCSP request or response
//! (PEM or DER), ours or anyone's; with `--issuer`, check its signature.

use super::read_input;
use crate::error::{CliError, CliResult};
use crate::output::{print, Output};
use ca_core::crl::CrlInfo;
use ca_core::model::Serial;
use ca_core::verify::{self, CertificateInfo};
use der::Decode;
use serde::Serialize;
use std::path::Path;
use x509_cert::request::CertReq;
use x509_cert::Certificate;

fn bad(message: String) -> CliError {
    CliError::refused("not_inspectable", message)
}

/// What a file holds, decoded from PEM or DER.
enum Inspected {
    Certificate(Box<Certificate>),
    Request(Box<CertReq>),
    Crl(Vec<u8>),
    OcspResponse(Vec<u8>),
    OcspRequest(Box<x509_ocsp::OcspRequest>),
}

const NOT_INSPECTED: &str = "CMS is not inspected yet; a PKCS#12 key file is opened with --password";

fn decode_any(bytes: &[u8]) -> CliResult<Inspected> {
    if ca_core::pem::is_pem(bytes) {
        let (label, der) = ca_core::pem::decode(bytes).map_err(|e| bad(format!("bad PEM: {e}")))?;
        return match label.as_str() {
            "CERTIFICATE" => {
                Ok(Inspected::Certificate(Box::new(Certificate::from_der(&der).map_err(|e| bad(format!("bad certificate: {e}")))?)))
            }
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                Ok(Inspected::Request(Box::new(CertReq::from_der(&der).map_err(|e| bad(format!("bad certificate request: {e}")))?)))
            }
            "X509 CRL" => Ok(Inspected::Crl(der)),
            other => Err(bad(format!("PEM {other:?} is not a certificate, request or CRL; {NOT_INSPECTED}"))),
        };
    }
    if let Ok(c) = Certificate::from_der(bytes) {
        return Ok(Inspected::Certificate(Box::new(c)));
    }
    if let Ok(r) = CertReq::from_der(bytes) {
        return Ok(Inspected::Request(Box::new(r)));
    }
    if x509_cert::crl::CertificateList::from_der(bytes).is_ok() {
        return Ok(Inspected::Crl(bytes.to_vec()));
    }
    if x509_ocsp::OcspResponse::from_der(bytes).is_ok() {
        return Ok(Inspected::OcspResponse(bytes.to_vec()));
    }
    if let Ok(r) = x509_ocsp::OcspRequest::from_der(bytes) {
        return Ok(Inspected::OcspRequest(Box::new(r)));
    }
    Err(bad(format!("not a certificate, certificate request, CRL or OCSP request or response in PEM or DER; {NOT_INSPECTED}")))
}

fn issuer_certificate(path: &Path) -> CliResult<Box<Certificate>> {
    match decode_any(&read_input(path)?)? {
        Inspected::Certificate(c) => Ok(c),
        _ => Err(bad(format!("{} is not an issuer certificate", path.display()))),
    }
}

/// Run `ca inspect`: describe the file, and with `--issuer` check its signature.
pub fn run(file: &Path, issuer: Option<&Path>, json: bool) -> CliResult<()> {
    let bytes = read_input(file)?;
    match decode_any(&bytes)? {
        Inspected::Certificate(cert) => {
            let info = CertificateInfo::of(&cert);
            let verdict =
                issuer.map(issuer_certificate).transpose()?.map(|i| verify::verify_issued_by(&cert, &i).map_err(|e| e.to_string()));
            let error = verdict.as_ref().and_then(|v| v.as_ref().err().cloned());
            print(
                &CertificateInspected { signature_valid: verdict.as_ref().map(Result::is_ok), signature_error: error.clone(), info },
                json,
            )?;
            // A script that trusts the exit status must not accept a forged certificate.
            match error {
                Some(e) => Err(CliError::verdict(
                    "bad_signature",
                    format!("the certificate's signature does not verify under the given issuer: {e}"),
                )),
                None => Ok(()),
            }
        }
        Inspected::Request(req) => {
            let verified = ca_core::csr::verify_csr(&bytes);
            print(
                &RequestInspected {
                    kind: "certificate_request",
                    subject: verify::name_to_string(&req.info.subject),
                    public_key: verify::describe_public_key(&req.info.public_key),
                    signature_algorithm: verify::signature_algorithm_name(&req.algorithm.oid),
                    acceptable: verified.is_ok(),
                    problem: verified.err().map(|e| e.to_string()),
                },
                json,
            )
        }
        Inspected::Crl(der) => {
            let issuer_cert = issuer.map(issuer_certificate).transpose()?;
            let info = ca_core::crl::read(&der, issuer_cert.as_deref())?;
            print(&CrlInspected { info, signature_valid: issuer_cert.is_some().then_some(true) }, json)
        }
        Inspected::OcspResponse(der) => {
            let issuer_cert = issuer.map(issuer_certificate).transpose()?;
            print(&ocsp::read_response(&der, issuer_cert.as_deref())?, json)
        }
        Inspected::OcspRequest(req) => {
            let tbs = &req.tbs_request;
            let nonce = tbs.request_extensions.iter().flatten().find(|e| e.extn_id == ca_core::oid::OCSP_NONCE);
            print(
                &OcspRequestInspected {
                    kind: "ocsp_request",
                    serials: tbs.request_list.iter().map(|r| Serial::from_der_bytes(r.req_cert.serial_number.as_bytes())).collect(),
                    nonce: nonce.map(|e| hex::encode(e.extn_value.as_bytes())),
                    signed: req.optional_signature.is_some(),
                },
                json,
            )
        }
    }
}

/// A certificate, and with `--issuer` whether its signature verifies.
#[derive(Serialize)]
pub struct CertificateInspected {
    #[serde(flatten)]
    info: CertificateInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_valid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_error: Option<String>,
}

impl Output for CertificateInspected {
    fn human(&self) -> String {
        let verdict = self.signature_valid.map(|ok| if ok { Ok(()) } else { Err(self.signature_error.clone().unwrap_or_default()) });
        human_certificate(&self.info, &verdict)
    }
}

/// A PKCS#10 request and whether this authority would accept it.
#[derive(Serialize)]
pub struct RequestInspected {
    kind: &'static str,
    subject: String,
    public_key: String,
    signature_algorithm: String,
    acceptable: bool,
    problem: Option<String>,
}

impl Output for RequestInspected {
    fn human(&self) -> String {
        let acceptable = match &self.problem {
            None => "yes".to_string(),
            Some(p) => format!("no: {p}"),
        };
        format!("certificate request\n  subject:    {}\n  public key: {}\n  acceptable: {acceptable}", self.subject, self.public_key)
    }
}

/// A CRL, and with `--issuer` that its signature verified.
#[derive(Serialize)]
pub struct CrlInspected {
    #[serde(flatten)]
    info: CrlInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature_valid: Option<bool>,
}

impl Output for CrlInspected {
    fn human(&self) -> String {
        human_crl(&self.info, self.signature_valid.is_some())
    }
}

impl Output for ocsp::ResponseInfo {
    fn human(&self) -> String {
        human_ocsp(self)
    }
}

/// An OCSP request: what it asks about.
#[derive(Serialize)]
pub struct OcspRequestInspected {
    kind: &'static str,
    serials: Vec<Serial>,
    nonce: Option<String>,
    signed: bool,
}

impl Output for OcspRequestInspected {
    fn human(&self) -> String {
        let serials = self.serials.iter().map(Serial::as_str).collect::<Vec<_>>().join(", ");
        format!("OCSP request\n  serials: {serials}\n  nonce:   {}", self.nonce.as_deref().unwrap_or("-"))
    }
}

fn human_crl(i: &ca_core::crl::CrlInfo, verified: bool) -> String {
    let mut s = format!(
        "{} CRL {}\n  issuer:      {}\n  this update: {}\n  next update: {}\n  entries:     {}{}",
        if i.delta_base.is_some() { "delta" } else { "full" },
        i.number.as_deref().unwrap_or("(no number)"),
        i.issuer,
        i.this_update,
        i.next_update.as_deref().unwrap_or("-"),
        i.entry_count,
        if verified { "\n  signature:   valid" } else { "" }
    );
    if let Some(base) = &i.delta_base {
        s.push_str(&format!("\n  base CRL:    {base}"));
    }
    for e in i.entries.iter().take(20) {
        s.push_str(&format!("\n  {} {} {}", e.serial, e.revoked_at, e.reason.as_deref().unwrap_or("-")));
    }
    if i.entry_count > 20 {
        s.push_str(&format!("\n  ... {} more (use --json)", i.entry_count - 20));
    }
    s
}

fn human_ocsp(i: &ocsp::ResponseInfo) -> String {
    let mut s = format!("OCSP response: {}", i.status);
    if let Some(r) = &i.responder {
        s.push_str(&format!("\n  responder: {r}\n  produced:  {}\n  signature: valid", i.produced_at.as_deref().unwrap_or("-")));
    }
    for r in &i.responses {
        s.push_str(&format!("\n  {} {}", r.serial, r.status));
        if let (Some(at), reason) = (&r.revoked_at, &r.reason) {
            s.push_str(&format!(" at {at} ({})", reason.as_deref().unwrap_or("no reason")));
        }
    }
    s
}

/// Surname, name and patronymic, those there are; "-" when none is.
fn owner_name(o: &ca_core::verify::Owner) -> String {
    let parts: Vec<&str> = [&o.surname, &o.name, &o.patronymic].into_iter().flatten().map(String::as_str).collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

fn human_certificate(i: &CertificateInfo, verdict: &Option<Result<(), String>>) -> String {
    let o = &i.owner;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut s = format!(
        "certificate {}\n  type:       {}\n  subject:    {}\n  issuer:     {}\n  valid:      {} .. {}\n  public key: {}\n  owner:      {}\n  IIN:        {}{}\n  BIN:        {}\n  org:        {}\n  roles:      {}",
        i.serial,
        serde_json::to_value(i.key_type).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        i.subject,
        i.issuer,
        i.not_before,
        i.not_after,
        i.public_key,
        owner_name(o),
        opt(&o.iin),
        if i.iin_check_digit_valid == Some(false) { " (check digit invalid)" } else { "" },
        opt(&o.bin),
        opt(&o.organization),
        i.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
    );
    if let Some(v) = verdict {
        s.push_str(&format!("\n  signature:  {}", v.as_ref().map(|_| "valid".to_string()).unwrap_or_else(|e| format!("INVALID: {e}"))));
    }
    s
}

/// A PKCS#12 key file opened: how it is encrypted and what it holds.
#[derive(Serialize)]
pub struct KeyFile {
    kind: &'static str,
    encryption: ca_core::pkcs12::Protection,
    entries: Vec<KeyFileEntry>,
}

/// A certificate in a key file, and whether the file's key is its key.
#[derive(Serialize)]
pub struct KeyFileEntry {
    #[serde(flatten)]
    info: CertificateInfo,
    /// The key's localKeyID (PKCS#12), hex, for the certificate the key belongs to
    /// (`key_id` is the certificate's own key id).
    local_key_id: Option<String>,
    /// The key's algorithm, for the certificate the key belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    key_algorithm: Option<String>,
    /// Checked by deriving the public key from the private one (RSA, GOST 2015
    /// and 2004); `null` for a key of another algorithm.
    key_matches_certificate: Option<bool>,
}

impl Output for KeyFile {}

/// Whether the PKCS#8 `key` is the private key of `cert`: checked, never assumed.
fn key_matches(key: &[u8], cert: &Certificate) -> Option<bool> {
    let info = pkcs8::PrivateKeyInfo::try_from(key).ok()?;
    if ca_core::gost::Algorithm::of_key(info.algorithm.oid).is_some() {
        return ca_core::gost::key_matches(key, &cert.tbs_certificate.subject_public_key_info).ok();
    }
    if info.algorithm.oid != ca_core::oid::RSA_ENCRYPTION {
        return None;
    }
    let signer = ca_core::signing::RsaSigner::from_pkcs8(key).ok()?;
    Some(ca_core::signing::Signer::public_key(&signer) == &cert.tbs_certificate.subject_public_key_info)
}

/// `ca inspect --password PW FILE`: open a PKCS#12 key file (ours or the
/// authority's legacy ones) and describe it. A wrong password is refused.
pub fn key_file(file: &Path, password: &str) -> CliResult<KeyFile> {
    let bytes = read_input(file)?;
    let store = ca_core::pkcs12::read(&bytes, password)?;
    let algorithm = pkcs8::PrivateKeyInfo::try_from(store.key_pkcs8.as_slice()).ok().map(|k| k.algorithm.oid.to_string());
    let mut entries = vec![KeyFileEntry {
        info: CertificateInfo::of(&store.certificate),
        local_key_id: store.key_id.as_deref().map(hex::encode),
        key_algorithm: algorithm,
        key_matches_certificate: key_matches(&store.key_pkcs8, &store.certificate),
    }];
    entries.extend(store.chain.iter().map(|c| KeyFileEntry {
        info: CertificateInfo::of(c),
        local_key_id: None,
        key_algorithm: None,
        key_matches_certificate: Some(false),
    }));
    Ok(KeyFile { kind: "pkcs12", encryption: store.protection, entries })
}
