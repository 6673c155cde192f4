//! Logging people in with their AUTH certificate, the way the country's services
//! do: a challenge–response over CMS ([`Challenges`]: the service issues a nonce,
//! the user signs it with the AUTH key, the service gets back who they are), and,
//! with the `tls` feature, TLS client authentication ([`ClientVerifier`]: a
//! `rustls` client-certificate verifier applying the same path validation and
//! revocation).

use crate::cms::{self, CmsError};
use crate::model::{AnyRole, SubjectKind};
use crate::verify::{CertificateInfo, Checks, Owner, PathError, Purpose, Verifier};
use base64ct::{Base64, Encoding};
use std::collections::HashMap;
use std::sync::Mutex;
use thiserror::Error;
use x509_cert::Certificate;

/// How long a challenge may be answered, seconds, by default.
pub const CHALLENGE_SECONDS: i64 = 300;

/// At most this many challenges are outstanding; the oldest make room.
const MAX_OUTSTANDING: usize = 100_000;

/// Who logged in: read off their verified AUTH certificate.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// IIN, names, BIN, organization.
    #[serde(flatten)]
    pub owner: Owner,
    /// Individual or legal entity.
    pub subject_kind: Option<SubjectKind>,
    /// Roles (CEO, employee, …).
    pub roles: Vec<AnyRole>,
    /// The certificate's serial.
    pub serial: crate::model::Serial,
}

impl Identity {
    /// The identity a certificate states.
    pub fn of(cert: &Certificate) -> Self {
        let info = CertificateInfo::of(cert);
        Identity { owner: info.owner, subject_kind: info.subject_kind, roles: info.roles, serial: info.serial }
    }
}

/// Why a login was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The answer is not a valid signature.
    #[error("the answer is not a valid signature: {0}")]
    Signature(#[from] CmsError),
    /// It signs something that is not an outstanding challenge: never issued,
    /// already used (a replay), or expired.
    #[error("the answer signs no outstanding challenge (unknown, already used or expired)")]
    UnknownChallenge,
    /// One signer is expected.
    #[error("the answer must have exactly one signer, it has {0}")]
    Signers(usize),
    /// The certificate is not valid for logging in now (not an AUTH certificate,
    /// revoked, expired, unknown issuer, …).
    #[error("the certificate is not valid for logging in: {0}")]
    Certificate(#[from] PathError),
    /// The certificate names nobody (no IIN).
    #[error("the certificate names no person (no IIN)")]
    NoIdentity,
}

impl LoginError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            LoginError::Signature(e) => e.code(),
            LoginError::UnknownChallenge => "unknown_challenge",
            LoginError::Signers(_) => "signer_count",
            LoginError::Certificate(e) => e.problem.code(),
            LoginError::NoIdentity => "no_identity",
        }
    }
}

/// A challenge to sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// What the user signs (attached, with the AUTH key): ASCII, base64 of 32 random bytes.
    pub text: String,
    /// Until when it may be answered (Unix seconds).
    pub expires: i64,
}

/// The challenges a service has issued and not yet seen answered. Each is
/// accepted once.
pub struct Challenges {
    outstanding: Mutex<HashMap<String, i64>>,
    lifetime: i64,
}

impl Default for Challenges {
    fn default() -> Self {
        Self::new(CHALLENGE_SECONDS)
    }
}

impl Challenges {
    /// Challenges answerable for `lifetime` seconds.
    pub fn new(lifetime: i64) -> Self {
        Challenges { outstanding: Mutex::default(), lifetime }
    }

    /// A fresh challenge.
    pub fn issue(&self, now: i64) -> Challenge {
        let text = Base64::encode_string(&rand::random::<[u8; 32]>());
        let expires = now + self.lifetime;
        let mut out = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        if out.len() >= MAX_OUTSTANDING {
            out.retain(|_, e| *e >= now);
            if out.len() >= MAX_OUTSTANDING {
                out.clear();
            }
        }
        out.insert(text.clone(), expires);
        Challenge { text, expires }
    }

