//! Revocation status for relying parties: the CRLs at the paths the certificates'
//! CDP and Freshest CRL URLs name, and the OCSP responder at the AIA URL.
//!
//! Full CRLs are issued on the configured schedule and delta CRLs in between; a
//! revocation never triggers a rebuild. OCSP answers come from the responder
//! engine (`ocsp` crate); a poller reads the database's status log so revocations
//! made by any process (the API, `ca revoke`) drop cached answers within
//! `status_poll_ms`.

use crate::limits::{ClientAddr, RateLimit};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use base64ct::{Base64, Base64Url, Encoding};
use ca_core::authority::{CrlUpdater, Layout};
use ca_core::calendar;
use ca_core::crl::CrlKind;
use ca_core::model::{Family, Serial};
use ca_core::profile;
use ca_core::store::{SerialRevocation, StatusStore, StorePool};
use ocsp::{CertState, Freshness, Responder, StatusSource, StatusUnavailable};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What relying parties fetch: the published CRLs of both hierarchies and the
/// OCSP responder.
pub struct StatusService {
    layout: Layout,
    /// Served CRLs, by family then kind (full, delta).
    crls: [[RwLock<Option<Served>>; 2]; 2],
    responder: Option<Responder>,
    /// Live OCSP signatures per client.
    live: RateLimit,
}

/// A CRL being served.
#[derive(Clone)]
struct Served {
    /// Its number (0 for a file of unknown number, left by an older version).
    number: u64,
    der: Bytes,
    /// Its nextUpdate, Unix seconds, read once when it is first served.
    next_update: Option<i64>,
}

impl StatusService {
    /// The service, serving the CRLs the database says are published (any process
    /// may have issued them); without a responder (no CA passphrase) OCSP answers
    /// `tryLater`.
    pub fn new(layout: &Layout, responder: Option<Responder>, live: RateLimit, store: &dyn StatusStore) -> Arc<Self> {
        let empty = || [RwLock::new(None), RwLock::new(None)];
        let service = Arc::new(StatusService { layout: layout.clone(), crls: [empty(), empty()], responder, live });
        if let Err(e) = service.refresh(store) {
            tracing::error!(error = %e, "cannot read the published CRLs");
        }
        // A file left by an older version, whose CRL the database does not hold:
        // read only where the database had nothing, so a CRL is never read twice.
        for family in Family::ALL {
            for kind in [CrlKind::Full, CrlKind::Delta] {
                if service.served(family, kind).is_none() {
                    if let Ok(der) = std::fs::read(layout.crl_of(family, kind)) {
                        service.offer(family, kind, 0, Bytes::from(der));
                    }
                }
            }
        }
        service
    }

    fn slot(&self, family: Family, kind: CrlKind) -> &RwLock<Option<Served>> {
        let by_kind = match family {
            Family::Rsa => &self.crls[0],
            Family::Gost => &self.crls[1],
        };
        match kind {
            CrlKind::Full => &by_kind[0],
            CrlKind::Delta => &by_kind[1],
        }
    }

    fn served(&self, family: Family, kind: CrlKind) -> Option<Served> {
        self.slot(family, kind).read().ok().and_then(|s| s.clone())
    }

    /// Serve `family`'s CRL `number` of `kind` unless a newer one is served already.
    fn offer(&self, family: Family, kind: CrlKind, number: u64, der: Bytes) {
        if let Ok(mut slot) = self.slot(family, kind).write() {
            if slot.as_ref().is_none_or(|s| s.number < number) {
                tracing::info!(family = family.as_str(), kind = kind.as_str(), number, "CRL served");
                let next_update = <x509_cert::crl::CertificateList as der::Decode>::from_der(&der)
                    .ok()
                    .and_then(|c| c.tbs_cert_list.next_update)
                    .map(|t| t.to_unix_duration().as_secs() as i64);
                *slot = Some(Served { number, der, next_update });
            }
        }
    }

