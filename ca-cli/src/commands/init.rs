//! `ca init`: create the root and issuing CA, the OCSP responder certificate and the database.

use super::Ctx;
use crate::error::CliResult;
use crate::output::Output;
use ca_core::authority::{self, CaRole, Config, InitOptions, Layout};
use ca_core::calendar;
use ca_core::model::Family;
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
    /// The GOST hierarchy, made beside the RSA one.
    gost: Hierarchy,
    passphrase_file: Option<String>,
}

/// The GOST hierarchy's certificates and files.
#[derive(Serialize)]
struct Hierarchy {
    root: CertificateInfo,
    issuing: CertificateInfo,
    ocsp: CertificateInfo,
    files: Files,
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
            "authority created in {}\n  root:     {}\n  root key: {}\n  issuing:  {}\n  ocsp:     {}\n  db:       {}\n\
             GOST hierarchy (GOST 34.10-2015 512-bit)\n  root:     {}\n  root key: {}\n  issuing:  {}\n  ocsp:     {}",
            self.data,
            f.root,
            f.root_key,
            f.issuing,
            f.ocsp,
            f.database,
            self.gost.files.root,
            self.gost.files.root_key,
            self.gost.files.issuing,
            self.gost.files.ocsp
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
    // The database given now is where the records live from now on.
    ctx.database()?;
    let config = Config {
        base_url: base_url.to_string(),
        root_name: root_name.to_string(),
        issuing_name: issuing_name.to_string(),
        database: authority::DatabaseSettings { url: ctx.database.clone(), ..Default::default() },
        ..InitOptions::default().config
    };
    let given = ctx.given_passphrase()?;
    let store_passphrase = given.is_none();
    let pass = given.unwrap_or_else(Passphrase::generate);
    eprintln!("generating RSA-{0} and GOST root and issuing CA keys; this takes a few seconds", authority::CA_KEY_BITS);
    let offline = offline_root.clone();
    let opts = InitOptions { config, force, store_passphrase, offline_root };
    let made = authority::init(&ctx.data, &opts, &pass, calendar::now())?;
    let layout = Layout::new(&ctx.data);
    if store_passphrase {
        eprintln!(
            "no passphrase was given: a random one protects the CA keys and is stored in {}\n\
             keep it secret; for production set CA_PASSPHRASE or --passphrase-file instead",
            layout.passphrase().display()
        );
    }
    let database = ctx.open()?.database().to_string();
    let files = |family| {
        let file = |role| layout.cert_of(family, role).display().to_string();
        let root_key = match &offline {
            Some(dir) => dir.join(Layout::key_file_name(family, CaRole::Root)),
            None => layout.key_of(family, CaRole::Root),
        };
        Files {
            root: file(CaRole::Root),
            root_key: root_key.display().to_string(),
            issuing: file(CaRole::Issuing),
            ocsp: file(CaRole::Ocsp),
            database: database.clone(),
        }
    };
    let gost = made.gost.as_ref().ok_or(authority::AuthorityError::NoHierarchy(Family::Gost))?;
    let certs = &made.rsa;
    Ok(Initialised {
        data: ctx.data.display().to_string(),
        root: CertificateInfo::of(&certs.root),
        issuing: CertificateInfo::of(&certs.issuing),
        ocsp: CertificateInfo::of(&certs.ocsp),
        files: files(Family::Rsa),
        gost: Hierarchy {
            root: CertificateInfo::of(&gost.root),
            issuing: CertificateInfo::of(&gost.issuing),
            ocsp: CertificateInfo::of(&gost.ocsp),
            files: files(Family::Gost),
        },
        passphrase_file: store_passphrase.then(|| layout.passphrase().display().to_string()),
    })
}
