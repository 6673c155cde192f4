//! The audit log's transparency: a task signs a checkpoint of the log whenever it
//! has grown (within a second), and anyone may fetch the newest checkpoint and the
//! audit key to keep and check later (`ca audit verify --checkpoint`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ca_core::authority::{Checkpointer, CheckpointerError};
use ca_core::store::{AuditStore, StorePool};
use std::sync::Arc;
use std::time::Duration;

/// Where the newest checkpoint is published.
pub const CHECKPOINT_PATH: &str = "/audit/checkpoint";
/// Where the audit key (SubjectPublicKeyInfo PEM) is published.
pub const KEY_PATH: &str = "/audit/key.pem";

struct Published {
    pool: Arc<StorePool>,
    key_pem: String,
}

/// The routes: the newest checkpoint (JSON) and the audit key.
pub fn router(pool: Arc<StorePool>, key_pem: String) -> Router {
    Router::new().route(CHECKPOINT_PATH, get(checkpoint)).route(KEY_PATH, get(key)).with_state(Arc::new(Published { pool, key_pem }))
}

async fn checkpoint(State(p): State<Arc<Published>>) -> Response {
    let pool = p.pool.clone();
    let newest = tokio::task::spawn_blocking(move || pool.get().ok()?.checkpoints(true).ok()?.into_iter().next()).await.ok().flatten();
    match newest {
        Some(c) => ([(header::CACHE_CONTROL, "no-cache")], Json(c)).into_response(),
        None => (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "no checkpoint has been signed yet\n").into_response(),
    }
}

async fn key(State(p): State<Arc<Published>>) -> Response {
    ([(header::CONTENT_TYPE, "application/x-pem-file")], p.key_pem.clone()).into_response()
}

/// Every `every`, for as long as the server runs: sign a checkpoint when the log
/// has grown. A log that no longer matches its newest checkpoint is never signed:
/// that is logged, loudly, and the task stops (rather than read the whole log
/// again every second); a restart looks again.
pub async fn checkpoint_task(mut checkpointer: Checkpointer, every: Duration, leader: Arc<crate::jobs::Leadership>) {
    loop {
        if !leader.runs_jobs() {
            tokio::time::sleep(every).await;
            continue;
        }
        let ran = tokio::task::spawn_blocking(move || {
            let result = checkpointer.catch_up(ca_core::calendar::unix_now());
            (checkpointer, result)
        })
        .await;
        match ran {
            Ok((c, result)) => {
                checkpointer = c;
                match result {
                    Ok(Some(cp)) => tracing::debug!(size = cp.size, "audit checkpoint signed"),
                    Ok(None) => {}
                    Err(e @ CheckpointerError::Rewritten { .. }) => {
                        tracing::error!(error = %e, "AUDIT LOG REWRITTEN: no more checkpoints are signed; run `ca audit verify`");
                        return;
                    }
                    Err(e) => tracing::error!(error = %e, "audit checkpoint not signed"),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the audit checkpointer stopped");
                return;
            }
        }
        tokio::time::sleep(every).await;
    }
}
