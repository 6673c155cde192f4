//! `ca-server`: the authority's HTTP face. On first start it creates the authority
//! in DIR (like `ca init`), then serves the CA certificates at the paths the
//! certificates' AIA URLs name, the CRLs (full on a schedule, deltas in between)
//! at the CDP and Freshest CRL URLs, the OCSP responder at the AIA URL, the
//! applications API under `/api/v1/`, the applicants' personal cabinet at `/` with
//! the CPS at `/cps`, and a health endpoint.

mod api;
mod audit;
mod cabinet;
mod connections;
mod jobs;
mod limits;
mod settings;
mod status;
mod tls;
mod tsp;
mod verification;

use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ca_core::authority::{self, Authority, CaRole, CrlUpdater, InitOptions, IssuingKeys, Layout};
use ca_core::calendar;
use ca_core::issuer::Issuer;
use ca_core::model::Family;
use ca_core::profile;
use ca_core::signing::Passphrase;
use ca_core::store::StorePool;
use ca_core::verify;
use clap::Parser;
use der::Encode;
use ocsp::{Responder, ResponderCa};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(name = "ca-server", version, about = "National certification authority server")]
struct Args {
    /// The authority's directory; created on first start.
    #[arg(long, env = "CA_DATA", default_value = "./ca-data")]
    data: PathBuf,
    /// The database: sqlite:PATH or postgres://USER@HOST/DB (several hosts allowed;
    /// else database.url in config.json, else DIR/ca.sqlite). Recorded on first start.
    #[arg(long, env = "CA_DATABASE_URL", hide_env_values = true)]
    database: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Base URL written into certificates on first start (default: http://<listen address>).
    #[arg(long)]
    base_url: Option<String>,
    /// Also serve everything, the API included, over HTTPS on this address; the
    /// plain listener then refuses the API (see `tls` in config.json).
    #[arg(long)]
    tls_listen: Option<SocketAddr>,
    /// File holding the CA key passphrase (else $CA_PASSPHRASE, else DIR/passphrase; on first start a random one is kept there).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

/// What `/health` reports: the CA names, prepared once at start, what the keys
/// allow, and what is checked at each request (the database, the CRLs' currency).
struct Published {
    root_subject: String,
    issuing_subject: String,
    gost_issuing_subject: Option<String>,
    /// The CA keys were unlocked at start: issuance, OCSP, CRL signing, time-stamps.
    keyed: bool,
    pool: Arc<StorePool>,
    status: Option<Arc<status::StatusService>>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = run(Args::parse()).await {
        eprintln!("error: {}", report(&e));
        std::process::exit(1);
    }
}

/// An error and its causes, each said once: a cause whose words the message before
/// it already holds (errors that name their source, "AUTH request refused: the RSA
/// key has 1024 bits; …") is not repeated.
fn report(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let words = cause.to_string();
        if text.contains(&words) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&words);
    }
    text
}

/// The authority in the data directory, on the database `--database` names if given.
fn open(args: &Args) -> Result<Authority> {
    let ca = Authority::open(&args.data)?;
    Ok(match &args.database {
        Some(url) => ca.with_database(url.parse().context("--database (or CA_DATABASE_URL)")?),
        None => ca,
    })
}

fn first_start(args: &Args, base_url: String) -> Result<()> {
    let given = Passphrase::from_file_or_env(args.passphrase_file.as_deref())?;
    let store_passphrase = given.is_none();
    let pass = given.unwrap_or_else(Passphrase::generate);
    let mut opts = InitOptions { store_passphrase, ..InitOptions::default() };
    opts.config.base_url = base_url;
    opts.config.database.url.clone_from(&args.database);
    eprintln!("first start: creating the authority in {} (RSA-4096 keys take a few seconds)", args.data.display());
    authority::init(&args.data, &opts, &pass, calendar::now())?;
    let l = Layout::new(&args.data);
    eprintln!("  root certificate:    {}", l.cert(CaRole::Root).display());
    eprintln!("  issuing certificate: {}", l.cert(CaRole::Issuing).display());
    eprintln!("  OCSP responder:      {}", l.cert(CaRole::Ocsp).display());
    eprintln!("  GOST hierarchy:      {}", l.cert_of(Family::Gost, CaRole::Issuing).display());
    eprintln!("  database:            {}", open(args)?.database());
    if store_passphrase {
        eprintln!("  CA key passphrase:   {} (random; set CA_PASSPHRASE for production)", l.passphrase().display());
    }
    Ok(())
}

