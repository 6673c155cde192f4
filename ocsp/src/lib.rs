//! OCSP (RFC 6960) for the national authority: the responder engine and a reader.
//!
//! - [`Responder`] answers requests (one or many CertIDs, SHA-1 or SHA-256, an
//!   optional nonce of up to 128 bytes, RFC 8954/9654) with `good`, `revoked`
//!   (time and reason) or `unknown`; `unauthorized` for another CA's
//!   certificates and `malformedRequest` for anything it cannot read. One
//!   responder answers for the RSA and the GOST issuing CA: the CertID's issuer
//!   hashes pick the CA, whose delegated responder signs (in RSA or in GOST). It never
//!   panics on input. Answers to a single CertID without a nonce are signed once
//!   and cached until a status change drops them ([`Responder::invalidate`]) or
//!   half their validity has passed; answers with a nonce are signed per request.
//! - [`read_response`] decodes any OCSP response (ours, the national authority's)
//!   and checks its signature with the responder certificate inside it.

mod cache;
mod read;
mod responder;

pub use read::{read_response, ResponseInfo, SingleInfo};
pub use responder::{
    try_later, Answer, CertState, Freshness, Responder, ResponderCa, StatusSource, StatusUnavailable, MAX_CERT_IDS, MAX_NONCE,
    MAX_REQUEST_BYTES,
};

use der::asn1::ObjectIdentifier as Oid;
use thiserror::Error;

/// Why an OCSP response could not be read or verified.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OcspError {
    /// Not DER of an OCSP response.
    #[error("not an OCSP response: {0}")]
    Malformed(String),
    /// A successful response of a type other than basic.
    #[error("response type {0} is not id-pkix-ocsp-basic")]
    UnsupportedType(Oid),
    /// No certificate in the response matches its responder id.
    #[error("the response carries no certificate of its responder")]
    NoResponderCertificate,
    /// The signature does not verify.
    #[error("the response's signature does not verify: {0}")]
    Signature(#[from] pki::verify::SignatureError),
    /// The responder certificate is not valid at the time the response was produced.
    #[error("the responder certificate is not valid at {0}")]
    ResponderExpired(String),
    /// The responder certificate is not authorised to sign OCSP for the issuer.
    #[error("the responder certificate is not an OCSP signer of the given issuer: {0}")]
    NotAuthorised(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::DecodePem;
    use x509_cert::Certificate;

    const NCA_RESPONSE: &[u8] = include_bytes!("../../tests/data/nca-test/ocsp_good_rsa.der");
    const NCA_CA: &[u8] = include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem");

    #[test]
    fn reads_and_verifies_the_national_authority_response() {
        let ca = Certificate::from_pem(NCA_CA).unwrap();
        let info = read_response(NCA_RESPONSE, Some(&ca)).unwrap();
        assert_eq!(info.status, "successful");
        assert_eq!(info.signature_valid, Some(true));
        assert_eq!(info.responses.len(), 1);
        assert_eq!(info.responses[0].status, "good");
        let mut tampered = NCA_RESPONSE.to_vec();
        let last = tampered.len() - 300; // inside the responder certificate or signature
        tampered[last] ^= 0x01;
        assert!(read_response(&tampered, Some(&ca)).is_err());
    }
}
