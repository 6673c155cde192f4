//! Time-stamps (RFC 3161): the requests a client sends, the answers a
//! time-stamp authority gives ([`TimeStampAuthority`]), and checking a token
//! against the data it stamps ([`check_response`], and [`crate::cms::check_time_stamp_token`]
//! inside signatures).

use crate::cms::{self, CmsError, Content, MessageImprint, TstInfo};
use crate::oid;
use crate::signing::Signer;
use der::asn1::{Any, BitString, GeneralizedTime, ObjectIdentifier as Oid, Uint};
use der::{DateTime, Decode, Encode, Sequence};
use thiserror::Error;
use x509_cert::ext::Extensions;
use x509_cert::Certificate;

/// Requests larger than this are refused (a request is about a hundred bytes).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// TimeStampReq (RFC 3161 §2.4.1).
#[derive(Clone, Debug, Sequence)]
pub struct TimeStampReq {
    /// 1.
    pub version: u8,
    /// What to stamp.
    pub message_imprint: MessageImprint,
    /// The policy asked for.
    #[asn1(optional = "true")]
    pub req_policy: Option<Oid>,
    /// A nonce to echo.
    #[asn1(optional = "true")]
    pub nonce: Option<Uint>,
    /// Whether to include the authority's certificate.
    #[asn1(default = "Default::default")]
    pub cert_req: bool,
    /// Extensions (none is supported).
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    pub extensions: Option<Extensions>,
}

/// PKIStatusInfo (RFC 3161 §2.4.2, from RFC 4210).
#[derive(Clone, Debug, Sequence)]
pub struct PkiStatusInfo {
    /// 0 granted, 1 grantedWithMods, 2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification.
    pub status: u8,
    /// Text for people.
    #[asn1(optional = "true")]
    pub status_string: Option<Vec<String>>,
    /// Why it was refused.
    #[asn1(optional = "true")]
    pub fail_info: Option<BitString>,
}

/// TimeStampResp (RFC 3161 §2.4.2).
#[derive(Clone, Debug, Sequence)]
pub struct TimeStampResp {
    /// The status.
    pub status: PkiStatusInfo,
    /// The token (a ContentInfo of SignedData over TSTInfo) when granted.
    #[asn1(optional = "true")]
    pub time_stamp_token: Option<Any>,
}

/// Why a time-stamp request is refused (RFC 3161 PKIFailureInfo bits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A hash algorithm not accepted.
    BadAlg = 0,
    /// Not a request.
    BadRequest = 2,
    /// The imprint's length does not fit its algorithm.
    BadDataFormat = 5,
    /// A policy this authority does not follow.
    UnacceptedPolicy = 15,
    /// An extension it does not know.
    UnacceptedExtension = 16,
    /// It could not sign.
    SystemFailure = 25,
}

impl Failure {
    fn bits(self) -> Option<BitString> {
        let bit = self as usize;
        let mut bytes = vec![0u8; bit / 8 + 1];
        bytes[bit / 8] = 0x80 >> (bit % 8);
        // DER: a named bit list drops its trailing zero bits.
        BitString::new((7 - bit % 8) as u8, bytes).ok()
    }

    fn text(self) -> &'static str {
        match self {
            Failure::BadAlg => "the hash algorithm is not accepted: use SHA-256, SHA-384, SHA-512 or Streebog-512",
            Failure::BadRequest => "not a time-stamp request",
            Failure::BadDataFormat => "the imprint's length does not fit its hash algorithm",
            Failure::UnacceptedPolicy => "this authority does not follow the policy asked for",
            Failure::UnacceptedExtension => "request extensions are not supported",
            Failure::SystemFailure => "the time-stamp could not be signed",
        }
    }
}

/// A request for `data`'s SHA-256 with a fresh 8-byte nonce, asking for the
/// authority's certificate; returns the request and its nonce.
pub fn request(data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), CmsError> {
    let mut nonce = rand::random::<[u8; 8]>().to_vec();
    nonce[0] &= 0x7f;
    nonce[0] |= 0x01;
    let req = TimeStampReq {
        version: 1,
        message_imprint: MessageImprint::of(oid::SHA256, data)?,
        req_policy: None,
        nonce: Some(Uint::new(&nonce)?),
        cert_req: true,
        extensions: None,
    };
    Ok((req.to_der()?, nonce))
}