async fn run(args: Args) -> Result<()> {
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    if !Layout::new(&args.data).exists() {
        let base = args.base_url.clone().unwrap_or_else(|| format!("http://{local}"));
        tokio::task::block_in_place(|| first_start(&args, base))?;
    }
    serve(listener, &args).await
}

/// Database connections the server keeps open at most (API requests, OCSP lookups,
/// the status poller and the expiry job take them in turn; the CRL updater has its own).
const POOL_SIZE: usize = 16;
/// How often the audit log is checked for growth and a checkpoint signed.
const AUDIT_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How often pending applications past their 30 days are recorded as expired.
const EXPIRY_EVERY: Duration = Duration::from_secs(60);

/// The keyed parts, when the CA passphrase is at hand.
struct Keyed {
    issuing: IssuingKeys,
    issuer: Issuer,
    responder: Responder,
    crl: CrlUpdater,
    checkpointer: ca_core::authority::Checkpointer,
    tsa: ca_core::tsp::TimeStampAuthority,
}

/// Open the parts that need the CA keys: the issuer and the CRL updater (sharing the
/// issuing key) and the OCSP responder. Without a passphrase the server publishes
/// what is there but cannot issue, sign CRLs or answer OCSP.
fn keyed(ca: &Authority, pool: &Arc<StorePool>, args: &Args) -> Result<Option<Keyed>> {
    let Some((pass, _)) = authority::find_passphrase(args.passphrase_file.as_deref(), ca.layout())? else {
        eprintln!("no CA passphrase given: the server will not issue, sign CRLs or answer OCSP (set CA_PASSPHRASE or --passphrase-file)");
        return Ok(None);
    };
    let signer = ca.issuing_signer(&pass)?;
    let mut answering = Vec::new();
    for family in Family::ALL {
        if let Some(certs) = ca.hierarchies().of(family) {
            let signer = Box::new(ca.signer_of(family, CaRole::Ocsp, &pass)?);
            answering.push(ResponderCa { issuer: certs.issuing.clone(), responder: certs.ocsp.clone(), signer });
        }
    }
    let responder = Responder::new(
        answering,
        Box::new(status::DbStatus(pool.clone())),
        Duration::from_secs(u64::from(ca.config().ocsp.validity_seconds)),
        ca.config().ocsp.cache_bytes as usize,
    )?;
    let (tsa, issued) = ca.time_stamp_authority(&*signer.rsa, &pass, ca_core::calendar::now())?;
    if issued {
        eprintln!("issued the time-stamp authority's certificate {}", ca.layout().tsa_cert().display());
    }
    Ok(Some(Keyed {
        tsa,
        issuing: signer.clone(),
        issuer: ca.issuer(signer.clone())?,
        responder,
        crl: ca.crl_updater(signer)?,
        checkpointer: ca.checkpointer(&pass)?,
    }))
}

