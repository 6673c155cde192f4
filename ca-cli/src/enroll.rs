//! `ca enroll`: the applicant's side, the role NCALayer plays for the national
//! authority. Keys are made here and never leave this machine: the server gets
//! CSRs and signed requests only.
//!
//! A key store directory holds, while an application is open, `pending/auth.key`
//! and `pending/sign.key` (encrypted PKCS#8), their CSRs and `application.json`;
//! after `fetch`, the PKCS#12 files `AUTH_RSA256_<keyid>.p12` and
//! `RSA256_<keyid>.p12`. Renewal and revocation move the old files into
//! `superseded/` and `revoked/`.

use anyhow::{anyhow, bail, Context, Result};
use base64ct::{Base64, Encoding};
use ca_core::calendar;
use ca_core::pkcs12;
use ca_core::profile::CertType;
use ca_core::registration::{ApplicationForm, EntityForm, Envelope, KeyStorage, Receipt, SignedAction, SignedRequest};
use ca_core::signing::{self, RsaSigner, Signer};
use ca_core::verify;
use der::DecodePem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use x509_cert::Certificate;
use zeroize::Zeroizing;

/// The environment variable holding the key store password.
pub const PASSWORD_ENV: &str = "CA_KEY_PASSWORD";
/// The shortest key store password accepted.
pub const MIN_PASSWORD_LEN: usize = 6;

/// The key store password: from a file, else the environment.
pub fn password(file: Option<&Path>) -> Result<Zeroizing<String>> {
    let text = match file {
        Some(f) => Zeroizing::new(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?),
        None => Zeroizing::new(std::env::var(PASSWORD_ENV).map_err(|_| {
            anyhow!("no key store password: set {PASSWORD_ENV} or pass --password-file FILE (it protects your private keys)")
        })?),
    };
    let p = Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string());
    if p.chars().count() < MIN_PASSWORD_LEN {
        bail!("the key store password must have at least {MIN_PASSWORD_LEN} characters");
    }
    Ok(p)
}

fn pending(dir: &Path) -> PathBuf {
    dir.join("pending")
}

fn key_path(dir: &Path, t: CertType) -> PathBuf {
    pending(dir).join(format!("{}.key", t.as_str().to_ascii_lowercase()))
}

fn csr_path(dir: &Path, t: CertType) -> PathBuf {
    pending(dir).join(format!("{}.csr", t.as_str().to_ascii_lowercase()))
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts.open(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data).and_then(|_| f.sync_all()).with_context(|| format!("writing {}", path.display()))
}

/// Generate a fresh key pair and its CSR: the key encrypted under `password`.
fn new_key(password: &str) -> Result<(String, Vec<u8>)> {
    let pkcs8 = signing::generate_rsa_pkcs8(2048)?;
    let signer = RsaSigner::from_pkcs8(&pkcs8)?;
    let csr = ca_core::csr::create(&signer)?;
    let pass = signing::Passphrase::new_unchecked(password);
    Ok((signing::encrypt_pkcs8(&pkcs8, &pass)?, csr))
}

/// `ca enroll keygen`: the AUTH and SIGN key pairs, in `dir/pending`.
pub fn keygen(dir: &Path, storage: KeyStorage, password: &str) -> Result<Value> {
    if storage != KeyStorage::Pc {
        bail!("storage {} is not available yet: smart cards and tokens come with the token drivers; use --storage pc", storage.as_str());
    }
    if pending(dir).exists() {
        bail!(
            "{} already holds keys waiting for an application: apply with them, or remove the directory to start over",
            pending(dir).display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let staging = dir.join(".pending-new");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir(&staging).with_context(|| format!("creating {}", staging.display()))?;
    for t in [CertType::Auth, CertType::Sign] {
        let (key, csr) = new_key(password)?;
        let name = t.as_str().to_ascii_lowercase();
        write_private(&staging.join(format!("{name}.key")), key.as_bytes())?;
        let pem = der::pem::encode_string("CERTIFICATE REQUEST", der::pem::LineEnding::LF, &csr).map_err(|e| anyhow!("{e}"))?;
        write_private(&staging.join(format!("{name}.csr")), pem.as_bytes())?;
    }
    std::fs::rename(&staging, pending(dir)).with_context(|| format!("creating {}", pending(dir).display()))?;
    Ok(json!({ "dir": dir.display().to_string(), "storage": storage.as_str(),
               "auth_csr": csr_path(dir, CertType::Auth).display().to_string(),
               "sign_csr": csr_path(dir, CertType::Sign).display().to_string() }))
}

/// What `apply` remembers in the key store.
#[derive(Serialize, Deserialize)]
struct Saved {
    server: String,
    number: String,
    secret: String,
}

fn saved_path(dir: &Path) -> PathBuf {
    dir.join("application.json")
}

/// An HTTP answer: status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

fn url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim_end_matches('/'))
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().timeout(std::time::Duration::from_secs(60)).build()
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> Result<Answer> {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => bail!("cannot reach the server: {e}"),
    };
    let status = resp.status();
    let body: Value = resp.into_json().unwrap_or(Value::Null);
    Ok(Answer { status, body })
}

