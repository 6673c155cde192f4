//! `ca enroll`: the applicant's side, the role NCALayer plays for the national
//! authority. Keys are made here and never leave this machine: the server gets
//! CSRs and signed requests only.
//!
//! A key store directory holds, while an application is open, `pending/auth.key`
//! and `pending/sign.key` (encrypted PKCS#8), their CSRs and `application.json`;
//! after `fetch`, the PKCS#12 files `AUTH_RSA256_<keyid>.p12` and
//! `RSA256_<keyid>.p12` (a GOST SIGN key: `GOSTKNCA_<keyid>.p12`, as the
//! authority names it). Renewal and revocation move the old files into
//! `superseded/` and `revoked/`.

use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::api::{
    routes, ApplicationForm, ApplicationView, EntityForm, Envelope, NewApplication, PairPem, Receipt, Revoked, SignedAction, SignedRequest,
};
use ca_core::calendar;
use ca_core::model::{ApplicationState, CertType, Family, KeyStorage, RevocationReason, Serial};
use ca_core::pkcs12;
use ca_core::registration::SignedEnvelope;
use ca_core::signing::{self, Signer, SigningKey};
use ca_core::verify;
use der::DecodePem;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// The environment variable holding the key store password.
pub const PASSWORD_ENV: &str = "CA_KEY_PASSWORD";
/// The shortest key store password accepted.
pub const MIN_PASSWORD_LEN: usize = 6;

/// A password from `file`, else the environment variable `env` (whose flag is
/// `flag`), without its line ending; no rule on its length.
pub fn secret(file: Option<&Path>, env: &str, flag: &str) -> CliResult<Zeroizing<String>> {
    let text = match file {
        Some(f) => Zeroizing::new(std::fs::read_to_string(f).map_err(|e| CliError::reading(f, e))?),
        None => Zeroizing::new(std::env::var(env).map_err(|_| {
            CliError::refused(
                "no_password",
                format!("no key store password: set {env} or pass {flag} FILE (it protects your private keys)"),
            )
        })?),
    };
    Ok(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string()))
}

/// The key store password: from a file, else the environment.
pub fn password(file: Option<&Path>) -> CliResult<Zeroizing<String>> {
    let p = secret(file, PASSWORD_ENV, "--password-file")?;
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(CliError::refused("weak_password", format!("the key store password must have at least {MIN_PASSWORD_LEN} characters")));
    }
    Ok(p)
}

pub(crate) fn pending(dir: &Path) -> PathBuf {
    dir.join("pending")
}

fn key_path(dir: &Path, t: CertType) -> PathBuf {
    pending(dir).join(format!("{}.key", t.as_str().to_ascii_lowercase()))
}

pub(crate) fn csr_path(dir: &Path, t: CertType) -> PathBuf {
    pending(dir).join(format!("{}.csr", t.as_str().to_ascii_lowercase()))
}

pub fn write_private(path: &Path, data: &[u8]) -> CliResult<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).map_err(|e| CliError::writing(path, e))?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(|e| CliError::writing(path, e))
}

/// Bits of the applicants' RSA keys.
const RSA_BITS: usize = 2048;

/// Generate a fresh key pair of `family` and its CSR: the key encrypted under `password`.
fn new_key(password: &str, family: Family) -> CliResult<(String, Vec<u8>)> {
    let (signer, pkcs8) = SigningKey::generate(family, RSA_BITS)?;
    let csr = ca_core::csr::create(&signer)?;
    let pass = signing::Passphrase::new_unchecked(password);
    Ok((signing::encrypt_pkcs8(&pkcs8, &pass)?, csr))
}

/// The family of a certificate's key.
fn family_of(cert: &Certificate) -> CliResult<Family> {
    let oid = cert.tbs_certificate.subject_public_key_info.algorithm.oid;
    Family::of_key(&oid).ok_or_else(|| CliError::internal("bad_answer", format!("a certificate with a key of algorithm {oid}")))
}

/// Keys made and waiting for an application.
#[derive(Serialize)]
pub struct KeysMade {
    dir: String,
    storage: KeyStorage,
    auth_csr: String,
    sign_csr: String,
}

impl Output for KeysMade {}

