//! The applications API's wire contract, in one place: the route paths under
//! `/api/v1/` and every request and response body, used alike by the server
//! (`ca-server`) and its client (`ca enroll`, `ca application --server`). The
//! OpenAPI document the server publishes describes exactly these types; a test
//! checks that it names every route here and every field of every body.

pub mod verification;

use crate::calendar;
use crate::cms::{self, CmsError};
use crate::csr::CsrError;
use crate::issuer::IssueError;
use crate::model::{ApplicationState, CertType, KeyStorage, Role, Serial};
use crate::registration::{
    self, ApplicantDetails, ApplicationStatus, EntityDetails, PendingApplications, RegistrationError, SignedEnvelope, Submission,
};
use crate::signing::Signer;
use base64ct::{Base64, Encoding};
use der::{DateTime, EncodePem};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use x509_cert::Certificate;

/// The signed requests travel as the RA defines them (the signature covers their
/// bytes), and a pair's serials as the RA names them.
pub use crate::registration::{PairSerials, SignedAction, SignedRequest, DEFAULT_PAGE, MAX_PAGE};

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
        SignedEnvelope::sign(request, signer, cert, at).map(Envelope::from)
    }

    /// The signed bytes, decoded; text longer than any accepted request or
    /// signature is refused before decoding.
    pub fn open(&self) -> Result<SignedEnvelope, WireError> {
        Ok(SignedEnvelope {
            request: base64_field("request", &self.request, registration::MAX_REQUEST_BYTES)?,
            signature: base64_field("signature", &self.signature, cms::MAX_CMS_BYTES)?,
        })
    }
}

impl From<SignedEnvelope> for Envelope {
    fn from(e: SignedEnvelope) -> Self {
        Envelope { request: Base64::encode_string(&e.request), signature: Base64::encode_string(&e.signature) }
    }
}

/// Why a body's text could not be turned into what the RA takes.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WireError {
    /// A field longer than the largest value it may carry.
    #[error("{field} is larger than {max} bytes")]
    TooLarge {
        /// The body's field.
        field: &'static str,
        /// The most bytes it may decode to.
        max: usize,
    },
    /// A field that should be base64 and is not.
    #[error("{field} is not valid base64")]
    NotBase64 {
        /// The body's field.
        field: &'static str,
    },
    /// A certificate request that is neither PEM nor base64 of DER.
    #[error("the {which} request: {source}")]
    Csr {
        /// Which request.
        which: CertType,
        /// What is wrong with it.
        source: CsrError,
    },
}

impl From<WireError> for RegistrationError {
    fn from(e: WireError) -> Self {
        match e {
            WireError::Csr { which, source } => IssueError::Csr { which, source }.into(),
            other => RegistrationError::BadRequest(other.to_string()),
        }
    }
}

fn base64_field(field: &'static str, text: &str, max: usize) -> Result<Vec<u8>, WireError> {
    if text.len() > max * 4 / 3 + 4 {
        return Err(WireError::TooLarge { field, max });
    }
    Base64::decode_vec(text.trim()).map_err(|_| WireError::NotBase64 { field })
}

impl From<ApplicationForm> for ApplicantDetails {
    fn from(f: ApplicationForm) -> Self {
        ApplicantDetails {
            iin: f.iin,
            surname: f.surname,
            name: f.name,
            patronymic: f.patronymic,
            email: f.email,
            entity: f.entity.map(|e| EntityDetails { bin: e.bin, organization: e.organization, role: e.role }),
            storage: f.storage,
            registration_center: f.registration_center,
        }
    }
}

impl From<ApplicantDetails> for ApplicationForm {
    fn from(d: ApplicantDetails) -> Self {
        ApplicationForm {
            iin: d.iin,
            surname: d.surname,
            name: d.name,
            patronymic: d.patronymic,
            email: d.email,
            entity: d.entity.map(|e| EntityForm { bin: e.bin, organization: e.organization, role: e.role }),
            storage: d.storage,
            registration_center: d.registration_center,
        }
    }
}

impl TryFrom<NewApplication> for Submission {
    type Error = WireError;

    fn try_from(n: NewApplication) -> Result<Self, WireError> {
        let csr = |which, text: &str| crate::csr::from_text(text).map_err(|source| WireError::Csr { which, source });
        Ok(Submission {
            auth_csr: csr(CertType::Auth, &n.auth_csr)?,
            sign_csr: csr(CertType::Sign, &n.sign_csr)?,
            applicant: n.applicant.into(),
        })
    }
}

impl From<registration::Receipt> for Receipt {
    fn from(r: registration::Receipt) -> Self {
        Receipt { number: r.number, secret: r.secret.to_string(), state: r.state }
    }
}

/// Unix seconds as RFC 3339.
fn rfc3339(secs: i64) -> String {
    calendar::from_unix_seconds(secs).map(|t| calendar::rfc3339(&t)).unwrap_or_default()
}

