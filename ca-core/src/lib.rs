//! The national certification authority as a library.
//!
//! Parts, each with one job (DESIGN.md):
//! - [`identity`]: IIN and BIN, check digits, birth date, age.
//! - [`profile`]: the national certificate profiles; builds what is to be signed.
//! - [`signing`]: CA keys behind the [`signing::Signer`] trait, serials, signing.
//! - [`csr`]: applicants' PKCS#10 requests, proof of possession.
//! - [`store`]: the database behind the [`store::Store`] trait (SQLite).
//! - [`verify`]: signatures and owner information of any certificate.
//! - [`crl`]: full and delta CRLs, CRL numbers; reading any CRL.
//! - [`cms`]: CMS SignedData, the signed requests of applicants and operators.
//! - [`pkcs12`]: PKCS#12 key stores, the applicant's key files.
//! - [`registration`]: the RA: applications, approvals, renewal, revocation requests.
//! - [`audit`]: the hash-chained audit log.
//! - [`authority`]: the authority on disk: init, open, issue a pair.
#![forbid(unsafe_code)]

pub mod audit;
pub mod authority;
pub mod calendar;
pub mod cms;
pub mod crl;
pub mod csr;
pub mod identity;
pub mod oid;
pub mod pkcs12;
pub mod profile;
pub mod registration;
pub mod revocation;
pub mod signing;
pub mod store;
pub mod verify;

#[cfg(test)]
mod testing;
