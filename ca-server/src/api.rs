//! The applications API under `/api/v1/`: applicants submit, follow and download;
//! heads approve; holders renew and revoke; operators list, confirm and reject.
//! Every policy decision is the registration authority's (`ca_core::registration`);
//! this module only maps HTTP to it and its errors to JSON with a stable code.

use crate::limits::{ClientAddr, RateLimit};
use crate::settings::RateLimits;
use crate::tls::ClientCertificate;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use ca_core::api::{
    routes, ApplicationView, Envelope, ErrorBody, NewApplication, PairPem, PendingPage, Receipt, Revoked, SignedAction, MAX_BODY_BYTES,
    SECRET_HEADER,
};
use ca_core::authority::Hierarchies;
use ca_core::issuer::{IssuedPair, Issuer};
use ca_core::model::{CertType, Serial};
use ca_core::registration::{
    certificate_from, ErrorClass, Registration, RegistrationError, SignedEnvelope, StaffMember, Submission, SystemClock,
};
use ca_core::store::Status;
use ca_core::store::StorePool;
use std::sync::Arc;
use x509_cert::Certificate;

/// The OpenAPI document, kept by hand next to the handlers it describes; a test
/// checks it against the wire types in `ca_core::api`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What the API works with, each a peer: a pool of database connections, the CA
/// certificates, and the issuer when the CA key is loaded. No lock: each request
/// takes a connection of its own.
pub struct Api {
    pool: Arc<StorePool>,
    /// Where the applicants' reads go: a hot standby when configured, else `pool`.
    reads: Arc<StorePool>,
    cas: Hierarchies,
    /// The issuing CAs, RSA first, for checking signed requests.
    issuing: Vec<Certificate>,
    issuer: Option<Issuer>,
    submissions: RateLimit,
    /// Operators must also present their AUTH certificate in the TLS handshake.
    operator_mtls: bool,
}

impl Api {
    /// The API over `pool`, with the CA certificates of both hierarchies (for
    /// checking signed requests and for the chains it hands out), the issuer, if
    /// any, and the per-client limits.
    pub fn new(
        pools: (Arc<StorePool>, Arc<StorePool>),
        cas: Hierarchies,
        issuer: Option<Issuer>,
        limits: RateLimits,
        operator_mtls: bool,
    ) -> Arc<Self> {
        let submissions = RateLimit::new(limits.submissions_per_minute, limits.submissions_burst);
        let issuing = cas.issuing_cas();
        let (pool, reads) = pools;
        Arc::new(Api { pool, reads, cas, issuing, issuer, submissions, operator_mtls })
    }
}

