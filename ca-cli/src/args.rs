//! The command line: every command, subcommand and flag (the contract users script
//! against), parsed by clap. Values with a fixed set of names are typed here, so a
//! misspelt one is a usage error (exit 2) before anything runs.

use ca_core::authority;
use ca_core::model::{ApplicationState, IdentificationMethod, KeyStorage, RevocationReason, Role, Serial, StaffRole};
use ca_core::store::StatusFilter;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "ca", version, about = "National certification authority: operators, applicants, inspection")]
pub struct Cli {
    /// The authority's directory.
    #[arg(long, global = true, env = "CA_DATA", default_value = "./ca-data")]
    pub data: PathBuf,
    /// File holding the CA key passphrase (else $CA_PASSPHRASE, else DIR/passphrase).
    #[arg(long, global = true)]
    pub passphrase_file: Option<PathBuf>,
    /// The database: sqlite:PATH or postgres://USER@HOST/DB (else database.url in
    /// config.json, else DIR/ca.sqlite). `ca init` records it in config.json.
    #[arg(long, global = true, env = "CA_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Print one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// The staff member's key store (RSA256_*.p12 and AUTH_RSA256_*.p12, as `ca operator add`
    /// writes it): state-changing commands are signed with its SIGN key.
    #[arg(long, global = true, env = "CA_OPERATOR_KEY")]
    pub operator_key: Option<PathBuf>,
    /// File holding the staff key store's password (else $CA_KEY_PASSWORD).
    #[arg(long, global = true)]
    pub operator_password_file: Option<PathBuf>,
    /// Trust these certificates (PEM) for an https:// server, instead of the system's.
    #[arg(long, global = true, env = "CA_CACERT")]
    pub cacert: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The options that concern the authority's own machine (its directory, its key
/// passphrase, a staff key store): global, but kept out of the help of the
/// commands applicants and relying parties use, where they do nothing.
const AUTHORITY_OPTIONS: [&str; 5] = ["data", "passphrase_file", "database", "operator_key", "operator_password_file"];

/// The commands of applicants, card holders and relying parties.
const NOT_AUTHORITY_COMMANDS: [&str; 8] = ["enroll", "token", "keystore", "verify", "cms", "xml", "tsp", "inspect"];

/// `cli` with the authority's options hidden when `args` (the command line, program
/// name first) run a command that is not the authority's: its help does not list
/// them (they are still accepted there, and ignored).
pub fn applicant_help(cli: clap::Command, args: &[String]) -> clap::Command {
    // The subcommand: the first word that is not a flag nor a global flag's value.
    let valued: Vec<String> =
        cli.get_arguments().filter(|a| a.get_action().takes_values()).filter_map(|a| a.get_long()).map(|l| format!("--{l}")).collect();
    let mut words = args.iter().skip(1);
    let mut command = None;
    while let Some(w) = words.next() {
        if valued.contains(w) {
            words.next();
        } else if !w.starts_with('-') {
            command = Some(w.as_str());
            break;
        }
    }
    if !command.is_some_and(|c| NOT_AUTHORITY_COMMANDS.contains(&c)) {
        return cli;
    }
    AUTHORITY_OPTIONS.into_iter().fold(cli, |cli, id| cli.mut_arg(id, |a| a.hide(true)))
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Keep the root key in this directory (removable media), not in the
        /// authority's: the server never needs it; sign the root's CRL with `ca crl --root --root-key DIR`.
        #[arg(long)]
        offline_root: Option<PathBuf>,
    },
    /// Issue an AUTH/SIGN pair directly from two requests.
    Issue(IssueArgs),
    /// One certificate: owner, type, status, dates.
    Show {
        /// Serial number, hex.
        serial: Serial,
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
        serial: Serial,
        /// keyCompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, ...
        #[arg(long)]
        reason: RevocationReason,
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
        /// With --root: the directory holding the root key kept offline (`ca init --offline-root`).
        #[arg(long, requires = "root")]
        root_key: Option<PathBuf>,
        /// The GOST hierarchy's CRL (GOST issuing CA, or GOST root with --root) instead of the RSA one.
        #[arg(long)]
        gost: bool,
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
    /// Lift a certificateHold.
    Unhold {
        /// Serial number, hex.
        serial: Serial,
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
    /// Smart cards: the national ID card and the Kaztoken, through PC/SC.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// A key file (PKCS#12) of your own: change its password.
    Keystore {
        #[command(subcommand)]
        command: KeystoreCommand,
    },
    /// The authority's own staff: operators, managers, administrators.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Is a certificate valid for a purpose: its path to a trust anchor, its dates,
    /// key usage and revocation status. Exits 0 only when it is.
    Verify {
        /// The certificate (DER, PEM or base64).
        cert: PathBuf,
        #[command(flatten)]
        checks: CheckArgs,
    },
    /// CMS signatures (CAdES-BES): verify and sign documents.
    Cms {
        #[command(subcommand)]
        command: CmsCommand,
    },
    /// XML signatures (XMLDSig, enveloped): verify and sign documents.
    Xml {
        #[command(subcommand)]
        command: XmlCommand,
    },
    /// Time-stamps (RFC 3161): ask a time-stamp authority, check a token.
    Tsp {
        #[command(subcommand)]
        command: TspCommand,
    },
    /// Describe a certificate, request, CRL or OCSP request or response (PEM or DER), ours or anyone's.
    Inspect {
        /// The file.
        #[arg(required_unless_present = "token")]
        file: Option<PathBuf>,
        /// Show the card in a reader instead of a file: slots, certificates, PIN tries left.
        #[arg(long, conflicts_with_all = ["file", "issuer", "password"])]
        token: bool,
        #[command(flatten)]
        card: CardArgs,
        /// Check the certificate's or CRL's signature against this issuer certificate
        /// (for an OCSP response: that its responder is authorised by this issuer).
        #[arg(long)]
        issuer: Option<PathBuf>,
        /// The password of a PKCS#12 key file: it is opened and its entries described.
        #[arg(long)]
        password: Option<String>,
    },
}

/// What a relying party checks a certificate against.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// A trust anchor: a national root, or an issuing CA trusted directly (repeatable;
    /// a file may hold several PEM certificates).
    #[arg(long, required = true)]
    pub trust: Vec<PathBuf>,
    /// An intermediate CA certificate to build the path with, not trusted by itself (repeatable).
    #[arg(long)]
    pub intermediate: Vec<PathBuf>,
    /// What the certificate must be good for.
    #[arg(long, default_value = "sign")]
    pub purpose: ca_core::verify::Purpose,
    /// Check as of this time (RFC 3339, e.g. 2020-06-01T00:00:00Z); default now
    /// (for a time-stamped signature: the stamp's time; a stated signingTime is never trusted).
    #[arg(long)]
    pub at: Option<String>,
    /// Where revocation status comes from: ocsp, crl, ocsp-then-crl or none.
    #[arg(long, default_value = "ocsp")]
    pub revocation: ca_core::verify::RevocationMode,
    /// Accept a certificate whose status no source could give (the verdict says so).
    #[arg(long)]
    pub soft_fail: bool,
    /// Ask this OCSP responder instead of the one the certificate names.
    #[arg(long)]
    pub ocsp_url: Option<String>,
    /// A CRL to use (full or delta, DER or PEM) instead of fetching one (repeatable).
    #[arg(long)]
    pub crl: Vec<PathBuf>,
}

#[derive(Subcommand)]
pub enum CmsCommand {
    /// Verify a signed document: every signer's signature and certificate. Exits 0 only when all are valid.
    Verify {
        /// The signature (DER, PEM or base64), with the content inside or beside it.
        file: PathBuf,
        /// The signed content, when the signature is detached.
        #[arg(long)]
        content: Option<PathBuf>,
        /// Write the content (of an attached signature) here.
        #[arg(long)]
        out_content: Option<PathBuf>,
        #[command(flatten)]
        checks: CheckArgs,
    },
    /// Sign a document with the SIGN key of a key file (CAdES-BES, the certificate chain included).
    Sign {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        key: SigningKeyArgs,
        /// Leave the document out of the signature.
        #[arg(long)]
        detached: bool,
        /// Time-stamp the signature at this time-stamp authority (CAdES-T), e.g. http://host/tsp.
        #[arg(long)]
        tsp: Option<String>,
        /// Where to write the signature (DER).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum XmlCommand {
    /// Verify a signed XML document: every signature's references, value and certificate.
    /// Exits 0 only when all are valid.
    Verify {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        checks: CheckArgs,
    },
    /// Sign an XML document with the key of a key file: an enveloped signature over the
    /// whole document (RSA-SHA256, or GOST 34.10-2015 with Streebog-512).
    Sign {
        /// The document.
        file: PathBuf,
        #[command(flatten)]
        key: SigningKeyArgs,
        /// Where to write the signed document.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum TspCommand {
    /// Time-stamp a file's SHA-256 at a time-stamp authority; the answer is checked
    /// (token signature, imprint, nonce) and written as a TimeStampResp (.tsr).
    Query {
        /// The file to time-stamp.
        file: PathBuf,
        /// The time-stamp authority, e.g. http://host/tsp.
        #[arg(long)]
        url: String,
        /// Where to write the response (DER).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a time-stamp (a response or a bare token) over a file, and its
    /// authority's certificate (for time-stamping, at the stamp's time). Exits 0 only when valid.
    Verify {
        /// The response (.tsr) or token.
        file: PathBuf,
        /// The file it stamps.
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        checks: CheckArgs,
    },
}

/// A key file to sign with.
#[derive(clap::Args)]
pub struct SigningKeyArgs {
    /// The key file (RSA256_*.p12, GOSTKNCA_*.p12, or an AUTH_* one to sign a login challenge).
    #[arg(long)]
    pub key_file: PathBuf,
    /// File holding the key file's password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the Merkle log against every kept checkpoint (and
    /// one you kept apart); fails naming the first edited, missing or reordered record.
    Verify {
        /// A checkpoint kept apart (`ca audit checkpoint --out`, or the server's
        /// /audit/checkpoint): the log must still extend it unchanged.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Sign a checkpoint of the log as it is now (needs the CA passphrase) and print
    /// the newest; keep it somewhere the CA's operators cannot write.
    Checkpoint {
        /// Also write it to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Audit records, oldest first, selected by who, what, whom and when.
    List(AuditFilter),
    /// One audit record, with its chain hash.
    Show {
        /// Its sequence number.
        seq: i64,
    },
}

/// Which audit records `ca audit list` prints.
#[derive(clap::Args)]
pub struct AuditFilter {
    /// Who acted: `operator:<serial>`, `holder:<serial>`, `applicant:<number>`,
    /// `system`, `ca_key_holder`, or just the serial or number.
    #[arg(long)]
    pub actor: Option<String>,
    /// What was done: application_submitted, application_approved,
    /// identity_confirmed, application_rejected, application_expired, pair_issued,
    /// pair_renewed, certificate_revoked, hold_lifted or staff_refused.
    #[arg(long)]
    pub action: Option<String>,
    /// About whom: every record on this IIN's certificates and applications.
    #[arg(long)]
    pub iin: Option<String>,
    /// From this time on (RFC 3339, UTC, e.g. 2026-11-01T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Before this time (RFC 3339, UTC).
    #[arg(long)]
    pub until: Option<String>,
    /// After this sequence number (the previous page's last).
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many records.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// An operator's key store and server, for the operator API.
#[derive(clap::Args)]
pub struct Remote {
    /// The authority's server; without it, work on --data directly.
    #[arg(long, requires = "key_dir")]
    pub server: Option<String>,
    /// Key store holding the operator's SIGN certificate (RSA256_*.p12).
    #[arg(long)]
    pub key_dir: Option<PathBuf>,
    /// File holding the key store password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum ApplicationCommand {
    /// Applications in a state (default: awaiting identity confirmation).
    List {
        /// submitted, awaiting_head_approval, awaiting_identity, issued, rejected, expired.
        #[arg(long)]
        state: Option<ApplicationState>,
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
pub struct KeyStoreArgs {
    /// The key store directory.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// File holding the key store password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// The card, when the keys live on an ID card or Kaztoken.
    #[command(flatten)]
    pub card: CardArgs,
}

/// Which card, and its PIN (never on the command line).
#[derive(clap::Args, Clone)]
pub struct CardArgs {
    /// The card reader (default: the first holding an ID card or Kaztoken).
    #[arg(long, env = "CA_TOKEN_READER")]
    pub reader: Option<String>,
    /// Seconds to wait for the card to be inserted.
    #[arg(long, default_value_t = 10)]
    pub wait: u64,
    /// File holding the card's PIN (else $CA_TOKEN_PIN, else asked without echo).
    #[arg(long)]
    pub pin_file: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// The readers, and the card in each.
    List,
    /// A card's contents: profile, serial, PIN and PUK tries left, key slots, certificates.
    Info {
        #[command(flatten)]
        card: CardArgs,
    },
    /// Change the PIN (the Kaztoken's factory PIN is 12345678: change it).
    ChangePin {
        #[command(flatten)]
        card: CardArgs,
        /// File holding the new PIN (else $CA_TOKEN_NEW_PIN, else asked).
        #[arg(long)]
        new_pin_file: Option<PathBuf>,
    },
    /// Unblock a blocked PIN with the PUK, setting a new PIN.
    Unblock {
        #[command(flatten)]
        card: CardArgs,
        /// File holding the PUK (else $CA_TOKEN_PUK, else asked).
        #[arg(long)]
        puk_file: Option<PathBuf>,
        /// File holding the new PIN (else $CA_TOKEN_NEW_PIN, else asked).
        #[arg(long)]
        new_pin_file: Option<PathBuf>,
    },
    /// Destroy the key in a slot, and its certificate.
    Erase {
        #[command(flatten)]
        card: CardArgs,
        /// The slot (`ca token info` lists them).
        #[arg(long)]
        slot: u8,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyFamilyArg {
    Rsa,
    Gost,
}

impl From<KeyFamilyArg> for ca_core::model::Family {
    fn from(a: KeyFamilyArg) -> Self {
        match a {
            KeyFamilyArg::Rsa => ca_core::model::Family::Rsa,
            KeyFamilyArg::Gost => ca_core::model::Family::Gost,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageArg {
    Pc,
    Idcard,
    Kaztoken,
}

/// Who a pair is for, as the command line gives it.
#[derive(clap::Args)]
pub struct PersonArgs {
    #[command(flatten)]
    pub who: NameArgs,
    /// BIN of the legal entity.
    #[arg(long, requires_all = ["org", "role"])]
    pub bin: Option<String>,
    /// Organization name.
    #[arg(long, requires = "bin")]
    pub org: Option<String>,
    /// Role in the legal entity.
    #[arg(long, value_enum, requires = "bin")]
    pub role: Option<RoleArg>,
}

#[derive(clap::Args)]
pub struct ApplyArgs {
    /// The authority's server.
    #[arg(long)]
    pub server: String,
    /// The key store made by `keygen`.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub person: PersonArgs,
    /// Where the keys live (default: where `keygen` put them).
    #[arg(long, value_enum)]
    pub storage: Option<StorageArg>,
    /// The registration center you will visit.
    #[arg(long)]
    pub center: String,
}

#[derive(Subcommand)]
pub enum EnrollCommand {
    /// Make the AUTH and SIGN key pairs in the key store.
    Keygen {
        #[command(flatten)]
        store: KeyStoreArgs,
        /// Where the keys live.
        #[arg(long, value_enum, default_value = "pc")]
        storage: StorageArg,
        /// The SIGN key's algorithm: GOST 34.10-2015 512-bit (what the authority
        /// issues legal entities' SIGN certificates in, certified by its GOST CA) or
        /// RSA-2048. The AUTH key is RSA-2048.
        #[arg(long, value_enum, default_value = "rsa")]
        sign_key: KeyFamilyArg,
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
        /// Write the key files as the authority does (3DES key, RC2-40 certificates,
        /// SHA-1 MAC), for software that reads nothing else.
        #[arg(long)]
        legacy: bool,
        /// Where the keys live; checked against where `keygen` put them (for a card,
        /// the certificates are written onto it).
        #[arg(long, value_enum)]
        storage: Option<StorageArg>,
    },
    /// Renew the pair, signed with the current SIGN key (on a card, the new pair is
    /// generated on the same card).
    Renew {
        /// The authority's server.
        #[arg(long)]
        server: String,
        #[command(flatten)]
        store: KeyStoreArgs,
        /// Where the keys live; checked against the key store's record.
        #[arg(long, value_enum)]
        storage: Option<StorageArg>,
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
        reason: RevocationReason,
        /// Where the keys live; checked against the key store's record.
        #[arg(long, value_enum)]
        storage: Option<StorageArg>,
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
pub struct IssueArgs {
    #[command(flatten)]
    pub person: PersonArgs,
    /// How the holder's identity was proven.
    #[arg(long, value_enum, default_value = "in-person")]
    pub identification: IdentificationArg,
    /// A role inside the authority (CA staff): ca_operator, ca_manager, ca_administrator.
    #[arg(long)]
    pub staff: Option<StaffRole>,
    /// PKCS#10 request for the AUTH key.
    #[arg(long)]
    pub auth_csr: PathBuf,
    /// PKCS#10 request for the SIGN key.
    #[arg(long)]
    pub sign_csr: PathBuf,
    /// Where to write AUTH_RSA256_<keyid>.cer and RSA256_<keyid>.cer.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Ceo,
    Signer,
    Financial,
    Hr,
    Employee,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum IdentificationArg {
    InPerson,
    Remote,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Valid,
    Revoked,
    Hold,
    Expired,
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

impl From<IdentificationArg> for IdentificationMethod {
    fn from(i: IdentificationArg) -> Self {
        match i {
            IdentificationArg::InPerson => IdentificationMethod::InPerson,
            IdentificationArg::Remote => IdentificationMethod::Remote,
        }
    }
}

impl From<StatusArg> for StatusFilter {
    fn from(s: StatusArg) -> Self {
        match s {
            StatusArg::Valid => StatusFilter::Valid,
            StatusArg::Revoked => StatusFilter::Revoked,
            StatusArg::Hold => StatusFilter::Hold,
            StatusArg::Expired => StatusFilter::Expired,
        }
    }
}

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Add a member of staff: new keys, a pair with the staff role, a key store in --out.
    /// The first administrator needs only the CA passphrase; everyone else an administrator's --operator-key.
    Add(OperatorAddArgs),
    /// Every staff certificate (SIGN), newest first.
    List,
    /// Revoke a member of staff's pair (an administrator's --operator-key).
    Revoke {
        /// Serial of either certificate of the pair, hex.
        serial: Serial,
        /// RFC 5280 reason (default affiliationChanged).
        #[arg(long, default_value = "affiliationChanged")]
        reason: RevocationReason,
    },
}

#[derive(clap::Args)]
pub struct OperatorAddArgs {
    #[command(flatten)]
    pub who: NameArgs,
    /// ca_operator (works applications), ca_manager (also issues, revokes, lifts holds),
    /// ca_administrator (also manages staff).
    #[arg(long)]
    pub role: StaffRole,
    /// Where to write the key store (AUTH_RSA256_<keyid>.p12, RSA256_<keyid>.p12).
    #[arg(long)]
    pub out: PathBuf,
    /// File holding the new key store's password (else $CA_KEY_PASSWORD).
    #[arg(long)]
    pub password_file: Option<PathBuf>,
}

/// A person: IIN and names.
#[derive(clap::Args)]
pub struct NameArgs {
    /// IIN.
    #[arg(long)]
    pub iin: String,
    /// Surname.
    #[arg(long)]
    pub surname: String,
    /// Given name.
    #[arg(long)]
    pub name: String,
    /// Patronymic.
    #[arg(long)]
    pub patronymic: Option<String>,
    /// E-mail address.
    #[arg(long)]
    pub email: Option<String>,
}

#[derive(Subcommand)]
pub enum KeystoreCommand {
    /// Change a key file's password (the authority's default is 123456: change it).
    /// The file is rewritten as PBES2 (or, with --legacy, as the authority writes it)
    /// and replaced only once the new one opens with the new password.
    Passwd {
        /// The key file.
        file: PathBuf,
        /// File holding the current password (else $CA_KEY_PASSWORD).
        #[arg(long)]
        password_file: Option<PathBuf>,
        /// File holding the new password (else $CA_NEW_KEY_PASSWORD).
        #[arg(long)]
        new_password_file: Option<PathBuf>,
        /// Write the authority's legacy form (3DES key, RC2-40 certificates, SHA-1 MAC)
        /// for software that reads nothing else.
        #[arg(long)]
        legacy: bool,
    },
}
