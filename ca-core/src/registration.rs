//! The registration authority (RA): applications and their state machine, head
//! approvals, identity confirmation, renewal and revocation requests, and every
//! policy check on them. It never touches a private key: signing is the
//! [`Authority`]'s, and what the RA approves is recorded by the store together with
//! the audit record that says why.
//!
//! An application moves `Submitted → (AwaitingHeadApproval →) AwaitingIdentity →
//! Issued`, or to `Rejected` / `Expired` (30 calendar days without confirmation).
//! [`ApplicationState::after`] is the only place that knows which moves are legal.

use crate::audit::{Actor, AuditAction, AuditEvent};
use crate::authority::{Authority, AuthorityError, IssueError, IssuedPair};
use crate::calendar::{self, Date};
use crate::cms::{self, CmsError};
use crate::identity::IdentityError;
use crate::profile::{Applicant, CertType, IdentificationMethod, LegalEntity, PersonName, ProfileError, Role, StaffRole};
use crate::revocation::RevocationReason;
use crate::store::{ApplicationChange, ApplicationRecord, CertificateRecord, Moved, Revocation, Status, Store, StoreError};
use crate::verify::{self, CertificateInfo};
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use der::{DateTime, Decode};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use thiserror::Error;
use x509_cert::Certificate;

/// Days an application waits for the applicant's visit before it expires.
pub const CONFIRMATION_DAYS: i64 = 30;
/// How old a signed request may be when it arrives, in seconds.
pub const SIGNED_REQUEST_MAX_AGE: i64 = 600;
/// How far in the future a signed request's time may be (clock skew), in seconds.
pub const SIGNED_REQUEST_MAX_SKEW: i64 = 300;
/// The largest signed request body accepted, in bytes (two CSRs fit easily).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;

const DAY: i64 = 86_400;

/// Where an application stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationState {
    /// Received, not yet routed.
    Submitted,
    /// An employee's application, waiting for the entity's head (or HR officer).
    AwaitingHeadApproval,
    /// Waiting for the applicant's visit to a registration center.
    AwaitingIdentity,
    /// Certificates issued.
    Issued,
    /// Refused by an operator.
    Rejected,
    /// Not confirmed within [`CONFIRMATION_DAYS`].
    Expired,
}

/// What can happen to an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Sort a new application: does it need a head's approval?
    Route {
        /// Whether it does.
        needs_approval: bool,
    },
    /// The head approved.
    Approve,
    /// An operator confirmed the identity.
    Confirm,
    /// An operator rejected it.
    Reject,
    /// The confirmation period ran out.
    Expire,
}

/// A move the state machine does not allow.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
#[error("an application that is {from} cannot be {}", transition_verb(.transition))]
pub struct IllegalTransition {
    /// The state it is in.
    pub from: ApplicationState,
    /// What was attempted.
    pub transition: Transition,
}

fn transition_verb(t: &Transition) -> &'static str {
    match t {
        Transition::Route { .. } => "routed",
        Transition::Approve => "approved",
        Transition::Confirm => "confirmed",
        Transition::Reject => "rejected",
        Transition::Expire => "expired",
    }
}

impl ApplicationState {
    /// Every state.
    pub const ALL: [ApplicationState; 6] = [
        ApplicationState::Submitted,
        ApplicationState::AwaitingHeadApproval,
        ApplicationState::AwaitingIdentity,
        ApplicationState::Issued,
        ApplicationState::Rejected,
        ApplicationState::Expired,
    ];

    /// The state after `t`, or why `t` is not allowed now.
    pub fn after(self, t: Transition) -> Result<ApplicationState, IllegalTransition> {
        use ApplicationState::*;
        match (self, t) {
            (Submitted, Transition::Route { needs_approval: true }) => Ok(AwaitingHeadApproval),
            (Submitted, Transition::Route { needs_approval: false }) => Ok(AwaitingIdentity),
            (AwaitingHeadApproval, Transition::Approve) => Ok(AwaitingIdentity),
            (AwaitingIdentity, Transition::Confirm) => Ok(Issued),
            (Submitted | AwaitingHeadApproval | AwaitingIdentity, Transition::Reject | Transition::Expire) => {
                Ok(if t == Transition::Reject { Rejected } else { Expired })
            }
            (from, transition) => Err(IllegalTransition { from, transition }),
        }
    }

    /// Still waiting for someone (and so able to expire).
    pub fn is_pending(&self) -> bool {
        matches!(self, ApplicationState::Submitted | ApplicationState::AwaitingHeadApproval | ApplicationState::AwaitingIdentity)
    }

    /// The name in the database, the API and the CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplicationState::Submitted => "submitted",
            ApplicationState::AwaitingHeadApproval => "awaiting_head_approval",
            ApplicationState::AwaitingIdentity => "awaiting_identity",
            ApplicationState::Issued => "issued",
            ApplicationState::Rejected => "rejected",
            ApplicationState::Expired => "expired",
        }
    }
}