/// An error answered as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// The finer reason and the form field at fault, for applications.
    reason: Option<&'static str>,
    field: Option<&'static str>,
    /// Seconds for `Retry-After`.
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), reason: None, field: None, retry_after: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody::new(self.code, self.message).with_detail(self.reason, self.field);
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<RegistrationError> for ApiError {
    fn from(e: RegistrationError) -> Self {
        let status = match e.class() {
            ErrorClass::Invalid => StatusCode::BAD_REQUEST,
            ErrorClass::Forbidden => StatusCode::FORBIDDEN,
            ErrorClass::NotFound => StatusCode::NOT_FOUND,
            ErrorClass::Conflict => StatusCode::CONFLICT,
            ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
        // Busy or between database primaries: nothing was done, and a retry soon may succeed.
        let retry_after = (status == StatusCode::SERVICE_UNAVAILABLE).then_some(2);
        ApiError { reason: e.reason(), field: e.field(), retry_after, ..ApiError::new(status, e.code(), e.to_string()) }
    }
}

pub(crate) fn body_error(e: JsonRejection) -> ApiError {
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

/// Which database a request reads and writes.
#[derive(Clone, Copy)]
enum Records {
    /// The primary: every write, and every read a write depends on.
    Primary,
    /// The hot standby, if configured: an applicant following an application,
    /// which may lag the primary by the standby's replay delay.
    MayLag,
}

/// Run `f` with the registration authority, on a blocking thread with a database
/// connection of its own.
async fn with_ra<T: Send + 'static>(
    api: &Arc<Api>,
    needs_key: bool,
    f: impl FnOnce(&mut Registration<'_>, &Api) -> Result<T, RegistrationError> + Send + 'static,
) -> Result<T, ApiError> {
    with_ra_on(api, Records::Primary, needs_key, f).await
}

async fn with_ra_on<T: Send + 'static>(
    api: &Arc<Api>,
    records: Records,
    needs_key: bool,
    f: impl FnOnce(&mut Registration<'_>, &Api) -> Result<T, RegistrationError> + Send + 'static,
) -> Result<T, ApiError> {
    // Refused before any signature is checked: this server cannot issue at all.
    if needs_key && api.issuer.is_none() {
        return Err(RegistrationError::Locked.into());
    }
    let api = api.clone();
    tokio::task::spawn_blocking(move || {
        let pool = match records {
            Records::Primary => &api.pool,
            Records::MayLag => &api.reads,
        };
        let mut conn = pool.get().map_err(RegistrationError::from)?;
        let clock = SystemClock;
        let mut ra = Registration::new(&mut *conn, &api.issuing, &clock);
        if let Some(issuer) = &api.issuer {
            ra = ra.with_issuer(issuer);
        }
        f(&mut ra, &api).map_err(ApiError::from)
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "the request was interrupted"))?
}

/// The routes under `/api/v1`.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route(routes::OPENAPI, get(openapi))
        .route(routes::APPLICATIONS, post(submit))
        .route(routes::APPLICATION, get(status))
        .route(routes::CERTIFICATES, get(certificates))
        .route(routes::APPROVAL, post(approve))
        .route(routes::RENEWALS, post(renew))
        .route(routes::REVOCATIONS, post(revoke))
        .route(routes::OPERATOR_PENDING, post(operator_pending))
        .route(routes::OPERATOR_CONFIRM, post(operator_confirm))
        .route(routes::OPERATOR_REJECT, post(operator_reject))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(api)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this endpoint does not take that method; see /api/v1/openapi.json")
}

/// The API on the plain listener while HTTPS is on: refused, with where to go.
pub async fn https_required(base: String) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "https_required",
        format!("the API is served over HTTPS only, at {base}/api/v1/; applications carry IINs, names and secrets"),
    )
}

/// Anything else under `/api/`: a JSON 404.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_such_endpoint", "no such endpoint; see /api/v1/openapi.json")
}

async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// 429 with `Retry-After` when `client` has used up its allowance of `limit`.
fn within(limit: &RateLimit, client: Option<Extension<ClientAddr>>, what: &str) -> Result<(), ApiError> {
    let Some(Extension(ClientAddr(addr))) = client else {
        return Ok(());
    };
    limit.take(addr.ip(), std::time::Instant::now()).map_err(|wait| {
        let secs = wait.as_secs().max(1);
        let message = format!("too many {what} from your address; try again in {secs} s");
        ApiError { retry_after: Some(secs), ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message) }
    })
}

async fn submit(
    State(api): State<Arc<Api>>,
    client: Option<Extension<ClientAddr>>,
    body: Result<Json<NewApplication>, JsonRejection>,
) -> Result<Response, ApiError> {
    within(&api.submissions, client, "applications")?;
    let Json(req) = body.map_err(body_error)?;
    let submission = Submission::try_from(req).map_err(RegistrationError::from)?;
    let receipt = with_ra(&api, false, move |ra, _| ra.submit(&submission)).await?;
    Ok((StatusCode::CREATED, Json(Receipt::from(receipt))).into_response())
}

