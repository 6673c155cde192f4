//! The verification API (`/api/v1/verify/certificate`, `/cms`, `/xml`): what
//! `ca verify`, `ca cms verify` and `ca xml verify` do, for services that call
//! over HTTP (as NCANode's users do), with every OCSP answer's signature checked.
//!
//! Trust: the authority's own roots (issuing CAs as intermediates), and the
//! anchors and intermediates `config.json`'s `verify` section names. Status of
//! our own certificates is asked of this server's responder and CRLs in process;
//! anyone else's over HTTP at the URLs their certificates name.

use crate::api::{body_error, ApiError};
use crate::status::StatusService;
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use ca_core::api::routes;
use ca_core::api::verification::{CertificateCheck, CheckOptions, CmsCheck, CmsReport, XmlCheck, XmlReport};
use ca_core::authority::Authority;
use ca_core::calendar;
use ca_core::cms::{self, CmsError};
use ca_core::model::Family;
use ca_core::profile;
use ca_core::verify::{Fetch, FetchError, HttpFetch};
use ca_core::verify::{Checks, Purpose, RevocationChecker, RevocationMode, RevocationPolicy, TrustStore, VerdictReport, Verifier};
use ca_core::xml::dsig::{self, DsigError};
use der::{DateTime, Decode};
use std::sync::Arc;
use std::time::Duration;
use x509_cert::Certificate;

/// Fetches this authority's URLs in process, anyone else's over HTTP.
struct LocalFirst {
    base: String,
    status: Arc<StatusService>,
    http: HttpFetch,
}

impl LocalFirst {
    fn local_path<'a>(&self, url: &'a str) -> Option<&'a str> {
        url.strip_prefix(self.base.as_str()).filter(|p| p.starts_with('/'))
    }
}

impl Fetch for LocalFirst {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        match self.local_path(url).and_then(|p| self.status.crl_at(p)) {
            Some(crl) => Ok(crl.to_vec()),
            None => self.http.get(url),
        }
    }

    fn is_in_process(&self, url: &str) -> bool {
        self.local_path(url).is_some()
    }

    fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, FetchError> {
        match self.local_path(url) {
            Some(p) if p == profile::OCSP_PATH || p == "/ocsp" => Ok(self.status.answer_ocsp(body)),
            _ => self.http.post(url, content_type, body),
        }
    }
}

/// One verifier per revocation mode, sharing nothing but the trust store.
pub struct Verification {
    by_mode: Vec<(RevocationMode, Verifier)>,
}