    /// Check an answer: a CMS signature with the challenge inside, one signer whose
    /// certificate `verifier` finds valid for logging in now. The challenge is used
    /// up whatever the outcome, so an answer cannot be tried twice.
    pub fn authenticate(&self, answer: &[u8], verifier: &Verifier, now: der::DateTime) -> Result<Identity, LoginError> {
        let doc = cms::SignedDocument::read(answer, None)?;
        let text = String::from_utf8_lossy(&doc.content).into_owned();
        let expires = self.outstanding.lock().unwrap_or_else(|p| p.into_inner()).remove(&text);
        match expires {
            Some(e) if e >= crate::calendar::unix_seconds(&now) => {}
            _ => return Err(LoginError::UnknownChallenge),
        }
        if doc.signer_count() != 1 {
            return Err(LoginError::Signers(doc.signer_count()));
        }
        let signed = doc.check_signers()?.remove(0);
        verifier.verify(&signed.certificate, doc.certificates(), &Checks { purpose: Purpose::Auth, at: now, at_is_proven: true, now })?;
        let identity = Identity::of(&signed.certificate);
        if identity.owner.iin.is_none() {
            return Err(LoginError::NoIdentity);
        }
        Ok(identity)
    }
}

#[cfg(feature = "tls")]
pub use tls::ClientVerifier;

#[cfg(feature = "tls")]
mod tls {
    use super::*;
    use crate::verify::Problem;
    use der::Decode;
    use rustls::client::danger::HandshakeSignatureValid;
    use rustls::crypto::WebPkiSupportedAlgorithms;
    use rustls::pki_types::{CertificateDer, UnixTime};
    use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
    use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};
    use std::sync::Arc;

    /// A `rustls` client-certificate verifier for national AUTH certificates: the
    /// path to the verifier's anchors, validity now, purpose `auth` and revocation,
    /// as [`Verifier`] decides. Clients without a certificate are refused.
    pub struct ClientVerifier {
        verifier: Arc<Verifier>,
        hints: Vec<DistinguishedName>,
        algorithms: WebPkiSupportedAlgorithms,
    }

    impl std::fmt::Debug for ClientVerifier {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ClientVerifier")
        }
    }

    impl ClientVerifier {
        /// A verifier deciding with `verifier`.
        pub fn new(verifier: Arc<Verifier>) -> Self {
            use der::Encode;
            let hints = verifier
                .trust()
                .anchors()
                .iter()
                .filter_map(|a| a.tbs_certificate.subject.to_der().ok())
                .map(DistinguishedName::from)
                .collect();
            let algorithms = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
            ClientVerifier { verifier, hints, algorithms }
        }

        /// The identity of a client whose certificate this verifier accepted
        /// (`ServerConnection::peer_certificates()`'s first).
        pub fn identity(cert: &CertificateDer<'_>) -> Option<Identity> {
            Certificate::from_der(cert.as_ref()).ok().map(|c| Identity::of(&c))
        }
    }

    fn rustls_error(e: &PathError) -> Error {
        Error::InvalidCertificate(match &e.problem {
            Problem::Expired { .. } => CertificateError::Expired,
            Problem::NotYetValid { .. } => CertificateError::NotValidYet,
            Problem::Revoked { .. } => CertificateError::Revoked,
            Problem::UnknownIssuer => CertificateError::UnknownIssuer,
            Problem::Signature(_) => CertificateError::BadSignature,
            Problem::UnsupportedCriticalExtension(_) => CertificateError::UnhandledCriticalExtension,
            Problem::KeyUsage { .. } | Problem::ExtendedKeyUsage { .. } => CertificateError::InvalidPurpose,
            _ => CertificateError::Other(rustls::OtherError(Arc::new(e.clone()))),
        })
    }

    impl ClientCertVerifier for ClientVerifier {
        fn root_hint_subjects(&self) -> &[DistinguishedName] {
            &self.hints
        }

        fn verify_client_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            now: UnixTime,
        ) -> Result<ClientCertVerified, Error> {
            let bad = || Error::InvalidCertificate(CertificateError::BadEncoding);
            let cert = Certificate::from_der(end_entity.as_ref()).map_err(|_| bad())?;
            let extra =
                intermediates.iter().map(|c| Certificate::from_der(c.as_ref()).map_err(|_| bad())).collect::<Result<Vec<_>, _>>()?;
            let at = crate::calendar::from_unix_seconds(now.as_secs() as i64).ok_or_else(bad)?;
            self.verifier.verify(&cert, &extra, &Checks::at(Purpose::Auth, at)).map_err(|e| rustls_error(&e))?;
            Ok(ClientCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    }
}