/// `ca enroll keygen`: the AUTH (RSA) and SIGN (RSA or GOST) key pairs, in `dir/pending`.
pub fn keygen(dir: &Path, password: &str, sign: Family) -> CliResult<KeysMade> {
    stage_pending(dir, |staging| {
        for (t, family) in [(CertType::Auth, Family::Rsa), (CertType::Sign, sign)] {
            let (key, csr) = new_key(password, family)?;
            write_private(&staging.join(format!("{}.key", t.as_str().to_ascii_lowercase())), key.as_bytes())?;
            write_csr(staging, t, &csr)?;
        }
        Ok(())
    })?;
    Ok(KeysMade::new(dir, KeyStorage::Pc))
}

impl KeysMade {
    pub(crate) fn new(dir: &Path, storage: KeyStorage) -> Self {
        KeysMade {
            dir: dir.display().to_string(),
            storage,
            auth_csr: csr_path(dir, CertType::Auth).display().to_string(),
            sign_csr: csr_path(dir, CertType::Sign).display().to_string(),
        }
    }
}

/// Write the `t` CSR (DER) into the staging directory, as PEM.
pub(crate) fn write_csr(staging: &Path, t: CertType, csr: &[u8]) -> CliResult<()> {
    let pem = der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, csr).map_err(der::Error::from)?;
    write_private(&staging.join(format!("{}.csr", t.as_str().to_ascii_lowercase())), pem.as_bytes())
}

/// Make `dir/pending` atomically: `fill` writes into a staging directory that is
/// renamed into place only when complete. Refused while keys already wait there.
pub(crate) fn stage_pending(dir: &Path, fill: impl FnOnce(&Path) -> CliResult<()>) -> CliResult<()> {
    no_keys_pending(dir)?;
    std::fs::create_dir_all(dir).map_err(|e| CliError::writing(dir, e))?;
    let staging = dir.join(".pending-new");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).map_err(|e| CliError::writing(&staging, e))?;
    fill(&staging)?;
    std::fs::rename(&staging, pending(dir)).map_err(|e| CliError::writing(&pending(dir), e))
}

/// Refused while keys wait in `dir/pending` for an application.
pub(crate) fn no_keys_pending(dir: &Path) -> CliResult<()> {
    if pending(dir).exists() {
        return Err(CliError::refused(
            "keys_pending",
            format!(
                "{} already holds keys waiting for an application: apply with them, or remove the directory to start over",
                pending(dir).display()
            ),
        ));
    }
    Ok(())
}

/// What `apply` remembers in the key store.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    number: String,
    secret: String,
    /// The certificates were fetched: the application is done, kept so that its
    /// status can still be asked, and a new application may replace it.
    #[serde(default)]
    fetched: bool,
}

/// Record in `application.json` that its certificates were fetched; the file
/// stays, for `ca enroll status`.
pub(crate) fn mark_fetched(dir: &Path) -> CliResult<()> {
    let path = saved_path(dir);
    let Ok(mut saved) = read_json::<Saved>(&path) else { return Ok(()) };
    saved.fetched = true;
    std::fs::remove_file(&path).map_err(|e| CliError::writing(&path, e))?;
    write_json(&path, &saved)
}

pub(crate) fn saved_path(dir: &Path) -> PathBuf {
    dir.join("application.json")
}

pub(crate) fn read_text(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::refused("cannot_read", format!("reading {} (run `ca enroll keygen` first?): {e}", path.display())))
}

/// An application submitted.
#[derive(Serialize)]
pub struct Applied {
    number: String,
    state: ApplicationState,
    saved: String,
}

impl Output for Applied {}

/// Write `value` as JSON into a new file only its owner reads.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> CliResult<()> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| CliError::internal("json", e.to_string()))?;
    write_private(path, &json)
}

/// Read a JSON file this program wrote into the key store.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> CliResult<T> {
    serde_json::from_str(&read_text(path)?).map_err(|e| CliError::refused("damaged_file", format!("reading {}: {e}", path.display())))
}