impl fmt::Display for ApplicationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApplicationState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApplicationState::ALL.into_iter().find(|x| x.as_str() == s).ok_or_else(|| s.to_string())
    }
}

/// Where the applicant's keys live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStorage {
    /// PKCS#12 files on a PC.
    Pc,
    /// The chip of a national ID card (individuals only).
    Idcard,
    /// A Kaztoken USB token.
    Kaztoken,
}

impl KeyStorage {
    /// The name in the database, the API and the CLI.
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyStorage::Pc => "pc",
            KeyStorage::Idcard => "idcard",
            KeyStorage::Kaztoken => "kaztoken",
        }
    }
}

impl FromStr for KeyStorage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [KeyStorage::Pc, KeyStorage::Idcard, KeyStorage::Kaztoken].into_iter().find(|x| x.as_str() == s).ok_or_else(|| s.to_string())
    }
}

/// A legal entity on an application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityForm {
    /// BIN, 12 digits.
    pub bin: String,
    /// Organization name.
    pub organization: String,
    /// `ceo`, `signer`, `financial`, `hr` or `employee`.
    pub role: String,
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

impl ApplicationForm {
    /// The applicant this form describes, checked on `today`.
    pub fn applicant(&self, today: Date) -> Result<Applicant, RegistrationError> {
        let person = PersonName::new(&self.surname, &self.name, self.patronymic.as_deref().filter(|p| !p.trim().is_empty()))?;
        let entity = match &self.entity {
            None => None,
            Some(e) => Some(LegalEntity::new(&e.bin, &e.organization, e.role.parse()?)?),
        };
        Ok(Applicant::new(&self.iin, person, self.email.as_deref(), entity, IdentificationMethod::InPerson, today)?)
    }

    fn role(&self) -> Option<Role> {
        self.entity.as_ref().and_then(|e| e.role.parse().ok())
    }
}

/// The moment, from somewhere tests can move.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        calendar::now()
    }
}

/// A clock that stands still until moved; for tests that cross the 30-day line or a
/// certificate's expiry.
#[derive(Debug)]
pub struct FixedClock(Mutex<i64>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime) -> Self {
        FixedClock(Mutex::new(calendar::unix_seconds(&at)))
    }

    /// Move forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        if let Ok(mut t) = self.0.lock() {
            *t += seconds;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime {
        let secs = self.0.lock().map(|t| *t).unwrap_or(0);
        calendar::from_unix_seconds(secs).unwrap_or_else(calendar::now)
    }
}

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
    /// An operator lists applications waiting for identity confirmation.
    ListPending {
        /// Only this registration center.
        #[serde(default)]
        center: Option<String>,
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
    pub fn sign(request: &SignedRequest, signer: &dyn crate::signing::Signer, cert: &Certificate, at: DateTime) -> Result<Self, CmsError> {
        let bytes = serde_json::to_vec(request).map_err(|e| CmsError::Malformed(e.to_string()))?;
        let sig = cms::sign_detached(&bytes, signer, cert, at)?;
        Ok(Envelope { request: Base64::encode_string(&bytes), signature: Base64::encode_string(&sig) })
    }
}

