//! The applications API under `/api/v1/`: applicants submit, follow and download;
//! heads approve; holders renew and revoke; operators list, confirm and reject.
//! Every policy decision is the registration authority's (`ca_core::registration`);
//! this module only maps HTTP to it and its errors to JSON with a stable code.

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ca_core::audit::Actor;
use ca_core::authority::{Authority, IssuedPair};
use ca_core::registration::{csr_bytes, ApplicationForm, Envelope, ErrorClass, Registration, RegistrationError, SignedAction, SystemClock};
use der::EncodePem;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::{Arc, Mutex};
use x509_cert::Certificate;

/// The largest request body accepted: two CSRs of RSA-8192 keys fit with room.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The header that carries an application's secret.
pub const SECRET_HEADER: &str = "x-application-secret";

/// The OpenAPI document, kept by hand next to the handlers it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The authority behind the API. `unlocked` says whether it can issue.
pub struct Api {
    ca: Arc<Mutex<Authority>>,
    unlocked: bool,
}

impl Api {
    /// The API over `ca`, which the CRL schedule shares.
    pub fn new(ca: Arc<Mutex<Authority>>, unlocked: bool) -> Arc<Self> {
        Arc::new(Api { ca, unlocked })
    }
}

/// An error answered as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": { "code": self.code, "message": self.message } }))).into_response()
    }
}

impl From<RegistrationError> for ApiError {
    fn from(e: RegistrationError) -> Self {
        let status = match e.class() {
            ErrorClass::Invalid => StatusCode::BAD_REQUEST,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
            return ApiError::new(
                status,
                e.code(),
                "the authority could not complete the request; try again later or contact the operator",
            );
        }
        ApiError::new(status, e.code(), e.to_string())
    }
}

fn body_error(e: JsonRejection) -> ApiError {
    match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the body is larger than {MAX_BODY_BYTES} bytes"))
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
    }
}

/// Run `f` with the registration authority on a blocking thread.
async fn with_ra<T: Send + 'static>(
    api: &Arc<Api>,
    needs_key: bool,
    f: impl FnOnce(&mut Registration<'_>) -> Result<T, RegistrationError> + Send + 'static,
) -> Result<T, ApiError> {
    if needs_key && !api.unlocked {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "authority_locked",
            "the server was started without the CA passphrase and cannot issue; restart it with CA_PASSPHRASE or --passphrase-file",
        ));
    }
    let api = api.clone();
    tokio::task::spawn_blocking(move || {
        let mut ca = api
            .ca
            .lock()
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the authority is unavailable"))?;
        let clock = SystemClock;
        let mut ra = Registration::new(&mut ca, &clock);
        f(&mut ra).map_err(ApiError::from)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the request was interrupted"))?
}

/// The routes under `/api/v1`.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/applications", post(submit))
        .route("/api/v1/applications/{number}", get(status))
        .route("/api/v1/applications/{number}/certificates", get(certificates))
        .route("/api/v1/applications/{number}/approval", post(approve))
        .route("/api/v1/renewals", post(renew))
        .route("/api/v1/revocations", post(revoke))
        .route("/api/v1/operator/applications/pending", post(operator_pending))
        .route("/api/v1/operator/applications/{number}/confirm", post(operator_confirm))
        .route("/api/v1/operator/applications/{number}/reject", post(operator_reject))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not take that method; see /api/v1/openapi.json")
}

/// Anything else under `/api/`: a JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_such_endpoint", "no such endpoint; see /api/v1/openapi.json")
}

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// A new application.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApplication {
    applicant: ApplicationForm,
    auth_csr: String,
    sign_csr: String,
}