/// The server's refusal as an error: its message and code.
fn refused(a: &Answer) -> anyhow::Error {
    let msg = a.body["error"]["message"].as_str().unwrap_or("no explanation given");
    let code = a.body["error"]["code"].as_str().unwrap_or("unknown");
    anyhow!("the server refused ({} {code}): {msg}", a.status)
}

/// POST JSON; the answer when it is `ok`, else the server's refusal.
pub fn post(server: &str, path: &str, body: &Value, ok: u16) -> Result<Value> {
    let a = answer(agent().post(&url(server, path)).send_json(body))?;
    if a.status != ok {
        return Err(refused(&a));
    }
    Ok(a.body)
}

fn get(server: &str, path: &str, secret: &str) -> Result<Value> {
    let a = answer(agent().get(&url(server, path)).set("X-Application-Secret", secret).call())?;
    if a.status != 200 {
        return Err(refused(&a));
    }
    Ok(a.body)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {} (run `ca enroll keygen` first?)", path.display()))
}

/// `ca enroll apply`.
pub fn apply(server: &str, dir: &Path, form: ApplicationForm) -> Result<Value> {
    if saved_path(dir).exists() {
        bail!("{} records an application already; fetch its certificates or remove the file", saved_path(dir).display());
    }
    let body = json!({
        "applicant": form,
        "auth_csr": read_text(&csr_path(dir, CertType::Auth))?,
        "sign_csr": read_text(&csr_path(dir, CertType::Sign))?,
    });
    let receipt: Receipt = serde_json::from_value(post(server, "/api/v1/applications", &body, 201)?)?;
    let saved = Saved { server: server.to_string(), number: receipt.number.clone(), secret: receipt.secret.clone() };
    write_private(&saved_path(dir), &serde_json::to_vec_pretty(&saved)?)?;
    Ok(json!({ "number": receipt.number, "state": receipt.state, "saved": saved_path(dir).display().to_string() }))
}

fn secret_for(dir: &Path, number: &str, given: Option<String>) -> Result<String> {
    if let Some(s) = given {
        return Ok(s);
    }
    let saved: Saved = serde_json::from_str(&read_text(&saved_path(dir))?).context("reading application.json")?;
    if saved.number != number {
        bail!("{} records application {}, not {number}; pass --secret", saved_path(dir).display(), saved.number);
    }
    Ok(saved.secret)
}

/// `ca enroll status`.
pub fn status(server: &str, dir: &Path, number: &str, secret: Option<String>) -> Result<Value> {
    get(server, &format!("/api/v1/applications/{number}"), &secret_for(dir, number, secret)?)
}

fn decrypt_key(path: &Path, password: &str) -> Result<Zeroizing<Vec<u8>>> {
    let pem = read_text(path)?;
    signing::decrypt_pkcs8(&pem, &signing::Passphrase::new_unchecked(password))
        .map_err(|_| anyhow!("cannot decrypt {}: wrong password?", path.display()))
}

fn certificate(pem: &Value) -> Result<Certificate> {
    let text = pem.as_str().ok_or_else(|| anyhow!("the server's answer has no certificate"))?;
    Certificate::from_pem(text.as_bytes()).map_err(|e| anyhow!("the server sent a bad certificate: {e}"))
}

/// Write the two PKCS#12 files of a pair; returns their paths.
fn store_pair(dir: &Path, pair: &Value, keys: [&[u8]; 2], password: &str) -> Result<Vec<String>> {
    let chain: Vec<Certificate> =
        pair["chain"].as_array().map(|a| a.iter().map(certificate).collect::<Result<_>>()).transpose()?.unwrap_or_default();
    let mut written = Vec::new();
    for ((t, field), key) in [(CertType::Auth, "auth"), (CertType::Sign, "sign")].into_iter().zip(keys) {
        let cert = certificate(&pair[field])?;
        let signer = RsaSigner::from_pkcs8(key)?;
        if signer.public_key() != &cert.tbs_certificate.subject_public_key_info {
            bail!("the {t} certificate the server sent is not for the {t} key in this key store");
        }
        let key_id = verify::file_key_id(&cert);
        let id_bytes = hex::decode(&key_id).unwrap_or_else(|_| key_id.as_bytes().to_vec());
        let entry = pkcs12::Entry { key_pkcs8: key, certificate: &cert, chain: &chain, friendly_name: &key_id, local_key_id: &id_bytes };
        let file = pkcs12::write(&entry, password)?;
        let path = dir.join(format!("{}{key_id}.p12", t.file_prefix()));
        write_private(&path, &file)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

/// `ca enroll fetch`: download the pair and put it, with the keys, into PKCS#12 files.
pub fn fetch(server: &str, dir: &Path, number: &str, secret: Option<String>, password: &str) -> Result<Value> {
    let secret = secret_for(dir, number, secret)?;
    let pair = get(server, &format!("/api/v1/applications/{number}/certificates"), &secret)?;
    let auth = decrypt_key(&key_path(dir, CertType::Auth), password)?;
    let sign = decrypt_key(&key_path(dir, CertType::Sign), password)?;
    let files = store_pair(dir, &pair, [&auth, &sign], password)?;
    // The keys now live in the PKCS#12 files only.
    std::fs::remove_dir_all(pending(dir)).with_context(|| format!("removing {}", pending(dir).display()))?;
    let _ = std::fs::remove_file(saved_path(dir));
    Ok(json!({ "number": number, "files": files }))
}

/// The current key store files of `dir`: (AUTH, SIGN) PKCS#12 paths.
fn current_files(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let mut auth = Vec::new();
    let mut sign = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".p12") {
            continue;
        }
        if name.starts_with(CertType::Auth.file_prefix()) {
            auth.push(dir.join(&name));
        } else if name.starts_with(CertType::Sign.file_prefix()) {
            sign.push(dir.join(&name));
        }
    }
    match (auth.as_slice(), sign.as_slice()) {
        ([a], [s]) => Ok((a.clone(), s.clone())),
        ([], []) => bail!("{} holds no certificates: fetch them first", dir.display()),
        _ => bail!("{} holds more than one pair; keep only the current AUTH_RSA256_*.p12 and RSA256_*.p12 there", dir.display()),
    }
}

