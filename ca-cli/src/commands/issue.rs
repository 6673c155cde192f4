//! `ca issue`: issue an AUTH/SIGN pair directly from two requests, signed off by a
//! manager's key (see [`super::staff`]).

use super::{read_input, staff, Ctx};
use crate::args::IssueArgs;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::model::CertType;
use ca_core::verify::{self, CertificateInfo};
use der::EncodePem;
use serde::Serialize;

/// A pair issued and written.
#[derive(Serialize)]
pub struct Issued {
    pair_id: i64,
    auth: CertificateInfo,
    sign: CertificateInfo,
    files: Vec<String>,
    /// For staff: how to get the key store their commands are signed with.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

impl Output for Issued {
    fn human(&self) -> String {
        let mut text = format!("issued pair {}:\n  {}", self.pair_id, self.files.join("\n  "));
        if let Some(note) = &self.note {
            text.push_str(&format!("\nnote: {note}"));
        }
        text
    }
}

/// What a member of staff issued with `ca issue --staff` still lacks.
const STAFF_NOTE: &str = "staff sign with a key store (--operator-key or --key-dir DIR holding RSA256_<keyid>.p12), and \
these are certificates only; `ca operator add` makes the keys, the pair and the key store in one step. To use these \
instead, join the SIGN certificate with its key: openssl pkcs12 -export -in RSA256_<keyid>.cer -inkey sign.key \
-out DIR/RSA256_<keyid>.p12";

/// Run `ca issue`.
pub fn run(ctx: &Ctx, a: &IssueArgs) -> CliResult<Issued> {
    let applicant = staff::applicant(&a.person, a.identification.into(), a.staff)?;
    let auth_csr = read_input(&a.auth_csr)?;
    let sign_csr = read_input(&a.sign_csr)?;
    let pair = staff::issue_pair(ctx, &applicant, &auth_csr, &sign_csr)?;
    std::fs::create_dir_all(&a.out).map_err(|e| CliError::writing(&a.out, e))?;
    let mut files = Vec::new();
    for (t, cert) in [(CertType::Auth, &pair.auth), (CertType::Sign, &pair.sign)] {
        let oid = cert.tbs_certificate.subject_public_key_info.algorithm.oid;
        let family = ca_core::model::Family::of_key(&oid).unwrap_or(ca_core::model::Family::Rsa);
        let path = a.out.join(format!("{}{}.cer", t.file_prefix(family), verify::file_key_id(cert)));
        let pem = cert.to_pem(der::pem::LineEnding::LF)?;
        std::fs::write(&path, pem).map_err(|e| CliError::writing(&path, e))?;
        files.push(path.display().to_string());
    }
    Ok(Issued {
        pair_id: pair.pair_id,
        auth: CertificateInfo::of(&pair.auth),
        sign: CertificateInfo::of(&pair.sign),
        files,
        note: a.staff.map(|_| STAFF_NOTE.to_string()),
    })
}