/// Why the RA refused. [`RegistrationError::code`] is stable for API clients.
#[derive(Debug, Error)]
pub enum RegistrationError {
    /// The applicant data does not meet the rules.
    #[error("{0}")]
    Profile(#[from] ProfileError),
    /// An identity number is invalid.
    #[error("{0}")]
    Identity(#[from] IdentityError),
    /// A request (CSR) or key was refused.
    #[error("{0}")]
    Issue(#[from] IssueError),
    /// An ID card holds keys of individuals only.
    #[error("an ID card can hold only an individual's keys; choose pc or kaztoken storage for a legal entity")]
    StorageNotAllowed,
    /// A field is missing or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// No such application, or the secret is wrong (deliberately indistinguishable).
    #[error("no application with this number and secret")]
    NotFound,
    /// The state machine refuses.
    #[error("{0}")]
    Illegal(#[from] IllegalTransition),
    /// The 30 days are over.
    #[error("application {0} expired: it was not confirmed within {CONFIRMATION_DAYS} days; the applicant must apply again")]
    Expired(String),
    /// Certificates asked for before they exist.
    #[error("application {number} is {state}: its certificates are not issued yet")]
    NotIssued {
        /// Number.
        number: String,
        /// Its state.
        state: ApplicationState,
    },
    /// The application changed meanwhile.
    #[error("application {0} was changed by someone else meanwhile; look at it again")]
    Conflict(String),
    /// The signature is not acceptable.
    #[error("signature refused: {0}")]
    Signature(#[from] CmsError),
    /// The signer's certificate is not one this authority issued.
    #[error("the signing certificate was not issued by this authority")]
    UnknownSigner,
    /// The signer's certificate is revoked, expired or not yet valid.
    #[error("the signing certificate {serial} is {status}; sign with a valid certificate")]
    SignerNotValid {
        /// Serial.
        serial: String,
        /// Its status.
        status: &'static str,
    },
    /// An AUTH certificate signed (AUTH keys log in; they do not sign).
    #[error("the request was signed with an AUTH (login) key; sign with the SIGN key")]
    NotASignKey,
    /// The signer may not do this.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// A signed request outside the accepted time window.
    #[error("the request was signed at {signed}, outside the accepted window of {SIGNED_REQUEST_MAX_AGE} s; sign it again")]
    Stale {
        /// Signing time, RFC 3339.
        signed: String,
    },
    /// The same signed request again.
    #[error("this signed request was already used; sign a new one")]
    Replay,
    /// Renewal refused.
    #[error("renewal refused: {0}")]
    NotRenewable(String),
    /// No such certificate.
    #[error("no certificate with serial {0}")]
    UnknownCertificate(String),
    /// Revoking what is revoked.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(String),
    /// Lifting a hold that is not there.
    #[error("certificate {0} is not on hold (certificateHold); nothing to lift")]
    NotOnHold(String),
    /// The database failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The authority failed.
    #[error("{0}")]
    Authority(#[from] AuthorityError),
}

/// How an error should be answered: the HTTP layer maps these to status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request is wrong; fix it.
    Invalid,
    /// Not authenticated or not allowed.
    Forbidden,
    /// Nothing there.
    NotFound,
    /// The state does not allow it now.
    Conflict,
    /// Our fault.
    Internal,
}

impl RegistrationError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use RegistrationError::*;
        match self {
            Profile(_) | Identity(_) => "invalid_application",
            BadRequest(_) => "invalid_request",
            Issue(IssueError::Csr { .. }) => "invalid_csr",
            Issue(IssueError::SameKeyTwice) => "same_key_twice",
            Issue(IssueError::KeyReused { .. }) => "key_reused",
            Issue(_) | Store(_) | Authority(_) => "internal_error",
            StorageNotAllowed => "storage_not_allowed",
            NotFound => "not_found",
            Illegal(_) => "wrong_state",
            Expired(_) => "application_expired",
            Conflict(_) => "conflict",
            NotIssued { .. } => "not_issued",
            Signature(_) => "bad_signature",
            UnknownSigner => "unknown_signer",
            SignerNotValid { .. } => "signer_not_valid",
            NotASignKey => "not_a_sign_key",
            Forbidden(_) => "forbidden",
            Stale { .. } => "stale_request",
            Replay => "replayed_request",
            NotRenewable(_) => "not_renewable",
            UnknownCertificate(_) => "unknown_certificate",
            AlreadyRevoked(_) => "already_revoked",
            NotOnHold(_) => "not_on_hold",
        }
    }

    /// How to answer it.
    pub fn class(&self) -> ErrorClass {
        use RegistrationError::*;
        match self {
            Profile(_) | Identity(_) | BadRequest(_) | StorageNotAllowed => ErrorClass::Invalid,
            Issue(IssueError::Csr { .. } | IssueError::SameKeyTwice | IssueError::KeyReused { .. }) => ErrorClass::Invalid,
            Issue(_) | Store(_) | Authority(_) => ErrorClass::Internal,
            NotFound | UnknownCertificate(_) => ErrorClass::NotFound,
            Illegal(_) | Expired(_) | Conflict(_) | NotIssued { .. } | NotRenewable(_) | AlreadyRevoked(_) | NotOnHold(_) | Replay => {
                ErrorClass::Conflict
            }
            Signature(_) | UnknownSigner | SignerNotValid { .. } | NotASignKey | Forbidden(_) | Stale { .. } => ErrorClass::Forbidden,
        }
    }
}

/// What an applicant (or operator) sees of an application.
#[derive(Clone, Debug, Serialize)]
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
    pub approved_by: Option<String>,
    /// Why it was rejected.
    pub reject_reason: Option<String>,
    /// Serials of the issued pair (AUTH, SIGN).
    pub certificates: Option<PairSerials>,
}

/// The two serials of a pair.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PairSerials {
    /// AUTH certificate serial.
    pub auth: String,
    /// SIGN certificate serial.
    pub sign: String,
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

/// A verified signed request and who signed it.
#[derive(Debug)]
pub struct Verified {
    /// The request.
    pub request: SignedRequest,
    /// The signer's stored certificate record.
    pub signer: CertificateRecord,
    /// The signer's certificate.
    pub certificate: Certificate,
}

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn b64(field: &'static str, text: &str, max: usize) -> Result<Vec<u8>, RegistrationError> {
    if text.len() > max * 4 / 3 + 4 {
        return Err(RegistrationError::BadRequest(format!("{field} is larger than {max} bytes")));
    }
    Base64::decode_vec(text.trim()).map_err(|_| RegistrationError::BadRequest(format!("{field} is not valid base64")))
}

/// A CSR given as PEM or base64 DER.
pub fn csr_bytes(field: &'static str, text: &str) -> Result<Vec<u8>, RegistrationError> {
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        let (label, der) = der::pem::decode_vec(t.as_bytes()).map_err(|e| RegistrationError::BadRequest(format!("{field}: {e}")))?;
        if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
            return Err(RegistrationError::BadRequest(format!("{field} is PEM labelled {label}, not CERTIFICATE REQUEST")));
        }
        return Ok(der);
    }
    b64(field, t, crate::csr::MAX_CSR_BYTES)
}

