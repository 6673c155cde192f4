//! An example service for banks and government portals: people log in with their
//! national AUTH certificate, two ways.
//!
//! - A signed challenge over HTTP (`--listen`): `GET /challenge` gives a text to sign;
//!   the user's software signs it with the AUTH key as CMS (attached) and sends it to
//!   `POST /login` (DER or base64). The answer is who they are (IIN, names, BIN,
//!   roles), or 401 with the reason. A challenge is accepted once.
//! - TLS client authentication (`--tls-listen`): the client shows its AUTH
//!   certificate in the handshake; `GET /whoami` answers who it is. A certificate
//!   that is not valid for logging in never completes the handshake.
//!
//! Both decide with the same `ca_core::verify::Verifier`: the path to `--trust`,
//! validity now, the AUTH purpose, and revocation by OCSP (`--ocsp-url`, else the
//! certificate's AIA) unless `--revocation none`.
//!
//! ```sh
//! login-service --listen 127.0.0.1:8081 --tls-listen 127.0.0.1:8443 \
//!     --trust root.pem --intermediate nca.pem --tls-cert server.pem --tls-key server.key
//! ```

use ca_core::login::{Challenges, ClientVerifier, Identity};
use ca_core::verify::HttpFetch;
use ca_core::verify::{RevocationChecker, RevocationMode, RevocationPolicy, TrustStore, Verifier};
use clap::Parser;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
struct Args {
    /// Plain HTTP: the signed-challenge login.
    #[arg(long)]
    listen: SocketAddr,
    /// HTTPS with client certificates.
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    tls_listen: Option<SocketAddr>,
    /// The server's certificate chain (PEM).
    #[arg(long)]
    tls_cert: Option<PathBuf>,
    /// The server's key (PEM).
    #[arg(long)]
    tls_key: Option<PathBuf>,
    /// Trust anchors (PEM or DER; repeatable).
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// Intermediate CA certificates (repeatable).
    #[arg(long)]
    intermediate: Vec<PathBuf>,
    /// ocsp, crl, ocsp-then-crl or none.
    #[arg(long, default_value = "ocsp")]
    revocation: RevocationMode,
    /// Ask this OCSP responder instead of the certificate's.
    #[arg(long)]
    ocsp_url: Option<String>,
}

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

fn certificates(path: &PathBuf) -> Result<Vec<ca_core::x509_cert::Certificate>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ca_core::pem::certificates(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn verifier(args: &Args) -> Result<Verifier, String> {
    let all = |paths: &[PathBuf]| paths.iter().map(certificates).collect::<Result<Vec<_>, _>>().map(|v| v.concat());
    let trust = TrustStore::new(all(&args.trust)?).with_intermediates(all(&args.intermediate)?);
    let policy = RevocationPolicy { mode: args.revocation, ocsp_url: args.ocsp_url.clone(), ..RevocationPolicy::default() };
    let fetch = Box::new(HttpFetch::new(Duration::from_secs(10)));
    Ok(Verifier::new(trust, RevocationChecker::new(policy, Some(fetch))))
}

/// A request: method, path, body.
fn read_request(stream: &mut dyn Read) -> Option<(String, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    if length > MAX_BODY {
        return None;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn respond(stream: &mut dyn Write, status: &str, body: &serde_json::Value) {
    let text = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = stream.flush();
}

fn error(code: &str, message: String) -> serde_json::Value {
    serde_json::json!({ "error": { "code": code, "message": message } })
}

fn identity_json(identity: &Identity) -> serde_json::Value {
    serde_json::to_value(identity).unwrap_or_default()
}

fn plain(mut stream: TcpStream, challenges: &Challenges, verifier: &Verifier) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((method, path, body)) = read_request(&mut stream) else {
        return respond(&mut stream, "400 Bad Request", &error("bad_request", "not an HTTP request".into()));
    };
    let now = ca_core::calendar::now();
    match (method.as_str(), path.as_str()) {
        ("GET", "/challenge") => {
            let c = challenges.issue(ca_core::calendar::unix_seconds(&now));
            respond(&mut stream, "200 OK", &serde_json::json!({ "challenge": c.text, "expires": c.expires }));
        }
        ("POST", "/login") => {
            let der = ca_core::pem::read_der(&body).unwrap_or(body);
            match challenges.authenticate(&der, verifier, now) {
                Ok(identity) => respond(&mut stream, "200 OK", &identity_json(&identity)),
                Err(e) => respond(&mut stream, "401 Unauthorized", &error(e.code(), e.to_string())),
            }
        }
        _ => respond(&mut stream, "404 Not Found", &error("not_found", format!("{method} {path}"))),
    }
}

fn secure(stream: TcpStream, config: Arc<rustls::ServerConfig>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(conn) = rustls::ServerConnection::new(config) else { return };
    let mut tls = rustls::StreamOwned::new(conn, stream);
    // The handshake (and the client certificate's verdict) happens on first read.
    let Some((method, path, _)) = read_request(&mut tls) else { return };
    let identity = tls.conn.peer_certificates().and_then(|c| c.first()).and_then(ClientVerifier::identity);
    match (method.as_str(), path.as_str(), identity) {
        ("GET", "/whoami", Some(identity)) => respond(&mut tls, "200 OK", &identity_json(&identity)),
        _ => respond(&mut tls, "404 Not Found", &error("not_found", format!("{method} {path}"))),
    }
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

fn tls_config(args: &Args, verifier: Arc<Verifier>) -> Result<Arc<rustls::ServerConfig>, String> {
    let (cert, key) = (args.tls_cert.as_ref().ok_or("--tls-cert")?, args.tls_key.as_ref().ok_or("--tls-key")?);
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(cert).and_then(|i| i.collect()).map_err(|e| format!("{}: {e}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(Arc::new(ClientVerifier::new(verifier)))
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

fn main() {
    let args = Args::parse();
    let verifier = match verifier(&args) {
        Ok(v) => Arc::new(v),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    let challenges = Arc::new(Challenges::default());
    let listener = TcpListener::bind(args.listen).unwrap_or_else(|e| {
        eprintln!("error: cannot listen on {}: {e}", args.listen);
        std::process::exit(2)
    });
    eprintln!("listening on http://{} (login with a signed challenge)", listener.local_addr().map(|a| a.to_string()).unwrap_or_default());
    if let Some(addr) = args.tls_listen {
        let config = tls_config(&args, verifier.clone()).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(2)
        });
        let tls_listener = TcpListener::bind(addr).unwrap_or_else(|e| {
            eprintln!("error: cannot listen on {addr}: {e}");
            std::process::exit(2)
        });
        eprintln!(
            "listening on https://{} (login with a client certificate)",
            tls_listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
        );
        std::thread::spawn(move || {
            for stream in tls_listener.incoming().flatten() {
                let config = config.clone();
                std::thread::spawn(move || secure(stream, config));
            }
        });
    }
    for stream in listener.incoming().flatten() {
        let (challenges, verifier) = (challenges.clone(), verifier.clone());
        std::thread::spawn(move || plain(stream, &challenges, &verifier));
    }
}
