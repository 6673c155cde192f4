//! How a command fails: every library error becomes a [`CliError`] with the exit
//! status the contract promises — 1 for a refusal (bad input, policy, a signature
//! that does not verify), 2 for a usage error, 3 for an internal failure — a stable
//! code, and a message that says what was wrong and what to do.

use ca_core::authority::AuthorityError;
use ca_core::cms::CmsError;
use ca_core::crl::{CrlError, CrlReadError};
use ca_core::identity::IdentityError;
use ca_core::issuer::IssueError;
use ca_core::model::{BadSerial, UnknownName};
use ca_core::pkcs12::Pkcs12Error;
use ca_core::profile::ProfileError;
use ca_core::registration::{ErrorClass, RegistrationError};
use ca_core::signing::SigningError;
use ca_core::store::StoreError;
use std::fmt;
use std::path::Path;

/// The exit status of a failed command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Refused: bad input, policy, an invalid signature or verdict.
    Refused = 1,
    /// The command line itself is wrong.
    Usage = 2,
    /// Something failed that the input did not cause: a damaged database, a full disk,
    /// an unreachable or failing server.
    Internal = 3,
}

/// A failed command.
#[derive(Debug)]
pub struct CliError {
    /// The exit status.
    pub exit: Exit,
    /// Stable machine-readable code, printed with `--json`.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The command already printed its document (a verdict that is not valid):
    /// only the message goes out, on stderr.
    pub printed: bool,
}

impl CliError {
    /// A refusal.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        CliError { exit: Exit::Refused, code, message: message.into(), printed: false }
    }

    /// A verdict that is not valid, after its document was printed: exit 1.
    pub fn verdict(code: &'static str, message: impl Into<String>) -> Self {
        CliError { printed: true, ..CliError::refused(code, message) }
    }

    /// An internal failure.
    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        CliError { exit: Exit::Internal, code, message: message.into(), printed: false }
    }

    /// A usage error the argument parser could not catch.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError { exit: Exit::Usage, code: "usage", message: message.into(), printed: false }
    }

    /// The same error, its message prefixed with what was being done.
    pub fn context(self, doing: impl fmt::Display) -> Self {
        CliError { message: format!("{doing}: {}", self.message), ..self }
    }

    /// A file the user named could not be read.
    pub fn reading(path: &Path, e: std::io::Error) -> Self {
        CliError::refused("cannot_read", format!("reading {}: {e}", path.display()))
    }

    /// A file could not be written.
    pub fn writing(path: &Path, e: impl fmt::Display) -> Self {
        CliError::internal("cannot_write", format!("writing {}: {e}", path.display()))
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Result of a command.
pub type CliResult<T> = Result<T, CliError>;

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate => CliError::refused("conflict", e.to_string()),
            StoreError::Unavailable(_) => CliError::internal("database_unavailable", e.to_string()),
            _ => CliError::internal("database", e.to_string()),
        }
    }
}

impl From<SigningError> for CliError {
    fn from(e: SigningError) -> Self {
        match e {
            SigningError::Decrypt | SigningError::WeakPassphrase { .. } | SigningError::PassphraseFile { .. } => {
                CliError::refused("passphrase", e.to_string())
            }
            _ => CliError::internal("signing", e.to_string()),
        }
    }
}

impl From<ProfileError> for CliError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Der(_) => CliError::internal("encoding", e.to_string()),
            _ => CliError::refused("invalid_applicant", e.to_string()),
        }
    }
}

impl From<IdentityError> for CliError {
    fn from(e: IdentityError) -> Self {
        CliError::refused("invalid_applicant", e.to_string())
    }
}

impl From<UnknownName> for CliError {
    fn from(e: UnknownName) -> Self {
        CliError::refused("unknown_name", e.to_string())
    }
}

impl From<BadSerial> for CliError {
    fn from(e: BadSerial) -> Self {
        CliError::refused("bad_serial", e.to_string())
    }
}

impl From<IssueError> for CliError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Csr { .. } => CliError::refused("invalid_csr", e.to_string()),
            IssueError::SameKeyTwice => CliError::refused("same_key_twice", e.to_string()),
            IssueError::KeyReused { .. } => CliError::refused("key_reused", e.to_string()),
            IssueError::Profile(p) => p.into(),
            IssueError::Store(s) => s.into(),
            IssueError::Signing(s) => s.into(),
            IssueError::Lint(_) => CliError::internal("lint", e.to_string()),
            IssueError::NoCa { .. } => CliError::refused("no_ca_for_key", e.to_string()),
            // NoSerial, KeyMismatch, and what the issuer may refuse in a later version.
            _ => CliError::internal("issuer", e.to_string()),
        }
    }
}

