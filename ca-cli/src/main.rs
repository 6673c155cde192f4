//! `ca`: the authority's command line for operators, applicants and anyone
//! inspecting a certificate. A thin shell over `ca-core`; the contract is CLI.md.
//! Exit status: 0 success, 1 refused (bad input, policy), 2 usage error.

mod enroll;
mod operator;

use anyhow::{anyhow, bail, Context, Result};
use ca_core::audit::Actor;
use ca_core::authority::{self, Authority, Config, InitOptions, Layout, PassphraseSource};
use ca_core::calendar::{self, Date};
use ca_core::profile::{Applicant, CertType, IdentificationMethod, LegalEntity, PersonName, Role, StaffRole};
use ca_core::registration::{KeyStorage, SignedAction};
use ca_core::signing::Passphrase;
use ca_core::store::{ListFilter, Status, StatusFilter, Store};
use ca_core::verify::{self, CertificateInfo};
use clap::{Parser, Subcommand, ValueEnum};
use der::{Decode, EncodePem};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use x509_cert::request::CertReq;
use x509_cert::Certificate;

#[derive(Parser)]
#[command(name = "ca", version, about = "National certification authority: operators, applicants, inspection")]
struct Cli {
    /// The authority's directory.
    #[arg(long, global = true, env = "CA_DATA", default_value = "./ca-data")]
    data: PathBuf,
    /// File holding the CA key passphrase (else $CA_PASSPHRASE, else DIR/passphrase).
    #[arg(long, global = true)]
    passphrase_file: Option<PathBuf>,
    /// Print one JSON document on stdout.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the root and issuing CA, the OCSP responder certificate and the database.
    Init {
        /// Base URL of CRLs, CA certificates, OCSP and CPS in issued certificates.
        #[arg(long, default_value = authority::DEFAULT_BASE_URL)]
        base_url: String,
        /// Root CA name.
        #[arg(long, default_value = authority::DEFAULT_ROOT_NAME)]
        root_name: String,
        /// Issuing CA name.
        #[arg(long, default_value = authority::DEFAULT_ISSUING_NAME)]
        issuing_name: String,
        /// Move an existing authority aside (DIR.old-<time>) and start over.
        #[arg(long)]
        force: bool,
    },
    /// Issue an AUTH/SIGN pair directly from two requests.
    Issue(IssueArgs),
    /// One certificate: owner, type, status, dates.
    Show {
        /// Serial number, hex.
        serial: String,
    },
    /// Issued certificates.
    List {
        /// Only this IIN.
        #[arg(long)]
        iin: Option<String>,
        /// Only this BIN.
        #[arg(long)]
        bin: Option<String>,
        /// Only this status.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
    },
    /// Revoke a certificate (reasons as in RFC 5280, camelCase).
    Revoke {
        /// Serial number, hex.
        serial: String,
        /// keyCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, ...
        #[arg(long)]
        reason: String,
        /// Since when the key is known or suspected to be compromised (RFC 3339, UTC), for the CRL's invalidity date.
        #[arg(long)]
        invalidity_date: Option<String>,
    },
    /// Issue the current full (or delta) CRL now and write it, DER.
    Crl {
        /// A delta CRL: what changed since the newest full CRL.
        #[arg(long, conflicts_with = "root")]
        delta: bool,
        /// The root's CRL (signed with the root key), also published in DIR/crl/.
        #[arg(long)]
        root: bool,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Lift a certificateHold.
    Unhold {
        /// Serial number, hex.
        serial: String,
    },
    /// The application workflow: list, show, confirm identity, reject.
    Application {
        #[command(subcommand)]
        command: ApplicationCommand,
    },
    /// The applicant's side: keys, application, download, renewal, revocation.
    Enroll {
        #[command(subcommand)]
        command: EnrollCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Describe a certificate, request, CRL or OCSP request or response (PEM or DER), ours or anyone's.
    Inspect {
        /// The file.
        file: PathBuf,
        /// Check the certificate's or CRL's signature against this issuer certificate
        /// (for an OCSP response: that its responder is authorised by this issuer).
        #[arg(long)]
        issuer: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; fails naming the first edited, missing or reordered record.
    Verify,
}

/// An operator's key store and server, for the operator API.
#[derive(clap::Args)]
struct Remote {
    /// The authority's server; without it, work on --data directly.
    #[arg(long, requires = "key_dir")]
    server: Option<String>,
    /// Key store holding the operator's SIGN certificate (RSA256_*.p12).
    #[arg(long)]
    key_dir: Option<PathBuf>,
    /// File holding the key store password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ApplicationCommand {
    /// Applications in a state (default: awaiting identity confirmation).
    List {
        /// submitted, awaiting_head_approval, awaiting_identity, issued, rejected, expired.
        #[arg(long)]
        state: Option<String>,
        /// Only this registration center.
        #[arg(long)]
        center: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// One application.
    Show {
        /// Application number.
        number: String,
    },
    /// The applicant's identity document was checked in person: issue the pair.
    Confirm {
        /// Application number.
        number: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Reject the application; the applicant reads the reason.
    Reject {
        /// Application number.
        number: String,
        /// Why.
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// The applicant's key store directory and its password.
#[derive(clap::Args)]
struct KeyStoreArgs {
    /// The key store directory.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    /// File holding the key store password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    password_file: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum StorageArg {
    Pc,
    Idcard,
    Kaztoken,
}

impl From<StorageArg> for KeyStorage {
    fn from(s: StorageArg) -> Self {
        match s {
            StorageArg::Pc => KeyStorage::Pc,
            StorageArg::Idcard => KeyStorage::Idcard,
            StorageArg::Kaztoken => KeyStorage::Kaztoken,
        }
    }
}

/// Who a pair is for, as the command line gives it.
#[derive(clap::Args)]
struct PersonArgs {
    /// IIN.
    #[arg(long)]
    iin: String,
    /// Surname.
    #[arg(long)]
    surname: String,
    /// Given name.
    #[arg(long)]
    name: String,
    /// Patronymic.
    #[arg(long)]
    patronymic: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
    /// BIN of the legal entity.
    #[arg(long, requires_all = ["org", "role"])]
    bin: Option<String>,
    /// Organization name.
    #[arg(long, requires = "bin")]
    org: Option<String>,
    /// Role in the legal entity.
    #[arg(long, value_enum, requires = "bin")]
    role: Option<RoleArg>,
}

#[derive(clap::Args)]
struct ApplyArgs {
    /// The authority's server.
    #[arg(long)]
    server: String,
    /// The key store made by `keygen`.
    #[arg(long, default_value = ".")]
    dir: PathBuf,
    #[command(flatten)]
    person: PersonArgs,
    /// Where the keys live.
    #[arg(long, value_enum, default_value = "pc")]
    storage: StorageArg,
    /// The registration center you will visit.
    #[arg(long)]
    center: String,
}

#[derive(Subcommand)]
enum EnrollCommand {
    /// Make the AUTH and SIGN key pairs in the key store.
    Keygen {
        #[command(flatten)]
        store: KeyStoreArgs,
        /// Where the keys live.
        #[arg(long, value_enum, default_value = "pc")]
        storage: StorageArg,
    },
    /// Submit the CSRs and your data; prints the application number.
    Apply(ApplyArgs),
    /// Where an application stands.
    Status {
        /// The authority's server.
        #[arg(long)]
        server: String,
        /// Application number.
        number: String,
        /// The key store that applied (holds the secret).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// The application's secret, if not in the key store.
        #[arg(long, env = "CA_APPLICATION_SECRET")]
        secret: Option<String>,
    },
    /// Download the certificates into the key store as PKCS#12 files.
    Fetch {
        /// The authority's server.
        #[arg(long)]
        server: String,
        /// Application number.
        number: String,
        #[command(flatten)]
        store: KeyStoreArgs,
        /// The application's secret, if not in the key store.
        #[arg(long, env = "CA_APPLICATION_SECRET")]
        secret: Option<String>,
    },
    /// Renew the pair, signed with the current SIGN key.
    Renew {
        /// The authority's server.
        #[arg(long)]
        server: String,
        #[command(flatten)]
        store: KeyStoreArgs,
    },
    /// Revoke your own pair, signed with its SIGN key.
    Revoke {
        /// The authority's server.
        #[arg(long)]
        server: String,
        #[command(flatten)]
        store: KeyStoreArgs,
        /// keyCompromise, affiliationChanged, superseded, cessationOfOperation or certificateHold.
        #[arg(long)]
        reason: String,
    },
    /// As a legal entity's head (or HR officer), approve an employee's application.
    Approve {
        /// The authority's server.
        #[arg(long)]
        server: String,
        /// Application number.
        number: String,
        #[command(flatten)]
        store: KeyStoreArgs,
    },
}

#[derive(clap::Args)]
struct IssueArgs {
    #[command(flatten)]
    person: PersonArgs,
    /// How the holder's identity was proven.
    #[arg(long, value_enum, default_value = "in-person")]
    identification: IdentificationArg,
    /// A role inside the authority (CA staff): ca_operator, ca_manager, ca_administrator.
    #[arg(long)]
    staff: Option<String>,
    /// PKCS#10 request for the AUTH key.
    #[arg(long)]
    auth_csr: PathBuf,
    /// PKCS#10 request for the SIGN key.
    #[arg(long)]
    sign_csr: PathBuf,
    /// Where to write AUTH_RSA256_<keyid>.cer and RSA256_<keyid>.cer.
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Ceo,
    Signer,
    Financial,
    Hr,
    Employee,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Ceo => Role::Ceo,
            RoleArg::Signer => Role::Signer,
            RoleArg::Financial => Role::Financial,
            RoleArg::Hr => Role::Hr,
            RoleArg::Employee => Role::Employee,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum IdentificationArg {
    InPerson,
    Remote,
}

#[derive(Clone, Copy, ValueEnum)]
enum StatusArg {
    Valid,
    Revoked,
    Expired,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Init { base_url, root_name, issuing_name, force } => {
            let config = Config {
                base_url: base_url.clone(),
                root_name: root_name.clone(),
                issuing_name: issuing_name.clone(),
                ..InitOptions::default().config
            };
            init(cli, config, *force)
        }
        Command::Issue(args) => issue(cli, args),
        Command::Show { serial } => show(cli, serial),
        Command::List { iin, bin, status } => list(cli, iin.clone(), bin.clone(), *status),
        Command::Inspect { file, issuer } => inspect(cli, file, issuer.as_deref()),
        Command::Revoke { serial, reason, invalidity_date } => {
            done(cli, operator::revoke(&cli.data, serial, reason, invalidity_date.as_deref())?)
        }
        Command::Crl { root: true, out, .. } => done(cli, operator::root_crl(&cli.data, &passphrase(cli)?, out)?),
        Command::Crl { delta, out, .. } => {
            let kind = if *delta { ca_core::crl::CrlKind::Delta } else { ca_core::crl::CrlKind::Full };
            done(cli, operator::crl(&cli.data, &passphrase(cli)?, kind, out)?)
        }
        Command::Unhold { serial } => done(cli, operator::unhold(&cli.data, serial)?),
        Command::Audit { command: AuditCommand::Verify } => done(cli, operator::audit_verify(&cli.data)?),
        Command::Application { command } => application(cli, command),
        Command::Enroll { command } => enroll_command(cli, command),
    }
}

/// Print a command's result: JSON with --json, else a readable rendering of it.
fn done(cli: &Cli, value: Value) -> Result<()> {
    print(cli, &value, || human_json(&value, 0));
    Ok(())
}

fn human_json(v: &Value, indent: usize) -> String {
    let pad = "  ".repeat(indent);
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| match v {
                Value::Object(_) | Value::Array(_) => format!("{pad}{k}:\n{}", human_json(v, indent + 1)),
                _ => format!("{pad}{k}: {}", human_json(v, 0)),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(a) if a.is_empty() => format!("{pad}(none)"),
        Value::Array(a) => a.iter().map(|x| format!("{pad}-\n{}", human_json(x, indent + 1))).collect::<Vec<_>>().join("\n"),
        Value::String(s) => format!("{pad}{s}"),
        other => format!("{pad}{other}"),
    }
}

fn remote_password(r: &Remote) -> Result<zeroize::Zeroizing<String>> {
    enroll::password(r.password_file.as_deref())
}

fn application(cli: &Cli, command: &ApplicationCommand) -> Result<()> {
    let remote = |r: &Remote| r.server.clone().zip(r.key_dir.clone());
    let value = match command {
        ApplicationCommand::List { state, center, remote: r } => match remote(r) {
            Some((server, dir)) => {
                if state.is_some() {
                    bail!("--state works on --data only; the operator API lists applications awaiting identity confirmation");
                }
                let action = SignedAction::ListPending { center: center.clone() };
                enroll::operator(&server, &dir, &remote_password(r)?, "/api/v1/operator/applications/pending", action)?
            }
            None => operator::list(&cli.data, state.as_deref(), center.as_deref())?,
        },
        ApplicationCommand::Show { number } => operator::show(&cli.data, number)?,
        ApplicationCommand::Confirm { number, remote: r } => match remote(r) {
            Some((server, dir)) => {
                let path = format!("/api/v1/operator/applications/{number}/confirm");
                enroll::operator(&server, &dir, &remote_password(r)?, &path, SignedAction::Confirm { application: number.clone() })?
            }
            None => operator::confirm(&cli.data, &passphrase(cli)?, number)?,
        },
        ApplicationCommand::Reject { number, reason, remote: r } => match remote(r) {
            Some((server, dir)) => {
                let path = format!("/api/v1/operator/applications/{number}/reject");
                let action = SignedAction::Reject { application: number.clone(), reason: reason.clone() };
                enroll::operator(&server, &dir, &remote_password(r)?, &path, action)?
            }
            None => operator::reject(&cli.data, number, reason)?,
        },
    };
    done(cli, value)
}

fn enroll_command(cli: &Cli, command: &EnrollCommand) -> Result<()> {
    let pw = |s: &KeyStoreArgs| enroll::password(s.password_file.as_deref());
    let value = match command {
        EnrollCommand::Keygen { store, storage } => enroll::keygen(&store.dir, (*storage).into(), &pw(store)?)?,
        EnrollCommand::Apply(a) => enroll::apply(&a.server, &a.dir, enroll::form(a))?,
        EnrollCommand::Status { server, number, dir, secret } => enroll::status(server, dir, number, secret.clone())?,
        EnrollCommand::Fetch { server, number, store, secret } => enroll::fetch(server, &store.dir, number, secret.clone(), &pw(store)?)?,
        EnrollCommand::Renew { server, store } => enroll::renew(server, &store.dir, &pw(store)?)?,
        EnrollCommand::Revoke { server, store, reason } => enroll::revoke(server, &store.dir, reason, &pw(store)?)?,
        EnrollCommand::Approve { server, number, store } => enroll::approve(server, &store.dir, number, &pw(store)?)?,
    };
    done(cli, value)
}

/// The passphrase given by flag or environment, if any.
fn given_passphrase(cli: &Cli) -> Result<Option<Passphrase>> {
    Ok(Passphrase::from_file_or_env(cli.passphrase_file.as_deref())?)
}

/// The passphrase for an existing authority: flag, environment, or the file init wrote.
fn passphrase(cli: &Cli) -> Result<Passphrase> {
    let layout = Layout::new(&cli.data);
    match authority::find_passphrase(cli.passphrase_file.as_deref(), &layout)? {
        Some((p, PassphraseSource::Given)) => Ok(p),
        Some((p, PassphraseSource::Stored)) => {
            eprintln!("note: using the passphrase stored in {}; move it offline for production", layout.passphrase().display());
            Ok(p)
        }
        None => bail!("no CA passphrase: set CA_PASSPHRASE or pass --passphrase-file FILE"),
    }
}

fn print(cli: &Cli, value: &Value, human: impl FnOnce() -> String) {
    if cli.json {
        println!("{value}");
    } else {
        println!("{}", human());
    }
}

fn init(cli: &Cli, config: Config, force: bool) -> Result<()> {
    let given = given_passphrase(cli)?;
    let store_passphrase = given.is_none();
    let pass = given.unwrap_or_else(Passphrase::generate);
    eprintln!("generating RSA-{0} root and issuing CA keys; this takes a few seconds", authority::CA_KEY_BITS);
    let opts = InitOptions { config, force, store_passphrase };
    let certs = authority::init(&cli.data, &opts, &pass, calendar::now())?;
    let layout = Layout::new(&cli.data);
    if store_passphrase {
        eprintln!(
            "no passphrase was given: a random one protects the CA keys and is stored in {}\n\
             keep it secret; for production set CA_PASSPHRASE or --passphrase-file instead",
            layout.passphrase().display()
        );
    }
    let files = |role| layout.cert(role).display().to_string();
    let value = json!({
        "data": cli.data.display().to_string(),
        "root": CertificateInfo::of(&certs.root),
        "issuing": CertificateInfo::of(&certs.issuing),
        "ocsp": CertificateInfo::of(&certs.ocsp),
        "files": {
            "root": files(authority::CaRole::Root),
            "issuing": files(authority::CaRole::Issuing),
            "ocsp": files(authority::CaRole::Ocsp),
            "database": layout.database().display().to_string(),
        },
        "passphrase_file": store_passphrase.then(|| layout.passphrase().display().to_string()),
    });
    print(cli, &value, || {
        format!(
            "authority created in {}\n  root:    {}\n  issuing: {}\n  ocsp:    {}\n  db:      {}",
            cli.data.display(),
            files(authority::CaRole::Root),
            files(authority::CaRole::Issuing),
            files(authority::CaRole::Ocsp),
            layout.database().display()
        )
    });
    Ok(())
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn issue(cli: &Cli, a: &IssueArgs) -> Result<()> {
    let p = &a.person;
    let today = Date::of(&calendar::now());
    let person = PersonName::new(&p.surname, &p.name, p.patronymic.as_deref())?;
    let entity = match (&p.bin, &p.org, p.role) {
        (Some(bin), Some(org), Some(role)) => Some(LegalEntity::new(bin, org, role.into())?),
        _ => None,
    };
    let identification = match a.identification {
        IdentificationArg::InPerson => IdentificationMethod::InPerson,
        IdentificationArg::Remote => IdentificationMethod::Remote,
    };
    let mut applicant = Applicant::new(&p.iin, person, p.email.as_deref(), entity, identification, today)?;
    if let Some(staff) = &a.staff {
        applicant = applicant.with_staff_role(staff.parse::<StaffRole>()?);
    }
    let auth_csr = read_input(&a.auth_csr)?;
    let sign_csr = read_input(&a.sign_csr)?;
    let mut ca = Authority::open(&cli.data)?;
    ca.unlock(&passphrase(cli)?)?;
    let pair = ca.issue_pair(&applicant, &auth_csr, &sign_csr, calendar::now(), Actor::console())?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut files = Vec::new();
    for (t, cert) in [(CertType::Auth, &pair.auth), (CertType::Sign, &pair.sign)] {
        let path = a.out.join(format!("{}{}.cer", t.file_prefix(), verify::file_key_id(cert)));
        let pem = cert.to_pem(der::pem::LineEnding::LF).map_err(|e| anyhow!("encoding certificate: {e}"))?;
        std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
        files.push(path.display().to_string());
    }
    let value = json!({
        "pair_id": pair.pair_id,
        "auth": CertificateInfo::of(&pair.auth),
        "sign": CertificateInfo::of(&pair.sign),
        "files": files,
    });
    print(cli, &value, || format!("issued pair {}:\n  {}\n  {}", pair.pair_id, files[0], files[1]));
    Ok(())
}

fn status_json(status: Status) -> Value {
    match status {
        Status::Revoked(r) => json!({
            "status": "revoked",
            "revoked_at": calendar::from_unix_seconds(r.at).map(|t| calendar::rfc3339(&t)),
            "reason": r.reason.as_str(),
        }),
        other => json!({ "status": other.as_str() }),
    }
}

fn show(cli: &Cli, serial: &str) -> Result<()> {
    let ca = Authority::open(&cli.data)?;
    let now = calendar::unix_seconds(&calendar::now());
    let (rec, cert) = ca.certificate(serial)?.ok_or_else(|| anyhow!("no certificate with serial {serial} in {}", cli.data.display()))?;
    let info = CertificateInfo::of(&cert);
    let mut value = serde_json::to_value(&info)?;
    value["pair_id"] = json!(rec.pair_id);
    value["status"] = status_json(rec.status(now));
    // The database is the record: a certificate whose file was lost can be re-exported.
    value["pem"] = json!(cert.to_pem(der::pem::LineEnding::LF).map_err(|e| anyhow!("encoding certificate: {e}"))?);
    print(cli, &value, || {
        format!(
            "serial:   {}\ntype:     {}\nowner:    {} (IIN {})\nstatus:   {}\nvalid:    {} .. {}",
            info.serial,
            rec.cert_type,
            rec.common_name,
            rec.holder.iin,
            rec.status(now).as_str(),
            info.not_before,
            info.not_after
        )
    });
    Ok(())
}

fn list(cli: &Cli, iin: Option<String>, bin: Option<String>, status: Option<StatusArg>) -> Result<()> {
    let ca = Authority::open(&cli.data)?;
    let now = calendar::unix_seconds(&calendar::now());
    let status = status.map(|s| match s {
        StatusArg::Valid => StatusFilter::Valid,
        StatusArg::Revoked => StatusFilter::Revoked,
        StatusArg::Expired => StatusFilter::Expired,
    });
    let records = ca.store().list(&ListFilter { iin, bin, status, now })?;
    let items: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut v = json!({
                "serial": r.serial,
                "type": r.cert_type.as_str(),
                "pair_id": r.pair_id,
                "common_name": r.common_name,
                "iin": r.holder.iin,
                "bin": r.holder.entity.as_ref().map(|e| &e.0),
                "role": r.holder.entity.as_ref().map(|e| e.1.as_str()),
                "not_before": calendar::from_unix_seconds(r.not_before).map(|t| calendar::rfc3339(&t)),
                "not_after": calendar::from_unix_seconds(r.not_after).map(|t| calendar::rfc3339(&t)),
            });
            if let (Value::Object(m), Value::Object(s)) = (&mut v, status_json(r.status(now))) {
                m.extend(s);
            }
            v
        })
        .collect();
    print(cli, &Value::Array(items.clone()), || {
        let mut out = format!("{} certificate(s)", items.len());
        for (r, v) in records.iter().zip(&items) {
            out.push_str(&format!(
                "\n{}  {}  {}  {}  {}",
                r.serial,
                r.cert_type,
                v["status"].as_str().unwrap_or(""),
                r.holder.iin,
                r.common_name
            ));
        }
        out
    });
    Ok(())
}

/// What a file holds, decoded from PEM or DER.
enum Inspected {
    Certificate(Box<Certificate>),
    Request(Box<CertReq>),
    Crl(Vec<u8>),
    OcspResponse(Vec<u8>),
    OcspRequest(Box<x509_ocsp::OcspRequest>),
}

const NOT_INSPECTED: &str = "CMS and PKCS#12 are not inspected yet";

fn decode_any(bytes: &[u8]) -> Result<Inspected> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    if bytes[start..].starts_with(b"-----BEGIN") {
        let (label, der) = der::pem::decode_vec(&bytes[start..]).map_err(|e| anyhow!("bad PEM: {e}"))?;
        return match label {
            "CERTIFICATE" => {
                Ok(Inspected::Certificate(Box::new(Certificate::from_der(&der).map_err(|e| anyhow!("bad certificate: {e}"))?)))
            }
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                Ok(Inspected::Request(Box::new(CertReq::from_der(&der).map_err(|e| anyhow!("bad certificate request: {e}"))?)))
            }
            "X509 CRL" => Ok(Inspected::Crl(der)),
            other => bail!("PEM {other:?} is not a certificate, request or CRL; {NOT_INSPECTED}"),
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
    bail!("not a certificate, certificate request, CRL or OCSP request or response in PEM or DER; {NOT_INSPECTED}")
}

fn issuer_certificate(path: &Path) -> Result<Box<Certificate>> {
    match decode_any(&read_input(path)?)? {
        Inspected::Certificate(c) => Ok(c),
        _ => bail!("{} is not an issuer certificate", path.display()),
    }
}

fn inspect(cli: &Cli, file: &Path, issuer: Option<&Path>) -> Result<()> {
    let bytes = read_input(file)?;
    match decode_any(&bytes)? {
        Inspected::Certificate(cert) => {
            let info = CertificateInfo::of(&cert);
            let mut value = serde_json::to_value(&info)?;
            let mut verdict = None;
            if let Some(path) = issuer {
                let issuer_cert = issuer_certificate(path)?;
                let result = verify::verify_issued_by(&cert, &issuer_cert);
                value["signature_valid"] = json!(result.is_ok());
                if let Err(e) = &result {
                    value["signature_error"] = json!(e.to_string());
                }
                verdict = Some(result.map_err(|e| e.to_string()));
            }
            print(cli, &value, || human_certificate(&info, &verdict));
        }
        Inspected::Request(req) => {
            let verified = ca_core::csr::verify_csr(&bytes);
            let value = json!({
                "kind": "certificate_request",
                "subject": verify::name_to_string(&req.info.subject),
                "public_key": verify::describe_public_key(&req.info.public_key),
                "signature_algorithm": verify::signature_algorithm_name(&req.algorithm.oid),
                "acceptable": verified.is_ok(),
                "problem": verified.as_ref().err().map(|e| e.to_string()),
            });
            print(cli, &value, || {
                format!(
                    "certificate request\n  subject:    {}\n  public key: {}\n  acceptable: {}",
                    value["subject"].as_str().unwrap_or(""),
                    value["public_key"].as_str().unwrap_or(""),
                    verified.as_ref().map(|_| "yes".to_string()).unwrap_or_else(|e| format!("no: {e}"))
                )
            });
        }
        Inspected::Crl(der) => {
            let issuer_cert = issuer.map(issuer_certificate).transpose()?;
            let info = ca_core::crl::read(&der, issuer_cert.as_deref())?;
            let mut value = serde_json::to_value(&info)?;
            if issuer_cert.is_some() {
                value["signature_valid"] = json!(true);
            }
            print(cli, &value, || human_crl(&info, issuer_cert.is_some()));
        }
        Inspected::OcspResponse(der) => {
            let issuer_cert = issuer.map(issuer_certificate).transpose()?;
            let info = ocsp::read_response(&der, issuer_cert.as_deref())?;
            print(cli, &serde_json::to_value(&info)?, || human_ocsp(&info));
        }
        Inspected::OcspRequest(req) => {
            let tbs = &req.tbs_request;
            let nonce = tbs.request_extensions.iter().flatten().find(|e| e.extn_id == ca_core::oid::OCSP_NONCE);
            let value = json!({
                "kind": "ocsp_request",
                "serials": tbs.request_list.iter().map(|r| hex::encode(r.req_cert.serial_number.as_bytes())).collect::<Vec<_>>(),
                "nonce": nonce.map(|e| hex::encode(e.extn_value.as_bytes())),
                "signed": req.optional_signature.is_some(),
            });
            print(cli, &value, || format!("OCSP request\n  serials: {}\n  nonce:   {}", value["serials"], value["nonce"]));
        }
    }
    Ok(())
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

fn human_certificate(i: &CertificateInfo, verdict: &Option<Result<(), String>>) -> String {
    let o = &i.owner;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut s = format!(
        "certificate {}\n  type:       {}\n  subject:    {}\n  issuer:     {}\n  valid:      {} .. {}\n  public key: {}\n  owner:      {} {} {}\n  IIN:        {}{}\n  BIN:        {}\n  org:        {}\n  roles:      {}",
        i.serial,
        serde_json::to_value(i.key_type).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        i.subject,
        i.issuer,
        i.not_before,
        i.not_after,
        i.public_key,
        opt(&o.surname),
        opt(&o.name),
        opt(&o.patronymic),
        opt(&o.iin),
        if i.iin_check_digit_valid == Some(false) { " (check digit invalid)" } else { "" },
        opt(&o.bin),
        opt(&o.organization),
        i.roles.join(", "),
    );
    if let Some(v) = verdict {
        s.push_str(&format!("\n  signature:  {}", v.as_ref().map(|_| "valid".to_string()).unwrap_or_else(|e| format!("INVALID: {e}"))));
    }
    s
}
