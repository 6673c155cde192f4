//! Signed requests: what a holder or a member of staff asks, in the JSON that
//! they sign, and the signed bytes as the RA receives them. The signature covers
//! bytes, not values, so the RA itself parses the request from the bytes it checked;
//! this format is the RA's, and the applications API carries it unchanged.

use crate::cms::{self, CmsError};
use crate::model::{RevocationReason, Serial, StaffAction, StaffRole};
use crate::signing::Signer;
use der::DateTime;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use x509_cert::Certificate;

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
    /// The holder renews: new AUTH and SIGN requests, DER (base64 in the JSON;
    /// PEM is read too).
    Renew {
        /// AUTH CSR, DER.
        #[serde(with = "csr_text")]
        auth_csr: Vec<u8>,
        /// SIGN CSR, DER.
        #[serde(with = "csr_text")]
        sign_csr: Vec<u8>,
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
        /// At most this many (1 to [`super::MAX_PAGE`], default [`super::DEFAULT_PAGE`]).
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


/// A signed request as the RA takes it: the request's bytes and a detached CMS
/// signature over them, both DER/JSON as signed (no transport encoding).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEnvelope {
    /// The request JSON, exactly as signed.
    pub request: Vec<u8>,
    /// CMS SignedData, detached, DER.
    pub signature: Vec<u8>,
}

impl SignedEnvelope {
    /// Sign `request` with `signer` holding `cert`.
    pub fn sign(request: &SignedRequest, signer: &dyn Signer, cert: &Certificate, at: DateTime) -> Result<Self, CmsError> {
        let bytes = serde_json::to_vec(request).map_err(|e| CmsError::Malformed(e.to_string()))?;
        let signature = cms::sign_detached(&bytes, signer, cert, at)?;
        Ok(SignedEnvelope { request: bytes, signature })
    }
}

/// A certificate request inside a signed request: base64 of the DER when written,
/// PEM or base64 when read.
mod csr_text {
    use base64ct::{Base64, Encoding};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(der: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Base64::encode_string(der))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        crate::csr::from_text(&text).map_err(serde::de::Error::custom)
    }
}
