//! The API over HTTPS (rustls, TLS 1.3 and 1.2, aws-lc-rs): the certificate and
//! key named in the configuration, or the server's own certificate issued by the
//! issuing CA at start (renewed when fewer than 30 days are left). With
//! `operator_client_certificates`, clients may present a certificate of our CA in
//! the handshake (applicants need none); the operator endpoints then require one.

use anyhow::{bail, Context, Result};
use ca_core::authority::{Authority, TlsSettings};
use ca_core::calendar;
use ca_core::profile::TlsHost;
use ca_core::signing::Signer;
use der::{Decode, Encode};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use x509_cert::Certificate;

/// The certificate a client presented in the TLS handshake, DER.
#[derive(Clone, Debug)]
pub struct ClientCertificate(pub Vec<u8>);

/// Renew the server's own certificate when fewer than this many seconds are left.
const RENEW_BEFORE: i64 = 30 * 86_400;

/// The names the server's own certificate is for: those configured, else the base
/// URL's host, `localhost` and the address listened on.
fn hosts(ca: &Authority, settings: &TlsSettings, listen: SocketAddr) -> Vec<TlsHost> {
    if !settings.hosts.is_empty() {
        return settings.hosts.iter().map(|h| TlsHost::parse(h)).collect();
    }
    let mut hosts = Vec::new();
    let mut add = |h: TlsHost| {
        if !hosts.contains(&h) {
            hosts.push(h);
        }
    };
    if let Some(host) = ca.urls().host() {
        add(TlsHost::parse(host));
    }
    add(TlsHost::Dns("localhost".into()));
    if !listen.ip().is_unspecified() {
        add(TlsHost::Ip(listen.ip()));
    }
    hosts
}

/// Whether the server's own certificate at `path` is missing or about to expire.
fn needs_issuing(path: &Path) -> bool {
    let Ok(pem) = std::fs::read(path) else { return true };
    let Some(first) = CertificateDer::pem_slice_iter(&pem).next().and_then(|c| c.ok()) else { return true };
    let Ok(cert) = Certificate::from_der(&first) else { return true };
    let not_after = calendar::unix_seconds(&cert.tbs_certificate.validity.not_after.to_date_time());
    not_after - calendar::unix_now() < RENEW_BEFORE
}

/// The server's TLS configuration. `issuing` is the issuing CA's signer when the
/// CA is unlocked (needed only to issue the server's own certificate).
pub fn server_config(
    ca: &Authority,
    settings: &TlsSettings,
    issuing: Option<&dyn Signer>,
    listen: SocketAddr,
) -> Result<Arc<ServerConfig>> {
    let (chain_path, key_path) = match (&settings.cert_file, &settings.key_file) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        (None, None) => {
            let (chain, key) = (ca.layout().tls_chain(), ca.layout().tls_key());
            if needs_issuing(&chain) || !key.exists() {
                let Some(signer) = issuing else {
                    bail!("HTTPS needs a server certificate: give tls.cert_file and tls.key_file, or the CA passphrase so the server can issue its own");
                };
                let hosts = hosts(ca, settings, listen);
                let cert = ca.issue_tls_certificate(signer, &hosts, calendar::now())?;
                let names: Vec<String> = hosts.iter().map(ToString::to_string).collect();
                eprintln!(
                    "issued the HTTPS certificate {} for {} ({})",
                    hex::encode(cert.tbs_certificate.serial_number.as_bytes()),
                    names.join(", "),
                    chain.display()
                );
            }
            (chain, key)
        }
        _ => bail!("tls.cert_file and tls.key_file go together"),
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&chain_path)
        .and_then(|it| it.collect::<Result<_, _>>())
        .with_context(|| format!("cannot read the certificate chain {}", chain_path.display()))?;
    if chain.is_empty() {
        bail!("{} holds no certificate", chain_path.display());
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).with_context(|| format!("cannot read the private key {}", key_path.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions()?;
    let builder = if settings.operator_client_certificates {
        // Our own CA's certificates only; a client without one still connects.
        // The issuing CA is an anchor too, for clients that send no chain.
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(ca.certificates().root.to_der()?))?;
        roots.add(CertificateDer::from(ca.certificates().issuing.to_der()?))?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .allow_unauthenticated()
            .build()
            .context("cannot set up client certificate checking")?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder.with_single_cert(chain, key).context("the TLS certificate and key do not go together")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// HSTS (RFC 6797): browsers that reached the HTTPS listener come back only over
/// HTTPS for a year. Set on every answer of that listener, never on plain HTTP.
pub async fn strict_transport(mut response: axum::response::Response) -> axum::response::Response {
    response.headers_mut().insert(axum::http::header::STRICT_TRANSPORT_SECURITY, axum::http::HeaderValue::from_static("max-age=31536000"));
    response
}