async fn submit(State(api): State<Arc<Api>>, body: Result<Json<NewApplication>, JsonRejection>) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(body_error)?;
    let receipt = with_ra(&api, false, move |ra| {
        let auth = csr_bytes("auth_csr", &req.auth_csr)?;
        let sign = csr_bytes("sign_csr", &req.sign_csr)?;
        ra.submit(&req.applicant, &auth, &sign)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

fn secret(headers: &HeaderMap) -> String {
    headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn status(State(api): State<Arc<Api>>, Path(number): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let secret = secret(&headers);
    let view = with_ra(&api, false, move |ra| ra.status(&number, &secret)).await?;
    Ok(Json(view).into_response())
}

/// Certificates as the applicant's client stores them: PEM, with the chain.
#[derive(Debug, Serialize, Deserialize)]
pub struct PairPem {
    /// AUTH certificate.
    pub auth: String,
    /// SIGN certificate.
    pub sign: String,
    /// Issuing CA, then root.
    pub chain: Vec<String>,
}

fn pem(c: &Certificate) -> Result<String, RegistrationError> {
    c.to_pem(der::pem::LineEnding::LF).map_err(|e| RegistrationError::BadRequest(e.to_string()))
}

fn pair_pem(ra: &Registration<'_>, auth: &Certificate, sign: &Certificate) -> Result<PairPem, RegistrationError> {
    let chain = ra.chain();
    Ok(PairPem { auth: pem(auth)?, sign: pem(sign)?, chain: vec![pem(&chain.issuing)?, pem(&chain.root)?] })
}

async fn certificates(State(api): State<Arc<Api>>, Path(number): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let secret = secret(&headers);
    let pair = with_ra(&api, false, move |ra| {
        let (auth, sign) = ra.certificates(&number, &secret)?;
        pair_pem(ra, &auth, &sign)
    })
    .await?;
    Ok(Json(pair).into_response())
}

async fn approve(
    State(api): State<Arc<Api>>,
    Path(number): Path<String>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(env) = body.map_err(body_error)?;
    let view = with_ra(&api, false, move |ra| ra.approve(&number, &env)).await?;
    Ok(Json(view).into_response())
}

fn issued(ra: &Registration<'_>, pair: &IssuedPair) -> Result<PairPem, RegistrationError> {
    pair_pem(ra, &pair.auth, &pair.sign)
}

async fn renew(State(api): State<Arc<Api>>, body: Result<Json<Envelope>, JsonRejection>) -> Result<Response, ApiError> {
    let Json(env) = body.map_err(body_error)?;
    let pair = with_ra(&api, true, move |ra| {
        let pair = ra.renew(&env)?;
        issued(ra, &pair)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(pair)).into_response())
}

async fn revoke(State(api): State<Arc<Api>>, body: Result<Json<Envelope>, JsonRejection>) -> Result<Response, ApiError> {
    let Json(env) = body.map_err(body_error)?;
    let revoked = with_ra(&api, false, move |ra| ra.revoke_own(&env)).await?;
    Ok(Json(json!({ "revoked": revoked })).into_response())
}

/// An operator's request body: a signed envelope, or 401.
fn operator_envelope(body: Result<Json<Envelope>, JsonRejection>) -> Result<Envelope, ApiError> {
    body.map(|Json(e)| e).map_err(|e| match e {
        JsonRejection::BytesRejection(_) => body_error(e),
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "operator_credential_required",
            "operator endpoints take a request signed with an operator's SIGN certificate: {\"request\", \"signature\"}",
        ),
    })
}

async fn operator_pending(State(api): State<Arc<Api>>, body: Result<Json<Envelope>, JsonRejection>) -> Result<Response, ApiError> {
    let env = operator_envelope(body)?;
    let list = with_ra(&api, false, move |ra| {
        let v = ra.verify_operator(&env)?;
        let SignedAction::ListPending { center } = v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a list_pending request".into()));
        };
        ra.list(None, center.as_deref())
    })
    .await
    .map_err(unauthenticated)?;
    Ok(Json(list).into_response())
}

/// A signature that could not be verified at all is a missing credential (401).
fn unauthenticated(e: ApiError) -> ApiError {
    if matches!(e.code, "bad_signature" | "unknown_signer" | "stale_request" | "replayed_request") {
        ApiError { status: StatusCode::UNAUTHORIZED, ..e }
    } else {
        e
    }
}

use ca_core::registration::same_application as named;

async fn operator_confirm(
    State(api): State<Arc<Api>>,
    Path(number): Path<String>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let env = operator_envelope(body)?;
    let pair = with_ra(&api, true, move |ra| {
        let v = ra.verify_operator(&env)?;
        let SignedAction::Confirm { application } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a confirm request".into()));
        };
        named(&number, application)?;
        let pair = ra.confirm(&number, Actor::Operator(v.signer.serial.clone()))?;
        issued(ra, &pair)
    })
    .await
    .map_err(unauthenticated)?;
    Ok(Json(pair).into_response())
}

async fn operator_reject(
    State(api): State<Arc<Api>>,
    Path(number): Path<String>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let env = operator_envelope(body)?;
    let view = with_ra(&api, false, move |ra| {
        let v = ra.verify_operator(&env)?;
        let SignedAction::Reject { application, reason } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a reject request".into()));
        };
        named(&number, application)?;
        ra.reject(&number, reason, Actor::Operator(v.signer.serial.clone()))
    })
    .await
    .map_err(unauthenticated)?;
    Ok(Json(view).into_response())
}
