//! The registration authority (RA): applications and their state machine, head
//! approvals, identity confirmation, renewal and revocation requests, and every
//! policy check on them. It never touches a private key: a [`Registration`] holds
//! a store handle, the [`Issuer`] (when the CA key is loaded) and a clock as peers,
//! and what it approves is recorded by the store together with the audit record
//! that says why.
//!
//! An application moves `Submitted → (AwaitingHeadApproval →) AwaitingIdentity →
//! Issued`, or to `Rejected` / `Expired` ([`CONFIRMATION_DAYS`] without
//! confirmation); [`ApplicationState::after`] is the only place that knows which
//! moves are legal. Reads never write: an application whose time is up reads as
//! expired, and [`Registration::expire_due`] (a scheduled job) records it; a write
//! to such an application records the expiry and is refused.

mod application;
mod clock;
mod error;
mod request;

pub use application::{ApplicantDetails, ApplicationStatus, EntityDetails, PairSerials, PendingApplications, Receipt, Submission};
pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{ErrorClass, RegistrationError};
pub use request::{SignedAction, SignedEnvelope, SignedRequest};

use crate::audit::{Actor, AuditAction, AuditEvent};
use crate::calendar::{self, Date};
use crate::cms;
use crate::issuer::{IssuedPair, Issuer};
use crate::model::{
    ApplicationState, CertType, IdentificationMethod, KeyStorage, RevocationReason, Role, Serial, StaffAction, StaffRole, Transition,
};
use crate::profile::{Applicant, LegalEntity, PersonName};
use crate::store::{
    ApplicationChange, ApplicationRecord, ApplicationStore, AuditStore, CertificateRecord, CertificateStore, Moved, Page, Revocation,
    Status, StoreError,
};
use crate::verify::{self, CertificateInfo};
use base64ct::{Base64UrlUnpadded, Encoding};
use der::{DateTime, Decode};
use rand::RngCore;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

/// Days an application waits for the applicant's visit before it expires.
pub const CONFIRMATION_DAYS: i64 = 30;
/// How old a signed request may be when it arrives, in seconds.
pub const SIGNED_REQUEST_MAX_AGE: i64 = 600;
/// How far in the future a signed request's time may be (clock skew), in seconds.
pub const SIGNED_REQUEST_MAX_SKEW: i64 = 300;
/// The largest signed request body accepted, in bytes (two CSRs fit easily).
pub const MAX_REQUEST_BYTES: usize = 64 * 1024;
/// Longest registration center name, in characters.
pub const MAX_CENTER: usize = 128;
/// Longest reason an operator gives for a rejection, in characters.
pub const MAX_REJECT_REASON: usize = 500;
/// Applications a page of the operators' queue holds at most.
pub const MAX_PAGE: u32 = 500;
/// Applications a page holds unless asked otherwise.
pub const DEFAULT_PAGE: u32 = 100;

const DAY: i64 = 86_400;

/// What the RA needs of storage: certificates, and applications with the replay table.
pub trait RegistrationStore: CertificateStore + ApplicationStore + AuditStore {}
impl<T: CertificateStore + ApplicationStore + AuditStore> RegistrationStore for T {}

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

/// A signed request past the checks that bound its cost; see `Registration::admit`.
struct Admitted<'e> {
    bytes: &'e [u8],
    certificate: Certificate,
    serial: Serial,
    record: CertificateRecord,
    at: i64,
}

/// The signer's status and key type, and the request's content.
fn check_admitted(admitted: Admitted<'_>) -> Result<Verified, RegistrationError> {
    let Admitted { bytes, certificate, serial, record, at } = admitted;
    match record.status(at) {
        Status::Valid => {}
        other => return Err(RegistrationError::SignerNotValid { serial, status: other.as_str() }),
    }
    if record.cert_type != CertType::Sign {
        return Err(RegistrationError::NotASignKey);
    }
    let request: SignedRequest =
        serde_json::from_slice(bytes).map_err(|e| RegistrationError::BadRequest(format!("the signed request is not valid: {e}")))?;
    if request.nonce.len() < 16 || request.nonce.len() > 256 {
        return Err(RegistrationError::BadRequest("the nonce must be 16 to 256 characters".into()));
    }
    Ok(Verified { request, signer: record, certificate })
}