    /// Serve the newest published CRLs, whoever issued them.
    fn refresh(&self, store: &dyn StatusStore) -> Result<(), ca_core::store::StoreError> {
        for family in Family::ALL {
            for kind in [CrlKind::Full, CrlKind::Delta] {
                let served = self.served(family, kind).map(|s| s.number);
                if let Some((record, der)) = store.published_crl(family, kind == CrlKind::Delta, served)? {
                    self.offer(family, kind, record.number, Bytes::from(der));
                }
            }
        }
        Ok(())
    }
}

impl StatusService {
    /// An OCSP answer for `request` as the endpoint gives it, for in-process
    /// relying parties (the verification API): no per-client allowance.
    pub fn answer_ocsp(&self, request: &[u8]) -> Vec<u8> {
        match &self.responder {
            Some(r) => r.respond(request, calendar::unix_now()).der.to_vec(),
            None => ocsp::try_later().der.to_vec(),
        }
    }

    /// `family`'s CRL: the root's (`None`, signed offline: read from disk each time,
    /// a few hundred bytes), or the issuing CA's full or delta CRL being served.
    pub fn crl(&self, family: Family, kind: Option<CrlKind>) -> Option<Bytes> {
        match kind {
            None => std::fs::read(self.layout.root_crl_of(family)).ok().map(Bytes::from),
            Some(kind) => self.served(family, kind).map(|c| c.der),
        }
    }

    /// The nextUpdate of `family`'s full CRL being served.
    pub fn full_crl_next_update(&self, family: Family) -> NextUpdate {
        match self.served(family, CrlKind::Full) {
            None => NextUpdate::NoCrl,
            Some(c) => c.next_update.map_or(NextUpdate::Absent, NextUpdate::At),
        }
    }

    /// What the CRL path `path` serves, if it is one (for in-process relying parties).
    pub fn crl_at(&self, path: &str) -> Option<Bytes> {
        crl_routes().find(|(p, _, _)| *p == path).and_then(|(_, family, kind)| self.crl(family, kind))
    }
}

/// The CRLs' paths, as the certificates' CDP and freshest-CRL URLs name them:
/// each hierarchy's root CRL (kind `None`), full and delta CRL.
fn crl_routes() -> impl Iterator<Item = (&'static str, Family, Option<CrlKind>)> {
    Family::ALL.into_iter().flat_map(|family| {
        let paths = profile::CaPaths::of(family);
        [(paths.root_crl, family, None), (paths.full_crl, family, Some(CrlKind::Full)), (paths.delta_crl, family, Some(CrlKind::Delta))]
    })
}

/// When the full CRL being served is next updated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextUpdate {
    /// No CRL is served yet.
    NoCrl,
    /// The served CRL has no nextUpdate.
    Absent,
    /// Unix seconds.
    At(i64),
}

/// Certificate status from the CA database, a pooled connection per lookup.
pub struct DbStatus(pub Arc<StorePool>);

impl StatusSource for DbStatus {
    fn status(&self, family: Family, serial: &[u8]) -> Result<CertState, StatusUnavailable> {
        let unavailable = |e| StatusUnavailable(Box::new(e));
        let store = self.0.get().map_err(unavailable)?;
        Ok(match store.revocation_of(family, &Serial::from_der_bytes(serial)).map_err(unavailable)? {
            SerialRevocation::Unknown => CertState::Unknown,
            SerialRevocation::Revoked(rev) => CertState::Revoked { at: rev.at, reason: rev.reason },
            SerialRevocation::NotRevoked => CertState::Good,
        })
    }
}

/// The routes: both hierarchies' CRLs, and OCSP (GET with the base64 request in
/// the path, and POST).
pub fn router(service: Arc<StatusService>) -> Router {
    let mut router = Router::new();
    for (path, family, kind) in crl_routes() {
        router = router.route(path, get(move |State(s): State<Arc<StatusService>>| async move { crl_response(s.crl(family, kind)) }));
    }
    router
        .route("/ocsp", axum::routing::post(ocsp_post))
        .route(profile::OCSP_PATH, axum::routing::post(ocsp_post))
        .route(&format!("{}{{*request}}", profile::OCSP_PATH), get(ocsp_get).post(ocsp_post))
        .layer(DefaultBodyLimit::max(ocsp::MAX_REQUEST_BYTES))
        .with_state(service)
}

