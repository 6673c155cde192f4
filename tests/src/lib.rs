//! Helpers for the end-to-end tests in `tests/`: find the built programs, make
//! scratch directories, make applicants' requests with `openssl req` (the real
//! client), run `ca` and parse what it prints.

pub mod card;
pub mod db;
pub mod pg;

use ca_core::api::{Envelope, SignedAction, SignedRequest};
use ca_core::identity::Iin;
use ca_core::signing::RsaSigner;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The directory the test binary was built into (`target/debug` or `target/release`),
/// where `cargo build` also put `ca` and `ca-server`.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test-binary>
    exe.parent().and_then(Path::parent).expect("target directory").to_path_buf()
}

/// Path to a built program of the workspace; run `cargo build --workspace` first.
pub fn program(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(p.exists(), "{} is not built: run `cargo build --workspace` with the same profile first", p.display());
    p
}

/// The national authority's real test artifacts, in `tests/data/nca-test/`.
pub fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/nca-test").join(name)
}

/// A scratch directory removed when dropped (with the authority's PostgreSQL
/// database, when it has one).
pub struct Scratch(PathBuf, Option<fixtures::postgres::TestDatabase>);

impl Scratch {
    /// A new empty directory under the system temp dir.
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!("ca-e2e-{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch(dir, None)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside it.
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read template") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy file");
        }
    }
}

/// The passphrase the tests' authorities are created with.
pub const PASSPHRASE: &str = "test passphrase for e2e";

/// The applicants' key store password in the tests.
pub const KEY_PASSWORD: &str = "applicant secret";

/// An authority made once per test binary by `ca init` (RSA-4096 keys take seconds)
/// with its first administrator (`ca operator add`, key store in `admin/` beside
/// `data/`), copied for each test so tests do not see each other's certificates.
pub fn fresh_authority() -> Scratch {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    static TEMPLATE_DB: OnceLock<Option<fixtures::postgres::TestDatabase>> = OnceLock::new();
    let template = TEMPLATE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("ca-e2e-template-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        let database = TEMPLATE_DB.get_or_init(|| {
            (db::backend() == db::Backend::Postgres).then(|| {
                assert!(
                    std::env::var(fixtures::postgres::CLUSTER_ENV).is_ok(),
                    "CA_TEST_BACKEND=postgres needs a running cluster in CA_TEST_POSTGRES_URL (scripts/pg-cluster.sh start DIR)"
                );
                fixtures::postgres::TestDatabase::new("template")
            })
        });
        let mut args = vec!["init", "--base-url", "http://pki.test.kz"];
        if let Some(database) = database {
            args.extend(["--database", database.url()]);
        }
        let out = ca(&data, &args);
        assert!(out.status.success(), "ca init failed: {}", String::from_utf8_lossy(&out.stderr));
        let admin = dir.join("admin");
        let out = ca_as(
            &data,
            None,
            &["operator", "add", "--role", "ca_administrator", "--iin", ADMIN_IIN, "--surname", "Админов", "--name", "Админ", "--out"],
            Some(&admin),
        );
        assert!(out.status.success(), "ca operator add failed: {}", String::from_utf8_lossy(&out.stderr));
        dir
    });
    let mut s = Scratch::new("ca");
    copy_dir(&template.join("data"), &s.join("data"));
    copy_dir(&template.join("admin"), &s.join("admin"));
    if let Some(Some(template_db)) = TEMPLATE_DB.get() {
        // The records too: a database copied from the template's, named in the copy's configuration.
        let copy = fixtures::postgres::TestDatabase::copy_of("authority", template_db);
        configure(&s.join("data"), "database", serde_json::json!({ "url": copy.url() }));
        s.1 = Some(copy);
    }
    s
}

/// The IIN of a [`fresh_authority`]'s first administrator.
pub const ADMIN_IIN: &str = "750101300014";

/// How many certificates `ca list` shows that are not the administrator's.
pub fn holders_certificates(data: &Path) -> usize {
    ca_json(data, &["list"]).as_array().unwrap().iter().filter(|c| c["iin"] != ADMIN_IIN).count()
}

/// The administrator's key store of a [`fresh_authority`]'s `data`, if it has one.
pub fn administrator(data: &Path) -> Option<PathBuf> {
    data.parent().map(|p| p.join("admin")).filter(|a| a.is_dir())
}

/// Run `ca --data DIR ARGS...` with the test passphrase, signed off by the
/// authority's administrator when it has one (see [`fresh_authority`]).
pub fn ca(data: &Path, args: &[&str]) -> Output {
    ca_as(data, administrator(data).as_deref(), args, None)
}

/// Run `ca --data DIR ARGS... [LAST]` with the test passphrase, signing state
/// changes with the staff key store `operator` (none: no staff key at all).
pub fn ca_as(data: &Path, operator: Option<&Path>, args: &[&str], last: Option<&Path>) -> Output {
    ca_with(data, operator, args, last, &[])
}

