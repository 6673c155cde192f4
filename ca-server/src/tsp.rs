//! The time-stamp authority (RFC 3161) over HTTP: `POST /tsp` with an
//! `application/timestamp-query` body answers `application/timestamp-reply`;
//! its certificate is at `/cert/tsa.cer`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ca_core::tsp::TimeStampAuthority;
use der::Encode;
use std::sync::Arc;

/// The path the time-stamp authority answers at.
pub const PATH: &str = "/tsp";
/// Where its certificate is published.
pub const CERT_PATH: &str = "/cert/tsa.cer";

/// The routes: with an authority, `/tsp` and its certificate; without the CA
/// passphrase, `/tsp` answers 503.
pub fn router(tsa: Option<Arc<TimeStampAuthority>>) -> Router {
    match tsa {
        Some(tsa) => {
            let der = Bytes::from(tsa.certificate().to_der().unwrap_or_default());
            Router::new()
                .route(PATH, post(stamp))
                .layer(DefaultBodyLimit::max(ca_core::tsp::MAX_REQUEST_BYTES))
                .with_state(tsa)
                .route(CERT_PATH, get(move || async move { crate::certificate(der) }))
        }
        None => Router::new().route(
            PATH,
            post(|| async {
                (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "60")], "the authority is locked: no time-stamps\n")
            }),
        ),
    }
}

async fn stamp(State(tsa): State<Arc<TimeStampAuthority>>, body: Bytes) -> Response {
    let answer = tokio::task::spawn_blocking(move || tsa.respond(&body, ca_core::calendar::now())).await;
    match answer {
        Ok(der) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/timestamp-reply"), (header::CACHE_CONTROL, "no-store")], der)
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