fn secret(headers: &HeaderMap) -> String {
    headers.get(SECRET_HEADER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

async fn status(State(api): State<Arc<Api>>, Path(number): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let secret = secret(&headers);
    let view = with_ra_on(&api, Records::MayLag, false, move |ra, _| ra.status(&number, &secret)).await?;
    Ok(Json(ApplicationView::from(view)).into_response())
}

fn pair_pem(api: &Api, auth: &Certificate, sign: &Certificate) -> Result<PairPem, RegistrationError> {
    let chain = |c: &Certificate| api.cas.chain_for(c).map(|c| c.to_vec()).unwrap_or_default();
    PairPem::new(auth, sign, &chain(auth), &chain(sign)).map_err(|e| RegistrationError::BadRequest(e.to_string()))
}

async fn certificates(State(api): State<Arc<Api>>, Path(number): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let secret = secret(&headers);
    let pair = with_ra_on(&api, Records::MayLag, false, move |ra, api| {
        let (auth, sign) = ra.certificates(&number, &secret)?;
        pair_pem(api, &auth, &sign)
    })
    .await?;
    Ok(Json(pair).into_response())
}

async fn approve(
    State(api): State<Arc<Api>>,
    Path(number): Path<String>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let env = opened(body)?;
    let view = with_ra(&api, false, move |ra, _| ra.approve(&number, &env)).await?;
    Ok(Json(ApplicationView::from(view)).into_response())
}

fn issued(api: &Api, pair: &IssuedPair) -> Result<PairPem, RegistrationError> {
    pair_pem(api, &pair.auth, &pair.sign)
}

/// A signed request's body, decoded.
fn opened(body: Result<Json<Envelope>, JsonRejection>) -> Result<SignedEnvelope, ApiError> {
    let Json(env) = body.map_err(body_error)?;
    Ok(env.open().map_err(RegistrationError::from)?)
}

async fn renew(State(api): State<Arc<Api>>, body: Result<Json<Envelope>, JsonRejection>) -> Result<Response, ApiError> {
    let env = opened(body)?;
    let pair = with_ra(&api, true, move |ra, api| {
        let pair = ra.renew(&env)?;
        issued(api, &pair)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(pair)).into_response())
}

async fn revoke(State(api): State<Arc<Api>>, body: Result<Json<Envelope>, JsonRejection>) -> Result<Response, ApiError> {
    let env = opened(body)?;
    let revoked = with_ra(&api, false, move |ra, _| ra.revoke_own(&env)).await?;
    Ok(Json(Revoked { revoked }).into_response())
}

/// An operator's request body: a signed envelope, decoded, or 401.
fn operator_envelope(body: Result<Json<Envelope>, JsonRejection>) -> Result<SignedEnvelope, ApiError> {
    let Json(env) = body.map_err(|e| match e {
        JsonRejection::BytesRejection(_) => body_error(e),
        _ => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "operator_credential_required",
            "operator endpoints take a request signed with an operator's SIGN certificate: {\"request\", \"signature\"}",
        ),
    })?;
    Ok(env.open().map_err(RegistrationError::from)?)
}

/// An operator's request: the signed envelope checked (an operator's SIGN
/// certificate, valid, role allowed), and with mutual TLS the handshake's client
/// certificate checked to be the AUTH certificate of the same pair; then `f`.
async fn as_operator<T: Send + 'static>(
    api: &Arc<Api>,
    needs_key: bool,
    client: Option<Extension<ClientCertificate>>,
    body: Result<Json<Envelope>, JsonRejection>,
    f: impl FnOnce(&mut Registration<'_>, &Api, StaffMember, SignedAction) -> Result<T, RegistrationError> + Send + 'static,
) -> Result<T, ApiError> {
    let env = operator_envelope(body)?;
    if api.operator_mtls && client.is_none() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "client_certificate_required",
            "operator endpoints require the operator's AUTH certificate in the TLS handshake",
        ));
    }
    with_ra(api, needs_key, move |ra, api| {
        let (member, action) = ra.authorize(&env)?;
        if let Some(Extension(ClientCertificate(der))) = &client {
            same_pair(ra, der, &member)?;
        }
        f(ra, api, member, action)
    })
    .await
    .map_err(unauthenticated)
}

/// The TLS client certificate is the valid AUTH certificate of the signer's pair.
fn same_pair(ra: &Registration<'_>, der: &[u8], member: &StaffMember) -> Result<(), RegistrationError> {
    let refused = || RegistrationError::Forbidden("the TLS client certificate is not the AUTH certificate of the request's signer".into());
    let cert = certificate_from(der).map_err(|_| refused())?;
    let record = ra.store().certificate(&Serial::of(&cert))?.ok_or_else(refused)?;
    let signer = ra.store().certificate(member.serial())?.ok_or_else(refused)?;
    let now = ca_core::calendar::unix_now();
    if record.pair_id != signer.pair_id || record.cert_type != CertType::Auth || record.status(now) != Status::Valid {
        return Err(refused());
    }
    Ok(())
}