/// `ca enroll apply`.
pub fn apply(server: &str, dir: &Path, form: ApplicationForm) -> CliResult<Applied> {
    let path = saved_path(dir);
    if path.exists() {
        if !read_json::<Saved>(&path)?.fetched {
            return Err(CliError::refused(
                "already_applied",
                format!("{} records an application already; fetch its certificates or remove the file", path.display()),
            ));
        }
        // The previous application is done; this one takes its place.
        std::fs::remove_file(&path).map_err(|e| CliError::writing(&path, e))?;
    }
    let body = NewApplication {
        applicant: form,
        auth_csr: read_text(&csr_path(dir, CertType::Auth))?,
        sign_csr: read_text(&csr_path(dir, CertType::Sign))?,
    };
    let receipt: Receipt = Client::new(server)?.post(routes::APPLICATIONS, None, &body, 201)?;
    let saved = Saved { server: server.to_string(), number: receipt.number.clone(), secret: receipt.secret.clone(), fetched: false };
    write_json(&saved_path(dir), &saved)?;
    Ok(Applied { number: receipt.number, state: receipt.state, saved: saved_path(dir).display().to_string() })
}

pub(crate) fn secret_for(dir: &Path, number: &str, given: Option<String>) -> CliResult<String> {
    if let Some(s) = given {
        return Ok(s);
    }
    let saved: Saved = read_json(&saved_path(dir))?;
    if saved.number != number {
        return Err(CliError::refused(
            "other_application",
            format!("{} records application {}, not {number}; pass --secret", saved_path(dir).display(), saved.number),
        ));
    }
    Ok(saved.secret)
}

/// `ca enroll status`.
pub fn status(server: &str, dir: &Path, number: &str, secret: Option<String>) -> CliResult<ApplicationView> {
    Client::new(server)?.get(routes::APPLICATION, number, &secret_for(dir, number, secret)?)
}

fn decrypt_key(path: &Path, password: &str) -> CliResult<Zeroizing<Vec<u8>>> {
    let pem = read_text(path)?;
    signing::decrypt_pkcs8(&pem, &signing::Passphrase::new_unchecked(password))
        .map_err(|_| CliError::refused("wrong_password", format!("cannot decrypt {}: wrong password?", path.display())))
}

pub(crate) fn certificate(pem: &str) -> CliResult<Certificate> {
    Certificate::from_pem(pem.as_bytes()).map_err(|e| CliError::internal("bad_answer", format!("the server sent a bad certificate: {e}")))
}

/// Write the two PKCS#12 files of a pair in the form `form`; returns their paths.
pub fn store_pair(dir: &Path, pair: &PairPem, keys: [&[u8]; 2], password: &str, form: pkcs12::Protection) -> CliResult<Vec<String>> {
    let chain = |pems: &[String]| pems.iter().map(|c| certificate(c)).collect::<CliResult<Vec<_>>>();
    let chains = [chain(&pair.chain)?, chain(pair.sign_chain())?];
    let mut written = Vec::new();
    for (((t, pem), key), chain) in [(CertType::Auth, &pair.auth), (CertType::Sign, &pair.sign)].into_iter().zip(keys).zip(&chains) {
        let cert = certificate(pem)?;
        let signer = SigningKey::from_pkcs8(key)?;
        if signer.public_key() != &cert.tbs_certificate.subject_public_key_info {
            return Err(CliError::internal(
                "wrong_certificate",
                format!("the {t} certificate the server sent is not for the {t} key in this key store"),
            ));
        }
        let key_id = verify::file_key_id(&cert);
        let id_bytes = hex::decode(&key_id).unwrap_or_else(|_| key_id.as_bytes().to_vec());
        let entry = pkcs12::Entry { key_pkcs8: key, certificate: &cert, chain, friendly_name: &key_id, local_key_id: &id_bytes };
        let file = match form {
            pkcs12::Protection::Pbes2 => pkcs12::write(&entry, password)?,
            pkcs12::Protection::Legacy => pkcs12::write_legacy(&entry, password)?,
        };
        let path = dir.join(format!("{}{key_id}.p12", t.file_prefix(family_of(&cert)?)));
        write_private(&path, &file)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// Key store files written.
#[derive(Serialize)]
pub struct Fetched {
    number: String,
    files: Vec<String>,
}

impl Output for Fetched {}

/// `ca enroll fetch`: download the pair and put it, with the keys, into PKCS#12
/// files (PBES2, or the authority's legacy form for software that reads nothing else).
pub fn fetch(
    server: &str,
    dir: &Path,
    number: &str,
    secret: Option<String>,
    password: &str,
    form: pkcs12::Protection,
) -> CliResult<Fetched> {
    let secret = secret_for(dir, number, secret)?;
    let pair: PairPem = Client::new(server)?.get(routes::CERTIFICATES, number, &secret)?;
    let auth = decrypt_key(&key_path(dir, CertType::Auth), password)?;
    let sign = decrypt_key(&key_path(dir, CertType::Sign), password)?;
    let files = store_pair(dir, &pair, [&auth, &sign], password, form)?;
    // The keys now live in the PKCS#12 files only.
    std::fs::remove_dir_all(pending(dir)).map_err(|e| CliError::writing(&pending(dir), e))?;
    mark_fetched(dir)?;
    Ok(Fetched { number: number.to_string(), files })
}

/// The PKCS#12 files of `dir` of type `t` (AUTH_RSA256_*, or RSA256_* and GOSTKNCA_*).
fn files_of(dir: &Path, t: CertType) -> CliResult<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| CliError::reading(dir, e))? {
        let name = entry.map_err(|e| CliError::reading(dir, e))?.file_name().to_string_lossy().into_owned();
        let of = |t: CertType| Family::ALL.iter().any(|f| name.starts_with(t.file_prefix(*f)));
        if name.ends_with(".p12") && of(t) {
            found.push(dir.join(&name));
        }
    }
    found.sort();
    Ok(found)
}

