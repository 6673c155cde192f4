//! The applications API's wire contract, in one place: the route paths under
//! `/api/v1/` and every request and response body, used alike by the server
//! (`ca-server`) and its client (`ca enroll`, `ca application --server`). The
//! OpenAPI document the server publishes describes exactly these types; a test
//! checks that it names every route here and every field of every body.

pub mod verification;

use crate::cms::{self, CmsError};
use crate::model::{ApplicationState, KeyStorage, RevocationReason, Role, Serial, StaffAction, StaffRole};
use crate::signing::Signer;
use base64ct::{Base64, Encoding};
use der::{DateTime, EncodePem};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

/// The API's routes, as paths with `{number}` where an application number goes.
pub mod routes {
    /// The OpenAPI document.
    pub const OPENAPI: &str = "/api/v1/openapi.json";
    /// POST a [`super::NewApplication`]: answers 201 with a [`super::Receipt`].
    pub const APPLICATIONS: &str = "/api/v1/applications";
    /// GET with the secret header: an [`super::ApplicationView`].
    pub const APPLICATION: &str = "/api/v1/applications/{number}";
    /// GET with the secret header: the issued [`super::PairPem`].
    pub const CERTIFICATES: &str = "/api/v1/applications/{number}/certificates";
    /// POST a signed [`super::SignedAction::Approve`]: an [`super::ApplicationView`].
    pub const APPROVAL: &str = "/api/v1/applications/{number}/approval";
    /// POST a signed [`super::SignedAction::Renew`]: answers 201 with the new [`super::PairPem`].
    pub const RENEWALS: &str = "/api/v1/renewals";
    /// POST a signed [`super::SignedAction::Revoke`]: [`super::Revoked`].
    pub const REVOCATIONS: &str = "/api/v1/revocations";
    /// POST an operator's signed [`super::SignedAction::ListPending`]: a [`super::PendingPage`].
    pub const OPERATOR_PENDING: &str = "/api/v1/operator/applications/pending";
    /// POST an operator's signed [`super::SignedAction::Confirm`]: the issued [`super::PairPem`].
    pub const OPERATOR_CONFIRM: &str = "/api/v1/operator/applications/{number}/confirm";
    /// POST an operator's signed [`super::SignedAction::Reject`]: an [`super::ApplicationView`].
    pub const OPERATOR_REJECT: &str = "/api/v1/operator/applications/{number}/reject";

    /// POST a [`super::verification::CertificateCheck`]: a [`crate::verify::VerdictReport`].
    pub const VERIFY_CERTIFICATE: &str = "/api/v1/verify/certificate";
    /// POST a [`super::verification::CmsCheck`]: a [`super::verification::CmsReport`].
    pub const VERIFY_CMS: &str = "/api/v1/verify/cms";
    /// POST a [`super::verification::XmlCheck`]: a [`super::verification::XmlReport`].
    pub const VERIFY_XML: &str = "/api/v1/verify/xml";

    /// Every route, for the OpenAPI check.
    pub const ALL: [&str; 13] = [
        OPENAPI,
        APPLICATIONS,
        APPLICATION,
        CERTIFICATES,
        APPROVAL,
        RENEWALS,
        REVOCATIONS,
        OPERATOR_PENDING,
        OPERATOR_CONFIRM,
        OPERATOR_REJECT,
        VERIFY_CERTIFICATE,
        VERIFY_CMS,
        VERIFY_XML,
    ];

    /// `route` with the application number filled in.
    pub fn with_number(route: &str, number: &str) -> String {
        route.replace("{number}", number)
    }
}

/// The largest body a verification request may have (a signed document inside).
pub const MAX_VERIFY_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The largest body a request to `path` may have.
pub fn max_body_bytes(path: &str) -> usize {
    if path.starts_with("/api/v1/verify/") {
        MAX_VERIFY_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// The header that carries an application's secret.
pub const SECRET_HEADER: &str = "x-application-secret";

/// The largest request body accepted: two CSRs of RSA-8192 keys fit with room.
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// A legal entity on an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityForm {
    /// BIN, 12 digits.
    pub bin: String,
    /// Organization name.
    pub organization: String,
    /// The representative's role.
    pub role: Role,
}

/// What an applicant fills in online.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationForm {
    /// IIN, 12 digits.
    pub iin: String,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub name: String,
    /// Patronymic.
    #[serde(default)]
    pub patronymic: Option<String>,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
    /// For a legal entity's representative.
    #[serde(default)]
    pub entity: Option<EntityForm>,
    /// Where the keys live.
    pub storage: KeyStorage,
    /// The registration center the applicant will visit.
    pub registration_center: String,
}

/// A new application: the form and both requests (PEM or base64 DER).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The applicant's data.
    pub applicant: ApplicationForm,
    /// AUTH CSR.
    pub auth_csr: String,
    /// SIGN CSR.
    pub sign_csr: String,
}

