//! Serving connections on the open internet: a client that sends nothing, half a
//! header or half a body is cut off; the number of connections stays below the
//! open-file limit, and one over it is closed at once instead of starving everyone;
//! SIGTERM or SIGINT stops accepting, lets requests in flight finish, and exits
//! within a deadline whatever the clients do.

use crate::tls::ClientCertificate;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use ca_core::api::ErrorBody;
use ca_core::authority::ServerSettings;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
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
/// with a TLS handshake, which must finish within the header timeout.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    settings: ServerSettings,
    permits: Arc<Semaphore>,
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
                // Out of files or similar: back off briefly rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            drop(stream); // over the cap: closed at once, the others keep being served
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, watcher, tls) = (app.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, peer, None, app, header_timeout, watcher).await,
                Some(acceptor) => {
                    let Ok(Ok(stream)) = tokio::time::timeout(header_timeout, acceptor.accept(stream)).await else {
                        return; // no handshake in time, or a failed one
                    };
                    let client = stream.get_ref().1.peer_certificates().and_then(|c| c.first()).map(|c| ClientCertificate(c.to_vec()));
                    serve_connection(stream, peer, client, app, header_timeout, watcher).await
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let deadline = Duration::from_secs(u64::from(settings.shutdown_seconds));
    if tokio::time::timeout(deadline, graceful.shutdown()).await.is_err() {
        tracing::warn!(seconds = deadline.as_secs(), "connections still open at the shutdown deadline; closing them");
    }
}

/// HTTP/1.1 on one connection, handlers told the client's address and certificate.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    client: Option<ClientCertificate>,
    app: Router,
    header_timeout: Duration,
    watcher: Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(header_timeout).keep_alive(true);
    let service = app.map_request(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ClientAddr(peer));
        if let Some(c) = &client {
            req.extensions_mut().insert(c.clone());
        }
        req
    });
    let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let _ = watcher.watch(connection).await;
}
