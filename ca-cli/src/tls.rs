//! HTTPS for the API client: rustls (aws-lc-rs) under ureq. The server is trusted
//! through the certificates in `--cacert FILE` (the national root, for a server
//! that runs on a certificate of its own CA), else the system's bundle. An
//! operator also presents their AUTH certificate, for servers that require
//! mutual TLS on the operator endpoints.

use crate::error::{CliError, CliResult};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Where the system keeps its trusted roots (Debian, Ubuntu, Alpine).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

static TRUST: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Trust the certificates in `file` (PEM) for HTTPS, instead of the system's; set
/// once, at start.
pub fn trust(file: Option<PathBuf>) {
    let _ = TRUST.set(file);
}

/// The certificate and key a client shows in the handshake.
pub struct Identity {
    /// The certificate, then its chain.
    pub chain: Vec<Vec<u8>>,
    /// PKCS#8 DER.
    pub key: zeroize::Zeroizing<Vec<u8>>,
}

fn roots() -> CliResult<RootCertStore> {
    let given = TRUST.get().cloned().flatten();
    let path = given.clone().unwrap_or_else(|| PathBuf::from(SYSTEM_BUNDLE));
    let bad = |e: String| CliError::refused("no_trust", format!("cannot read trusted certificates from {}: {e}", path.display()));
    let certs: Vec<CertificateDer<'static>> = match CertificateDer::pem_file_iter(&path) {
        Ok(it) => it.collect::<Result<_, _>>().map_err(|e| bad(e.to_string()))?,
        Err(e) if given.is_some() => return Err(bad(e.to_string())),
        Err(_) => Vec::new(),
    };
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(CliError::refused(
            "no_trust",
            format!("no trusted certificate for HTTPS in {}: give the authority's root with --cacert FILE", path.display()),
        ));
    }
    Ok(store)
}

/// A TLS connector for ureq that trusts [`trust`]'s certificates and shows `identity`.
pub fn connector(identity: Option<&Identity>) -> CliResult<Arc<Connector>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| CliError::internal("tls", e.to_string()))?
        .with_root_certificates(roots()?);
    let config = match identity {
        Some(id) => {
            let chain = id.chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
            let key = PrivateKeyDer::try_from(id.key.to_vec()).map_err(|e| CliError::internal("tls", e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| CliError::refused("tls", format!("cannot use the AUTH key for TLS: {e}")))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(Connector(Arc::new(config))))
}

/// rustls under ureq.
pub struct Connector(Arc<ClientConfig>);

impl ureq::TlsConnector for Connector {
    fn connect(&self, dns_name: &str, io: Box<dyn ureq::ReadWrite>) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let host = dns_name.trim_start_matches('[').trim_end_matches(']').to_string();
        let name = ServerName::try_from(host).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let connection = ClientConnection::new(self.0.clone(), name).map_err(std::io::Error::other)?;
        Ok(Box::new(TlsStream(StreamOwned::new(connection, io))))
    }
}

#[derive(Debug)]
struct TlsStream(StreamOwned<ClientConnection, Box<dyn ureq::ReadWrite>>);

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl ureq::ReadWrite for TlsStream {
    fn socket(&self) -> Option<&TcpStream> {
        self.0.get_ref().socket()
    }
}

/// Whether `base` is an HTTPS URL.
pub fn is_https(base: &str) -> bool {
    base.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"))
}