/// The one current key file of type `t` in `dir`, or why there is none to use.
fn current_file(dir: &Path, t: CertType) -> CliResult<PathBuf> {
    let mut found = files_of(dir, t)?;
    let pattern = match t {
        CertType::Auth => "AUTH_RSA256_*.p12",
        CertType::Sign => "RSA256_*.p12 or GOSTKNCA_*.p12",
    };
    match found.len() {
        1 => Ok(found.remove(0)),
        0 if dir.join("revoked").is_dir() && std::fs::read_dir(dir.join("revoked")).is_ok_and(|mut d| d.next().is_some()) => {
            Err(CliError::refused(
                "pair_revoked",
                format!(
                    "the pair in {} was revoked (its files are in {}); apply for a new pair",
                    dir.display(),
                    dir.join("revoked").display()
                ),
            ))
        }
        0 => Err(CliError::refused(
            "no_certificates",
            format!(
                "{} holds no {t} key file ({pattern}): fetch the certificates first (`ca enroll fetch`); \
                 staff use the directory `ca operator add --out` wrote",
                dir.display()
            ),
        )),
        n => Err(CliError::refused(
            "several_pairs",
            format!(
                "{} holds {n} {t} key files ({}); keep only the current one there",
                dir.display(),
                found.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// The current key store files of `dir`: (AUTH, SIGN) PKCS#12 paths.
fn current_files(dir: &Path) -> CliResult<(PathBuf, PathBuf)> {
    Ok((current_file(dir, CertType::Auth)?, current_file(dir, CertType::Sign)?))
}

fn read_store(path: &Path, password: &str) -> CliResult<pkcs12::KeyStore> {
    let bytes = std::fs::read(path).map_err(|e| CliError::reading(path, e))?;
    pkcs12::read(&bytes, password).map_err(|e| CliError::from(e).context(format!("opening {}", path.display())))
}

fn signed(action: SignedAction, store: &pkcs12::KeyStore) -> CliResult<SignedEnvelope> {
    let signer = SigningKey::from_pkcs8(&store.key_pkcs8)?;
    Ok(SignedEnvelope::sign(&SignedRequest::new(action), &signer, &store.certificate, calendar::now())?)
}

pub(crate) fn move_into(dir: &Path, sub: &str, files: &[&Path]) -> CliResult<()> {
    let target = dir.join(sub);
    std::fs::create_dir_all(&target).map_err(|e| CliError::writing(&target, e))?;
    for f in files {
        if let Some(name) = f.file_name() {
            std::fs::rename(f, target.join(name)).map_err(|e| CliError::writing(f, e))?;
        }
    }
    Ok(())
}

/// A call to `route` signed with the SIGN key in the key store `dir`.
pub fn signed_call<T: serde::de::DeserializeOwned>(
    server: &str,
    dir: &Path,
    password: &str,
    route: &str,
    number: Option<&str>,
    action: SignedAction,
) -> CliResult<T> {
    let envelope = Envelope::from(sign_with_key_store(dir, password, action)?);
    // Over HTTPS the AUTH certificate is shown in the handshake, for servers that
    // require mutual TLS of operators; over HTTP the SIGN key file alone will do.
    let identity = if crate::tls::is_https(server) {
        let auth = read_store(&current_file(dir, CertType::Auth)?, password)?;
        let chain = std::iter::once(&auth.certificate)
            .chain(auth.chain.iter())
            .map(der::Encode::to_der)
            .collect::<Result<_, _>>()
            .map_err(|e| CliError::internal("encoding", e.to_string()))?;
        Some(crate::tls::Identity { chain, key: auth.key_pkcs8.clone() })
    } else {
        None
    };
    Client::with_identity(server, identity.as_ref())?.post(route, number, &envelope, 200)
}

/// `action` signed with the SIGN key of the key store in `dir`.
pub fn sign_with_key_store(dir: &Path, password: &str, action: SignedAction) -> CliResult<SignedEnvelope> {
    signed(action, &read_store(&current_file(dir, CertType::Sign)?, password)?)
}

/// A pair renewed: the new key store files, and the old ones moved aside.
#[derive(Serialize)]
pub struct Renewed {
    files: Vec<String>,
    superseded: Vec<String>,
}

impl Output for Renewed {}

/// `ca enroll renew`: new keys here, a request signed with the current SIGN key.
pub fn renew(server: &str, dir: &Path, password: &str) -> CliResult<Renewed> {
    let (auth_file, sign_file) = current_files(dir)?;
    let store = read_store(&sign_file, password)?;
    // The new pair's keys are of the same families as the current ones.
    let (auth, auth_key) = SigningKey::generate(Family::Rsa, RSA_BITS)?;
    let (sign, sign_key) = SigningKey::generate(family_of(&store.certificate)?, RSA_BITS)?;
    let action = SignedAction::Renew { auth_csr: ca_core::csr::create(&auth)?, sign_csr: ca_core::csr::create(&sign)? };
    let pair: PairPem = Client::new(server)?.post(routes::RENEWALS, None, &Envelope::from(signed(action, &store)?), 201)?;
    move_into(dir, "superseded", &[&auth_file, &sign_file])?;
    let files = store_pair(dir, &pair, [&auth_key, &sign_key], password, pkcs12::Protection::Pbes2)?;
    Ok(Renewed { files, superseded: vec![auth_file.display().to_string(), sign_file.display().to_string()] })
}

/// A pair revoked by its holder.
#[derive(Serialize)]
pub struct RevokedOwn {
    revoked: Vec<Serial>,
    reason: RevocationReason,
}

impl Output for RevokedOwn {}

/// `ca enroll revoke`: revoke the current pair, signed with its SIGN key.
pub fn revoke(server: &str, dir: &Path, reason: RevocationReason, password: &str) -> CliResult<RevokedOwn> {
    let (auth_file, sign_file) = current_files(dir)?;
    let answer: Revoked =
        signed_call(server, dir, password, routes::REVOCATIONS, None, SignedAction::Revoke { reason: reason.as_str().to_string() })?;
    // A hold may be lifted: the pair stays where it is, current.
    if reason != RevocationReason::CertificateHold {
        move_into(dir, "revoked", &[&auth_file, &sign_file])?;
    }
    Ok(RevokedOwn { revoked: answer.revoked, reason })
}

/// `ca enroll approve`: a head approves an employee's application.
pub fn approve(server: &str, dir: &Path, number: &str, password: &str) -> CliResult<ApplicationView> {
    signed_call(server, dir, password, routes::APPROVAL, Some(number), SignedAction::Approve { application: number.to_string() })
}

/// The form from the command line.
pub fn form(args: &crate::args::ApplyArgs) -> ApplicationForm {
    let a = &args.person;
    let who = &a.who;
    ApplicationForm {
        iin: who.iin.clone(),
        surname: who.surname.clone(),
        name: who.name.clone(),
        patronymic: who.patronymic.clone(),
        email: who.email.clone(),
        // clap requires --org and --role with --bin.
        entity: match (&a.bin, &a.org, a.role) {
            (Some(bin), Some(org), Some(role)) => Some(EntityForm { bin: bin.clone(), organization: org.clone(), role: role.into() }),
            _ => None,
        },
        storage: args.storage.map_or(KeyStorage::Pc, Into::into),
        registration_center: args.center.clone(),
    }
}
