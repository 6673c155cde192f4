//! One module per command. Each takes its arguments and the [`Ctx`], does its work
//! through `ca-core`, and returns a typed [`Output`](crate::output::Output); `main`
//! prints it and maps errors to exit codes.

pub mod application;
pub mod audit;
pub mod crl;
pub mod enroll;
pub mod enroll_card;
pub mod init;
pub mod inspect;
pub mod issue;
pub mod keystore;
pub mod relying;
pub mod revoke;
pub mod show;
pub mod staff;
pub mod token;

use crate::args::{
    ApplicationCommand, AuditCommand, Cli, CmsCommand, Command, EnrollCommand, KeystoreCommand, OperatorCommand, TspCommand, XmlCommand,
};
use crate::error::{CliError, CliResult};
use crate::output::print;
use ca_core::authority::{self, Authority, Layout, PassphraseSource};
use ca_core::calendar;
use ca_core::model::Serial;
use ca_core::registration::{Registration, SystemClock};
use ca_core::signing::Passphrase;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What every command may need: the authority's directory and how to find its passphrase.
pub struct Ctx {
    /// The authority's directory.
    pub data: PathBuf,
    passphrase_file: Option<PathBuf>,
    /// The database given by flag or environment, as given (it may hold a password).
    pub database: Option<String>,
    /// The staff key store that signs state-changing commands.
    pub operator_key: Option<PathBuf>,
    /// Its password file (else $CA_KEY_PASSWORD).
    pub operator_password_file: Option<PathBuf>,
}

impl Ctx {
    /// The authority in the data directory.
    pub fn open(&self) -> CliResult<Authority> {
        let ca = Authority::open(&self.data)?;
        Ok(match self.database()? {
            Some(database) => ca.with_database(database),
            None => ca,
        })
    }

    /// The database given by flag or environment, if any.
    pub fn database(&self) -> CliResult<Option<ca_core::store::Database>> {
        let parse = |url: &String| url.parse().map_err(|e| CliError::usage(format!("--database (or CA_DATABASE_URL): {e}")));
        self.database.as_ref().map(parse).transpose()
    }

    /// The passphrase given by flag or environment, if any.
    pub fn given_passphrase(&self) -> CliResult<Option<Passphrase>> {
        Ok(Passphrase::from_file_or_env(self.passphrase_file.as_deref())?)
    }