impl From<ApplicationStatus> for ApplicationView {
    fn from(s: ApplicationStatus) -> Self {
        ApplicationView {
            number: s.number,
            state: s.state,
            submitted_at: rfc3339(s.submitted_at),
            expires_at: s.expires_at.map(rfc3339),
            registration_center: s.applicant.registration_center.clone(),
            storage: s.applicant.storage,
            applicant: s.applicant.into(),
            approved_by: s.approved_by,
            reject_reason: s.reject_reason,
            certificates: s.certificates,
        }
    }
}

impl From<PendingApplications> for PendingPage {
    fn from(p: PendingApplications) -> Self {
        PendingPage { applications: p.applications.into_iter().map(Into::into).collect(), next: p.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ApplicationForm {
        ApplicationForm {
            iin: "880101300007".into(),
            surname: "Тестов".into(),
            name: "Тест".into(),
            patronymic: Some("Тестович".into()),
            email: Some("test@example.kz".into()),
            entity: Some(EntityForm { bin: "040840000124".into(), organization: "ТОО".into(), role: Role::Hr }),
            storage: KeyStorage::Kaztoken,
            registration_center: "ЦОН".into(),
        }
    }

    /// Applications stored before the RA had types of its own kept the wire form's
    /// JSON: it still reads, and the two convert without loss.
    #[test]
    fn the_form_and_the_details_are_the_same_data() {
        let stored = serde_json::to_string(&form()).unwrap();
        let details: ApplicantDetails = serde_json::from_str(&stored).unwrap();
        assert_eq!(details, ApplicantDetails::from(form()));
        assert_eq!(ApplicationForm::from(details.clone()), form());
        assert_eq!(serde_json::to_string(&details).unwrap(), stored);
    }

    #[test]
    fn a_status_shows_its_times_in_rfc3339() {
        let status = ApplicationStatus {
            number: "1".into(),
            state: ApplicationState::AwaitingIdentity,
            submitted_at: 1_767_225_600,
            expires_at: Some(1_767_225_600 + 30 * 86_400),
            applicant: form().into(),
            approved_by: None,
            reject_reason: None,
            certificates: None,
        };
        let view = ApplicationView::from(status);
        assert_eq!(view.submitted_at, "2026-01-01T00:00:00Z");
        assert_eq!(view.expires_at.as_deref(), Some("2026-01-31T00:00:00Z"));
        assert_eq!((view.registration_center.as_str(), view.storage), ("ЦОН", KeyStorage::Kaztoken));
    }

    /// Oversized text is refused by its length, before any decoding; bad text is
    /// named by its field; a request that is not one is an invalid CSR.
    #[test]
    fn bodies_decode_at_the_edge_with_typed_errors() {
        let huge = "A".repeat(registration::MAX_REQUEST_BYTES * 2);
        let env = Envelope { request: huge, signature: "MIIB".into() };
        assert!(matches!(env.open(), Err(WireError::TooLarge { field: "request", .. })));
        let env = Envelope { request: "e30=".into(), signature: "not base64!".into() };
        assert!(matches!(env.open(), Err(WireError::NotBase64 { field: "signature" })));
        let env = Envelope { request: " e30= ".into(), signature: "MIIB".into() };
        assert_eq!(env.open().unwrap(), SignedEnvelope { request: b"{}".to_vec(), signature: vec![0x30, 0x82, 0x01] });

        let csr = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let new = NewApplication { applicant: form(), auth_csr: "MIIB".into(), sign_csr: csr.into() };
        let err = Submission::try_from(new).unwrap_err();
        assert!(matches!(err, WireError::Csr { which: CertType::Sign, .. }), "{err:?}");
        assert_eq!(RegistrationError::from(err).code(), "invalid_csr");
        let new = NewApplication { applicant: form(), auth_csr: "MIIB".into(), sign_csr: "MIIC".into() };
        let submission = Submission::try_from(new).unwrap();
        assert_eq!((submission.auth_csr, submission.sign_csr), (vec![0x30, 0x82, 0x01], vec![0x30, 0x82, 0x02]));
    }

    /// A renewal's requests are DER in the RA's type, base64 in the signed JSON,
    /// and read from PEM too.
    #[test]
    fn a_renewal_carries_its_requests_as_base64_of_der() {
        let action = SignedAction::Renew { auth_csr: vec![0x30, 0x82, 0x01], sign_csr: vec![0x30, 0x82, 0x02] };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!((json["auth_csr"].as_str(), json["sign_csr"].as_str()), (Some("MIIB"), Some("MIIC")));
        assert_eq!(serde_json::from_value::<SignedAction>(json).unwrap(), action);
        let pem = r#"{"action":"renew","auth_csr":"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----","sign_csr":"MIIC"}"#;
        assert_eq!(serde_json::from_str::<SignedAction>(pem).unwrap(), action);
        assert!(serde_json::from_str::<SignedAction>(r#"{"action":"renew","auth_csr":"!","sign_csr":"MIIC"}"#).is_err());
    }
}