fn crl_response(crl: Option<Bytes>) -> Response {
    match crl {
        Some(der) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/pkix-crl"), (header::CACHE_CONTROL, "public, max-age=60")], der)
            .into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "no CRL has been published yet\n").into_response(),
    }
}

async fn ocsp_post(State(s): State<Arc<StatusService>>, client: Option<Extension<ClientAddr>>, body: Bytes) -> Response {
    ocsp_answer(&s, client, &body)
}

async fn ocsp_get(State(s): State<Arc<StatusService>>, client: Option<Extension<ClientAddr>>, Path(request): Path<String>) -> Response {
    ocsp_answer(&s, client, &get_request_der(&request))
}

/// The DER of a GET request's path (RFC 5019 §5: base64 of the DER, URL-encoded;
/// axum has decoded the %xx). Base64 may itself end in '/', so the path is read
/// as it is first, and only then without a trailing slash a client added; empty
/// when it is neither base64 nor base64url (answered `malformedRequest`).
fn get_request_der(path: &str) -> Vec<u8> {
    let decode = |text: &str| Base64::decode_vec(text).or_else(|_| Base64Url::decode_vec(text)).ok();
    decode(path).or_else(|| path.strip_suffix('/').and_then(decode)).unwrap_or_default()
}

fn ocsp_answer(s: &StatusService, client: Option<Extension<ClientAddr>>, request: &[u8]) -> Response {
    let Some(responder) = &s.responder else {
        return ([(header::CONTENT_TYPE, "application/ocsp-response")], ocsp::try_later().der).into_response();
    };
    // Only answers that must be signed now count against the client's allowance.
    let may_sign = || client.as_ref().is_none_or(|Extension(c)| s.live.take(c.0.ip(), std::time::Instant::now()).is_ok());
    let answer = responder.respond_within(request, calendar::unix_now(), &may_sign);
    let mut response = ([(header::CONTENT_TYPE, "application/ocsp-response")], answer.der.clone()).into_response();
    let headers = response.headers_mut();
    match answer.freshness {
        Freshness::Cacheable { this_update, next_update, etag } => {
            let max_age = (next_update - calendar::unix_now()).max(0);
            let mut put = |name, value: String| {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            put(header::CACHE_CONTROL, format!("max-age={max_age}, public, no-transform, must-revalidate"));
            put(header::LAST_MODIFIED, http_date(this_update));
            put(header::EXPIRES, http_date(next_update));
            if let Ok(v) = HeaderValue::from_maybe_shared(etag) {
                headers.insert(header::ETAG, v);
            }
        }
        Freshness::NoStore => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store"));
        }
    }
    response
}

/// An HTTP date (RFC 9110 IMF-fixdate).
fn http_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Some(dt) = calendar::from_unix_seconds(secs) else {
        return String::new();
    };
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(secs.div_euclid(86_400).rem_euclid(7)) as usize],
        dt.day(),
        MONTHS[usize::from(dt.month() - 1)],
        dt.year(),
        dt.hour(),
        dt.minutes(),
        dt.seconds()
    )
}

