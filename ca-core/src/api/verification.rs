//! The verification API's bodies (`/api/v1/verify/…`), and the verdict documents
//! `ca verify`, `ca cms verify` and `ca xml verify` print: one shape for both.

use crate::calendar;
use crate::cms::DocumentVerdict;
use crate::verify::{Purpose, RevocationMode, VerdictReport};
use crate::xml::dsig::XmlSignerVerdict;
use serde::{Deserialize, Serialize};

/// What every check request may say.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CheckOptions {
    /// What the certificate must be good for: `sign` (default) or `auth`.
    #[serde(default)]
    pub purpose: Option<Purpose>,
    /// Check as of this time (RFC 3339); default now (a time-stamped signature: the stamp's time).
    #[serde(default)]
    pub at: Option<String>,
    /// `ocsp-then-crl` (default), `ocsp`, `crl` or `none`.
    #[serde(default)]
    pub revocation: Option<RevocationMode>,
}

/// POST `/api/v1/verify/certificate`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertificateCheck {
    /// The certificate: PEM, or base64 of the DER.
    pub certificate: String,
    /// Options.
    #[serde(flatten)]
    pub options: CheckOptions,
}

/// POST `/api/v1/verify/cms`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CmsCheck {
    /// The signature: PEM, or base64 of the DER.
    pub cms: String,
    /// The signed content, base64, when the signature is detached.
    #[serde(default)]
    pub data: Option<String>,
    /// Options.
    #[serde(flatten)]
    pub options: CheckOptions,
}

/// POST `/api/v1/verify/xml`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct XmlCheck {
    /// The signed document, as text.
    pub xml: String,
    /// Options.
    #[serde(flatten)]
    pub options: CheckOptions,
}

/// One signer of a CMS signature.
#[derive(Clone, Debug, Serialize)]
pub struct CmsSignerReport {
    /// signingTime, RFC 3339, when the signer states it.
    pub signing_time: Option<String>,
    /// Whether signingCertificate(V2) binds the signature to the certificate.
    pub certificate_bound: bool,
    /// The digest algorithm's OID.
    pub digest_algorithm: String,
    /// The signature time-stamp, when there is one.
    pub time_stamp: Option<TimeStampReport>,
    /// The signer's certificate's verdict.
    #[serde(flatten)]
    pub verdict: VerdictReport,
}

/// A signature time-stamp.
#[derive(Clone, Debug, Serialize)]
pub struct TimeStampReport {
    /// Whether its authority's certificate is valid.
    pub valid: bool,
    /// When, RFC 3339.
    pub time: String,
    /// The token's serial.
    pub serial: String,
    /// The authority's policy.
    pub policy: String,
    /// The authority's certificate's verdict.
    pub authority: VerdictReport,
}

/// A CMS signature's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct CmsReport {
    /// Always `cms`.
    pub kind: &'static str,
    /// Whether every signer (and time-stamp) is valid.
    pub valid: bool,
    /// Whether the content was inside.
    pub attached: bool,
    /// The content's length.
    pub content_bytes: usize,
    /// Each signer.
    pub signers: Vec<CmsSignerReport>,
}

impl CmsReport {
    /// The report of a document's verdict.
    pub fn of(doc: &DocumentVerdict) -> Self {
        CmsReport {
            kind: "cms",
            valid: doc.is_valid(),
            attached: doc.attached,
            content_bytes: doc.content.len(),
            signers: doc
                .signers
                .iter()
                .map(|s| CmsSignerReport {
                    signing_time: s.signed.signing_time.as_ref().map(calendar::rfc3339),
                    certificate_bound: s.signed.certificate_bound,
                    digest_algorithm: s.signed.digest_algorithm.to_string(),
                    time_stamp: s.signed.time_stamp.as_ref().zip(s.time_stamp.as_ref()).map(|(ts, verdict)| TimeStampReport {
                        valid: verdict.is_ok(),
                        time: calendar::rfc3339(&ts.gen_time),
                        serial: ts.serial.to_string(),
                        policy: ts.policy.to_string(),
                        authority: VerdictReport::of(&ts.tsa.certificate, &ts.checks(s.checks.now), verdict),
                    }),
                    verdict: VerdictReport::of(&s.signed.certificate, &s.checks, &s.verdict),
                })
                .collect(),
        }
    }
}

/// One signature of an XML document.
#[derive(Clone, Debug, Serialize)]
pub struct XmlSignerReport {
    /// The signature algorithm's URI.
    pub signature_method: String,
    /// The references' URIs (`""`: the whole document).
    pub references: Vec<String>,
    /// The signer's certificate's verdict.
    #[serde(flatten)]
    pub verdict: VerdictReport,
}

/// An XML document's verdict.
#[derive(Clone, Debug, Serialize)]
pub struct XmlReport {
    /// Always `xml`.
    pub kind: &'static str,
    /// Whether every signature's certificate is valid.
    pub valid: bool,
    /// Each signature.
    pub signers: Vec<XmlSignerReport>,
}

impl XmlReport {
    /// The report of the signatures' verdicts.
    pub fn of(signers: &[XmlSignerVerdict]) -> Self {
        XmlReport {
            kind: "xml",
            valid: signers.iter().all(|s| s.verdict.is_ok()),
            signers: signers
                .iter()
                .map(|s| XmlSignerReport {
                    signature_method: s.signed.signature_method.clone(),
                    references: s.signed.references.clone(),
                    verdict: VerdictReport::of(&s.signed.certificate, &s.checks, &s.verdict),
                })
                .collect(),
        }
    }
}
