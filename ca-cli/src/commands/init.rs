//! `ca init`: create the root and issuing CA, the OCSP responder certificate and the database.

use super::Ctx;
use crate::error::CliResult;
use crate::output::Output;
use ca_core::authority::{self, CaRole, Config, InitOptions, Layout};
use ca_core::calendar;
use ca_core::signing::Passphrase;
use ca_core::verify::CertificateInfo;
use serde::Serialize;

/// What `ca init` made.
#[derive(Serialize)]
pub struct Initialised {
    data: String,
    root: CertificateInfo,
    issuing: CertificateInfo,
    ocsp: CertificateInfo,
    files: Files,
    passphrase_file: Option<String>,
}

/// Where it put things.
#[derive(Serialize)]
struct Files {
    root: String,
    /// Where the root key is: in the directory, or offline.
    root_key: String,
    issuing: String,
    ocsp: String,
    database: String,
}

impl Output for Initialised {
    fn human(&self) -> String {
        let f = &self.files;
        format!(
            "authority created in {}\n  root:     {}\n  root key: {}\n  issuing:  {}\n  ocsp:     {}\n  db:       {}",
            self.data, f.root, f.root_key, f.issuing, f.ocsp, f.database
        )
    }
}

/// Run `ca init`.
pub fn run(
    ctx: &Ctx,
    base_url: &str,
    root_name: &str,
    issuing_name: &str,
    force: bool,
    offline_root: Option<std::path::PathBuf>,
) -> CliResult<Initialised> {
    let config = Config {
        base_url: base_url.to_string(),
        root_name: root_name.to_string(),
        issuing_name: issuing_name.to_string(),
        ..InitOptions::default().config
    };
    let given = ctx.given_passphrase()?;
    let store_passphrase = given.is_none();
    let pass = given.unwrap_or_else(Passphrase::generate);
    eprintln!("generating RSA-{0} root and issuing CA keys; this takes a few seconds", authority::CA_KEY_BITS);
    let root_key = offline_root.as_ref().map(|d| d.join(authority::ROOT_KEY_FILE).display().to_string());
    let opts = InitOptions { config, force, store_passphrase, offline_root };
    let certs = authority::init(&ctx.data, &opts, &pass, calendar::now())?;
    let layout = Layout::new(&ctx.data);
    if store_passphrase {
        eprintln!(
            "no passphrase was given: a random one protects the CA keys and is stored in {}\n\
             keep it secret; for production set CA_PASSPHRASE or --passphrase-file instead",
            layout.passphrase().display()
        );
    }
    let file = |role| layout.cert(role).display().to_string();
    Ok(Initialised {
        data: ctx.data.display().to_string(),
        root: CertificateInfo::of(&certs.root),
        issuing: CertificateInfo::of(&certs.issuing),
        ocsp: CertificateInfo::of(&certs.ocsp),
        files: Files {
            root: file(CaRole::Root),
            root_key: root_key.unwrap_or_else(|| layout.key(CaRole::Root).display().to_string()),
            issuing: file(CaRole::Issuing),
            ocsp: file(CaRole::Ocsp),
            database: layout.database().display().to_string(),
        },
        passphrase_file: store_passphrase.then(|| layout.passphrase().display().to_string()),
    })
}
