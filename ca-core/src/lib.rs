//! The national certification authority as a library: Kazakhstan's national PKI
//! profile (AUTH and SIGN certificate pairs for individuals and legal entities),
//! the registration authority that decides who gets them, the CA that signs them,
//! their records, and the CRLs that revoke them.
//!
//! What a relying party needs (reading and verifying certificates, CMS, XML,
//! time-stamps, OCSP and CRLs, key files, RSA and GOST keys) is the [`pki`] crate,
//! which this one builds on and re-exports module by module (`ca_core::verify` is
//! `pki::verify`), so the authority's programs name one crate. A bank embeds
//! `pki` alone: no SQLite, no RA.
//!
//! # For the authority: decide, sign, record
//! - [`profile`]: the national certificate profiles and the lint every certificate
//!   passes before it is signed.
//! - [`signing`]: CA keys behind the [`signing::Signer`] trait.
//! - [`crl`]: issuing full and delta CRLs (reading anyone's is [`pki::crl`]).
//! - [`issuer`]: the CA proper — an [`issuer::Issuer`] turns an approved applicant
//!   and two requests into a signed pair only the store can record.
//! - [`registration`]: the RA — applications, approvals, renewal, revocation.
//! - [`store`]: the records behind narrow traits, SQLite by default, pooled.
//! - [`audit`]: the hash-chained audit log.
//! - [`api`]: the applications API's wire contract (routes and bodies), shared by
//!   the server and its clients.
//! - [`authority`]: the authority on disk — layout, `init`, and the parts as peers.
//!
//! The parts and their boundaries are described in the repository's ARCHITECTURE.md.

pub mod api;
pub mod audit;
pub mod authority;
pub mod crl;
pub mod issuer;
pub mod profile;
pub mod registration;
pub mod store;

pub use pki::{calendar, cms, csr, gost, identity, login, model, oid, pem, pkcs12, signing, tsp, verify, xml};
pub use pki::{ApplicationState, CertType, KeyStorage, RevocationReason, Role, Serial, StaffRole, SubjectKind};

/// The DER crate this library takes and returns types of.
pub use der;
/// The relying party's crate this library builds on.
pub use pki;
/// The X.509 crate this library takes and returns types of.
pub use x509_cert;

#[cfg(test)]
mod testing;
