//! Serving connections on the open internet: a client that sends nothing, half a
//! header or half a body is cut off (the head's time counts from the accept, or from
//! the previous answer); the number of connections stays below the open-file limit,
//! and at that cap the connection that has waited longest for a request head gives
//! way to the newcomer, so idle sockets cannot starve everyone; SIGTERM or SIGINT
//! stops accepting, lets requests in flight finish, and exits within a deadline
//! whatever the clients do.

use crate::settings::ServerSettings;
use crate::tls::ClientCertificate;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use ca_core::api::ErrorBody;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::limits::ClientAddr;

/// Files kept free for the database, key files and CRLs.
const RESERVED_FILES: u64 = 64;

/// The most connections to allow: the configured cap, kept below the open-file
/// limit after raising its soft value to the hard one.
pub fn connection_cap(settings: &ServerSettings) -> usize {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1_024);
    let cap = u64::from(settings.max_connections).min(files.saturating_sub(RESERVED_FILES)).max(1);
    usize::try_from(cap).unwrap_or(usize::MAX)
}

/// How long a newcomer at the cap waits for the connection it displaced to close.
const DISPLACE_WAIT: Duration = Duration::from_secs(1);

/// The connections being served, under a cap, each known as waiting for a request
/// head (idle, since when) or inside a request (busy). Both listeners share one.
pub struct Connections {
    permits: Arc<Semaphore>,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Slot>,
}

struct Slot {
    /// Requests in progress on the connection.
    busy: usize,
    /// When it last began waiting for a request head: its accept, or its last answer.
    idle_since: Instant,
    /// Told to close, to make room.
    displaced: bool,
    close: Arc<Notify>,
}