async fn operator_pending(
    State(api): State<Arc<Api>>,
    client: Option<Extension<ClientCertificate>>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let page = as_operator(&api, false, client, body, |ra, _, _, action| {
        let SignedAction::ListPending { center, after, limit } = action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a list_pending request".into()));
        };
        ra.pending_page(center.as_deref(), after.as_deref(), limit)
    })
    .await?;
    Ok(Json(PendingPage::from(page)).into_response())
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
    client: Option<Extension<ClientCertificate>>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let pair = as_operator(&api, true, client, body, move |ra, api, member, action| {
        let SignedAction::Confirm { application } = &action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a confirm request".into()));
        };
        named(&number, application)?;
        let pair = ra.confirm(&number, &member)?;
        issued(api, &pair)
    })
    .await?;
    Ok(Json(pair).into_response())
}

async fn operator_reject(
    State(api): State<Arc<Api>>,
    Path(number): Path<String>,
    client: Option<Extension<ClientCertificate>>,
    body: Result<Json<Envelope>, JsonRejection>,
) -> Result<Response, ApiError> {
    let view = as_operator(&api, false, client, body, move |ra, _, member, action| {
        let SignedAction::Reject { application, reason } = &action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a reject request".into()));
        };
        named(&number, application)?;
        ra.reject(&number, reason, &member)
    })
    .await?;
    Ok(Json(ApplicationView::from(view)).into_response())
}

#[cfg(test)]
mod tests {
    //! The OpenAPI document against the wire types of `ca_core::api`: the same
    //! routes, the same fields in every body, the same names for every enum.
    use super::*;
    use ca_core::api::{ApplicationForm, ApplicationView, EntityForm, PairSerials, PendingPage, Receipt};
    use ca_core::model::{ApplicationState, KeyStorage, Role, Serial};
    use serde_json::Value;
    use std::collections::BTreeSet;

    fn doc() -> Value {
        serde_json::from_str(OPENAPI).expect("the OpenAPI document is JSON")
    }

    fn schema(name: &str) -> Value {
        doc()["components"]["schemas"][name].clone()
    }

    fn fields(v: &Value) -> BTreeSet<String> {
        v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    /// The schema's properties are exactly the fields the type serializes.
    fn same_fields(name: &str, sample: impl serde::Serialize) {
        let value = serde_json::to_value(sample).unwrap();
        assert_eq!(fields(&schema(name)["properties"]), fields(&value), "schema {name} against its Rust type");
    }

    fn names(v: &Value) -> Vec<String> {
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
    }

    fn form() -> ApplicationForm {
        ApplicationForm {
            iin: "880515300120".into(),
            surname: "А".into(),
            name: "Б".into(),
            patronymic: Some("В".into()),
            email: Some("a@b.kz".into()),
            entity: Some(EntityForm { bin: "040840000124".into(), organization: "ТОО".into(), role: Role::Ceo }),
            storage: KeyStorage::Pc,
            registration_center: "ЦОН".into(),
        }
    }

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let documented = fields(&doc()["paths"]);
        let ours: BTreeSet<String> = routes::ALL.iter().filter(|r| **r != routes::OPENAPI).map(|r| r.to_string()).collect();
        assert_eq!(documented, ours);
    }

    #[test]
    fn every_body_has_the_documented_fields() {
        let serial: Serial = "01".parse().unwrap();
        same_fields("Applicant", form());
        same_fields("Entity", form().entity.unwrap());
        same_fields("NewApplication", NewApplication { applicant: form(), auth_csr: String::new(), sign_csr: String::new() });
        same_fields("Receipt", Receipt { number: String::new(), secret: String::new(), state: ApplicationState::Submitted });
        same_fields(
            "Application",
            ApplicationView {
                number: String::new(),
                state: ApplicationState::Issued,
                submitted_at: String::new(),
                expires_at: None,
                registration_center: String::new(),
                storage: KeyStorage::Pc,
                applicant: form(),
                approved_by: None,
                reject_reason: None,
                certificates: Some(PairSerials { auth: serial.clone(), sign: serial.clone() }),
            },
        );
        same_fields("Pair", PairPem { auth: String::new(), sign: String::new(), chain: vec![], sign_chain: Some(vec![]) });
        same_fields("Envelope", Envelope { request: String::new(), signature: String::new() });
        same_fields("Revoked", Revoked { revoked: vec![serial.clone()] });
        same_fields("PendingPage", PendingPage { applications: vec![], next: Some("1".into()) });
        let full_error = || ErrorBody::new("x", "y").with_detail(Some("mistyped"), Some("iin"));
        same_fields("Error", full_error());
        let error = serde_json::to_value(full_error()).unwrap();
        assert_eq!(fields(&schema("Error")["properties"]["error"]["properties"]), fields(&error["error"]));
        let pair = serde_json::to_value(PairSerials { auth: serial.clone(), sign: serial }).unwrap();
        assert_eq!(fields(&schema("Application")["properties"]["certificates"]["properties"]), fields(&pair));
    }