fn read_store(path: &Path, password: &str) -> Result<pkcs12::KeyStore> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    pkcs12::read(&bytes, password).with_context(|| format!("opening {}", path.display()))
}

fn signed(action: SignedAction, store: &pkcs12::KeyStore) -> Result<Value> {
    let signer = RsaSigner::from_pkcs8(&store.key_pkcs8)?;
    let env = Envelope::sign(&SignedRequest::new(action), &signer, &store.certificate, calendar::now())?;
    Ok(serde_json::to_value(env)?)
}

fn move_into(dir: &Path, sub: &str, files: &[&Path]) -> Result<()> {
    let target = dir.join(sub);
    std::fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    for f in files {
        if let Some(name) = f.file_name() {
            std::fs::rename(f, target.join(name)).with_context(|| format!("moving {}", f.display()))?;
        }
    }
    Ok(())
}

/// `ca enroll renew`: new keys here, a request signed with the current SIGN key.
pub fn renew(server: &str, dir: &Path, password: &str) -> Result<Value> {
    let (auth_file, sign_file) = current_files(dir)?;
    let store = read_store(&sign_file, password)?;
    let auth_key = signing::generate_rsa_pkcs8(2048)?;
    let sign_key = signing::generate_rsa_pkcs8(2048)?;
    let csr = |k: &[u8]| -> Result<String> { Ok(Base64::encode_string(&ca_core::csr::create(&RsaSigner::from_pkcs8(k)?)?)) };
    let action = SignedAction::Renew { auth_csr: csr(&auth_key)?, sign_csr: csr(&sign_key)? };
    let pair = post(server, "/api/v1/renewals", &signed(action, &store)?, 201)?;
    move_into(dir, "superseded", &[&auth_file, &sign_file])?;
    let files = store_pair(dir, &pair, [&auth_key, &sign_key], password)?;
    Ok(json!({ "files": files, "superseded": [auth_file.display().to_string(), sign_file.display().to_string()] }))
}

/// `ca enroll revoke`: revoke the current pair, signed with its SIGN key.
pub fn revoke(server: &str, dir: &Path, reason: &str, password: &str) -> Result<Value> {
    let (auth_file, sign_file) = current_files(dir)?;
    let store = read_store(&sign_file, password)?;
    let answer = post(server, "/api/v1/revocations", &signed(SignedAction::Revoke { reason: reason.to_string() }, &store)?, 200)?;
    move_into(dir, "revoked", &[&auth_file, &sign_file])?;
    Ok(json!({ "revoked": answer["revoked"], "reason": reason }))
}

/// `ca enroll approve`: a head approves an employee's application.
pub fn approve(server: &str, dir: &Path, number: &str, password: &str) -> Result<Value> {
    let (_, sign_file) = current_files(dir)?;
    let store = read_store(&sign_file, password)?;
    post(
        server,
        &format!("/api/v1/applications/{number}/approval"),
        &signed(SignedAction::Approve { application: number.to_string() }, &store)?,
        200,
    )
}

/// An operator's signed call to the operator API, with the SIGN key in `dir`.
pub fn operator(server: &str, dir: &Path, password: &str, path: &str, action: SignedAction) -> Result<Value> {
    let (_, sign_file) = current_files(dir)?;
    let store = read_store(&sign_file, password)?;
    post(server, path, &signed(action, &store)?, 200)
}

/// The form from the command line.
pub fn form(args: &crate::ApplyArgs) -> ApplicationForm {
    let a = &args.person;
    ApplicationForm {
        iin: a.iin.clone(),
        surname: a.surname.clone(),
        name: a.name.clone(),
        patronymic: a.patronymic.clone(),
        email: a.email.clone(),
        entity: a.bin.as_ref().map(|bin| EntityForm {
            bin: bin.clone(),
            organization: a.org.clone().unwrap_or_default(),
            role: a.role.map(|r| ca_core::profile::Role::from(r).as_str().to_string()).unwrap_or_default(),
        }),
        storage: args.storage.into(),
        registration_center: args.center.clone(),
    }
}