impl From<AuthorityError> for CliError {
    fn from(e: AuthorityError) -> Self {
        match e {
            AuthorityError::AlreadyExists(_) => {
                CliError::refused("already_exists", format!("{e}; use --force to move it aside and start over"))
            }
            AuthorityError::NotInitialised(_) => CliError::refused("not_initialised", format!("{e}: run `ca init` first")),
            AuthorityError::RootKeyOffline(_) => {
                CliError::refused("root_key_offline", format!("{e}; give the directory that holds it (--root-key DIR)"))
            }
            AuthorityError::Io { .. } | AuthorityError::Damaged { .. } => CliError::internal("authority_files", e.to_string()),
            AuthorityError::Signing(s) => s.into(),
            AuthorityError::Profile(p) => p.into(),
            AuthorityError::Store(s) => s.into(),
            AuthorityError::Crl(c) => c.into(),
            AuthorityError::Issue(i) => i.into(),
            AuthorityError::Certificate(c) => CliError::internal("certificate", c.to_string()),
            AuthorityError::NoHierarchy(_) => CliError::refused("no_hierarchy", format!("{e}; `ca init --force` makes both")),
            _ => CliError::internal("authority", e.to_string()),
        }
    }
}

impl From<RegistrationError> for CliError {
    fn from(e: RegistrationError) -> Self {
        let code = e.code();
        // What to do next, in the terms of this program (the library names no flags).
        let hint = match &e {
            RegistrationError::AwaitingApproval(_) => " (the head signs it with `ca enroll approve`)",
            RegistrationError::Locked => "; give the CA passphrase (CA_PASSPHRASE or --passphrase-file)",
            _ => "",
        };
        let message = format!("{e}{hint}");
        match e.class() {
            ErrorClass::Internal => CliError::internal(code, message),
            _ => CliError::refused(code, message),
        }
    }
}

impl From<CrlError> for CliError {
    fn from(e: CrlError) -> Self {
        match e {
            CrlError::NoBase => CliError::refused("no_base_crl", e.to_string()),
            CrlError::NoIssuer(_) => CliError::refused("no_hierarchy", e.to_string()),
            CrlError::Store(s) => s.into(),
            CrlError::Signing(s) => s.into(),
            CrlError::Profile(p) => p.into(),
            _ => CliError::internal("encoding", e.to_string()),
        }
    }
}

impl From<CrlReadError> for CliError {
    fn from(e: CrlReadError) -> Self {
        match e {
            CrlReadError::Signature(_) => CliError::refused("bad_signature", e.to_string()),
            _ => CliError::refused("not_a_crl", e.to_string()),
        }
    }
}

impl From<ocsp::OcspError> for CliError {
    fn from(e: ocsp::OcspError) -> Self {
        CliError::refused("ocsp_response", e.to_string())
    }
}

impl From<Pkcs12Error> for CliError {
    fn from(e: Pkcs12Error) -> Self {
        let code = match e {
            Pkcs12Error::WrongPassword => "wrong_password",
            Pkcs12Error::Damaged(_) => "damaged_file",
            Pkcs12Error::Malformed(_) => "not_pkcs12",
            _ => "key_store",
        };
        CliError::refused(code, e.to_string())
    }
}

impl From<CmsError> for CliError {
    fn from(e: CmsError) -> Self {
        match e {
            CmsError::Signing(s) => s.into(),
            _ => CliError::refused(e.code(), e.to_string()),
        }
    }
}

impl From<ca_core::xml::dsig::DsigError> for CliError {
    fn from(e: ca_core::xml::dsig::DsigError) -> Self {
        match e {
            ca_core::xml::dsig::DsigError::Signing(s) => s.into(),
            _ => CliError::refused(e.code(), e.to_string()),
        }
    }
}

impl From<der::Error> for CliError {
    fn from(e: der::Error) -> Self {
        CliError::internal("encoding", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_map_to_the_contract_exit_codes() {
        let refused: CliError = AuthorityError::NotInitialised("x".into()).into();
        assert_eq!(refused.exit, Exit::Refused);
        let wrong: CliError = AuthorityError::Signing(SigningError::Decrypt).into();
        assert_eq!((wrong.exit, wrong.code), (Exit::Refused, "passphrase"));
        let db: CliError = StoreError::Corrupt { column: "x", value: "y".into() }.into();
        assert_eq!(db.exit, Exit::Internal);
        let locked: CliError = RegistrationError::Locked.into();
        assert_eq!((locked.exit, locked.code), (Exit::Refused, "authority_locked"));
        let stale: CliError = RegistrationError::Store(StoreError::Corrupt { column: "x", value: "y".into() }).into();
        assert_eq!(stale.exit, Exit::Internal);
        assert_eq!(CliError::usage("x").exit as i32, 2);
        assert_eq!(refused.context("opening").message, "opening: x holds no certification authority: run `ca init` first");
    }
}