/// The staff member a verified request comes from, when their role allows what it asks.
fn staff_member(v: Verified) -> Result<(StaffMember, SignedAction), RegistrationError> {
    let Some(wanted) = v.request.action.staff_action() else {
        return Err(RegistrationError::BadRequest("this is not a staff request".into()));
    };
    let role = CertificateInfo::of(&v.certificate).roles.iter().find_map(|r| match r {
        crate::model::AnyRole::Staff(s) => Some(*s),
        crate::model::AnyRole::Entity(_) => None,
    });
    let Some(role) = role else {
        return Err(RegistrationError::Forbidden("the signer's certificate carries no staff role (1.2.398.3.3.4.2.x)".into()));
    };
    if !role.may(wanted) {
        return Err(RegistrationError::Forbidden(format!("{} may not {}", with_article(role), wanted.as_str().replace('_', " "))));
    }
    Ok((StaffMember { serial: v.signer.serial, role }, v.request.action))
}

/// What a signed request asks, for the record of a refusal ("" when it does not say).
fn asked_action(bytes: &[u8]) -> String {
    let value = serde_json::from_slice::<serde_json::Value>(bytes).ok();
    value.as_ref().and_then(|v| v.get("action")).and_then(|a| a.as_str()).unwrap_or_default().to_string()
}