/// Run `ca` as [`ca`] does, with more environment variables (a card's reader and PIN).
pub fn ca_env(data: &Path, args: &[&str], envs: &[(&str, &str)]) -> Output {
    ca_with(data, administrator(data).as_deref(), args, None, envs)
}

fn ca_with(data: &Path, operator: Option<&Path>, args: &[&str], last: Option<&Path>, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program("ca"));
    cmd.envs(envs.iter().copied());
    cmd.arg("--data").arg(data).args(args);
    if let Some(l) = last {
        cmd.arg(l);
    }
    cmd.env("CA_PASSPHRASE", PASSPHRASE).env("CA_KEY_PASSWORD", KEY_PASSWORD).env_remove("CA_DATA").env_remove("CA_OPERATOR_KEY");
    if let Some(op) = operator {
        cmd.env("CA_OPERATOR_KEY", op);
    }
    cmd.output().expect("run ca")
}

/// Run `ca --json ...` and parse its stdout, asserting success.
pub fn ca_json(data: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ca(data, &all);
    assert!(out.status.success(), "ca {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ca printed JSON")
}

/// Run `ca ARGS...` as anyone may (no data directory, no passphrase).
pub fn ca_anywhere(args: &[&str]) -> Output {
    Command::new(program("ca")).args(args).output().expect("run ca")
}

/// The JSON document a command printed.
pub fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Run a command, asserting it succeeds; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A key and PKCS#10 request made by `openssl req`, as an applicant's client would.
pub fn openssl_csr(dir: &Path, name: &str, bits: u32) -> PathBuf {
    let csr = dir.join(format!("{name}.csr"));
    run_ok(
        Command::new("openssl")
            .args(["req", "-new", "-newkey", &format!("rsa:{bits}"), "-nodes", "-subj", "/CN=IGNORED BY THE CA", "-keyout"])
            .arg(dir.join(format!("{name}.key")))
            .arg("-out")
            .arg(&csr),
    );
    csr
}

/// An applicant's data as `ca issue` flags.
pub struct Person {
    /// IIN.
    pub iin: &'static str,
    /// Extra flags (names, legal entity).
    pub flags: Vec<&'static str>,
}

/// An adult individual with a valid IIN (born 1988-05-15).
pub fn individual() -> Person {
    Person { iin: "880515300120", flags: vec!["--surname", "Тестов", "--name", "Тест", "--patronymic", "Тестович"] }
}

/// A legal entity's CEO.
pub fn ceo() -> Person {
    let mut p = individual();
    p.flags.extend(["--bin", "040840000124", "--org", "АО \"ТЕСТ\"", "--role", "ceo"]);
    p
}

/// `ca issue` for `who` from fresh openssl requests; returns the JSON and the output dir.
pub fn issue(data: &Path, work: &Path, who: &Person, tag: &str) -> serde_json::Value {
    let auth = openssl_csr(work, &format!("{tag}-auth"), 2048);
    let sign = openssl_csr(work, &format!("{tag}-sign"), 2048);
    let out = work.join(format!("{tag}-out"));
    let (auth, sign, out) = (auth.display().to_string(), sign.display().to_string(), out.display().to_string());
    let mut args = vec!["issue", "--iin", who.iin];
    args.extend(who.flags.iter().copied());
    args.extend(["--auth-csr", &auth, "--sign-csr", &sign, "--out", &out]);
    ca_json(data, &args)
}