    /// Run `f` with the registration authority over the authority in the data
    /// directory, able to issue when `issue` is set (the CA key is decrypted).
    pub fn with_ra<T>(&self, issue: bool, f: impl FnOnce(&mut Registration<'_>) -> CliResult<T>) -> CliResult<T> {
        let ca = self.open()?;
        let issuer = if issue { Some(ca.issuer(ca.issuing_signer(&self.passphrase()?)?)?) } else { None };
        let mut db = ca.store()?;
        let clock = SystemClock;
        let issuing = ca.hierarchies().issuing_cas();
        let mut ra = Registration::new(&mut db, &issuing, &clock);
        if let Some(i) = &issuer {
            ra = ra.with_issuer(i);
        }
        f(&mut ra)
    }

    /// The passphrase for an existing authority: flag, environment, or the file init wrote.
    pub fn passphrase(&self) -> CliResult<Passphrase> {
        let layout = Layout::new(&self.data);
        match authority::find_passphrase(self.passphrase_file.as_deref(), &layout)? {
            Some((p, PassphraseSource::Given)) => Ok(p),
            Some((p, PassphraseSource::Stored)) => {
                eprintln!("note: using the passphrase stored in {}; move it offline for production", layout.passphrase().display());
                Ok(p)
            }
            None => Err(CliError::refused("no_passphrase", "no CA passphrase: set CA_PASSPHRASE or pass --passphrase-file FILE")),
        }
    }
}

/// Run the command `cli` names and print what it returns.
pub fn run(cli: &Cli) -> CliResult<()> {
    let ctx = Ctx {
        data: cli.data.clone(),
        passphrase_file: cli.passphrase_file.clone(),
        database: cli.database.clone(),
        operator_key: cli.operator_key.clone(),
        operator_password_file: cli.operator_password_file.clone(),
    };
    let json = cli.json;
    match &cli.command {
        Command::Init { base_url, root_name, issuing_name, force, offline_root } => {
            print(&init::run(&ctx, base_url, root_name, issuing_name, *force, offline_root.clone())?, json)
        }
        Command::Issue(args) => print(&issue::run(&ctx, args)?, json),
        Command::Show { serial } => print(&show::show(&ctx, serial)?, json),
        Command::List { iin, bin, status } => print(&show::list(&ctx, iin.clone(), bin.clone(), status.map(Into::into))?, json),
        Command::Inspect { token: true, card, .. } => print(&token::info(card)?, json),
        Command::Inspect { file: None, .. } => Err(CliError::usage("name a file to inspect, or --token")),
        Command::Inspect { file: Some(file), issuer, password: Some(password), .. } => {
            if issuer.is_some() {
                return Err(CliError::usage("--issuer checks a certificate, CRL or OCSP response, not a key file"));
            }
            print(&inspect::key_file(file, &zeroize::Zeroizing::new(password.clone()))?, json)
        }
        Command::Inspect { file: Some(file), issuer, password: None, .. } => inspect::run(file, issuer.as_deref(), json),
        Command::Token { command } => token::run(command, json),
        Command::Verify { cert, checks } => relying::verify(cert, checks, json),
        Command::Cms { command: CmsCommand::Verify { file, content, out_content, checks } } => {
            relying::cms_verify(file, content.as_deref(), out_content.as_deref(), checks, json)
        }
        Command::Cms { command: CmsCommand::Sign { file, key, detached, tsp, out } } => {
            print(&relying::cms_sign(file, key, *detached, tsp.as_deref(), out)?, json)
        }
        Command::Tsp { command: TspCommand::Query { file, url, out } } => print(&relying::tsp_query(file, url, out)?, json),
        Command::Tsp { command: TspCommand::Verify { file, data, checks } } => relying::tsp_verify(file, data, checks, json),
        Command::Xml { command: XmlCommand::Verify { file, checks } } => relying::xml_verify(file, checks, json),
        Command::Xml { command: XmlCommand::Sign { file, key, out } } => print(&relying::xml_sign(file, key, out)?, json),
        Command::Revoke { serial, reason, invalidity_date } => {
            print(&revoke::revoke(&ctx, serial, *reason, invalidity_date.as_deref())?, json)
        }
        Command::Unhold { serial } => print(&revoke::unhold(&ctx, serial)?, json),
        Command::Crl { root: true, out, root_key, gost, .. } => {
            print(&crl::root(&ctx, crl::family(*gost), out, root_key.as_deref())?, json)
        }
        Command::Crl { delta, out, gost, .. } => print(&crl::issue(&ctx, crl::family(*gost), *delta, out)?, json),
        Command::Audit { command: AuditCommand::Verify { checkpoint } } => print(&audit::verify(&ctx, checkpoint.as_deref())?, json),
        Command::Audit { command: AuditCommand::Checkpoint { out } } => print(&audit::checkpoint(&ctx, out.as_deref())?, json),
        Command::Audit { command: AuditCommand::List(filter) } => print(&audit::list(&ctx, filter)?, json),
        Command::Audit { command: AuditCommand::Show { seq } } => print(&audit::show(&ctx, *seq)?, json),
        Command::Application { command } => application(&ctx, command, json),
        Command::Keystore { command: KeystoreCommand::Passwd { file, password_file, new_password_file, legacy } } => {
            print(&keystore::passwd(file, password_file.as_deref(), new_password_file.as_deref(), *legacy)?, json)
        }
        Command::Operator { command: OperatorCommand::Add(args) } => print(&staff::add(&ctx, args)?, json),
        Command::Operator { command: OperatorCommand::List } => print(&staff::list(&ctx)?, json),
        Command::Operator { command: OperatorCommand::Revoke { serial, reason } } => print(&staff::revoke(&ctx, serial, *reason)?, json),
        Command::Enroll { command } => enroll_command(command, json),
    }
}

fn application(ctx: &Ctx, command: &ApplicationCommand, json: bool) -> CliResult<()> {
    match command {
        ApplicationCommand::List { state, center, remote } => match remote.target()? {
            Some(op) => {
                if state.is_some() {
                    return Err(CliError::usage(
                        "--state works on --data only; the operator API lists applications awaiting identity confirmation",
                    ));
                }
                print(&application::Views(op.pending(center.clone())?), json)
            }
            None => print(&application::Views(application::list(ctx, *state, center.as_deref())?), json),
        },
        ApplicationCommand::Show { number } => print(&application::show(ctx, number)?, json),
        ApplicationCommand::Confirm { number, remote } => match remote.target()? {
            Some(op) => print(&op.confirm(number)?, json),
            None => print(&application::confirm(ctx, number)?, json),
        },
        ApplicationCommand::Reject { number, reason, remote } => match remote.target()? {
            Some(op) => print(&op.reject(number, reason)?, json),
            None => print(&application::reject(ctx, number, reason)?, json),
        },
    }
}

fn enroll_command(command: &EnrollCommand, json: bool) -> CliResult<()> {
    use crate::args::StorageArg;
    let pw = |s: &crate::args::KeyStoreArgs| enroll::password(s.password_file.as_deref());
    // Keys on a card are found by the record `keygen` and `fetch` leave in the key store;
    // a --storage given must agree with it.
    let agree = |given: Option<StorageArg>, recorded: Option<ca_core::model::KeyStorage>| -> CliResult<()> {
        match (given.map(ca_core::model::KeyStorage::from), recorded) {
            (Some(g), r) if g != r.unwrap_or(ca_core::model::KeyStorage::Pc) => Err(CliError::refused(
                "storage_mismatch",
                format!(
                    "--storage {g}, but the key store's keys are {}",
                    r.map_or("in files on this PC".to_string(), |r| format!("on a {r}"))
                ),
            )),
            _ => Ok(()),
        }
    };
    match command {
        EnrollCommand::Keygen { store, storage: StorageArg::Pc, sign_key } => {
            print(&enroll::keygen(&store.dir, &pw(store)?, (*sign_key).into())?, json)
        }
        EnrollCommand::Keygen { store, storage, sign_key } => {
            print(&enroll_card::keygen(&store.dir, (*storage).into(), (*sign_key).into(), &store.card)?, json)
        }
        EnrollCommand::Apply(a) => {
            let recorded = enroll_card::pending_on_card(&a.dir)?.map(|r| r.storage);
            agree(a.storage, recorded)?;
            let mut form = enroll::form(a);
            form.storage = recorded.unwrap_or(form.storage);
            print(&enroll::apply(&a.server, &a.dir, form)?, json)
        }
        EnrollCommand::Status { server, number, dir, secret } => print(&enroll::status(server, dir, number, secret.clone())?, json),
        EnrollCommand::Fetch { server, number, store, secret, legacy, storage } => {
            let recorded = enroll_card::pending_on_card(&store.dir)?;
            agree(*storage, recorded.as_ref().map(|r| r.storage))?;
            if let Some(record) = recorded {
                if *legacy {
                    return Err(CliError::usage(format!(
                        "--legacy chooses how key files are written; these keys are on a {} and no key file is written",
                        record.storage
                    )));
                }
                return print(&enroll_card::fetch(server, &store.dir, number, secret.clone(), &store.card, &record)?, json);
            }
            let form = if *legacy { ca_core::pkcs12::Protection::Legacy } else { ca_core::pkcs12::Protection::Pbes2 };
            print(&enroll::fetch(server, &store.dir, number, secret.clone(), &pw(store)?, form)?, json)
        }
        EnrollCommand::Renew { server, store, storage } => {
            let recorded = enroll_card::current_on_card(&store.dir)?;
            agree(*storage, recorded.as_ref().map(|r| r.storage))?;
            match recorded {
                Some(_) => print(&enroll_card::renew(server, &store.dir, &store.card)?, json),
                None => print(&enroll::renew(server, &store.dir, &pw(store)?)?, json),
            }
        }
        EnrollCommand::Revoke { server, store, reason, storage } => {
            let recorded = enroll_card::current_on_card(&store.dir)?;
            agree(*storage, recorded.as_ref().map(|r| r.storage))?;
            match recorded {
                Some(_) => print(&enroll_card::revoke(server, &store.dir, *reason, &store.card)?, json),
                None => print(&enroll::revoke(server, &store.dir, *reason, &pw(store)?)?, json),
            }
        }
        EnrollCommand::Approve { server, number, store } => match enroll_card::current_on_card(&store.dir)? {
            Some(_) => print(&enroll_card::approve(server, &store.dir, number, &store.card)?, json),
            None => print(&enroll::approve(server, &store.dir, number, &pw(store)?)?, json),
        },
    }
}

/// Read a file the user named.
pub fn read_input(path: &Path) -> CliResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| CliError::reading(path, e))
}

/// A Unix time as RFC 3339, for output.
pub fn rfc3339(secs: i64) -> Option<String> {
    calendar::from_unix_seconds(secs).map(|t| calendar::rfc3339(&t))
}

/// A serial and what became of it.
#[derive(Serialize)]
pub struct SerialStatus {
    /// The certificate.
    pub serial: Serial,
    /// `revoked` or `valid`.
    pub status: &'static str,
    /// The reason, for a revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// The invalidity date given, for a revocation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidity_date: Option<Option<String>>,
}

impl crate::output::Output for SerialStatus {}