/// Issue CRLs as the schedule says, for as long as the server runs: a full CRL
/// when none is current, a delta CRL when the last one is due or belongs to an
/// older base. Each is published atomically and then served. The updater has its
/// own connection and signer: while it signs, nothing else waits.
pub async fn crl_schedule(mut updater: CrlUpdater, service: Arc<StatusService>, leader: Arc<crate::jobs::Leadership>) {
    loop {
        if !leader.runs_jobs() {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let service2 = service.clone();
        let done = tokio::task::spawn_blocking(move || {
            publish_due(&mut updater, &service2);
            updater
        })
        .await;
        match done {
            Ok(u) => updater = u,
            Err(e) => {
                tracing::error!(error = %e, "the CRL updater stopped: no CRLs are issued until the server restarts");
                return;
            }
        }
        // Checked every second, so a clock jump or a failed write is retried soon.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Publish what is due now.
fn publish_due(updater: &mut CrlUpdater, service: &StatusService) {
    let now = calendar::unix_now();
    let due = match updater.due(now) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the CRL records");
            return;
        }
    };
    for (family, kind) in due {
        match updater.publish(family, kind, now) {
            Ok(crl) => {
                tracing::info!(
                    family = family.as_str(),
                    kind = kind.as_str(),
                    number = crl.record.number,
                    entries = crl.entries,
                    "CRL published"
                );
                service.offer(family, kind, crl.record.number, Bytes::from(crl.der));
            }
            Err(e) => {
                tracing::error!(family = family.as_str(), kind = kind.as_str(), error = %e, "CRL not published");
                return;
            }
        }
    }
}

/// Every `poll`, for as long as the server runs: drop cached OCSP answers of
/// certificates whose status changed, as the status log shows them, and serve
/// CRLs that another process (`ca crl`) published.
pub async fn status_poll(pool: Arc<StorePool>, service: Arc<StatusService>, poll: Duration) {
    let mut last = pool.get().and_then(|s| s.status_seq()).unwrap_or(0);
    loop {
        tokio::time::sleep(poll).await;
        let (pool2, service2) = (pool.clone(), service.clone());
        let after = last;
        let polled = tokio::task::spawn_blocking(move || {
            let store = pool2.get().map_err(|e| e.to_string())?;
            service2.refresh(&*store).map_err(|e| e.to_string())?;
            let mut after = after;
            // Bounded: at most 100 batches of 10,000 changes a round.
            for _ in 0..100 {
                let (serials, upto) = store.status_changes(after, 10_000).map_err(|e| e.to_string())?;
                if let Some(r) = &service2.responder {
                    r.invalidate(&serials);
                }
                after = upto;
                if serials.len() < 10_000 {
                    break;
                }
            }
            Ok::<i64, String>(after)
        })
        .await;
        match polled {
            Ok(Ok(upto)) => last = upto,
            Ok(Err(e)) => tracing::error!(error = %e, "status poll failed"),
            Err(e) => tracing::error!(error = %e, "status poll interrupted"),
        }
    }
}

/// Record the expiry of applications left unconfirmed too long, every `every`, for
/// as long as the server runs (reads already show them as expired).
/// With several servers, only the one that runs the jobs does it (`leader`); a
/// server without the CA keys, which runs no jobs, does it on its own.
pub async fn expiry_job(
    pool: Arc<StorePool>,
    issuing: Vec<x509_cert::Certificate>,
    every: Duration,
    leader: Option<Arc<crate::jobs::Leadership>>,
) {
    let issuing = Arc::new(issuing);
    loop {
        if leader.as_ref().is_some_and(|l| !l.runs_jobs()) {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        let (pool2, issuing2) = (pool.clone(), issuing.clone());
        let ran = tokio::task::spawn_blocking(move || {
            let mut conn = pool2.get()?;
            let clock = ca_core::registration::SystemClock;
            ca_core::registration::Registration::new(&mut *conn, &issuing2, &clock).expire_due()
        })
        .await;
        match ran {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(expired = n, "applications expired"),
            Ok(Err(e)) => tracing::error!(error = %e, "expiring applications failed"),
            Err(e) => tracing::error!(error = %e, "expiry job interrupted"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_request_whose_base64_ends_in_a_slash_is_read_whole() {
        // 0xFF 0xFF encodes as "//8=", and 0x0F 0xFF 0xFF… can end the base64 in '/'.
        for der in [vec![0x30, 0x03, 0x02, 0x01, 0xff], vec![0x30, 0x02, 0xff, 0xff], vec![0x30, 0x01, 0x3f]] {
            let b64 = Base64::encode_string(&der);
            assert_eq!(get_request_der(&b64), der, "{b64}");
            assert_eq!(get_request_der(&format!("{b64}/")), der, "{b64} with a slash added");
            assert_eq!(get_request_der(&Base64Url::encode_string(&der)), der);
        }
        let ends_in_slash = Base64::encode_string(&[0x30, 0x01, 0x3f]);
        assert!(ends_in_slash.ends_with('/'), "{ends_in_slash}");
        assert!(get_request_der("not base64 at all!").is_empty());
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
