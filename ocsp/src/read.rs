//! Reading OCSP responses: ours and anyone's.

use crate::OcspError;
use der::Decode;
use pki::verify::{self, revocation};
use pki::{calendar, oid};
use serde::Serialize;
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse};

/// One answer of a response.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SingleInfo {
    /// Serial number.
    pub serial: pki::model::Serial,
    /// CertID hash: `SHA-1`, `SHA-256` or the OID.
    pub hash_algorithm: String,
    /// `good`, `revoked` or `unknown`.
    pub status: &'static str,
    /// Revocation time, RFC 3339.
    pub revoked_at: Option<String>,
    /// Revocation reason (RFC 5280 name).
    pub reason: Option<String>,
    /// thisUpdate, RFC 3339.
    pub this_update: String,
    /// nextUpdate, RFC 3339.
    pub next_update: Option<String>,
}

/// An OCSP response as read.
#[derive(Clone, Debug, Serialize)]
pub struct ResponseInfo {
    /// Always `ocsp_response`.
    pub kind: &'static str,
    /// `successful`, `malformedRequest`, `internalError`, `tryLater`, `sigRequired`, `unauthorized`.
    pub status: &'static str,
    /// The responder certificate's subject, when included.
    pub responder: Option<String>,
    /// producedAt, RFC 3339.
    pub produced_at: Option<String>,
    /// The nonce echoed, hex.
    pub nonce: Option<String>,
    /// The answers.
    pub responses: Vec<SingleInfo>,
    /// Whether the signature verified under the included responder certificate
    /// (`None` for an error response, which is unsigned).
    pub signature_valid: Option<bool>,
}

fn t(g: &x509_ocsp::OcspGeneralizedTime) -> String {
    calendar::rfc3339(&g.0.to_date_time())
}

/// Decode an OCSP response. A successful one must be signed by a certificate it
/// carries, valid when the response was produced; with `issuer`, that certificate
/// must also be the issuer itself or carry OCSPSigning and be issued by it.
/// Returns the decoded response, or the reason it is not acceptable.
pub fn read_response(der: &[u8], issuer: Option<&Certificate>) -> Result<ResponseInfo, OcspError> {
    let resp = OcspResponse::from_der(der).map_err(|e| OcspError::Malformed(e.to_string()))?;
    let mut info = ResponseInfo {
        kind: "ocsp_response",
        status: revocation::response_status_name(resp.response_status),
        responder: None,
        produced_at: None,
        nonce: None,
        responses: Vec::new(),
        signature_valid: None,
    };
    let Some(bytes) = resp.response_bytes else {
        return Ok(info);
    };
    if bytes.response_type != oid::OCSP_BASIC {
        return Err(OcspError::UnsupportedType(bytes.response_type));
    }
    let raw = bytes.response.as_bytes();
    let basic = BasicOcspResponse::from_der(raw).map_err(|e| OcspError::Malformed(e.to_string()))?;
    let data = &basic.tbs_response_data;
    info.produced_at = Some(t(&data.produced_at));
    info.nonce = data.response_extensions.iter().flatten().find(|e| e.extn_id == oid::OCSP_NONCE).map(|e| {
        hex::encode(
            der::asn1::OctetString::from_der(e.extn_value.as_bytes())
                .map(|o| o.as_bytes().to_vec())
                .unwrap_or_else(|_| e.extn_value.as_bytes().to_vec()),
        )
    });
    for r in &data.responses {
        let (status, revoked_at, reason) = match &r.cert_status {
            CertStatus::Good(_) => ("good", None, None),
            CertStatus::Unknown(_) => ("unknown", None, None),
            CertStatus::Revoked(ri) => (
                "revoked",
                Some(t(&ri.revocation_time)),
                ri.revocation_reason.map(|c| {
                    pki::model::RevocationReason::from_code(c as u8).map(|r| r.as_str().to_string()).unwrap_or_else(|| format!("{c:?}"))
                }),
            ),
        };
        let alg = r.cert_id.hash_algorithm.oid;
        info.responses.push(SingleInfo {
            serial: pki::model::Serial::from_der_bytes(r.cert_id.serial_number.as_bytes()),
            hash_algorithm: match alg {
                oid::SHA1 => "SHA-1".into(),
                oid::SHA256 => "SHA-256".into(),
                other => other.to_string(),
            },
            status,
            revoked_at,
            reason,
            this_update: t(&r.this_update),
            next_update: r.next_update.as_ref().map(t),
        });
    }
    let signer = revocation::responder_certificate(&basic, None).ok_or(OcspError::NoResponderCertificate)?;
    info.responder = Some(verify::name_to_string(&signer.tbs_certificate.subject));
    verify::verify_signed(raw, &signer.tbs_certificate.subject_public_key_info, &basic.signature_algorithm, &basic.signature)?;
    info.signature_valid = Some(true);
    let produced = calendar::unix_seconds(&data.produced_at.0.to_date_time());
    let validity = &signer.tbs_certificate.validity;
    let (from, to) =
        (calendar::unix_seconds(&validity.not_before.to_date_time()), calendar::unix_seconds(&validity.not_after.to_date_time()));
    if produced < from || produced > to {
        return Err(OcspError::ResponderExpired(t(&data.produced_at)));
    }
    if let Some(ca) = issuer {
        if signer != ca {
            revocation::check_delegated_responder(signer, ca).map_err(OcspError::NotAuthorised)?;
        }
    }
    Ok(info)
}