/// The registration authority at work on one authority with one clock.
pub struct Registration<'a> {
    ca: &'a mut Authority,
    clock: &'a dyn Clock,
}

impl<'a> Registration<'a> {
    /// The RA over `ca`, telling time by `clock`.
    pub fn new(ca: &'a mut Authority, clock: &'a dyn Clock) -> Self {
        Registration { ca, clock }
    }

    /// The CA certificates, for clients that store the chain.
    pub fn chain(&self) -> &crate::authority::CaCertificates {
        self.ca.certificates()
    }

    /// The database, read-only.
    pub fn store(&self) -> &crate::store::SqliteStore {
        self.ca.store()
    }

    fn now(&self) -> (DateTime, i64) {
        let now = self.clock.now();
        (now, calendar::unix_seconds(&now))
    }

    /// Accept an application: check the applicant and both requests, route it.
    pub fn submit(&mut self, form: &ApplicationForm, auth_csr: &[u8], sign_csr: &[u8]) -> Result<Receipt, RegistrationError> {
        let (now, at) = self.now();
        let applicant = form.applicant(Date::of(&now))?;
        if form.storage == KeyStorage::Idcard && applicant.entity().is_some() {
            return Err(RegistrationError::StorageNotAllowed);
        }
        let center = form.registration_center.trim();
        if center.is_empty() || center.chars().count() > 128 || center.chars().any(char::is_control) {
            return Err(RegistrationError::BadRequest("registration_center must be 1 to 128 printable characters".into()));
        }
        // The same checks issuance will make, now, so a bad request fails at once.
        self.ca.check_requests(auth_csr, sign_csr)?;
        let needs_approval = applicant.entity().is_some_and(|e| e.role() != Role::Ceo);
        let state = ApplicationState::Submitted.after(Transition::Route { needs_approval })?;
        let secret = Base64UrlUnpadded::encode_string(&random_bytes::<24>());
        let number = self.fresh_number()?;
        let mut form = form.clone();
        form.registration_center = center.to_string();
        let record = ApplicationRecord {
            number: number.clone(),
            secret_hash: secret_hash(&secret),
            state,
            submitted_at: at,
            updated_at: at,
            center: form.registration_center.clone(),
            storage: form.storage,
            iin: applicant.iin().to_string(),
            bin: applicant.entity().map(|e| e.bin().to_string()),
            form: serde_json::to_string(&form).map_err(|e| RegistrationError::BadRequest(e.to_string()))?,
            auth_csr: auth_csr.to_vec(),
            sign_csr: sign_csr.to_vec(),
            approved_by: None,
            reject_reason: None,
            pair_id: None,
        };
        let event = AuditEvent::new(Actor::Applicant(number.clone()), AuditAction::ApplicationSubmitted, &number, format!("state {state}"));
        self.ca.store_mut().insert_application(&record, &event)?;
        Ok(Receipt { number, secret, state })
    }

    fn fresh_number(&self) -> Result<String, RegistrationError> {
        for _ in 0..16 {
            let n = u64::from_be_bytes(random_bytes::<8>()) % 10_000_000_000_000_000;
            let number = format!("{n:016}");
            if self.ca.store().application(&number)?.is_none() {
                return Ok(number);
            }
        }
        Err(RegistrationError::Conflict("no free application number".into()))
    }

