//! Why the registration authority refused, with a stable code for API clients and
//! the class of answer each deserves.

use super::{CONFIRMATION_DAYS, SIGNED_REQUEST_MAX_AGE};
use crate::cms::CmsError;
use crate::identity::IdentityError;
use crate::issuer::IssueError;
use crate::model::{ApplicationState, BadSerial, IllegalTransition, Serial, UnknownName};
use crate::profile::ProfileError;
use crate::store::StoreError;
use thiserror::Error;

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
    #[error(
        "the authority is locked: it was started without the CA passphrase and cannot issue; restart it with CA_PASSPHRASE or --passphrase-file"
    )]
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
            Issue(IssueError::KeyReused { .. }) => "key_reused",
            Store(StoreError::Busy) => "busy",
            Store(StoreError::Duplicate) => "conflict",
            Issue(_) | Store(_) => "internal_error",
            Locked => "authority_locked",
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
            Profile(_) | Identity(_) | BadRequest(_) | UnknownName(_) | BadSerial(_) | StorageNotAllowed => ErrorClass::Invalid,
            Issue(IssueError::Csr { .. } | IssueError::SameKeyTwice | IssueError::KeyReused { .. }) => ErrorClass::Invalid,
            Store(StoreError::Busy) => ErrorClass::Unavailable,
            Store(StoreError::Duplicate) => ErrorClass::Conflict,
            Issue(_) | Store(_) => ErrorClass::Internal,
            Locked => ErrorClass::Unavailable,
            NotFound | UnknownCertificate(_) => ErrorClass::NotFound,
            Illegal(_) | Expired(_) | Conflict(_) | NotIssued { .. } | NotRenewable(_) | AlreadyRevoked(_) | NotOnHold(_) | Replay => {
                ErrorClass::Conflict
            }
            Signature(_) | UnknownSigner | SignerNotValid { .. } | NotASignKey | Forbidden(_) | Stale { .. } => ErrorClass::Forbidden,
        }
    }
}
