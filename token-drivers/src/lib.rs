//! Key stores: PKCS#12 files, the ID card and Kaztoken over PC/SC.
//!
//! Nothing lives here yet: the key-store work fills this crate. It exists so the
//! workspace has the shape DESIGN.md describes.