    /// Expire every pending application older than [`CONFIRMATION_DAYS`]; returns how many.
    pub fn expire_due(&mut self) -> Result<usize, RegistrationError> {
        let (_, at) = self.now();
        let mut n = 0;
        for state in [ApplicationState::AwaitingHeadApproval, ApplicationState::AwaitingIdentity, ApplicationState::Submitted] {
            for app in self.ca.store().applications(Some(state), None)? {
                if at >= app.submitted_at + CONFIRMATION_DAYS * DAY && self.expire(&app)? {
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    fn expire(&mut self, app: &ApplicationRecord) -> Result<bool, RegistrationError> {
        let (_, at) = self.now();
        let to = app.state.after(Transition::Expire)?;
        let change = ApplicationChange { state: to, at, approved_by: None, reject_reason: None };
        let event = AuditEvent::new(Actor::System, AuditAction::ApplicationExpired, &app.number, format!("after {CONFIRMATION_DAYS} days"));
        Ok(self.ca.store_mut().update_application(&app.number, app.state, &change, None, &event)? != Moved::Stale)
    }

    /// The application `number`, expired first if its time is up.
    fn current(&mut self, number: &str) -> Result<ApplicationRecord, RegistrationError> {
        let app = self.ca.store().application(number)?.ok_or(RegistrationError::NotFound)?;
        let (_, at) = self.now();
        if app.state.is_pending() && at >= app.submitted_at + CONFIRMATION_DAYS * DAY {
            self.expire(&app)?;
            return self.ca.store().application(number)?.ok_or(RegistrationError::NotFound);
        }
        Ok(app)
    }

    /// The applicant's view, given the number and the secret from the receipt.
    pub fn status(&mut self, number: &str, secret: &str) -> Result<ApplicationView, RegistrationError> {
        let app = self.authorized(number, secret)?;
        self.view(&app)
    }

    fn authorized(&mut self, number: &str, secret: &str) -> Result<ApplicationRecord, RegistrationError> {
        if number.len() > 32 || secret.len() > 128 {
            return Err(RegistrationError::NotFound);
        }
        let app = self.current(number)?;
        // Both sides are SHA-256 digests: comparing them leaks nothing about the secret.
        if app.secret_hash != secret_hash(secret) {
            return Err(RegistrationError::NotFound);
        }
        Ok(app)
    }

    /// An operator's (or the console's) view of any application.
    pub fn show(&mut self, number: &str) -> Result<ApplicationView, RegistrationError> {
        let app = self.current(number)?;
        self.view(&app)
    }

    /// Applications in `state` (pending identity confirmation when `None`), of one center if given.
    pub fn list(&mut self, state: Option<ApplicationState>, center: Option<&str>) -> Result<Vec<ApplicationView>, RegistrationError> {
        self.expire_due()?;
        let apps = self.ca.store().applications(Some(state.unwrap_or(ApplicationState::AwaitingIdentity)), center)?;
        apps.iter().map(|a| self.view(a)).collect()
    }

    fn view(&self, app: &ApplicationRecord) -> Result<ApplicationView, RegistrationError> {
        let form: ApplicationForm =
            serde_json::from_str(&app.form).map_err(|e| StoreError::Corrupt { column: "form", value: e.to_string() })?;
        let certificates = match app.pair_id {
            Some(id) => Some(self.pair_serials(id)?),
            None => None,
        };
        let time = |secs: i64| calendar::from_unix_seconds(secs).map(|t| calendar::rfc3339(&t)).unwrap_or_default();
        Ok(ApplicationView {
            number: app.number.clone(),
            state: app.state,
            submitted_at: time(app.submitted_at),
            expires_at: app.state.is_pending().then(|| time(app.submitted_at + CONFIRMATION_DAYS * DAY)),
            registration_center: app.center.clone(),
            storage: app.storage,
            applicant: form,
            approved_by: app.approved_by.clone(),
            reject_reason: app.reject_reason.clone(),
            certificates,
        })
    }

    fn pair_serials(&self, pair_id: i64) -> Result<PairSerials, RegistrationError> {
        let certs = self.ca.store().pair(pair_id)?;
        let find = |t: CertType| {
            certs
                .iter()
                .find(|c| c.cert_type == t)
                .map(|c| c.serial.clone())
                .ok_or(StoreError::Corrupt { column: "pair_id", value: pair_id.to_string() })
        };
        Ok(PairSerials { auth: find(CertType::Auth)?, sign: find(CertType::Sign)? })
    }

    /// The issued pair of an application, for the applicant's download: AUTH, SIGN.
    pub fn certificates(&mut self, number: &str, secret: &str) -> Result<(Certificate, Certificate), RegistrationError> {
        let app = self.authorized(number, secret)?;
        let pair_id = app.pair_id.ok_or_else(|| RegistrationError::NotIssued { number: app.number.clone(), state: app.state })?;
        let serials = self.pair_serials(pair_id)?;
        let load = |serial: &str| -> Result<Certificate, RegistrationError> {
            Ok(self.ca.certificate(serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.into()))?.1)
        };
        Ok((load(&serials.auth)?, load(&serials.sign)?))
    }

    /// Check a signed request: the CMS signature, its time, that the signer's SIGN
    /// certificate is ours and valid now, and that the request was not used before.
    pub fn verify(&mut self, envelope: &Envelope) -> Result<Verified, RegistrationError> {
        let (now, at) = self.now();
        let bytes = b64("request", &envelope.request, MAX_REQUEST_BYTES)?;
        let signature = b64("signature", &envelope.signature, cms::MAX_CMS_BYTES)?;
        let signed = cms::verify_detached(&signature, &bytes)?;
        let age = cms::age_seconds(&signed, now);
        if !(-SIGNED_REQUEST_MAX_SKEW..=SIGNED_REQUEST_MAX_AGE).contains(&age) {
            return Err(RegistrationError::Stale { signed: calendar::rfc3339(&signed.signing_time) });
        }
        let serial = hex::encode(signed.certificate.tbs_certificate.serial_number.as_bytes());
        let record = self.ca.store().certificate(&serial)?.ok_or(RegistrationError::UnknownSigner)?;
        let ours = der::Encode::to_der(&signed.certificate).map(|d| d == record.der).unwrap_or(false);
        if !ours || verify::verify_issued_by(&signed.certificate, &self.ca.certificates().issuing).is_err() {
            return Err(RegistrationError::UnknownSigner);
        }
        // Only our holders' signatures reach this table, so strangers cannot fill it.
        if !self.ca.store_mut().consume_request(&Sha256::digest(&bytes).into(), at)? {
            return Err(RegistrationError::Replay);
        }
        match record.status(at) {
            Status::Valid => {}
            other => return Err(RegistrationError::SignerNotValid { serial, status: other.as_str() }),
        }
        if record.cert_type != CertType::Sign {
            return Err(RegistrationError::NotASignKey);
        }
        let request: SignedRequest =
            serde_json::from_slice(&bytes).map_err(|e| RegistrationError::BadRequest(format!("the signed request is not valid: {e}")))?;
        if request.nonce.len() < 16 || request.nonce.len() > 256 {
            return Err(RegistrationError::BadRequest("the nonce must be 16 to 256 characters".into()));
        }
        Ok(Verified { request, signer: record, certificate: signed.certificate })
    }

    /// Check a signed request from an operator: [`Registration::verify`] plus the
    /// operator role in the signer's certificate.
    pub fn verify_operator(&mut self, envelope: &Envelope) -> Result<Verified, RegistrationError> {
        let v = self.verify(envelope)?;
        if !is_operator(&v.certificate) {
            return Err(RegistrationError::Forbidden(
                "the signer's certificate does not carry the operator role (1.2.398.3.3.4.2.3)".into(),
            ));
        }
        Ok(v)
    }

    /// A head's signed approval of application `number`.
    pub fn approve(&mut self, number: &str, envelope: &Envelope) -> Result<ApplicationView, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Approve { application } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes an approve request".into()));
        };
        same_application(number, application)?;
        let app = self.current(application)?;
        let to = app.state.after(Transition::Approve).map_err(|e| self.expired_or(&app, e))?;
        let form: ApplicationForm =
            serde_json::from_str(&app.form).map_err(|e| StoreError::Corrupt { column: "form", value: e.to_string() })?;
        let Some((bin, role)) = &v.signer.holder.entity else {
            return Err(RegistrationError::Forbidden("the approver's certificate is not a legal entity's".into()));
        };
        if Some(bin) != app.bin.as_ref() {
            return Err(RegistrationError::Forbidden(format!("the approver represents BIN {bin}, not the applicant's entity")));
        }
        let allowed = match form.role() {
            Some(Role::Employee) => matches!(role, Role::Ceo | Role::Hr),
            _ => *role == Role::Ceo,
        };
        if !allowed {
            return Err(RegistrationError::Forbidden(format!(
                "a {} may not approve this application: the first head approves, and the HR officer approves employees",
                role.as_str()
            )));
        }
        let (_, at) = self.now();
        let change = ApplicationChange { state: to, at, approved_by: Some(v.signer.serial.clone()), reject_reason: None };
        let event = AuditEvent::new(
            Actor::Holder(v.signer.serial.clone()),
            AuditAction::ApplicationApproved,
            &app.number,
            format!("by {}", role.as_str()),
        );
        self.apply_change(&app, &change, &event)?;
        self.show(&app.number)
    }

    fn expired_or(&self, app: &ApplicationRecord, e: IllegalTransition) -> RegistrationError {
        if app.state == ApplicationState::Expired {
            RegistrationError::Expired(app.number.clone())
        } else {
            e.into()
        }
    }

    fn apply_change(&mut self, app: &ApplicationRecord, change: &ApplicationChange, event: &AuditEvent) -> Result<(), RegistrationError> {
        match self.ca.store_mut().update_application(&app.number, app.state, change, None, event)? {
            Moved::Done { .. } => Ok(()),
            Moved::Stale => Err(RegistrationError::Conflict(app.number.clone())),
        }
    }

    /// An operator confirmed the applicant's identity in person: issue the pair.
    pub fn confirm(&mut self, number: &str, operator: Actor) -> Result<IssuedPair, RegistrationError> {
        let app = self.current(number)?;
        app.state.after(Transition::Confirm).map_err(|e| self.expired_or(&app, e))?;
        let (now, at) = self.now();
        let form: ApplicationForm =
            serde_json::from_str(&app.form).map_err(|e| StoreError::Corrupt { column: "form", value: e.to_string() })?;
        let applicant = form.applicant(Date::of(&now))?;
        let prepared = self.ca.prepare_pair(&applicant, &app.auth_csr, &app.sign_csr, now)?;
        let change = ApplicationChange { state: ApplicationState::Issued, at, approved_by: None, reject_reason: None };
        let event = AuditEvent::new(operator, AuditAction::IdentityConfirmed, &app.number, prepared.describe());
        match self.ca.store_mut().update_application(&app.number, app.state, &change, Some(&prepared.record), &event)? {
            Moved::Done { pair_id: Some(id) } => Ok(prepared.recorded(id)),
            _ => Err(RegistrationError::Conflict(app.number.clone())),
        }
    }

    /// An operator rejected the application, with a reason for the applicant.
    pub fn reject(&mut self, number: &str, reason: &str, operator: Actor) -> Result<ApplicationView, RegistrationError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 {
            return Err(RegistrationError::BadRequest("give a reason of 1 to 500 characters: the applicant reads it".into()));
        }
        let app = self.current(number)?;
        let to = app.state.after(Transition::Reject).map_err(|e| self.expired_or(&app, e))?;
        let (_, at) = self.now();
        let change = ApplicationChange { state: to, at, approved_by: None, reject_reason: Some(reason.to_string()) };
        let event = AuditEvent::new(operator, AuditAction::ApplicationRejected, &app.number, reason);
        self.apply_change(&app, &change, &event)?;
        self.show(number)
    }