/// The request bytes of `envelope` and who signed them, checked.
fn opened(envelope: &SignedEnvelope) -> Result<(&[u8], cms::SignedBy), RegistrationError> {
    if envelope.request.len() > MAX_REQUEST_BYTES {
        return Err(RegistrationError::BadRequest(format!("the request is larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let signed = cms::verify_detached(&envelope.signature, &envelope.request)?;
    Ok((&envelope.request, signed))
}

/// A member of the authority's staff whose signed request was verified and whose
/// role allows it. Only [`Registration::authorize`] makes one, so no staff action
/// runs on a name alone.
#[derive(Clone, Debug)]
pub struct StaffMember {
    serial: Serial,
    role: StaffRole,
}

impl StaffMember {
    /// The serial of the SIGN certificate that signed.
    pub fn serial(&self) -> &Serial {
        &self.serial
    }
    /// The role the certificate carries.
    pub fn role(&self) -> StaffRole {
        self.role
    }
    /// How the audit log names them: by their certificate.
    pub fn actor(&self) -> Actor {
        Actor::Operator(self.serial.to_string())
    }
}

/// The applicant an application form describes, checked on `today`.
pub fn applicant_of(form: &ApplicantDetails, today: Date) -> Result<Applicant, RegistrationError> {
    let person = PersonName::new(&form.surname, &form.name, form.patronymic.as_deref().filter(|p| !p.trim().is_empty()))?;
    let entity = match &form.entity {
        None => None,
        Some(e) => Some(LegalEntity::new(&e.bin, &e.organization, e.role)?),
    };
    Ok(Applicant::new(&form.iin, person, form.email.as_deref(), entity, IdentificationMethod::InPerson, today)?)
}

fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn form_of(app: &ApplicationRecord) -> Result<ApplicantDetails, StoreError> {
    serde_json::from_str(&app.form).map_err(|e| StoreError::Corrupt { column: "form", value: e.to_string() })
}

/// Whether a pending application's time is up at `at`.
fn is_due(app: &ApplicationRecord, at: i64) -> bool {
    app.state.is_pending() && at >= app.submitted_at + CONFIRMATION_DAYS * DAY
}

/// The registration authority at work: a store handle, the issuing CAs'
/// certificates (to check signed requests), the issuer when the CA keys are
/// loaded, and a clock.
pub struct Registration<'a> {
    store: &'a mut dyn RegistrationStore,
    issuing_cas: &'a [Certificate],
    issuer: Option<&'a Issuer>,
    clock: &'a dyn Clock,
}

impl<'a> Registration<'a> {
    /// The RA over `store`, checking signatures against `issuing_cas` (the RSA and
    /// the GOST issuing CA), telling time by `clock`. It cannot issue until given
    /// an issuer ([`Registration::with_issuer`]).
    pub fn new(store: &'a mut dyn RegistrationStore, issuing_cas: &'a [Certificate], clock: &'a dyn Clock) -> Self {
        Registration { store, issuing_cas, issuer: None, clock }
    }

    /// The same RA, able to issue through `issuer`.
    pub fn with_issuer(self, issuer: &'a Issuer) -> Self {
        Registration { issuer: Some(issuer), ..self }
    }

    /// The store, read-only.
    pub fn store(&self) -> &dyn RegistrationStore {
        self.store
    }

    fn issuer(&self) -> Result<&'a Issuer, RegistrationError> {
        self.issuer.ok_or(RegistrationError::Locked)
    }

    fn now(&self) -> (DateTime, i64) {
        let now = self.clock.now();
        (now, calendar::unix_seconds(&now))
    }

    /// Accept an application: check the applicant and both requests, route it.
    pub fn submit(&mut self, submission: &Submission) -> Result<Receipt, RegistrationError> {
        let Submission { applicant: form, auth_csr, sign_csr } = submission;
        let (now, at) = self.now();
        let applicant = applicant_of(form, Date::of(&now))?;
        if form.storage == KeyStorage::Idcard && applicant.entity().is_some() {
            return Err(RegistrationError::StorageNotAllowed);
        }
        let center = crate::profile::free_text("registration_center", &form.registration_center, MAX_CENTER)?;
        // The same checks issuance will make, now, so a bad request fails at once.
        let (auth, sign) = crate::issuer::check_requests(self.store, auth_csr, sign_csr)?;
        // Nor may a key wait in another pending application: the second would fail
        // only at confirmation, after the applicant's visit.
        for (which, req) in [(CertType::Auth, &auth), (CertType::Sign, &sign)] {
            if self.store.key_pending(&req.key_fingerprint())? {
                return Err(RegistrationError::KeyPending(which));
            }
        }
        let needs_approval = applicant.entity().is_some_and(|e| e.role() != Role::Ceo);
        let state = ApplicationState::Submitted.after(Transition::Route { needs_approval })?;
        let secret = Base64UrlUnpadded::encode_string(&random_bytes::<24>());
        let number = self.fresh_number()?;
        let mut form = form.clone();
        form.registration_center = center;
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
        self.store.insert_application(&record, &event)?;
        Ok(Receipt { number, secret: secret.into(), state })
    }

    fn fresh_number(&self) -> Result<String, RegistrationError> {
        for _ in 0..16 {
            let n = u64::from_be_bytes(random_bytes::<8>()) % 10_000_000_000_000_000;
            let number = format!("{n:016}");
            if self.store.application(&number)?.is_none() {
                return Ok(number);
            }
        }
        Err(RegistrationError::Conflict("no free application number".into()))
    }

    /// Record the expiry of every pending application older than
    /// [`CONFIRMATION_DAYS`]; returns how many. A scheduled job: reads show such
    /// applications as expired already.
    pub fn expire_due(&mut self) -> Result<usize, RegistrationError> {
        let (_, at) = self.now();
        let mut n = 0;
        for state in [ApplicationState::AwaitingHeadApproval, ApplicationState::AwaitingIdentity, ApplicationState::Submitted] {
            for app in self.store.applications(Some(state), None, &Page::default())? {
                if is_due(&app, at) && self.expire(&app)? {
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
        Ok(self.store.update_application(&app.number, app.state, &change, None, &event)? != Moved::Stale)
    }

    /// The application `number` as it stands now, for reading: one whose time is up
    /// reads as expired, without writing.
    fn read(&self, number: &str) -> Result<ApplicationRecord, RegistrationError> {
        let mut app = self.store.application(number)?.ok_or(RegistrationError::NotFound)?;
        if is_due(&app, self.now().1) {
            app.state = ApplicationState::Expired;
        }
        Ok(app)
    }

    /// The application `number`, for changing: one whose time is up is expired first
    /// (recorded), so the change is refused as expired.
    fn current(&mut self, number: &str) -> Result<ApplicationRecord, RegistrationError> {
        let app = self.store.application(number)?.ok_or(RegistrationError::NotFound)?;
        if is_due(&app, self.now().1) {
            self.expire(&app)?;
            return self.store.application(number)?.ok_or(RegistrationError::NotFound);
        }
        Ok(app)
    }

    /// The applicant's view, given the number and the secret from the receipt.
    pub fn status(&self, number: &str, secret: &str) -> Result<ApplicationStatus, RegistrationError> {
        let app = self.authorized(number, secret)?;
        self.view(&app)
    }

    fn authorized(&self, number: &str, secret: &str) -> Result<ApplicationRecord, RegistrationError> {
        if number.len() > 32 || secret.len() > 128 {
            return Err(RegistrationError::NotFound);
        }
        let app = self.read(number)?;
        // Both sides are SHA-256 digests: comparing them leaks nothing about the secret.
        if app.secret_hash != secret_hash(secret) {
            return Err(RegistrationError::NotFound);
        }
        Ok(app)
    }

    /// An operator's (or the console's) view of any application.
    pub fn show(&self, number: &str) -> Result<ApplicationStatus, RegistrationError> {
        let app = self.read(number)?;
        self.view(&app)
    }

    /// Applications in `state` (pending identity confirmation when `None`), of one
    /// center if given, oldest first, each as it stands now.
    pub fn list(&self, state: Option<ApplicationState>, center: Option<&str>) -> Result<Vec<ApplicationStatus>, RegistrationError> {
        let state = state.unwrap_or(ApplicationState::AwaitingIdentity);
        let at = self.now().1;
        // Pending applications whose time is up read as expired: leave them out of
        // their stored state, and add them to the expired.
        let stored: Vec<ApplicationState> = match state {
            ApplicationState::Expired => ApplicationState::ALL.into_iter().filter(|s| s.is_pending() || *s == state).collect(),
            other => vec![other],
        };
        let mut apps = Vec::new();
        for s in stored {
            for mut app in self.store.applications(Some(s), center, &Page::default())? {
                if is_due(&app, at) {
                    app.state = ApplicationState::Expired;
                }
                if app.state == state {
                    apps.push(app);
                }
            }
        }
        apps.sort_by(|a, b| (a.submitted_at, &a.number).cmp(&(b.submitted_at, &b.number)));
        apps.iter().map(|a| self.view(a)).collect()
    }

    /// A page of the applications awaiting identity confirmation, oldest first:
    /// at most `limit` (1 to [`MAX_PAGE`], default [`DEFAULT_PAGE`]) after
    /// application `after`. Those whose time is up are left out.
    pub fn pending_page(
        &self,
        center: Option<&str>,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<PendingApplications, RegistrationError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(RegistrationError::BadRequest(format!("a page holds 1 to {MAX_PAGE} applications")));
        }
        let page = Page { after: after.map(str::to_string), limit: Some(limit) };
        let rows = self.store.applications(Some(ApplicationState::AwaitingIdentity), center, &page)?;
        let next = (rows.len() == limit as usize).then(|| rows.last().map(|a| a.number.clone())).flatten();
        let at = self.now().1;
        let applications = rows.iter().filter(|a| !is_due(a, at)).map(|a| self.view(a)).collect::<Result<_, _>>()?;
        Ok(PendingApplications { applications, next })
    }

    fn view(&self, app: &ApplicationRecord) -> Result<ApplicationStatus, RegistrationError> {
        let mut form = form_of(app)?;
        form.registration_center.clone_from(&app.center);
        form.storage = app.storage;
        let certificates = match app.pair_id {
            Some(id) => Some(self.pair_serials(id)?),
            None => None,
        };
        Ok(ApplicationStatus {
            number: app.number.clone(),
            state: app.state,
            submitted_at: app.submitted_at,
            expires_at: app.state.is_pending().then_some(app.submitted_at + CONFIRMATION_DAYS * DAY),
            applicant: form,
            approved_by: app.approved_by.clone(),
            reject_reason: app.reject_reason.clone(),
            certificates,
        })
    }

    fn pair_serials(&self, pair_id: i64) -> Result<PairSerials, RegistrationError> {
        let certs = self.store.pair(pair_id)?;
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
    pub fn certificates(&self, number: &str, secret: &str) -> Result<(Certificate, Certificate), RegistrationError> {
        let app = self.authorized(number, secret)?;
        let pair_id = app.pair_id.ok_or_else(|| RegistrationError::NotIssued { number: app.number.clone(), state: app.state })?;
        let serials = self.pair_serials(pair_id)?;
        let load = |serial: &Serial| -> Result<Certificate, RegistrationError> {
            Ok(self.store.certificate(serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.clone()))?.certificate()?)
        };
        Ok((load(&serials.auth)?, load(&serials.sign)?))
    }

    /// Check a signed request: the CMS signature, its time, that the signer's SIGN
    /// certificate is ours and valid now, and that the request was not used before.
    pub fn verify(&mut self, envelope: &SignedEnvelope) -> Result<Verified, RegistrationError> {
        let admitted = self.admit(envelope)?;
        check_admitted(admitted)
    }

    /// The checks that bound what a request can cost: the CMS signature, the time
    /// window, a signer we issued, and the request's first use (consumed here).
    fn admit<'e>(&mut self, envelope: &'e SignedEnvelope) -> Result<Admitted<'e>, RegistrationError> {
        let (now, at) = self.now();
        let (bytes, signed) = opened(envelope)?;
        let age = cms::age_seconds(&signed, now);
        if !(-SIGNED_REQUEST_MAX_SKEW..=SIGNED_REQUEST_MAX_AGE).contains(&age) {
            return Err(RegistrationError::Stale { signed: signed.signing_time.as_ref().map(calendar::rfc3339).unwrap_or_default() });
        }
        let (serial, record) = self.our_signer(&signed)?;
        // Only our holders' signatures reach this table, so strangers cannot fill it.
        if !self.store.consume_request(&Sha256::digest(bytes).into(), at)? {
            return Err(RegistrationError::Replay);
        }
        Ok(Admitted { bytes, certificate: signed.certificate, serial, record, at })
    }

    /// The stored record of the certificate that signed: exactly one we issued.
    fn our_signer(&self, signed: &cms::SignedBy) -> Result<(Serial, CertificateRecord), RegistrationError> {
        let serial = Serial::of(&signed.certificate);
        let record = self.store.certificate(&serial)?.ok_or(RegistrationError::UnknownSigner)?;
        let ours = der::Encode::to_der(&signed.certificate).map(|d| d == record.der).unwrap_or(false);
        if !ours || !self.issuing_cas.iter().any(|ca| verify::verify_issued_by(&signed.certificate, ca).is_ok()) {
            return Err(RegistrationError::UnknownSigner);
        }
        Ok((serial, record))
    }

    /// Check a staff request: [`Registration::verify`], then that the signer's
    /// certificate carries a staff role (1.2.398.3.3.4.2.x) that may do what the
    /// request asks. A refusal is recorded in the audit log, with the signer's
    /// serial, only once the envelope has passed the checks that bound its cost (a
    /// signature by one of our holders, within the time window, not seen before):
    /// strangers, stale envelopes and replays are refused without a record, so no
    /// one can grow the log faster than they sign new requests.
    pub fn authorize(&mut self, envelope: &SignedEnvelope) -> Result<(StaffMember, SignedAction), RegistrationError> {
        let admitted = self.admit(envelope)?;
        let (serial, at) = (admitted.serial.clone(), admitted.at);
        let asked = asked_action(admitted.bytes);
        let refusal = match check_admitted(admitted).and_then(staff_member) {
            Ok(done) => return Ok(done),
            Err(e) => e,
        };
        let event = AuditEvent::new(Actor::Operator(serial.to_string()), AuditAction::StaffRefused, asked, refusal.to_string());
        self.store.record_event(at, &event)?;
        Err(refusal)
    }

    /// Whether the CA key holder may add the first administrator: while no valid
    /// administrator certificate exists. The audit log names the key holder.
    pub fn first_administrator(&self) -> Result<Actor, RegistrationError> {
        let now = self.now().1;
        let filter = crate::store::ListFilter { staff: true, status: Some(crate::store::StatusFilter::Valid), now, ..Default::default() };
        if self.store.list(&filter)?.iter().any(|c| c.holder.staff == Some(StaffRole::Administrator)) {
            return Err(RegistrationError::Forbidden(
                "an administrator exists: staff are added with an administrator's signed request".into(),
            ));
        }
        Ok(Actor::KeyHolder)
    }

    /// A head's signed approval of application `number`.
    pub fn approve(&mut self, number: &str, envelope: &SignedEnvelope) -> Result<ApplicationStatus, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Approve { application } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes an approve request".into()));
        };
        same_application(number, application)?;
        let app = self.current(application)?;
        let to = app.state.after(Transition::Approve).map_err(|e| expired_or(&app, e))?;
        let form = form_of(&app)?;
        let Some((bin, role)) = &v.signer.holder.entity else {
            return Err(RegistrationError::Forbidden("the approver's certificate is not a legal entity's".into()));
        };
        if Some(bin) != app.bin.as_ref() {
            return Err(RegistrationError::Forbidden(format!("the approver represents BIN {bin}, not the applicant's entity")));
        }
        let allowed = match form.entity.as_ref().map(|e| e.role) {
            Some(Role::Employee) => matches!(role, Role::Ceo | Role::Hr),
            _ => *role == Role::Ceo,
        };
        if !allowed {
            return Err(RegistrationError::Forbidden(format!(
                "{} may not approve this application: the first head approves, and the HR officer approves employees",
                with_article(role)
            )));
        }
        let (_, at) = self.now();
        let change = ApplicationChange { state: to, at, approved_by: Some(v.signer.serial.clone()), reject_reason: None };
        let event = AuditEvent::new(
            Actor::Holder(v.signer.serial.to_string()),
            AuditAction::ApplicationApproved,
            &app.number,
            format!("by {role}"),
        );
        self.apply_change(&app, &change, &event)?;
        self.show(&app.number)
    }

    fn apply_change(&mut self, app: &ApplicationRecord, change: &ApplicationChange, event: &AuditEvent) -> Result<(), RegistrationError> {
        match self.store.update_application(&app.number, app.state, change, None, event)? {
            Moved::Done { .. } => Ok(()),
            Moved::Stale => Err(RegistrationError::Conflict(app.number.clone())),
        }
    }

    /// An operator confirmed the applicant's identity in person: issue the pair.
    pub fn confirm(&mut self, number: &str, operator: &StaffMember) -> Result<IssuedPair, RegistrationError> {
        let app = self.current(number)?;
        app.state.after(Transition::Confirm).map_err(|e| match app.state {
            ApplicationState::AwaitingHeadApproval => RegistrationError::AwaitingApproval(app.number.clone()),
            _ => expired_or(&app, e),
        })?;
        let issuer = self.issuer()?;
        let (now, at) = self.now();
        let applicant = applicant_of(&form_of(&app)?, Date::of(&now))?;
        let prepared = issuer.prepare_pair(self.store, &applicant, &app.auth_csr, &app.sign_csr, now)?;
        let change = ApplicationChange { state: ApplicationState::Issued, at, approved_by: None, reject_reason: None };
        let event = AuditEvent::new(operator.actor(), AuditAction::IdentityConfirmed, &app.number, prepared.describe());
        match self.store.update_application(&app.number, app.state, &change, Some(prepared.record()), &event)? {
            Moved::Done { pair_id: Some(id) } => Ok(prepared.recorded(id)),
            _ => Err(RegistrationError::Conflict(app.number.clone())),
        }
    }

    /// An operator rejected the application, with a reason for the applicant.
    pub fn reject(&mut self, number: &str, reason: &str, operator: &StaffMember) -> Result<ApplicationStatus, RegistrationError> {
        let reason = crate::profile::free_text("reason", reason, MAX_REJECT_REASON).map_err(|e| {
            RegistrationError::BadRequest(format!("give a reason of 1 to {MAX_REJECT_REASON} characters, the applicant reads it: {e}"))
        })?;
        let app = self.current(number)?;
        let to = app.state.after(Transition::Reject).map_err(|e| expired_or(&app, e))?;
        let (_, at) = self.now();
        let change = ApplicationChange { state: to, at, approved_by: None, reject_reason: Some(reason.clone()) };
        let event = AuditEvent::new(operator.actor(), AuditAction::ApplicationRejected, &app.number, &reason);
        self.apply_change(&app, &change, &event)?;
        self.show(number)
    }

    /// Renew the signer's pair: new certificates from new requests, the old pair
    /// revoked as superseded in the same transaction.
    pub fn renew(&mut self, envelope: &SignedEnvelope) -> Result<IssuedPair, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Renew { auth_csr, sign_csr } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a renew request".into()));
        };
        let info = CertificateInfo::of(&v.certificate);
        if info.identification != Some(IdentificationMethod::InPerson) {
            return Err(RegistrationError::NotRenewable(
                "the identity behind this certificate was not proven in person; apply again and visit a registration center".into(),
            ));
        }
        let issuer = self.issuer()?;
        let (now, _) = self.now();
        let applicant = renewal_applicant(&info, &v.signer, Date::of(&now))?;
        let prepared = issuer.prepare_pair(self.store, &applicant, auth_csr, sign_csr, now)?;
        let event = AuditEvent::new(
            Actor::Holder(v.signer.serial.to_string()),
            AuditAction::PairRenewed,
            v.signer.serial.to_string(),
            format!("{}; old pair {} superseded", prepared.describe(), v.signer.pair_id),
        );
        let pair_id = self.store.renew_pair(prepared.record(), v.signer.pair_id, &event)?;
        Ok(prepared.recorded(pair_id))
    }

    /// The holder revokes their own pair with a signed request. Returns the serials revoked.
    pub fn revoke_own(&mut self, envelope: &SignedEnvelope) -> Result<Vec<Serial>, RegistrationError> {
        let v = self.verify(envelope)?;
        let SignedAction::Revoke { reason } = &v.request.action else {
            return Err(RegistrationError::BadRequest("this endpoint takes a revoke request".into()));
        };
        let reason: RevocationReason = reason.parse()?;
        if reason.is_authority_only() {
            return Err(RegistrationError::Forbidden(format!("{reason} is for the authority to declare, not the holder")));
        }
        let (_, at) = self.now();
        // Both certificates, including one on hold: a hold becomes the final revocation.
        let on_hold_or_valid = |c: &CertificateRecord| c.revocation.is_none_or(|r| r.reason == RevocationReason::CertificateHold);
        let serials: Vec<Serial> = self.store.pair(v.signer.pair_id)?.into_iter().filter(on_hold_or_valid).map(|c| c.serial).collect();
        let listed = serials.iter().map(Serial::as_str).collect::<Vec<_>>().join(",");
        let event = AuditEvent::new(Actor::Holder(v.signer.serial.to_string()), AuditAction::CertificateRevoked, listed, reason.as_str());
        if self.store.revoke(&serials, Revocation::new(at, reason), &event)? != serials.len() {
            return Err(RegistrationError::Conflict(v.signer.serial.to_string()));
        }
        Ok(serials)
    }

    /// A manager revokes one certificate (on a written request, or by the CA's
    /// decision), whose key may be known or suspected to be compromised since
    /// `invalid_since` (Unix seconds; the CRL's invalidity date). A staff member's
    /// certificate only an administrator revokes.
    pub fn revoke_since(
        &mut self,
        serial: &Serial,
        reason: RevocationReason,
        invalid_since: Option<i64>,
        operator: &StaffMember,
    ) -> Result<(), RegistrationError> {
        let record = self.store.certificate(serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.clone()))?;
        if record.holder.staff.is_some() && !operator.role.may(StaffAction::ManageStaff) {
            return Err(RegistrationError::Forbidden(format!(
                "{} may not revoke a staff member's certificate",
                with_article(operator.role)
            )));
        }
        match record.revocation {
            Some(r) if r.reason != RevocationReason::CertificateHold || reason == RevocationReason::CertificateHold => {
                return Err(RegistrationError::AlreadyRevoked(serial.clone()));
            }
            _ => {}
        }
        let (_, at) = self.now();
        if invalid_since.is_some_and(|t| t > at) {
            return Err(RegistrationError::BadRequest("the invalidity date is in the future".into()));
        }
        let event = AuditEvent::new(operator.actor(), AuditAction::CertificateRevoked, serial.to_string(), reason.as_str());
        let revocation = Revocation { at, reason, invalid_since };
        if self.store.revoke(std::slice::from_ref(serial), revocation, &event)? != 1 {
            return Err(RegistrationError::AlreadyRevoked(serial.clone()));
        }
        Ok(())
    }

    /// Lift a certificateHold.
    pub fn unhold(&mut self, serial: &Serial, operator: &StaffMember) -> Result<(), RegistrationError> {
        self.store.certificate(serial)?.ok_or_else(|| RegistrationError::UnknownCertificate(serial.clone()))?;
        let (_, at) = self.now();
        let event = AuditEvent::new(operator.actor(), AuditAction::HoldLifted, serial.to_string(), "");
        if !self.store.unhold(serial, at, &event)? {
            return Err(RegistrationError::NotOnHold(serial.clone()));
        }
        Ok(())
    }
}