/// Why a time-stamp answer was not accepted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TspError {
    /// Not a TimeStampResp.
    #[error("not a time-stamp response: {0}")]
    Malformed(String),
    /// The authority refused.
    #[error("the time-stamp authority refused: {0}")]
    Refused(String),
    /// The token does not verify, or stamps something else.
    #[error(transparent)]
    Token(#[from] CmsError),
    /// The nonce sent is not the one echoed.
    #[error("the time-stamp does not echo the request's nonce")]
    NonceMismatch,
}

/// Check a response to a request for `data` with `nonce`: granted, its token
/// verifying over `data`, the nonce echoed. Returns the token (DER) and what it says.
pub fn check_response(der: &[u8], data: &[u8], nonce: Option<&[u8]>) -> Result<(Vec<u8>, cms::TimeStamp), TspError> {
    let resp = TimeStampResp::from_der(der).map_err(|e| TspError::Malformed(e.to_string()))?;
    if resp.status.status > 1 {
        let text = resp.status.status_string.map(|s| s.join("; ")).unwrap_or_else(|| format!("status {}", resp.status.status));
        return Err(TspError::Refused(text));
    }
    let token = resp
        .time_stamp_token
        .ok_or_else(|| TspError::Malformed("granted without a token".into()))?
        .to_der()
        .map_err(|e| TspError::Malformed(e.to_string()))?;
    let stamp = cms::check_time_stamp_token(&token, data)?;
    if let Some(sent) = nonce {
        let trim = |b: &[u8]| b.iter().skip_while(|x| **x == 0).copied().collect::<Vec<u8>>();
        if stamp.nonce.as_deref().map(trim) != Some(trim(sent)) {
            return Err(TspError::NonceMismatch);
        }
    }
    Ok((token, stamp))
}

/// A time-stamp authority: its key, its certificate (extended key usage
/// timeStamping) and chain, and the policy it stamps under.
pub struct TimeStampAuthority {
    signer: Box<dyn Signer>,
    certificate: Certificate,
    chain: Vec<Certificate>,
    policy: Oid,
}

impl TimeStampAuthority {
    /// An authority signing with `signer`, whose certificate is `certificate`.
    pub fn new(signer: Box<dyn Signer>, certificate: Certificate, chain: Vec<Certificate>, policy: Oid) -> Self {
        TimeStampAuthority { signer, certificate, chain, policy }
    }

    /// The authority's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Answer the request `der` at `now`: a granted response with a token, or a
    /// rejection saying why. Never panics on input.
    pub fn respond(&self, der: &[u8], now: DateTime) -> Vec<u8> {
        match self.token(der, now) {
            Ok(token) => {
                let resp = Any::from_der(&token).map(|t| TimeStampResp {
                    status: PkiStatusInfo { status: 0, status_string: None, fail_info: None },
                    time_stamp_token: Some(t),
                });
                match resp.and_then(|r| r.to_der()) {
                    Ok(bytes) => bytes,
                    Err(_) => rejection(Failure::SystemFailure),
                }
            }
            Err(f) => rejection(f),
        }
    }

    fn token(&self, der: &[u8], now: DateTime) -> Result<Vec<u8>, Failure> {
        if der.len() > MAX_REQUEST_BYTES {
            return Err(Failure::BadRequest);
        }
        let req = TimeStampReq::from_der(der).map_err(|_| Failure::BadRequest)?;
        if req.version != 1 {
            return Err(Failure::BadRequest);
        }
        let imprint = &req.message_imprint;
        let expected_len = match imprint.hash_algorithm.oid {
            oid::SHA256 => 32,
            oid::SHA384 => 48,
            oid::SHA512 | oid::STREEBOG_512 | oid::STREEBOG_512_TC26 => 64,
            _ => return Err(Failure::BadAlg),
        };
        if imprint.hashed_message.as_bytes().len() != expected_len {
            return Err(Failure::BadDataFormat);
        }
        if req.req_policy.is_some_and(|p| p != self.policy) {
            return Err(Failure::UnacceptedPolicy);
        }
        if req.extensions.is_some_and(|e| !e.is_empty()) {
            return Err(Failure::UnacceptedExtension);
        }
        let mut serial = rand::random::<[u8; 16]>();
        serial[0] &= 0x7f;
        serial[0] |= 0x01;
        let info = TstInfo {
            version: 1,
            policy: self.policy,
            message_imprint: imprint.clone(),
            serial_number: Uint::new(&serial).map_err(|_| Failure::SystemFailure)?,
            gen_time: GeneralizedTime::from_date_time(now),
            accuracy: Some(Any::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).map_err(|_| Failure::SystemFailure)?),
            ordering: false,
            nonce: req.nonce,
            tsa: None,
            extensions: None,
        };
        let content = info.to_der().map_err(|_| Failure::SystemFailure)?;
        // Without certReq the certificate is still named by signingCertificateV2,
        // but not included: RFC 3161 §2.4.1.
        let carried = req.cert_req.then_some(self.chain.as_slice());
        cms::sign_typed(&content, oid::CT_TST_INFO, Content::Attached, self.signer.as_ref(), &self.certificate, carried, Some(now), None)
            .map_err(|_| Failure::SystemFailure)
    }
}