impl Connections {
    /// Room for `cap` connections.
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Connections { permits: Arc::new(Semaphore::new(cap)), table: Mutex::new(Table::default()) })
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A place for a connection just accepted. At the cap, the connection that has
    /// waited longest for a request head is told to close and the newcomer takes its
    /// place; `None` when every connection is inside a request.
    async fn admit(self: &Arc<Self>) -> Option<Conn> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if !self.displace_longest_idle() {
                    return None;
                }
                tokio::time::timeout(DISPLACE_WAIT, self.permits.clone().acquire_owned()).await.ok()?.ok()?
            }
        };
        let close = Arc::new(Notify::new());
        let mut table = self.table();
        let id = table.next_id;
        table.next_id += 1;
        table.open.insert(id, Slot { busy: 0, idle_since: Instant::now(), displaced: false, close: close.clone() });
        Some(Conn { id, all: self.clone(), close, _permit: permit })
    }

    /// Tell the connection idle the longest to close; false when none is idle.
    fn displace_longest_idle(&self) -> bool {
        let mut table = self.table();
        let longest = table.open.values_mut().filter(|s| s.busy == 0 && !s.displaced).min_by_key(|s| s.idle_since);
        match longest {
            Some(slot) => {
                slot.displaced = true;
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// One admitted connection; its place is freed when it is dropped.
struct Conn {
    id: u64,
    all: Arc<Connections>,
    close: Arc<Notify>,
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    /// A request has begun on connection `id` (its head arrived); it is busy until
    /// the guard drops.
    fn request_on(all: &Arc<Connections>, id: u64) -> InRequest {
        if let Some(slot) = all.table().open.get_mut(&id) {
            slot.busy += 1;
        }
        InRequest { id, all: all.clone() }
    }

    /// Since when it has waited for a request head; `None` while inside a request.
    fn idle_since(&self) -> Option<Instant> {
        self.all.table().open.get(&self.id).filter(|s| s.busy == 0).map(|s| s.idle_since)
    }

    /// Completes when the connection has waited `limit` for a request head (from
    /// its accept or its last answer), or when it must make room for a newcomer.
    async fn expired(&self, limit: Duration) {
        let idle_too_long = async {
            loop {
                match self.idle_since() {
                    Some(since) if since.elapsed() >= limit => return,
                    Some(since) => tokio::time::sleep_until((since + limit).into()).await,
                    None => tokio::time::sleep(limit).await,
                }
            }
        };
        tokio::select! {
            _ = idle_too_long => {}
            _ = self.close.notified() => {}
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.all.table().open.remove(&self.id);
    }
}

/// A request in progress on a connection.
struct InRequest {
    id: u64,
    all: Arc<Connections>,
}

impl Drop for InRequest {
    fn drop(&mut self) {
        if let Some(slot) = self.all.table().open.get_mut(&self.id) {
            slot.busy = slot.busy.saturating_sub(1);
            if slot.busy == 0 {
                slot.idle_since = Instant::now();
            }
        }
    }
}

/// The access log: one line per request on target `access`, with the method, the
/// path (no query, which nobody needs and which could carry anything), the status,
/// the latency and the client's address. Bodies and headers, where IINs, names
/// and secrets travel, are never logged.
pub async fn access_log(req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let client = req.extensions().get::<ClientAddr>().map(|c| c.0.ip().to_string()).unwrap_or_default();
    let response = next.run(req).await;
    tracing::info!(
        target: "access",
        client = %client,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
    );
    response
}

/// Read the whole body within `limit` (at most `max_bytes`), so a client that
/// stops half-way cannot hold a handler: 408 when it is too slow, 413 when too large.
pub async fn body_deadline(limit: Duration, max_bytes: usize, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(limit, axum::body::to_bytes(body, max_bytes)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(_)) => {
            let message = format!("the body is larger than {max_bytes} bytes or was cut off");
            (StatusCode::PAYLOAD_TOO_LARGE, Json(ErrorBody::new("body_too_large", message))).into_response()
        }
        Err(_) => {
            let message = format!("the body did not arrive within {} s", limit.as_secs());
            (StatusCode::REQUEST_TIMEOUT, Json(ErrorBody::new("body_timeout", message))).into_response()
        }
    }
}

/// Serve `app` on `listener` until `stop` completes, then wait for connections in
/// flight for at most the shutdown deadline. With `tls`, every connection starts
/// with a TLS handshake, which must finish, with the request head, within the
/// header timeout.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    settings: ServerSettings,
    connections: Arc<Connections>,
    stop: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let header_timeout = Duration::from_secs(u64::from(settings.header_timeout_seconds.max(1)));
    let mut stop = std::pin::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut stop => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of files or similar: make room, and back off briefly rather than spin.
                tracing::warn!(error = %e, "accept failed");
                connections.displace_longest_idle();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(conn) = connections.admit().await else {
            drop(stream); // every connection is inside a request: closed at once
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, watcher, tls) = (app.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let served = async {
                match tls {
                    None => serve_connection(stream, peer, None, app, &conn, header_timeout, watcher).await,
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(stream).await else {
                            return; // a failed handshake
                        };
                        let client = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| ClientCertificate(c.to_vec()));
                        serve_connection(stream, peer, client, app, &conn, header_timeout, watcher).await
                    }
                }
            };
            // Dropping the connection closes it: idle past the head timeout, or displaced.
            tokio::select! {
                _ = served => {}
                _ = conn.expired(header_timeout) => {}
            }
        });
    }
    drop(listener);
    let deadline = Duration::from_secs(u64::from(settings.shutdown_seconds));
    if tokio::time::timeout(deadline, graceful.shutdown()).await.is_err() {
        tracing::warn!(seconds = deadline.as_secs(), "connections still open at the shutdown deadline; closing them");
    }
}

/// HTTP/1.1 on one connection, handlers told the client's address and certificate,
/// the connection marked busy while a request is in progress.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    client: Option<ClientCertificate>,
    app: Router,
    conn: &Conn,
    header_timeout: Duration,
    watcher: Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    let (all, id) = (conn.all.clone(), conn.id);
    let service = tower::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let busy = Conn::request_on(&all, id);
        req.extensions_mut().insert(ClientAddr(peer));
        if let Some(c) = &client {
            req.extensions_mut().insert(c.clone());
        }
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await;
            drop(busy);
            response
        }
    });
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let _ = watcher.watch(connection).await;
}
