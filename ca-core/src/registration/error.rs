//! Why the registration authority refused, with a stable code for API clients and
//! the class of answer each deserves.

use super::{CONFIRMATION_DAYS, SIGNED_REQUEST_MAX_AGE};
use crate::cms::CmsError;
use crate::identity::IdentityError;
use crate::issuer::IssueError;
use crate::model::{ApplicationState, BadSerial, CertType, IllegalTransition, Serial, UnknownName};
use crate::profile::ProfileError;
use crate::store::StoreError;
use thiserror::Error;

/// Why the RA refused. [`RegistrationError::code`] is stable for API clients.
#[derive(Debug, Error)]
#[non_exhaustive]
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
    /// A key already in an application that waits to be issued.
    #[error("the {0} key is already in a pending application; generate new keys for a new application, or follow the one that is pending")]
    KeyPending(CertType),
    /// An ID card holds keys of individuals only.
    #[error("an ID card can hold only an individual's keys; choose pc or kaztoken storage for a legal entity")]
    StorageNotAllowed,
    /// A field is missing or malformed.
    #[error("{0}")]
    BadRequest(String),
    /// A name (role, reason, state) that is not one of its kind.
    #[error(transparent)]
    UnknownName(#[from] UnknownName),
    /// A serial number that is not one.
    #[error(transparent)]
    BadSerial(#[from] BadSerial),
    /// No such application, or the secret is wrong (deliberately indistinguishable).
    #[error("no application with this number and secret")]
    NotFound,
    /// The state machine refuses.
    #[error("{0}")]
    Illegal(#[from] IllegalTransition),
    /// The 30 days are over.
    #[error("application {0} expired: it was not confirmed within {CONFIRMATION_DAYS} days; the applicant must apply again")]
    Expired(String),
    /// Confirmed before the entity's head approved.
    #[error(
        "application {0} awaits the approval of the legal entity's head (the HR officer for an employee): the head must approve it first; confirm the identity after that"
    )]
    AwaitingApproval(String),
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
    #[error("the signing certificate {serial} is not valid ({status}); sign with a valid certificate")]
    SignerNotValid {
        /// Serial.
        serial: Serial,
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
    UnknownCertificate(Serial),
    /// Revoking what is revoked.
    #[error("certificate {0} is already revoked")]
    AlreadyRevoked(Serial),
    /// Lifting a hold that is not there.
    #[error("certificate {0} is not on hold (certificateHold); nothing to lift")]
    NotOnHold(Serial),
    /// The database failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Issuing needs the CA key, and this service was started without it.
    #[error("the authority is locked: it was started without the CA passphrase and cannot issue")]
    Locked,
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
    /// Not possible now on this server (the CA key is not loaded).
    Unavailable,
    /// Our fault.
    Internal,
}

impl RegistrationError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        use RegistrationError::*;
        match self {
            Profile(_) | Identity(_) => "invalid_application",
            BadRequest(_) | UnknownName(_) | BadSerial(_) => "invalid_request",
            Issue(IssueError::Csr { .. }) => "invalid_csr",
            Issue(IssueError::SameKeyTwice) => "same_key_twice",
            Issue(IssueError::KeyReused { .. }) | KeyPending(_) => "key_reused",
            Store(StoreError::Busy | StoreError::Unavailable(_))
            | Issue(IssueError::Store(StoreError::Busy | StoreError::Unavailable(_))) => "busy",
            Store(StoreError::Duplicate) => "conflict",
            Issue(_) | Store(_) => "internal_error",
            Locked => "authority_locked",
            StorageNotAllowed => "storage_not_allowed",
            NotFound => "not_found",
            Illegal(_) => "wrong_state",
            Expired(_) => "application_expired",
            AwaitingApproval(_) => "awaiting_head_approval",
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

    /// For `invalid_application`: what is wrong, finer than the code (see
    /// [`crate::api::ErrorDetail::reason`]).
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            RegistrationError::Profile(e) => e.reason(),
            RegistrationError::Identity(e) => Some(e.reason()),
            _ => None,
        }
    }

    /// The application form's field at fault, when one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RegistrationError::Profile(e) => e.field(),
            RegistrationError::Identity(e) => Some(e.field()),
            RegistrationError::StorageNotAllowed => Some("storage"),
            _ => None,
        }
    }

    /// How to answer it.
    pub fn class(&self) -> ErrorClass {
        use RegistrationError::*;
        match self {
            Profile(_) | Identity(_) | BadRequest(_) | UnknownName(_) | BadSerial(_) | StorageNotAllowed | KeyPending(_) => {
                ErrorClass::Invalid
            }
            Issue(IssueError::Csr { .. } | IssueError::SameKeyTwice | IssueError::KeyReused { .. }) => ErrorClass::Invalid,
            Store(StoreError::Busy | StoreError::Unavailable(_))
            | Issue(IssueError::Store(StoreError::Busy | StoreError::Unavailable(_))) => ErrorClass::Unavailable,
            Store(StoreError::Duplicate) => ErrorClass::Conflict,
            Issue(_) | Store(_) => ErrorClass::Internal,
            Locked => ErrorClass::Unavailable,
            NotFound | UnknownCertificate(_) => ErrorClass::NotFound,
            Illegal(_)
            | Expired(_)
            | AwaitingApproval(_)
            | Conflict(_)
            | NotIssued { .. }
            | NotRenewable(_)
            | AlreadyRevoked(_)
            | NotOnHold(_)
            | Replay => ErrorClass::Conflict,
            Signature(_) | UnknownSigner | SignerNotValid { .. } | NotASignKey | Forbidden(_) | Stale { .. } => ErrorClass::Forbidden,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csr::CsrError;
    use crate::identity::NumberKind;
    use crate::model::{Transition, UnknownName};

    /// One of each kind of refusal the registration authority gives.
    fn one_of_each() -> Vec<RegistrationError> {
        let serial = Serial::parse("01").unwrap();
        let number = || "0000000000000001".to_string();
        vec![
            ProfileError::Empty("surname").into(),
            IdentityError::CheckDigit { kind: NumberKind::Iin }.into(),
            IssueError::Csr { which: CertType::Auth, source: CsrError::TooLarge(1) }.into(),
            IssueError::SameKeyTwice.into(),
            IssueError::KeyReused { which: CertType::Sign, serial: serial.clone() }.into(),
            IssueError::NoSerial.into(),
            RegistrationError::StorageNotAllowed,
            RegistrationError::KeyPending(CertType::Auth),
            RegistrationError::BadRequest(String::new()),
            UnknownName { what: "role", name: String::new(), expected: String::new() }.into(),
            BadSerial(String::new()).into(),
            RegistrationError::NotFound,
            IllegalTransition { from: ApplicationState::Issued, transition: Transition::Confirm }.into(),
            RegistrationError::Expired(number()),
            RegistrationError::AwaitingApproval(number()),
            RegistrationError::NotIssued { number: number(), state: ApplicationState::AwaitingIdentity },
            RegistrationError::Conflict(number()),
            CmsError::NotDetached.into(),
            RegistrationError::UnknownSigner,
            RegistrationError::SignerNotValid { serial: serial.clone(), status: "revoked" },
            RegistrationError::NotASignKey,
            RegistrationError::Forbidden(String::new()),
            RegistrationError::Stale { signed: String::new() },
            RegistrationError::Replay,
            RegistrationError::NotRenewable(String::new()),
            RegistrationError::UnknownCertificate(serial.clone()),
            RegistrationError::AlreadyRevoked(serial.clone()),
            RegistrationError::NotOnHold(serial),
            StoreError::Busy.into(),
            StoreError::Duplicate.into(),
            StoreError::File(String::new()).into(),
            RegistrationError::Locked,
        ]
    }

    /// Which kind of refusal `e` is, by a match with no wildcard: a new variant (of
    /// this enum, or of the issuer's and the store's errors, whose variants have
    /// codes of their own) does not compile until it has a kind here, and then
    /// [`one_of_each`] must hold one of that kind.
    fn kind(e: &RegistrationError) -> usize {
        use RegistrationError::*;
        match e {
            Profile(_) => 0,
            Identity(_) => 1,
            Issue(IssueError::Csr { .. }) => 2,
            Issue(IssueError::SameKeyTwice) => 3,
            Issue(IssueError::KeyReused { .. }) => 4,
            Issue(
                IssueError::NoSerial
                | IssueError::KeyMismatch
                | IssueError::NoCa { .. }
                | IssueError::Profile(_)
                | IssueError::Signing(_)
                | IssueError::Lint(_)
                | IssueError::Store(_),
            ) => 5,
            KeyPending(_) => 6,
            StorageNotAllowed => 7,
            BadRequest(_) => 8,
            UnknownName(_) => 9,
            BadSerial(_) => 10,
            NotFound => 11,
            Illegal(_) => 12,
            Expired(_) => 13,
            AwaitingApproval(_) => 14,
            NotIssued { .. } => 15,
            Conflict(_) => 16,
            Signature(_) => 17,
            UnknownSigner => 18,
            SignerNotValid { .. } => 19,
            NotASignKey => 20,
            Forbidden(_) => 21,
            Stale { .. } => 22,
            Replay => 23,
            NotRenewable(_) => 24,
            UnknownCertificate(_) => 25,
            AlreadyRevoked(_) => 26,
            NotOnHold(_) => 27,
            Store(StoreError::Busy | StoreError::Unavailable(_)) => 28,
            Store(StoreError::Duplicate) => 29,
            Store(
                StoreError::Sqlite(_) | StoreError::Postgres(_) | StoreError::TooNew { .. } | StoreError::File(_) | StoreError::Corrupt { .. },
            ) => 30,
            Locked => 31,
        }
    }
    const KINDS: usize = 32;

    #[test]
    fn one_of_each_holds_every_kind() {
        let mut seen = [false; KINDS];
        for e in one_of_each() {
            seen[kind(&e)] = true;
        }
        let missing: Vec<usize> = (0..KINDS).filter(|k| !seen[*k]).collect();
        assert!(missing.is_empty(), "one_of_each lacks the kinds {missing:?} of fn kind");
    }

    /// A database between primaries is unavailable (503, `busy`) wherever the RA
    /// meets it, the issuer's checks included: never an internal error.
    #[test]
    fn an_unavailable_database_is_busy_wherever_it_is_met() {
        let outage = || StoreError::Unavailable("the primary is gone".into());
        for e in [RegistrationError::Store(outage()), RegistrationError::Issue(IssueError::Store(outage()))] {
            assert_eq!((e.code(), e.class()), ("busy", ErrorClass::Unavailable), "{e:?}");
        }
    }

    #[test]
    fn no_message_names_a_flag_or_a_command() {
        // The library says what is wrong; the programs say what to type.
        use crate::authority::AuthorityError;
        let path = || std::path::PathBuf::from("x");
        let authority = [
            AuthorityError::AlreadyExists(path()),
            AuthorityError::NotInitialised(path()),
            AuthorityError::RootKeyOffline(path()),
            AuthorityError::NoHierarchy(crate::model::Family::Gost),
        ];
        let messages = one_of_each().iter().map(|e| e.to_string()).chain(authority.iter().map(|e| e.to_string())).collect::<Vec<_>>();
        for m in messages {
            assert!(!m.contains("--") && !m.contains("`ca ") && !m.contains("CA_PASSPHRASE"), "{m}");
        }
    }

    #[test]
    fn every_code_is_one_the_api_documents() {
        for e in one_of_each() {
            assert!(crate::api::ERROR_CODES.contains(&e.code()), "{} ({e}) is not in api::ERROR_CODES", e.code());
        }
    }

    #[test]
    fn application_data_errors_name_their_reason_and_field() {
        let e: RegistrationError = IdentityError::CheckDigit { kind: NumberKind::Bin }.into();
        assert_eq!((e.code(), e.reason(), e.field()), ("invalid_application", Some("mistyped"), Some("bin")));
        let e: RegistrationError = ProfileError::TooLong { field: "surname and name together", len: 70, max: 64 }.into();
        assert_eq!((e.reason(), e.field()), (Some("too_long"), Some("surname")));
        let e: RegistrationError = ProfileError::Identity(IdentityError::CenturyDigit(9)).into();
        assert_eq!((e.reason(), e.field()), (Some("century_digit"), Some("iin")));
        assert_eq!((RegistrationError::Replay.reason(), RegistrationError::Replay.field()), (None, None));
    }
}
