//! Reading OCSP responses: ours and anyone's.

use crate::OcspError;
use ca_core::verify::{self, SignatureError};
use ca_core::{calendar, oid};
use der::asn1::{AnyRef, ObjectIdentifier as Oid};
use der::{Decode, Encode, Reader, SliceReader};
use serde::Serialize;
use sha1::{Digest, Sha1};
use x509_cert::ext::pkix::ExtendedKeyUsage;
use x509_cert::Certificate;
use x509_ocsp::{BasicOcspResponse, CertStatus, OcspResponse, OcspResponseStatus, ResponderId};

/// EKU id-kp-OCSPSigning.
const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");

/// One answer of a response.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SingleInfo {
    /// Serial number.
    pub serial: ca_core::model::Serial,
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

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
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
        status: status_name(resp.response_status),
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
                    ca_core::model::RevocationReason::from_code(c as u8).map(|r| r.as_str().to_string()).unwrap_or_else(|| format!("{c:?}"))
                }),
            ),
        };
        let alg = r.cert_id.hash_algorithm.oid;
        info.responses.push(SingleInfo {
            serial: ca_core::model::Serial::from_der_bytes(r.cert_id.serial_number.as_bytes()),
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
    let signer = responder_certificate(&basic).ok_or(OcspError::NoResponderCertificate)?;
    info.responder = Some(verify::name_to_string(&signer.tbs_certificate.subject));
    let sig = basic.signature.as_bytes().ok_or(OcspError::Signature(SignatureError::Invalid))?;
    verify::verify_signature(&signer.tbs_certificate.subject_public_key_info, &basic.signature_algorithm, signed_part(raw)?, sig)?;
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
            verify::verify_issued_by(signer, ca).map_err(|e| OcspError::NotAuthorised(e.to_string()))?;
            if !has_ocsp_signing(signer) {
                return Err(OcspError::NotAuthorised("no OCSPSigning extended key usage".into()));
            }
        }
    }
    Ok(info)
}

/// The certificate the responder id names, among those the response carries.
fn responder_certificate(basic: &BasicOcspResponse) -> Option<&Certificate> {
    let certs = basic.certs.as_deref()?;
    certs.iter().find(|c| match &basic.tbs_response_data.responder_id {
        ResponderId::ByName(name) => &c.tbs_certificate.subject == name,
        ResponderId::ByKey(hash) => {
            Sha1::digest(c.tbs_certificate.subject_public_key_info.subject_public_key.raw_bytes()).as_slice() == hash.as_bytes()
        }
    })
}

fn has_ocsp_signing(cert: &Certificate) -> bool {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .filter(|e| e.extn_id == oid::EXT_EXTENDED_KEY_USAGE)
        .any(|e| ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).map(|eku| eku.0.contains(&KP_OCSP_SIGNING)).unwrap_or(false))
}

/// The bytes of the first element of a signed SEQUENCE, exactly as received: what
/// the signature covers.
fn signed_part(der: &[u8]) -> Result<&[u8], OcspError> {
    let malformed = |e: der::Error| OcspError::Malformed(e.to_string());
    let mut reader = SliceReader::new(der).map_err(malformed)?;
    let outer = der::Header::decode(&mut reader).map_err(malformed)?;
    let start = outer.encoded_len().map_err(malformed)?;
    let first: AnyRef<'_> = reader.decode().map_err(malformed)?;
    let len = usize::try_from(first.encoded_len().map_err(malformed)?).map_err(malformed)?;
    let start = usize::try_from(start).map_err(malformed)?;
    der.get(start..start + len).ok_or_else(|| OcspError::Malformed("truncated".into()))
}