/// "a ceo", "an employee", "an hr": the role's name with its article, by sound.
fn with_article(role: impl std::fmt::Display) -> String {
    let name = role.to_string();
    let vowel_sound = name.starts_with(['a', 'e', 'i', 'o', 'u']) || name == "hr";
    format!("{} {name}", if vowel_sound { "an" } else { "a" })
}

fn expired_or(app: &ApplicationRecord, e: crate::model::IllegalTransition) -> RegistrationError {
    if app.state == ApplicationState::Expired {
        RegistrationError::Expired(app.number.clone())
    } else {
        e.into()
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
fn renewal_applicant(info: &CertificateInfo, record: &CertificateRecord, today: Date) -> Result<Applicant, RegistrationError> {
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
    let staff = info.roles.iter().find_map(|r| match r {
        crate::model::AnyRole::Staff(s) => Some(*s),
        crate::model::AnyRole::Entity(_) => None,
    });
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

/// Parse a certificate given as PEM or DER.
pub fn certificate_from(bytes: &[u8]) -> Result<Certificate, RegistrationError> {
    let bad = |e: String| RegistrationError::BadRequest(format!("not a certificate: {e}"));
    if crate::pem::is_pem(bytes) {
        let (_, der) = crate::pem::decode(bytes).map_err(|e| bad(e.to_string()))?;
        return Certificate::from_der(&der).map_err(|e| bad(e.to_string()));
    }
    Certificate::from_der(bytes).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StaffRole;

    /// The RA takes and returns its own types: the applications API's bodies are
    /// converted at the edge, never here.
    #[test]
    fn the_ra_names_no_wire_type() {
        let wire = concat!("crate::", "api");
        for (file, text) in [
            ("mod.rs", include_str!("mod.rs")),
            ("application.rs", include_str!("application.rs")),
            ("request.rs", include_str!("request.rs")),
            ("error.rs", include_str!("error.rs")),
            ("clock.rs", include_str!("clock.rs")),
        ] {
            // The code, without its comments and its tests (which check the two agree).
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let uses = code.lines().filter(|l| !l.trim_start().starts_with("//")).any(|l| l.contains(wire));
            assert!(!uses, "registration/{file} uses the wire types");
        }
    }

    #[test]
    fn roles_take_the_article_they_sound_with() {
        assert_eq!(with_article(Role::Employee), "an employee");
        assert_eq!(with_article(Role::Hr), "an hr");
        assert_eq!(with_article(Role::Ceo), "a ceo");
        assert_eq!(with_article(Role::Financial), "a financial");
        assert_eq!(with_article(StaffRole::Operator), "a ca_operator");
    }
}