async fn serve(listener: TcpListener, args: &Args) -> Result<()> {
    let ca = tokio::task::block_in_place(|| open(args))?;
    let pool = Arc::new(ca.pool(POOL_SIZE)?);
    // The reads that may lag (the cabinet, the published checkpoint) go to a hot
    // standby when one is configured; revocation status never does.
    let reads = match ca.read_database()? {
        Some(standby) => {
            eprintln!("reading applications and checkpoints from the standby {standby}");
            Arc::new(tokio::task::block_in_place(|| ca_core::store::StorePool::open_reader(&standby, POOL_SIZE))?)
        }
        None => pool.clone(),
    };
    let keyed = tokio::task::block_in_place(|| keyed(&ca, &pool, args))?;
    let certs = ca.certificates();
    let mut published = Published {
        root_subject: verify::name_to_string(&certs.root.tbs_certificate.subject),
        issuing_subject: verify::name_to_string(&certs.issuing.tbs_certificate.subject),
        gost_issuing_subject: ca.hierarchies().gost.as_ref().map(|g| verify::name_to_string(&g.issuing.tbs_certificate.subject)),
        keyed: keyed.is_some(),
        pool: pool.clone(),
        status: None,
    };
    let tls = match args.tls_listen {
        Some(addr) => {
            let signer = keyed.as_ref().map(|k| &*k.issuing.rsa);
            let config = tokio::task::block_in_place(|| tls::server_config(&ca, &ca.config().tls, signer, addr))?;
            let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            Some((listener, tokio_rustls::TlsAcceptor::from(config)))
        }
        None => None,
    };
    let mut publication = Router::new();
    // Each hierarchy's root and issuing CA certificates, at the paths their AIA names.
    for family in Family::ALL {
        if let Some(h) = ca.hierarchies().of(family) {
            let paths = profile::CaPaths::of(family);
            for (path, cert) in [(paths.root_cert, &h.root), (paths.issuing_cert, &h.issuing)] {
                let der = axum::body::Bytes::from(cert.to_der()?);
                publication = publication.route(path, get(move || async move { certificate(der) }));
            }
        }
    }
    let (issuer, responder, crl, checkpointer, tsa) = match keyed.map(|k| (k.issuer, k.responder, k.crl, k.checkpointer, k.tsa)) {
        Some((i, r, c, a, t)) => (Some(i), Some(r), Some(c), Some(a), Some(Arc::new(t))),
        None => (None, None, None, None, None),
    };
    let (settings, limits) = settings::read(&ca.layout().config())?;
    let live = limits::RateLimit::new(limits.ocsp_live_per_minute, limits.ocsp_live_burst);
    let service =
        tokio::task::block_in_place(|| Ok::<_, anyhow::Error>(status::StatusService::new(ca.layout(), responder, live, &*pool.get()?)))?;
    published.status = Some(service.clone());
    let publication = publication.merge(Router::new().route("/health", get(health)).with_state(Arc::new(published)));
    // An unlocked server (it holds the CA keys) competes for the jobs with the others on its database.
    let leader = (crl.is_some() || checkpointer.is_some()).then(jobs::Leadership::new);
    if let Some(leader) = &leader {
        tokio::task::block_in_place(|| leader.claim(&pool));
        tokio::spawn(jobs::keep_lease(pool.clone(), leader.clone()));
    }
    tokio::spawn(status::expiry_job(pool.clone(), ca.hierarchies().issuing_cas(), EXPIRY_EVERY, leader.clone()));
    let poll = Duration::from_millis(u64::from(ca.config().ocsp.status_poll_ms.max(10)));
    tokio::spawn(status::status_poll(pool.clone(), service.clone(), poll));
    if let (Some(updater), Some(leader)) = (crl, &leader) {
        tokio::spawn(status::crl_schedule(updater, service.clone(), leader.clone()));
    }
    if let (Some(c), Some(leader)) = (checkpointer, &leader) {
        tokio::spawn(audit::checkpoint_task(c, AUDIT_CHECKPOINT_EVERY, leader.clone()));
    }
    let lease = leader.clone().map(|l| (pool.clone(), l));
    // An authority made before audit keys existed has none until the first unlocked start.
    let audit_key = std::fs::read_to_string(ca.layout().audit_public_key()).unwrap_or_default();
    let body_time = Duration::from_secs(u64::from(settings.body_timeout_seconds.max(1)));
    let checks = verification::Verification::new(&ca, service.clone())?;
    let publication = publication.merge(status::router(service)).merge(audit::router(reads.clone(), audit_key)).merge(tsp::router(tsa));
    let api = api::router(api::Api::new((pool, reads), ca.hierarchies().clone(), issuer, limits, ca.config().tls.operator_client_certificates))
        .merge(verification::router(checks))
        .route("/api/{*rest}", axum::routing::any(api::not_found));
    let deadline = |router: Router| {
        router
            .layer(axum::middleware::from_fn(move |req: axum::extract::Request, next| {
                let max = ca_core::api::max_body_bytes(req.uri().path());
                connections::body_deadline(body_time, max, req, next)
            }))
            .layer(axum::middleware::from_fn(connections::access_log))
    };
    let cap = connections::connection_cap(&settings);
    let conns = connections::Connections::new(cap);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown().await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let local = listener.local_addr()?;
    eprintln!("listening on http://{local} (base URL in certificates: {}; at most {cap} connections)", ca.urls().base());
    let cabinet = cabinet::Cabinet::new()?;
    let plain_app = match &tls {
        Some((tls_listener, _)) => {
            let https = format!("https://{}", tls_listener.local_addr()?);
            eprintln!("listening on {https} (the API and the applicants' page; the plain listener refers to it)");
            let cabinet = cabinet::router(cabinet.clone(), Some(https.clone()));
            publication.clone().merge(cabinet).route("/api/{*rest}", axum::routing::any(move || api::https_required(https.clone())))
        }
        None => publication.clone().merge(api.clone()).merge(cabinet::router(cabinet.clone(), None)),
    };
    let plain = connections::serve(listener, None, deadline(plain_app), settings, conns.clone(), stopped(stop_rx.clone()));
    match tls {
        Some((tls_listener, acceptor)) => {
            let secure = connections::serve(
                tls_listener,
                Some(acceptor),
                deadline(publication.merge(api).merge(cabinet::router(cabinet, None)))
                    .layer(axum::middleware::map_response(tls::strict_transport)),
                settings,
                conns,
                stopped(stop_rx),
            );
            tokio::join!(plain, secure);
        }
        None => plain.await,
    }
    if let Some((pool, leader)) = lease {
        jobs::release(pool, leader).await;
    }
    eprintln!("stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// What `/health` answers: 200 and `ok` when every service works, else 503 and
/// `degraded`, each service saying what it is.
#[derive(serde::Serialize)]
struct Health<'a> {
    status: &'static str,
    services: Services,
    root: &'a str,
    issuing: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gost_issuing: Option<&'a str>,
}

/// Each service: `ok`, or what is wrong with it.
#[derive(serde::Serialize)]
struct Services {
    /// CA certificates and the CRLs as they are.
    publication: String,
    /// The issuing CA's full CRL is there and current.
    crl: String,
    ocsp: String,
    issuance: String,
    time_stamping: String,
    database: String,
}

impl Services {
    fn all_ok(&self) -> bool {
        [&self.publication, &self.crl, &self.ocsp, &self.issuance, &self.time_stamping, &self.database].iter().all(|s| *s == "ok")
    }
}

/// The RSA issuing CA's full CRL: `ok` while current, else why not.
fn crl_health(p: &Published) -> String {
    use status::NextUpdate;
    match p.status.as_ref().map_or(NextUpdate::NoCrl, |s| s.full_crl_next_update(Family::Rsa)) {
        NextUpdate::NoCrl => {
            "unavailable: no CRL issued yet (the server signs one when started with the CA passphrase, or run `ca crl`)".into()
        }
        NextUpdate::At(n) if n > calendar::unix_now() => "ok".into(),
        NextUpdate::At(_) => "stale: past its nextUpdate".into(),
        NextUpdate::Absent => "unavailable: the served CRL has no nextUpdate".into(),
    }
}

async fn health(State(p): State<Arc<Published>>) -> Response {
    let locked = || "unavailable: started without the CA passphrase".to_string();
    let keyed = |ok: bool| if ok { "ok".to_string() } else { locked() };
    let pool = p.pool.clone();
    let database = tokio::task::spawn_blocking(move || {
        pool.get().map_err(|e| e.to_string()).and_then(|c| {
            use ca_core::store::AuditStore;
            c.audit_records(0, 1).map(|_| ()).map_err(|e| e.to_string())
        })
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    let services = Services {
        publication: "ok".into(),
        crl: crl_health(&p),
        ocsp: keyed(p.keyed),
        issuance: keyed(p.keyed),
        time_stamping: keyed(p.keyed),
        database: database.map(|_| "ok".to_string()).unwrap_or_else(|e| format!("unavailable: {e}")),
    };
    let ok = services.all_ok();
    let body = Health {
        status: if ok { "ok" } else { "degraded" },
        services,
        root: &p.root_subject,
        issuing: &p.issuing_subject,
        gost_issuing: p.gost_issuing_subject.as_deref(),
    };
    let code = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

fn certificate(der: axum::body::Bytes) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/pkix-cert"), (header::CACHE_CONTROL, "public, max-age=86400")], der)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::report;
    use ca_core::csr::CsrError;
    use ca_core::issuer::IssueError;
    use ca_core::model::CertType;

    #[test]
    fn an_error_that_names_its_source_is_said_once() {
        let e = anyhow::Error::from(IssueError::Csr { which: CertType::Auth, source: CsrError::KeyTooSmall { bits: 1024 } })
            .context("issuing the server's TLS certificate");
        let text = report(&e);
        assert_eq!(text.matches("at least 2048 are required").count(), 1, "{text}");
        assert_eq!(
            text,
            "issuing the server's TLS certificate: AUTH request refused: the RSA key has 1024 bits; at least 2048 are required"
        );
        // anyhow's own chain printing repeats it: the reason for `report`.
        assert_eq!(format!("{e:#}").matches("at least 2048 are required").count(), 2);
    }
}