    /// Each signed request schema: the fields of its action, and an example that
    /// is a request of that action.
    #[test]
    fn every_signed_request_is_documented_with_its_fields_and_an_example() {
        use ca_core::api::{SignedAction, SignedRequest};
        let number = || "4821337016422905".to_string();
        let csr = || vec![0x30, 0x82, 0x01];
        for (name, action) in [
            ("SignedRequestApprove", SignedAction::Approve { application: number() }),
            ("SignedRequestRenew", SignedAction::Renew { auth_csr: csr(), sign_csr: csr() }),
            ("SignedRequestRevoke", SignedAction::Revoke { reason: "keyCompromise".into() }),
            ("SignedRequestListPending", SignedAction::ListPending { center: Some("c".into()), after: Some("1".into()), limit: Some(1) }),
            ("SignedRequestConfirm", SignedAction::Confirm { application: number() }),
            ("SignedRequestReject", SignedAction::Reject { application: number(), reason: "r".into() }),
        ] {
            let tag = serde_json::to_value(&action).unwrap()["action"].clone();
            same_fields(name, SignedRequest::new(action));
            assert_eq!(schema(name)["properties"]["action"]["enum"][0], tag, "{name}");
            let example: SignedRequest = serde_json::from_value(schema(name)["example"].clone()).expect(name);
            assert_eq!(serde_json::to_value(&example.action).unwrap()["action"], tag, "{name}'s example");
            let linked = doc()["paths"]
                .as_object()
                .unwrap()
                .values()
                .flat_map(|p| p.as_object().unwrap().values())
                .any(|op| op["x-signed-request"]["$ref"] == format!("#/components/schemas/{name}").as_str());
            assert!(linked, "no operation names {name} as the request it signs");
        }
        // The document states the rules a client must follow.
        let about = doc()["info"]["description"].as_str().unwrap().to_string();
        for rule in ["600 seconds", "signingTime", "signingCertificateV2", "detached", "nonce", "accepted **once**"] {
            assert!(about.contains(rule), "the description does not state {rule:?}");
        }
    }

    #[test]
    fn every_operation_schema_and_field_is_described() {
        fn described(v: &Value, path: &str, missing: &mut Vec<String>) {
            if v.get("$ref").is_some() {
                return;
            }
            if v.get("description").and_then(Value::as_str).is_none_or(|d| d.trim().is_empty()) {
                missing.push(path.to_string());
            }
            for (k, p) in v.get("properties").and_then(Value::as_object).into_iter().flatten() {
                described(p, &format!("{path}.{k}"), missing);
            }
        }
        let mut missing = Vec::new();
        for (name, s) in doc()["components"]["schemas"].as_object().unwrap() {
            described(s, name, &mut missing);
        }
        for (path, item) in doc()["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                if op.get("description").is_none() {
                    missing.push(format!("{method} {path}"));
                }
            }
        }
        assert!(missing.is_empty(), "not described: {missing:?}");
    }

    #[test]
    fn every_request_example_is_a_body_the_server_reads() {
        let example = |name: &str| schema(name)["example"].clone();
        let app: NewApplication = serde_json::from_value(example("NewApplication")).unwrap();
        assert!(ca_core::csr::verify_csr(app.auth_csr.as_bytes()).is_ok() && ca_core::csr::verify_csr(app.sign_csr.as_bytes()).is_ok());
        let _: ca_core::api::verification::CertificateCheck = serde_json::from_value(example("CertificateCheck")).unwrap();
        let _: ca_core::api::verification::CmsCheck = serde_json::from_value(example("CmsCheck")).unwrap();
        let _: ca_core::api::verification::XmlCheck = serde_json::from_value(example("XmlCheck")).unwrap();
        let _: Envelope = serde_json::from_value(example("Envelope")).unwrap();
    }

    #[test]
    fn every_enum_has_the_documented_names() {
        assert_eq!(names(&schema("State")["enum"]), ApplicationState::ALL.map(|s| s.as_str().to_string()));
        assert_eq!(names(&schema("Applicant")["properties"]["storage"]["enum"]), KeyStorage::ALL.map(|s| s.as_str().to_string()));
        assert_eq!(names(&schema("Entity")["properties"]["role"]["enum"]), Role::ALL.map(|s| s.as_str().to_string()));
    }
}