/// A `ca-server` process, stopped by PID when dropped.
pub struct Server {
    child: Child,
    /// The port it listens on (127.0.0.1, chosen at run time).
    pub port: u16,
    /// The HTTPS port, when started with `--tls-listen`.
    pub tls_port: Option<u16>,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start `ca-server --listen 127.0.0.1:0 ARGS...` in `cwd` with `envs` (and
    /// neither CA_DATA nor CA_PASSPHRASE from the caller); waits for its port.
    pub fn start(cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        Self::spawn(Command::new(program("ca-server")), cwd, args, envs)
    }

    /// Another program of the workspace that serves like `ca-server` (reports
    /// `listening on http://127.0.0.1:PORT`, then the https one with `--tls-listen`).
    pub fn start_program(name: &str, cwd: &Path, args: &[&str]) -> Server {
        Self::spawn(Command::new(program(name)), cwd, args, &[])
    }

    /// The authority in `data`, unlocked, started with its open-file limit, soft
    /// and hard, set to `files`, as a shell's `ulimit -n` does: the server cannot
    /// raise it.
    pub fn on_with_file_limit(data: &Path, files: u32) -> Server {
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &format!("ulimit -n {files} && exec \"$0\" \"$@\"")]).arg(program("ca-server"));
        let data = data.display().to_string();
        Self::spawn(cmd, Path::new("."), &["--data", &data], &[("CA_PASSPHRASE", PASSPHRASE)])
    }

    fn spawn(mut cmd: Command, cwd: &Path, args: &[&str], envs: &[(&str, &str)]) -> Server {
        let mut child = cmd
            .current_dir(cwd)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("CA_DATA")
            .env_remove("CA_PASSPHRASE")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut lines) = kept.lock() {
                    if lines.len() < 100_000 {
                        lines.push(line.clone());
                    }
                }
                for (scheme, prefix) in [("http", "listening on http://127.0.0.1:"), ("https", "listening on https://127.0.0.1:")] {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        let port: u16 = rest.split_whitespace().next().and_then(|p| p.parse().ok()).unwrap_or(0);
                        let _ = tx.send((scheme, port));
                    }
                }
            }
        });
        let wait = |what: &str| {
            let (scheme, port) = rx
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("ca-server did not report its {what} port within 120 s"));
            assert_eq!(scheme, what, "ca-server reports its ports plain first");
            port
        };
        let port = wait("http");
        let tls_port = args.contains(&"--tls-listen").then(|| wait("https"));
        Server { child, port, tls_port, log }
    }

    /// What it wrote to stderr so far (the first 100,000 lines).
    pub fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The authority in `data`, unlocked, also serving HTTPS on a port of its own.
    pub fn on_tls(data: &Path) -> Server {
        let data = data.display().to_string();
        Server::start(Path::new("."), &["--data", &data, "--tls-listen", "127.0.0.1:0"], &[("CA_PASSPHRASE", PASSPHRASE)])
    }

    /// Its HTTPS base URL (when started with `--tls-listen`).
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.tls_port.expect("started with --tls-listen"))
    }

    /// The authority in `data` (already initialised), unlocked with the test passphrase.
    pub fn on(data: &Path) -> Server {
        let data = data.display().to_string();
        Server::start(Path::new("."), &["--data", &data], &[("CA_PASSPHRASE", PASSPHRASE)])
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM and wait at most `limit` for the process to exit; how long it took.
    pub fn terminate(&mut self, limit: Duration) -> Option<Duration> {
        let started = std::time::Instant::now();
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Findings at WARNING, ERROR or FATAL from a pkilint linter, e.g.
/// `["lint_pkix_cert", "lint"]` or `["lint_crl", "lint", "-t", "CRL", "-p", "PKIX"]`.
pub fn pkilint_findings(linter: &[&str], file: &Path) -> Vec<String> {
    let out = Command::new(linter[0])
        .args(&linter[1..])
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("{} is not installed ({e}): run scripts/test.sh, which installs pkilint", linter[0]));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("Traceback"), "pkilint crashed on {}:\n{text}", file.display());
    text.lines().filter(|l| l.contains("(WARNING)") || l.contains("(ERROR)") || l.contains("(FATAL)")).map(str::to_string).collect()
}

/// A valid IIN of a man born 1988-05-15 with sequence number `seq`.
pub fn iin(seq: u32) -> &'static str {
    let s = (0..10).map(|d| format!("8805153{seq:04}{d}")).find(|s| Iin::parse(s).is_ok()).expect("a check digit");
    Box::leak(s.into_boxed_str())
}

/// Wait (at most `limit`) until `f` says yes.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// A path as a string, for arguments.
pub fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The key store's current PKCS#12 file with the prefix (`AUTH_RSA256_` or `RSA256_`).
pub fn p12(ks: &Path, prefix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(ks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with(prefix) && f.extension().is_some_and(|e| e == "p12"))
        .collect();
    assert_eq!(found.len(), 1, "one {prefix}*.p12 in {}", ks.display());
    found[0].clone()
}

/// Read a key store's SIGN file and sign `action` as its holder, as `ca enroll` does.
pub fn sign_as(ks: &Path, action: SignedAction) -> Value {
    let bytes = std::fs::read(p12(ks, "RSA256_")).unwrap();
    let store = ca_core::pkcs12::read(&bytes, KEY_PASSWORD).unwrap();
    let signer = RsaSigner::from_pkcs8(&store.key_pkcs8).unwrap();
    serde_json::to_value(Envelope::sign(&SignedRequest::new(action), &signer, &store.certificate, ca_core::calendar::now()).unwrap())
        .unwrap()
}

/// `openssl pkcs12 -export` of an issued pair into a key store directory.
pub fn key_store_from_openssl(work: &Path, issued: &Value, tag: &str, ks: &Path) {
    std::fs::create_dir_all(ks).unwrap();
    for (i, (kind, prefix)) in [("auth", "AUTH_RSA256_"), ("sign", "RSA256_")].into_iter().enumerate() {
        let cert = issued["files"][i].as_str().unwrap();
        run_ok(
            Command::new("openssl")
                .args(["pkcs12", "-export", "-inkey"])
                .arg(work.join(format!("{tag}-{kind}.key")))
                .args(["-in", cert, "-passout", &format!("pass:{KEY_PASSWORD}"), "-out"])
                .arg(ks.join(format!("{prefix}{tag}.p12"))),
        );
    }
}