/// A new application's receipt: the number and the secret for status queries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Receipt {
    /// Application number.
    pub number: String,
    /// Secret for status queries and download; shown once.
    pub secret: String,
    /// State after routing.
    pub state: ApplicationState,
}

/// What an applicant (or operator) sees of an application.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ApplicationView {
    /// Number.
    pub number: String,
    /// State.
    pub state: ApplicationState,
    /// Submitted, RFC 3339.
    pub submitted_at: String,
    /// When a pending application expires, RFC 3339.
    pub expires_at: Option<String>,
    /// Registration center.
    pub registration_center: String,
    /// Key storage.
    pub storage: KeyStorage,
    /// The applicant's data.
    pub applicant: ApplicationForm,
    /// Serial of the approving head's certificate.
    pub approved_by: Option<Serial>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// Serials of the issued pair (AUTH, SIGN).
    pub certificates: Option<PairSerials>,
}

/// The two serials of a pair.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairSerials {
    /// AUTH certificate serial.
    pub auth: Serial,
    /// SIGN certificate serial.
    pub sign: Serial,
}

/// Certificates as the applicant's client stores them: PEM, with the chain.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PairPem {
    /// AUTH certificate.
    pub auth: String,
    /// SIGN certificate.
    pub sign: String,
    /// The AUTH certificate's issuing CA, then root.
    pub chain: Vec<String>,
    /// The SIGN certificate's issuing CA, then root, when another CA issued it
    /// (a GOST SIGN certificate beside an RSA AUTH one); else absent: `chain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_chain: Option<Vec<String>>,
}

impl PairPem {
    /// The pair and the chains (issuing CA, then root) of each, as PEM.
    pub fn new(
        auth: &Certificate,
        sign: &Certificate,
        auth_chain: &[&Certificate],
        sign_chain: &[&Certificate],
    ) -> Result<Self, der::Error> {
        let pem = |c: &Certificate| c.to_pem(der::pem::LineEnding::LF);
        let pems = |chain: &[&Certificate]| chain.iter().map(|c| pem(c)).collect::<Result<Vec<_>, _>>();
        let chain = pems(auth_chain)?;
        let sign_chain = pems(sign_chain)?;
        let sign_chain = (sign_chain != chain).then_some(sign_chain);
        Ok(PairPem { auth: pem(auth)?, sign: pem(sign)?, chain, sign_chain })
    }

    /// The chain of the SIGN certificate.
    pub fn sign_chain(&self) -> &[String] {
        self.sign_chain.as_deref().unwrap_or(&self.chain)
    }
}

/// Applications a page holds at most.
pub const MAX_PAGE: u32 = 500;
/// Applications a page holds unless asked otherwise.
pub const DEFAULT_PAGE: u32 = 100;

/// A page of the operators' queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingPage {
    /// Oldest first.
    pub applications: Vec<ApplicationView>,
    /// Where the next page starts (its `after`), when there may be one.
    pub next: Option<String>,
}

/// What an owner's revocation revoked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Revoked {
    /// Serials of the certificates revoked.
    pub revoked: Vec<Serial>,
}

/// An error answer: `{"error": {"code", "message"}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The code (stable, for programs) and message (for people) of an error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code, one of [`ERROR_CODES`].
    pub code: String,
    /// What was wrong and what to do, in English.
    pub message: String,
    /// For `invalid_application`, what is wrong with the data, stable: `length`,
    /// `not_a_digit`, `mistyped`, `century_digit`, `birth_date`,
    /// `future_birth_date`, `under_age`, `empty`, `too_long`, `bad_character`,
    /// `bad_email`, `unknown_value`. Clients that speak other languages word the
    /// message from `code`, `reason` and `field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The application form's field at fault (`iin`, `bin`, `surname`, `name`,
    /// `patronymic`, `email`, `organization`, `storage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    /// An error answer.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { error: ErrorDetail { code: code.into(), message: message.into(), reason: None, field: None } }
    }

    /// With the finer reason and the field at fault.
    pub fn with_detail(mut self, reason: Option<&str>, field: Option<&str>) -> Self {
        self.error.reason = reason.map(str::to_string);
        self.error.field = field.map(str::to_string);
        self
    }
}

/// Every `code` an error answer of the API can carry. Clients (the applicants'
/// page among them) translate each; a test holds the server to this list.
pub const ERROR_CODES: [&str; 36] = [
    // The request itself.
    "invalid_body",
    "unsupported_media_type",
    "body_too_large",
    "body_timeout",
    "method_not_allowed",
    "no_such_endpoint",
    "https_required",
    "rate_limited",
    "invalid_request",
    // Applications.
    "invalid_application",
    "invalid_csr",
    "same_key_twice",
    "key_reused",
    "storage_not_allowed",
    "not_found",
    "wrong_state",
    "application_expired",
    "not_issued",
    "awaiting_head_approval",
    // Signed requests.
    "bad_signature",
    "unknown_signer",
    "signer_not_valid",
    "not_a_sign_key",
    "forbidden",
    "stale_request",
    "replayed_request",
    "operator_credential_required",
    "client_certificate_required",
    // Certificates.
    "not_renewable",
    "unknown_certificate",
    "already_revoked",
    "not_on_hold",
    // The service.
    "busy",
    "conflict",
    "authority_locked",
    "internal_error",
];