#[cfg(test)]
mod verification_tests {
    //! The verification API's bodies against the OpenAPI document, with verdicts
    //! of the authority's real signatures.
    use ca_core::api::verification::{CertificateCheck, CheckOptions, CmsCheck, CmsReport, TimeStampReport, XmlCheck, XmlReport};
    use ca_core::verify::{Checks, Purpose, RevocationChecker, RevocationMode, TrustStore, VerdictReport, Verifier};
    use der::{DateTime, DecodePem};
    use serde_json::Value;
    use std::collections::BTreeSet;
    use x509_cert::Certificate;

    fn schema(name: &str) -> Value {
        let doc: Value = serde_json::from_str(super::OPENAPI).unwrap();
        doc["components"]["schemas"][name].clone()
    }

    fn fields(v: &Value) -> BTreeSet<String> {
        v.as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
    }

    fn same(name: &str, value: &Value) {
        assert_eq!(fields(&schema(name)["properties"]), fields(value), "schema {name} against its Rust type");
    }

    fn enum_names(name: &str, field: &str) -> BTreeSet<String> {
        schema(name)["properties"][field]["enum"].as_array().unwrap().iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
    }

    #[test]
    fn verification_bodies_have_the_documented_fields_and_names() {
        let options = CheckOptions { purpose: Some(Purpose::Sign), at: Some(String::new()), revocation: Some(RevocationMode::Ocsp) };
        same("CertificateCheck", &serde_json::to_value(CertificateCheck { certificate: String::new(), options: options.clone() }).unwrap());
        same(
            "CmsCheck",
            &serde_json::to_value(CmsCheck { cms: String::new(), data: Some(String::new()), options: options.clone() }).unwrap(),
        );
        same("XmlCheck", &serde_json::to_value(XmlCheck { xml: String::new(), options }).unwrap());
        let modes: BTreeSet<String> = [RevocationMode::OcspThenCrl, RevocationMode::Ocsp, RevocationMode::Crl, RevocationMode::None]
            .iter()
            .map(|m| serde_json::to_value(m).unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(enum_names("CertificateCheck", "revocation"), modes);
        let purposes: BTreeSet<String> = [Purpose::Sign, Purpose::Auth, Purpose::TimeStamping, Purpose::OcspSigning]
            .iter()
            .map(|p| serde_json::to_value(p).unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(enum_names("CertificateCheck", "purpose"), purposes);

        let ca = Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem")).unwrap();
        let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
        let at = DateTime::new(2020, 6, 1, 0, 0, 0).unwrap();
        let cms = ca_core::pem::read_der(include_bytes!("../../tests/data/nca-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms"))
            .unwrap();
        let doc = ca_core::cms::verify_document(&cms, None, &verifier, Purpose::Sign, Some(at)).unwrap();
        let report = serde_json::to_value(CmsReport::of(&doc)).unwrap();
        same("CmsVerdict", &report);
        let signer = &report["signers"][0];
        same("CmsSigner", signer);
        same("CertificateInfo", &signer["certificate"]);
        same("Owner", &signer["certificate"]["owner"]);
        same("Status", &signer["statuses"][0]);
        let checks = Checks::at(Purpose::Sign, at);
        let verdict = VerdictReport::of(&doc.signers[0].signed.certificate, &checks, &doc.signers[0].verdict);
        same("Verdict", &serde_json::to_value(&verdict).unwrap());
        let stamp = TimeStampReport { valid: true, time: String::new(), serial: String::new(), policy: String::new(), authority: verdict };
        same("TimeStamp", &serde_json::to_value(stamp).unwrap());
        let xml = include_bytes!("../../tests/data/nca-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.xml");
        let signers = ca_core::xml::dsig::verify_document(xml, &verifier, Purpose::Sign, Some(at)).unwrap();
        let report = serde_json::to_value(XmlReport::of(&signers)).unwrap();
        same("XmlVerdict", &report);
        same("XmlSigner", &report["signers"][0]);
        assert_eq!(report["valid"], true);
    }
}