/// Set `config.json`'s section `section` (e.g. `"limits"`, `"ocsp"`) of the
/// authority in `data` to `value`, merging it into what is there.
pub fn configure(data: &Path, section: &str, value: Value) {
    let path = data.join("config.json");
    let mut config: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    match (config.get_mut(section).and_then(Value::as_object_mut), value) {
        (Some(existing), Value::Object(new)) => existing.extend(new),
        (_, value) => config[section] = value,
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&config).unwrap()).unwrap();
}

/// What `openssl pkcs12 -legacy -info` says of a key file opened with `password`
/// (its stderr and stdout), asserting that it opened.
pub fn openssl_pkcs12_info(file: &Path, password: &str) -> String {
    let out = Command::new("openssl")
        .args(["pkcs12", "-legacy", "-info", "-noout", "-passin", &format!("pass:{password}"), "-in"])
        .arg(file)
        .output()
        .expect("run openssl");
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "openssl pkcs12 could not open {}: {text}", file.display());
    text
}

/// `ca enroll keygen` and `apply` against `server`, as `iin` (with `entity`: a BIN and a role); returns the key store and the application number.
pub fn apply(data: &Path, server: &Server, ks: &Path, iin: &str, entity: Option<(&str, &str)>) -> (PathBuf, String) {
    ca_json(data, &["enroll", "keygen", "--dir", &p(ks)]);
    let url = server.url();
    let mut args = vec!["enroll", "apply", "--server", &url, "--dir"];
    let ks_s = p(ks);
    args.push(&ks_s);
    args.extend(["--iin", iin, "--surname", "Тестов", "--name", "Тест", "--center", "ЦОН Астана"]);
    if let Some((b, role)) = entity {
        args.extend(["--bin", b, "--org", "ТОО \"ТЕСТ\"", "--role", role]);
    }
    let receipt = ca_json(data, &args);
    (ks.to_path_buf(), receipt["number"].as_str().expect("number").to_string())
}

/// A whole enrollment: apply, operator confirms on the console, fetch.
pub fn enroll(data: &Path, server: &Server, ks: &Path, iin: &str, entity: Option<(&str, &str)>) -> PathBuf {
    let (ks, number) = apply(data, server, ks, iin, entity);
    ca_json(data, &["application", "confirm", &number]);
    ca_json(data, &["enroll", "fetch", "--server", &server.url(), &number, "--dir", &p(&ks)]);
    ks
}

/// What `openssl ocsp` says of `cert` (PEM or DER) at `server`, issued by the RSA
/// issuing CA of the authority in `data`: its status line ("…: good", "…: revoked").
pub fn ocsp_status(server: &Server, data: &Path, cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["ocsp", "-url", &format!("{}/ocsp/", server.url()), "-timeout", "5", "-no_nonce"])
        .arg("-issuer")
        .arg(data.join("issuing.pem"))
        .arg("-CAfile")
        .arg(data.join("root.pem"))
        .arg("-cert")
        .arg(cert)
        .output()
        .expect("openssl ocsp");
    String::from_utf8_lossy(&out.stdout).lines().find(|l| l.starts_with(&cert.display().to_string())).unwrap_or_default().to_string()
}

/// `n` applications of individuals for load tests, each with two fresh RSA-2048
/// keys, the IINs of sequence numbers from `first_seq` that have a check digit.
pub fn load_applications(n: usize, first_seq: u32) -> Vec<ca_core::api::NewApplication> {
    let csr = || {
        let key = ca_core::signing::generate_rsa_pkcs8(2048).expect("an RSA key");
        let signer = RsaSigner::from_pkcs8(&key).expect("the key");
        <base64ct::Base64 as base64ct::Encoding>::encode_string(&ca_core::csr::create(&signer).expect("a CSR"))
    };
    (first_seq..)
        .filter_map(|seq| (0..10).map(|d| format!("8805153{seq:04}{d}")).find(|s| Iin::parse(s).is_ok()))
        .take(n)
        .map(|iin| {
            let applicant = ca_core::api::ApplicationForm {
                iin,
                surname: "Нагрузкин".into(),
                name: "Тест".into(),
                patronymic: None,
                email: None,
                entity: None,
                storage: ca_core::model::KeyStorage::Pc,
                registration_center: "ЦОН Астана".into(),
            };
            ca_core::api::NewApplication { applicant, auth_csr: csr(), sign_csr: csr() }
        })
        .collect()
}