/// What a signed request asks for. Serialized as JSON with an `action` field; the
/// exact bytes the client signed are what the server verifies and parses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignedAction {
    /// A head approves an employee's application.
    Approve {
        /// The application number.
        application: String,
    },
    /// The holder renews: new AUTH and SIGN requests (base64 DER).
    Renew {
        /// AUTH CSR, base64 DER.
        auth_csr: String,
        /// SIGN CSR, base64 DER.
        sign_csr: String,
    },
    /// The holder revokes their own pair.
    Revoke {
        /// RFC 5280 reason name.
        reason: String,
    },
    /// An operator lists a page of the applications waiting for identity confirmation.
    ListPending {
        /// Only this registration center.
        #[serde(default)]
        center: Option<String>,
        /// The page after this application (the previous page's `next`).
        #[serde(default)]
        after: Option<String>,
        /// At most this many (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]).
        #[serde(default)]
        limit: Option<u32>,
    },
    /// An operator confirms an applicant's identity: the pair is issued.
    Confirm {
        /// The application number.
        application: String,
    },
    /// An operator rejects an application.
    Reject {
        /// The application number.
        application: String,
        /// Why, for the applicant.
        reason: String,
    },
    /// A manager issues a pair without an online application (`ca issue`), or an
    /// administrator adds a member of staff (`ca operator add`): bound to the
    /// person and to both requests by their SHA-256.
    IssuePair {
        /// The holder's IIN.
        iin: String,
        /// The staff role, when the pair is for the authority's own staff.
        #[serde(default)]
        staff: Option<StaffRole>,
        /// SHA-256 of the AUTH request's DER, hex.
        auth_csr_sha256: String,
        /// SHA-256 of the SIGN request's DER, hex.
        sign_csr_sha256: String,
    },
    /// A manager revokes a certificate (an administrator, a staff member's).
    RevokeCertificate {
        /// Its serial.
        serial: Serial,
        /// RFC 5280 reason name.
        reason: RevocationReason,
        /// Since when the key is known or suspected to be compromised, RFC 3339.
        #[serde(default)]
        invalidity_date: Option<String>,
    },
    /// A manager lifts a certificateHold.
    LiftHold {
        /// The certificate's serial.
        serial: Serial,
    },
}

impl SignedAction {
    /// What a member of staff does with this request, when it is a staff request.
    pub fn staff_action(&self) -> Option<StaffAction> {
        Some(match self {
            SignedAction::ListPending { .. } => StaffAction::ListApplications,
            SignedAction::Confirm { .. } => StaffAction::ConfirmIdentity,
            SignedAction::Reject { .. } => StaffAction::RejectApplication,
            SignedAction::IssuePair { staff: Some(_), .. } => StaffAction::ManageStaff,
            SignedAction::IssuePair { staff: None, .. } => StaffAction::IssuePair,
            SignedAction::RevokeCertificate { .. } => StaffAction::RevokeCertificate,
            SignedAction::LiftHold { .. } => StaffAction::LiftHold,
            SignedAction::Approve { .. } | SignedAction::Renew { .. } | SignedAction::Revoke { .. } => return None,
        })
    }
}

/// A signed request's content: the action and a fresh nonce.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedRequest {
    /// What is asked.
    #[serde(flatten)]
    pub action: SignedAction,
    /// Random, at least 16 bytes hex: makes every request unique.
    pub nonce: String,
}

impl SignedRequest {
    /// A request for `action` with a fresh nonce.
    pub fn new(action: SignedAction) -> Self {
        let mut n = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut n);
        SignedRequest { action, nonce: hex::encode(n) }
    }
}

/// What travels over HTTP: the request bytes and a detached CMS signature over them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// The request JSON, base64.
    pub request: String,
    /// CMS SignedData, detached, base64 DER.
    pub signature: String,
}

impl Envelope {
    /// Sign `request` with `signer` holding `cert`.
    pub fn sign(request: &SignedRequest, signer: &dyn Signer, cert: &Certificate, at: DateTime) -> Result<Self, CmsError> {
        let bytes = serde_json::to_vec(request).map_err(|e| CmsError::Malformed(e.to_string()))?;
        let sig = cms::sign_detached(&bytes, signer, cert, at)?;
        Ok(Envelope { request: Base64::encode_string(&bytes), signature: Base64::encode_string(&sig) })
    }
}