    /// Renew the signer's pair: new certificates from new requests, the old pair
    /// revoked as superseded in the same transaction.
    pub fn renew(&mut self, envelope: &Envelope) -> Result<IssuedPair, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Renew { auth_csr, sign_csr } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a renew request".into()));
        };
        let info = CertificateInfo::of(&v.certificate);
        if info.identification != Some("in_person") {
            return Err(RegistrationError::NotRenewable(
                "the identity behind this certificate was not proven in person; apply again and visit a registration center".into(),
            ));
        }
        let (now, _) = self.now();
        let applicant = applicant_of(&info, &v.signer, Date::of(&now))?;
        let prepared = self.ca.prepare_pair(&applicant, &csr_bytes("auth_csr", auth_csr)?, &csr_bytes("sign_csr", sign_csr)?, now)?;
        let event = AuditEvent::new(
            Actor::Holder(v.signer.serial.clone()),
            AuditAction::PairRenewed,
            &v.signer.serial,
            format!("{}; old pair {} superseded", prepared.describe(), v.signer.pair_id),
        );
        let pair_id = self.ca.store_mut().renew_pair(&prepared.record, v.signer.pair_id, &event)?;
        Ok(prepared.recorded(pair_id))
    }

    /// The holder revokes their own pair with a signed request. Returns the serials revoked.
    pub fn revoke_own(&mut self, envelope: &Envelope) -> Result<Vec<String>, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Revoke { reason } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a revoke request".into()));
        };
        let reason: RevocationReason =
            reason.parse().map_err(|e: crate::revocation::UnknownReason| RegistrationError::BadRequest(e.to_string()))?;
        if matches!(reason, RevocationReason::CaCompromise | RevocationReason::AaCompromise | RevocationReason::PrivilegeWithdrawn) {
            return Err(RegistrationError::Forbidden(format!("{} is for the authority to declare, not the holder", reason.as_str())));
        }
        let (_, at) = self.now();
        // Both certificates, including one on hold: a hold becomes the final revocation.
        let on_hold_or_valid = |c: &CertificateRecord| c.revocation.is_none_or(|r| r.reason == RevocationReason::CertificateHold);
        let serials: Vec<String> = self.ca.store().pair(v.signer.pair_id)?.into_iter().filter(on_hold_or_valid).map(|c| c.serial).collect();
        let event =
            AuditEvent::new(Actor::Holder(v.signer.serial.clone()), AuditAction::CertificateRevoked, serials.join(","), reason.as_str());
        if self.ca.store_mut().revoke(&serials, Revocation::new(at, reason), &event)? != serials.len() {
            return Err(RegistrationError::Conflict(v.signer.serial));
        }
        Ok(serials)
    }

    /// An operator revokes one certificate (on a written request, or by the CA's decision).
    pub fn revoke(&mut self, serial: &str, reason: RevocationReason, operator: Actor) -> Result<(), RegistrationError> {
        self.revoke_since(serial, reason, None, operator)
    }

    /// An operator revokes one certificate whose key is known or suspected to be
    /// compromised since `invalid_since` (Unix seconds; the CRL's invalidity date).
    pub fn revoke_since(
        &mut self,
        serial: &str,
        reason: RevocationReason,
        invalid_since: Option<i64>,
        operator: Actor,
    ) -> Result<(), RegistrationError> {
        let serial = serial.trim().to_ascii_lowercase();
        let record = self.ca.store().certificate(&serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.clone()))?;
        match record.revocation {
            Some(r) if r.reason != RevocationReason::CertificateHold || reason == RevocationReason::CertificateHold => {
                return Err(RegistrationError::AlreadyRevoked(serial));
            }
            _ => {}
        }
        let (_, at) = self.now();
        let event = AuditEvent::new(operator, AuditAction::CertificateRevoked, &serial, reason.as_str());
        if invalid_since.is_some_and(|t| t > at) {
            return Err(RegistrationError::BadRequest("the invalidity date is in the future".into()));
        }
        let revocation = Revocation { at, reason, invalid_since };
        if self.ca.store_mut().revoke(std::slice::from_ref(&serial), revocation, &event)? != 1 {
            return Err(RegistrationError::AlreadyRevoked(serial));
        }
        Ok(())
    }

    /// Lift a certificateHold.
    pub fn unhold(&mut self, serial: &str, operator: Actor) -> Result<(), RegistrationError> {
        let serial = serial.trim().to_ascii_lowercase();
        self.ca.store().certificate(&serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.clone()))?;
        let (_, at) = self.now();
        let event = AuditEvent::new(operator, AuditAction::HoldLifted, &serial, "");
        if !self.ca.store_mut().unhold(&serial, at, &event)? {
            return Err(RegistrationError::NotOnHold(serial));
        }
        Ok(())
    }
}

