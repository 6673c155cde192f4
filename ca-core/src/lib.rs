//! The national certification authority as a library: Kazakhstan's national PKI
//! profile (AUTH and SIGN certificate pairs for individuals and legal entities),
//! the registration authority that decides who gets them, the CA that signs them,
//! and what relying parties need to read and check them.
//!
//! # For relying parties: read and check
//! - [`model`]: the domain's plain types — certificate type, role, subject kind,
//!   revocation reason, application state, the canonical [`Serial`].
//! - [`identity`]: IIN and BIN, check digits, birth date, age.
//! - [`verify`]: signatures, the owner of any national certificate
//!   ([`verify::CertificateInfo`]: IIN, BIN, name, roles), and whether it is valid
//!   for a purpose at a time ([`verify::Verifier`]: path validation, revocation by
//!   OCSP and CRL, a typed verdict).
//! - [`crl`]: reading anyone's CRL ([`crl::read`]), and issuing ours.
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
//!
//! # For the authority: decide, sign, record
//! - [`profile`]: the national certificate profiles and the lint every certificate
//!   passes before it is signed.
//! - [`signing`]: CA keys behind the [`signing::Signer`] trait.
//! - [`issuer`]: the CA proper — an [`issuer::Issuer`] turns an approved applicant
//!   and two requests into a signed pair only the store can record.
//! - [`registration`]: the RA — applications, approvals, renewal, revocation.
//! - [`store`]: the records behind narrow traits, SQLite by default, pooled.
//! - [`audit`]: the hash-chained audit log.
//! - [`api`]: the applications API's wire contract (routes and bodies), shared by
//!   the server and its clients.
//! - [`authority`]: the authority on disk — layout, `init`, and the parts as peers.
//!
//! The authority's parts are behind the `authority` feature (on by default): a
//! relying party that depends on `ca-core` with `default-features = false` gets the
//! first group without SQLite or key generation. The parts and their boundaries are
//! described in the repository's ARCHITECTURE.md.
//!
//! Owner of a certificate:
//! ```
//! use ca_core::der::DecodePem;
//! let pem = include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem");
//! let cert = ca_core::x509_cert::Certificate::from_pem(pem).unwrap();
//! let info = ca_core::verify::CertificateInfo::of(&cert);
//! assert_eq!(info.owner.iin.as_deref(), Some("123456789011"));
//! assert_eq!(info.key_type, ca_core::verify::KeyType::Sign);
//! ```
//!
//! Verify a signed document (CMS), its signer's certificate trusted through the
//! authority's test CA, as of a day in its validity, offline:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ca_core::der::{DateTime, DecodePem};
//! use ca_core::verify::{Purpose, RevocationChecker, TrustStore, Verifier};
//! let ca = ca_core::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let cms = ca_core::pem::read_der(include_bytes!("../../tests/data/nca-test/RSA256_11c707bd54cbfcccb3815e39c4eb57b1dc7dfea9.cms"))?;
//! let at = DateTime::new(2020, 6, 1, 0, 0, 0)?;
//! let doc = ca_core::cms::verify_document(&cms, None, &verifier, Purpose::Sign, Some(at))?;
//! assert!(doc.is_valid());
//! assert_eq!(doc.content, b"asdasd");
//! let signer = ca_core::verify::CertificateInfo::of(&doc.signers[0].signed.certificate);
//! assert_eq!(signer.owner.iin.as_deref(), Some("123456789011"));
//! // The same signature is no login: its key is a SIGN key.
//! let login = ca_core::cms::verify_document(&cms, None, &verifier, Purpose::Auth, Some(at))?;
//! assert!(!login.is_valid());
//! # Ok(()) }
//! ```
//!
//! Verify a signed XML document:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ca_core::der::{DateTime, DecodePem};
//! use ca_core::verify::{Purpose, RevocationChecker, TrustStore, Verifier};
//! let ca = ca_core::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_gost_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let xml = include_bytes!("../../tests/data/nca-test/GOSTKNCA_13a3741b52d7bf860aab199b56fad1f4652e357b.xml");
//! let at = DateTime::new(2020, 6, 1, 0, 0, 0)?;
//! let signers = ca_core::xml::dsig::verify_document(xml, &verifier, Purpose::Sign, Some(at))?;
//! assert!(signers[0].verdict.is_ok()); // GOST 34.310-2004, a legal entity's CEO
//! # Ok(()) }
//! ```
//!
//! Check a certificate's status: against a CRL in hand (the authority's own test
//! CRL here), or live with OCSP then CRL at the URLs the certificate names:
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ca_core::der::DecodePem;
//! use ca_core::verify::revocation::{crl_status, CertStatus, Crl};
//! let ca = ca_core::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let cert = ca_core::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem"))?;
//! let crl = Crl::verified(include_bytes!("../../tests/data/nca-test/nca_rsa_test.crl"), &ca)?; // signature checked
//! let (status, _source) = crl_status(&ca_core::Serial::of(&cert), &crl, None)?;
//! assert_eq!(status, CertStatus::Good);
//! # Ok(()) }
//! ```
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let (anchors, cert) = (vec![], ca_core::x509_cert::Certificate::from_pem(b"")?);
//! # use ca_core::der::DecodePem;
//! use ca_core::verify::{fetch::HttpFetch, Checks, Purpose, RevocationChecker, RevocationPolicy, TrustStore, Verifier};
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
//! use ca_core::der::{DateTime, DecodePem};
//! use ca_core::login::Challenges;
//! use ca_core::verify::{RevocationChecker, TrustStore, Verifier};
//! let ca = ca_core::x509_cert::Certificate::from_pem(include_bytes!("../../tests/data/nca-test/nca_rsa_test.pem"))?;
//! let verifier = Verifier::new(TrustStore::new(vec![ca]), RevocationChecker::none());
//! let now = DateTime::new(2020, 6, 1, 0, 0, 0)?; // inside the test certificate's year
//! let challenges = Challenges::default();
//! let challenge = challenges.issue(ca_core::calendar::unix_seconds(&now));
//! // The user's side: the AUTH key file (password Qwerty12) signs the challenge.
//! let file = include_bytes!("../../tests/data/nca-test/AUTH_RSA256_b2c70a9ff7a5dc59de0ccc3c0ddde3437cc1f12d.p12");
//! let store = ca_core::pkcs12::read(file, "Qwerty12")?;
//! let key = ca_core::signing::SigningKey::from_pkcs8(&store.key_pkcs8)?;
//! let answer = ca_core::cms::sign(challenge.text.as_bytes(), ca_core::cms::Content::Attached, &key, &store.certificate, &[], now)?;
//! // The service's side.
//! let who = challenges.authenticate(&answer, &verifier, now)?;
//! assert_eq!(who.owner.iin.as_deref(), Some("123456789011"));
//! assert!(challenges.authenticate(&answer, &verifier, now).is_err()); // a replay
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
#[cfg(feature = "authority")]
pub mod audit;
#[cfg(feature = "authority")]
pub mod authority;
pub mod ber;
pub mod calendar;
pub mod cms;
pub mod crl;
pub mod csr;
pub mod gost;
pub mod identity;
#[cfg(feature = "authority")]
pub mod issuer;
pub mod login;
pub mod model;
pub mod oid;
pub mod pem;
pub mod pkcs12;
pub mod profile;
#[cfg(feature = "authority")]
pub mod registration;
pub mod signing;
#[cfg(feature = "authority")]
pub mod store;
pub mod tsp;
pub mod verify;
pub mod xml;

pub use model::{ApplicationState, CertType, KeyStorage, RevocationReason, Role, Serial, StaffRole, SubjectKind};

/// The DER crate this library takes and returns types of.
pub use der;
/// The X.509 crate this library takes and returns types of.
pub use x509_cert;

#[cfg(all(test, feature = "authority"))]
mod testing;
