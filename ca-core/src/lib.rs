//! The national certification authority as a library: Kazakhstan's national PKI
//! profile (AUTH and SIGN certificate pairs for individuals and legal entities),
//! the registration authority that decides who gets them, the CA that signs them,
//! and what relying parties need to read and check them.
//!
//! # For relying parties: read and check
//! - [`model`]: the domain's plain types — certificate type, role, subject kind,
//!   revocation reason, application state, the canonical [`Serial`].
//! - [`identity`]: IIN and BIN, check digits, birth date, age.
//! - [`verify`]: signatures, and the owner of any national certificate
//!   ([`verify::CertificateInfo`]: IIN, BIN, name, roles).
//! - [`crl`]: reading anyone's CRL ([`crl::read`]), and issuing ours.
//! - [`cms`]: CMS SignedData (detached), the signed requests of holders and operators.
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