/// Check that a signed request names the application the URL names.
pub fn same_application(path: &str, signed: &str) -> Result<(), RegistrationError> {
    if path != signed {
        return Err(RegistrationError::BadRequest(format!("the signed request names application {signed}, the URL {path}")));
    }
    Ok(())
}

/// The applicant a certificate was issued to, for its renewal: same person, same
/// entity and role, same staff role, identity proven in person.
fn applicant_of(info: &CertificateInfo, record: &CertificateRecord, today: Date) -> Result<Applicant, RegistrationError> {
    let o = &info.owner;
    let missing = |what: &str| RegistrationError::NotRenewable(format!("the certificate has no {what}"));
    let person = PersonName::new(
        o.surname.as_deref().ok_or_else(|| missing("surname"))?,
        o.name.as_deref().ok_or_else(|| missing("name"))?,
        o.patronymic.as_deref(),
    )?;
    let entity = match &record.holder.entity {
        Some((bin, role)) => Some(LegalEntity::new(bin, o.organization.as_deref().ok_or_else(|| missing("organization"))?, *role)?),
        None => None,
    };
    let applicant = Applicant::new(&record.holder.iin, person, o.email.as_deref(), entity, IdentificationMethod::InPerson, today)?;
    let staff = info.roles.iter().find_map(|r| r.parse::<StaffRole>().ok());
    Ok(match staff {
        Some(s) => applicant.with_staff_role(s),
        None => applicant,
    })
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Whether a certificate carries the operator role (for callers that hold one).
pub fn is_operator(cert: &Certificate) -> bool {
    CertificateInfo::of(cert).roles.contains(&StaffRole::Operator.as_str())
}

/// Parse a certificate given as PEM or DER.
pub fn certificate_from(bytes: &[u8]) -> Result<Certificate, RegistrationError> {
    let parsed = if bytes.starts_with(b"-----BEGIN") { der::DecodePem::from_pem(bytes) } else { Certificate::from_der(bytes) };
    parsed.map_err(|e| RegistrationError::BadRequest(format!("not a certificate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationState::*;

    #[test]
    fn state_machine_allows_only_the_documented_moves() {
        assert_eq!(Submitted.after(Transition::Route { needs_approval: true }), Ok(AwaitingHeadApproval));
        assert_eq!(Submitted.after(Transition::Route { needs_approval: false }), Ok(AwaitingIdentity));
        assert_eq!(AwaitingHeadApproval.after(Transition::Approve), Ok(AwaitingIdentity));
        assert_eq!(AwaitingIdentity.after(Transition::Confirm), Ok(Issued));
        for s in [Submitted, AwaitingHeadApproval, AwaitingIdentity] {
            assert_eq!(s.after(Transition::Reject), Ok(Rejected));
            assert_eq!(s.after(Transition::Expire), Ok(Expired));
        }
        // Everything else is refused, with the state and the attempt named.
        assert!(AwaitingHeadApproval.after(Transition::Confirm).is_err());
        assert!(AwaitingIdentity.after(Transition::Approve).is_err());
        for s in [Issued, Rejected, Expired] {
            for t in [
                Transition::Approve,
                Transition::Confirm,
                Transition::Reject,
                Transition::Expire,
                Transition::Route { needs_approval: false },
            ] {
                let e = s.after(t).unwrap_err();
                assert_eq!(e.from, s);
                assert!(e.to_string().contains(s.as_str()));
            }
        }
        for s in ApplicationState::ALL {
            assert_eq!(s.as_str().parse::<ApplicationState>(), Ok(s));
        }
    }
}