fn rejection(f: Failure) -> Vec<u8> {
    let resp = TimeStampResp {
        status: PkiStatusInfo { status: 2, status_string: Some(vec![f.text().to_string()]), fail_info: f.bits() },
        time_stamp_token: None,
    };
    // Only fixed, valid values: encoding cannot fail.
    resp.to_der().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar;

    fn authority() -> (TimeStampAuthority, Certificate) {
        let (signer, cert) = crate::testing::self_signed("TSA TEST");
        (TimeStampAuthority::new(Box::new(signer), cert.clone(), vec![], oid::POLICY_REGULATIONS), cert)
    }

    #[test]
    fn a_granted_token_stamps_the_data_and_echoes_the_nonce() {
        let (tsa, cert) = authority();
        let (req, nonce) = request(b"signature value").unwrap();
        let now = calendar::now();
        let resp = tsa.respond(&req, now);
        let (token, stamp) = check_response(&resp, b"signature value", Some(&nonce)).unwrap();
        assert_eq!(stamp.tsa.certificate, cert);
        assert_eq!(calendar::unix_seconds(&stamp.gen_time), calendar::unix_seconds(&now));
        assert_eq!(stamp.policy, oid::POLICY_REGULATIONS);
        assert!(matches!(check_response(&resp, b"other value", Some(&nonce)), Err(TspError::Token(CmsError::TimeStamp(_)))));
        assert!(matches!(check_response(&resp, b"signature value", Some(&[9; 8])), Err(TspError::NonceMismatch)));
        // The token alone, inside a signature.
        assert!(cms::check_time_stamp_token(&token, b"signature value").is_ok());
        // Without certReq the token carries no certificate, though it still names the
        // authority's: it cannot be checked without it.
        let mut bare = TimeStampReq::from_der(&request(b"x").unwrap().0).unwrap();
        bare.cert_req = false;
        let resp = TimeStampResp::from_der(&tsa.respond(&bare.to_der().unwrap(), now)).unwrap();
        assert_eq!(resp.status.status, 0);
        let token = resp.time_stamp_token.unwrap().to_der().unwrap();
        assert!(cms::SignedDocument::read(&token, None).unwrap().certificates().is_empty());
        assert!(matches!(cms::check_time_stamp_token(&token, b"x"), Err(CmsError::TimeStamp(_))));
    }

    #[test]
    fn bad_requests_are_rejected_with_their_reason() {
        let (tsa, _) = authority();
        let refused = |der: &[u8]| {
            let resp = TimeStampResp::from_der(&tsa.respond(der, calendar::now())).unwrap();
            assert_eq!(resp.status.status, 2);
            assert!(resp.time_stamp_token.is_none());
            resp.status.fail_info
        };
        assert_eq!(refused(b"\x30\x00"), Failure::BadRequest.bits());
        let mut req = TimeStampReq::from_der(&request(b"x").unwrap().0).unwrap();
        req.message_imprint.hash_algorithm.oid = oid::SHA1;
        assert_eq!(refused(&req.to_der().unwrap()), Failure::BadAlg.bits());
        req.message_imprint.hash_algorithm.oid = oid::SHA512;
        assert_eq!(refused(&req.to_der().unwrap()), Failure::BadDataFormat.bits());
        req.message_imprint = MessageImprint::of(oid::SHA256, b"x").unwrap();
        req.req_policy = Some(oid::POLICY_LEGAL_SIGN);
        assert_eq!(refused(&req.to_der().unwrap()), Failure::UnacceptedPolicy.bits());
        let good = request(b"x").unwrap().0;
        for len in 0..good.len() {
            let _ = tsa.respond(&good[..len], calendar::now());
        }
    }
}