fn certificates_in(path: &std::path::Path) -> anyhow::Result<Vec<Certificate>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    ca_core::pem::certificates(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

impl Verification {
    /// The verifiers of `ca`, asking `status` about its own certificates.
    pub fn new(ca: &Authority, status: Arc<StatusService>) -> anyhow::Result<Arc<Self>> {
        let settings = &ca.config().verify;
        let mut anchors: Vec<Certificate> = Family::ALL.iter().filter_map(|f| ca.hierarchies().of(*f)).map(|h| h.root.clone()).collect();
        for p in &settings.trust {
            anchors.extend(certificates_in(p)?);
        }
        let configured = settings.intermediates.iter().map(|p| certificates_in(p)).collect::<anyhow::Result<Vec<_>>>()?.concat();
        let trust = TrustStore::new(anchors).with_intermediates(ca.hierarchies().issuing_cas().into_iter().chain(configured));
        let by_mode = [RevocationMode::OcspThenCrl, RevocationMode::Ocsp, RevocationMode::Crl, RevocationMode::None]
            .into_iter()
            .map(|mode| {
                let fetch = LocalFirst {
                    base: ca.urls().base().trim_end_matches('/').to_string(),
                    status: status.clone(),
                    http: HttpFetch::new(Duration::from_secs(10)),
                };
                // Answers are asked anew for each check (ours come from this server's
                // own responder, which drops its cached answer the moment a status
                // changes); CRLs are kept a minute at most.
                let policy = RevocationPolicy { mode, ocsp_cache_seconds: 0, crl_cache_seconds: Some(60), ..RevocationPolicy::default() };
                (mode, Verifier::new(trust.clone(), RevocationChecker::new(policy, Some(Box::new(fetch)))))
            })
            .collect();
        Ok(Arc::new(Verification { by_mode }))
    }

    fn verifier(&self, mode: RevocationMode) -> &Verifier {
        self.by_mode.iter().find(|(m, _)| *m == mode).map(|(_, v)| v).unwrap_or(&self.by_mode[0].1)
    }
}

/// The routes.
pub fn router(v: Arc<Verification>) -> Router {
    Router::new()
        .route(routes::VERIFY_CERTIFICATE, post(certificate))
        .route(routes::VERIFY_CMS, post(cms_document))
        .route(routes::VERIFY_XML, post(xml_document))
        .layer(axum::extract::DefaultBodyLimit::max(ca_core::api::MAX_VERIFY_BODY_BYTES))
        .with_state(v)
}

fn invalid(field: &'static str, what: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", format!("{field}: {what}"))
}

/// The options, read: purpose, time, revocation mode.
fn options(o: &CheckOptions) -> Result<(Purpose, Option<DateTime>, RevocationMode), ApiError> {
    let at = match &o.at {
        Some(s) => Some(calendar::parse_rfc3339_time(s).ok_or_else(|| invalid("at", "not an RFC 3339 time"))?),
        None => None,
    };
    Ok((o.purpose.unwrap_or(Purpose::Sign), at, o.revocation.unwrap_or(RevocationMode::OcspThenCrl)))
}

fn der_of(field: &'static str, text: &str) -> Result<Vec<u8>, ApiError> {
    ca_core::pem::read_der(text.as_bytes()).map_err(|e| invalid(field, e))
}

/// A signature that does not verify: 422, with the reason.
fn unverifiable(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Run a check on this worker thread, telling the runtime it blocks (a check may
/// wait for another authority's OCSP responder): the runtime moves its other work
/// away, without the thread hand-off of `spawn_blocking`.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::block_in_place(f)
}

async fn certificate(
    State(v): State<Arc<Verification>>,
    body: Result<Json<CertificateCheck>, JsonRejection>,
) -> Result<Json<VerdictReport>, ApiError> {
    let Json(req) = body.map_err(body_error)?;
    let (purpose, at, mode) = options(&req.options)?;
    let cert = Certificate::from_der(&der_of("certificate", &req.certificate)?).map_err(|e| invalid("certificate", e))?;
    blocking(move || {
        let checks = Checks::at_or_now(purpose, at);
        let result = v.verifier(mode).verify(&cert, &[], &checks);
        Ok(Json(VerdictReport::of(&cert, &checks, &result)))
    })
    .await
}

async fn cms_document(
    State(v): State<Arc<Verification>>,
    body: Result<Json<CmsCheck>, JsonRejection>,
) -> Result<Json<CmsReport>, ApiError> {
    let Json(req) = body.map_err(body_error)?;
    let (purpose, at, mode) = options(&req.options)?;
    let signature = der_of("cms", &req.cms)?;
    let data = match &req.data {
        Some(d) => Some(der_of("data", d)?),
        None => None,
    };
    blocking(move || match cms::verify_document(&signature, data.as_deref(), v.verifier(mode), purpose, at) {
        Ok(doc) => Ok(Json(CmsReport::of(&doc))),
        Err(e @ (CmsError::Malformed(_) | CmsError::TooLarge(_) | CmsError::NoContent | CmsError::ContentTwice)) => Err(invalid("cms", e)),
        Err(e) => Err(unverifiable(e.code(), e.to_string())),
    })
    .await
}

async fn xml_document(
    State(v): State<Arc<Verification>>,
    body: Result<Json<XmlCheck>, JsonRejection>,
) -> Result<Json<XmlReport>, ApiError> {
    let Json(req) = body.map_err(body_error)?;
    let (purpose, at, mode) = options(&req.options)?;
    blocking(move || match dsig::verify_document(req.xml.as_bytes(), v.verifier(mode), purpose, at) {
        Ok(signers) => Ok(Json(XmlReport::of(&signers))),
        Err(e @ (DsigError::Xml(_) | DsigError::NoSignature)) => Err(invalid("xml", e)),
        Err(e) => Err(unverifiable(e.code(), e.to_string())),
    })
    .await
}
