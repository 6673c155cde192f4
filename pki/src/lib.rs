//! The national PKI as a relying party meets it: read Kazakhstan's national
//! certificates (AUTH and SIGN pairs for individuals and legal entities, RSA and
//! GOST), verify what they signed (CMS, XML, time-stamps), check their status
//! (OCSP, CRL), open the holders' key files, and log people in.
//!
//! This crate has no database, no async runtime and no HTTP client (the `fetch`
//! feature adds one; without it a relying party brings its own
//! [`verify::Fetch`]), so a bank or a government service embeds only what
//! verification needs. The authority itself (`ca-core`) is built on it.
//!
//! # What it holds
//! - [`model`]: the domain's plain types — certificate type, role, subject kind,
//!   revocation reason, application state, the canonical [`Serial`].
//! - [`identity`]: IIN and BIN, check digits, birth date, age.
//! - [`verify`]: signatures, the owner of any national certificate
//!   ([`verify::CertificateInfo`]: IIN, BIN, name, roles), and whether it is valid
//!   for a purpose at a time ([`verify::Verifier`]: path validation, revocation by
//!   OCSP and CRL, a typed verdict).
//! - [`crl`]: reading anyone's CRL ([`crl::read`]).
//! - [`cms`]: CMS SignedData — CAdES-BES/T, attached or detached, one signer or
//!   several, RSA and GOST; the signed requests of holders and operators.
//! - [`xml`]: XML signatures (XMLDSig) with exact canonicalisation, RSA and GOST.
//! - [`tsp`]: RFC 3161 time-stamps, asked for and checked (and given, by a TSA).
//! - [`login`]: logging people in with their AUTH certificate (a signed challenge;
//!   TLS client certificates with the `tls` feature).
//! - [`pkcs12`]: PKCS#12 key stores, the holders' key files.
//! - [`csr`]: PKCS#10 requests and proof of possession.
//! - [`pem`]: PEM as people and tools write it (any line length).
//! - [`calendar`], [`oid`]: dates as the national profile counts them, and its OIDs.
//! - [`signing`]: RSA and GOST keys behind the [`signing::Signer`] trait, and
//!   encrypted PKCS#8.
//!
//! Owner of a certificate:
//! ```
//! use pki::der::DecodePem;
//! let pem = include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem");
//! let cert = pki::x509_cert::Certificate::from_pem(pem).unwrap();
//! let info = pki::verify::CertificateInfo::of(&cert);
//! assert_eq!(info.owner.iin.as_deref(), Some("123456789011"));
//! assert_eq!(info.key_type, pki::verify::KeyType::Sign);
//! ```
//!
//! Verify a signed document (CMS), its signer's certificate trusted through the
//! authority's test CA, as of a day in its validity, offline:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pki::der::{DateTime, DecodePem};
//! use pki::verify::{Purpose, RevocationChecker, TrustStore, Verifier};
//! let ca = pki::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let cms = pki::pem::read_der(include_bytes!("../../tests/data/nca-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms"))?;
//! let at = DateTime::new(2020, 6, 1, 0, 0, 0)?;
//! let doc = pki::cms::verify_document(&cms, None, &verifier, Purpose::Sign, Some(at))?;
//! assert!(doc.is_valid());
//! assert_eq!(doc.content, b"asdasd");
//! let signer = pki::verify::CertificateInfo::of(&doc.signers[0].signed.certificate);
//! assert_eq!(signer.owner.iin.as_deref(), Some("123456789011"));
//! // The same signature is no login: its key is a SIGN key.
//! let login = pki::cms::verify_document(&cms, None, &verifier, Purpose::Auth, Some(at))?;
//! assert!(!login.is_valid());
//! # Ok(()) }
//! ```
//!
//! Verify a signed XML document:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pki::der::{DateTime, DecodePem};
//! use pki::verify::{Purpose, RevocationChecker, TrustStore, Verifier};
//! let ca = pki::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_gost_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let xml = include_bytes!("../../tests/data/nca-test/GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.xml");
//! let at = DateTime::new(2020, 6, 1, 0, 0, 0)?;
//! let signers = pki::xml::dsig::verify_document(xml, &verifier, Purpose::Sign, Some(at))?;
//! assert!(signers[0].verdict.is_ok()); // GOST 34.310-2004, a legal entity's CEO
//! # Ok(()) }
//! ```
//!
//! Check a certificate's status: against a CRL in hand (the authority's own test
//! CRL here), or live with OCSP then CRL at the URLs the certificate names (with
//! the `fetch` feature):
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pki::der::DecodePem;
//! use pki::verify::revocation::{crl_status, CertStatus, Crl};
//! let ca = pki::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let cert = pki::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem"))?;
//! let crl = Crl::verified(include_bytes!("../../tests/data/nca-test/nca_rsa_test.crl"), &ca)?; // signature checked
//! let (status, _source) = crl_status(&pki::Serial::of(&cert), &crl, None)?;
//! assert_eq!(status, CertStatus::Good);
//! # Ok(()) }
//! ```
//! ```no_run
//! # #[cfg(not(feature = "fetch"))] fn main() {}
//! # #[cfg(feature = "fetch")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (anchors, cert) = (vec![], pki::x509_cert::Certificate::from_pem(b"")?);
//! # use pki::der::DecodePem;
//! use pki::verify::{Checks, HttpFetch, Purpose, RevocationChecker, RevocationPolicy, TrustStore, Verifier};
//! let live = RevocationChecker::new(RevocationPolicy::default(), Some(Box::new(HttpFetch::default())));
//! let verifier = Verifier::new(TrustStore::new(anchors), live);
//! let verdict = verifier.verify(&cert, &[], &Checks::now(Purpose::Sign))?;
//! println!("not revoked, according to {:?}", verdict.statuses[0].source);
//! # Ok(()) }
//! ```
//!
//! Log a user in with their AUTH certificate: the service issues a challenge, the
//! user's software signs it with the AUTH key, the service learns who it is:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use pki::der::{DateTime, DecodePem};
//! use pki::login::Challenges;
//! use pki::verify::{RevocationChecker, TrustStore, Verifier};
//! let ca = pki::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let now = DateTime::new(2020, 6, 1, 0, 0, 0)?; // inside the test certificate's year
//! let challenges = Challenges::default();
//! let challenge = challenges.issue(pki::calendar::unix_seconds(&now));
//! // The user's side: the AUTH key file (password Qwerty12) signs the challenge.
//! let file = include_bytes!("../../tests/data/nca-test/AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.p12");
//! let store = pki::pkcs12::read(file, "Qwerty12")?;
//! let key = pki::signing::SigningKey::from_pkcs8(&store.key_pkcs8)?;
//! let answer = pki::cms::sign(challenge.text.as_bytes(), pki::cms::Content::Attached, &key, &store.certificate, &[], now)?;
//! // The service's side.
//! let who = challenges.authenticate(&answer, &verifier, now)?;
//! assert_eq!(who.owner.iin.as_deref(), Some("123456789011"));
//! assert!(challenges.authenticate(&answer, &verifier, now).is_err()); // a replay
//! # Ok(()) }
//! ```

mod ber;
pub mod calendar;
pub mod cms;
pub mod crl;
pub mod csr;
pub mod gost;
pub mod identity;
pub mod login;
pub mod model;
pub mod oid;
pub mod pem;
pub mod pkcs12;
pub mod signing;
pub mod tsp;
pub mod verify;
pub mod xml;

pub use model::{ApplicationState, CertType, KeyStorage, RevocationReason, Role, Serial, StaffRole, SubjectKind};

/// The DER crate this library takes and returns types of.
pub use der;
/// The X.509 crate this library takes and returns types of.
pub use x509_cert;

#[cfg(test)]
mod testing;
