//! OCSP (RFC 6960) wire format and the responder engine.
//!
//! Nothing lives here yet: the revocation-status work (full and delta CRLs, OCSP)
//! fills this crate. It exists so the workspace has the shape DESIGN.md describes.
