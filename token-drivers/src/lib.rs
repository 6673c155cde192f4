//! Key stores on chips: the national ID card and the Kaztoken USB token, over PC/SC.
//!
//! The real cards' applets are not public, so both profiles speak one applet built
//! on open standards only and specified in `APPLET.md`: ISO/IEC 7816-4 files and
//! PINs, 7816-8 key generation and signatures, a PKCS#15 (ISO/IEC 7816-15) file
//! system. A [`profile::Profile`] is a table of what differs between cards.
//!
//! - [`apdu`], [`tlv`], [`applet`], [`pkcs15`], [`profile`], [`pin`]: the applet's
//!   specification in code, without PC/SC; the virtual card in `fixtures` is built
//!   on these.
//! - [`Token`] (feature `pcsc`, on by default): the driver. Every operation runs
//!   inside one PC/SC transaction, so two programs never interleave commands.
//!
//! Everything a card answers is untrusted input: a short, long or malformed answer,
//! an unexpected status word or a card pulled out is a [`TokenError`], never a panic.

pub mod apdu;
pub mod applet;
pub mod pin;
pub mod pkcs15;
pub mod profile;
pub mod tlv;
#[cfg(feature = "pcsc")]
mod token;

pub use pin::Pin;
pub use profile::{Profile, ProfileKind};
#[cfg(feature = "pcsc")]
pub use token::{readers, ReaderStatus, Token};

use apdu::StatusWord;
use std::time::Duration;
use thiserror::Error;

/// What a key on the card is for: the two certificates of a national pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Logging in (the AUTH certificate).
    Auth,
    /// Signing documents (the SIGN certificate, non-repudiation).
    Sign,
}

impl Role {
    /// `AUTH` or `SIGN`, the label on the card.
    pub fn label(self) -> &'static str {
        match self {
            Role::Auth => "AUTH",
            Role::Sign => "SIGN",
        }
    }
}

/// A key on the card and what goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyObject {
    /// The slot (key reference) holding it.
    pub slot: u8,
    /// AUTH or SIGN; `None` for a key the object directory does not describe (a
    /// generation that was interrupted).
    pub role: Option<Role>,
    /// RSA-2048 or GOST 34.10-2015 512-bit.
    pub algorithm: applet::KeyAlgorithm,
    /// The PKCS#15 key identifier: SHA-1 of the public key (RFC 5280 key identifier).
    pub id: Vec<u8>,
    /// Key size: the modulus's bits, 512 for GOST.
    pub bits: u32,
    /// The certificate stored next to the key, DER.
    pub certificate: Option<Vec<u8>>,
}

/// What a card says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenDescription {
    /// The reader it sits in.
    pub reader: String,
    /// Its profile.
    pub profile: &'static Profile,
    /// Serial number (TokenInfo).
    pub serial: String,
    /// Label (TokenInfo).
    pub label: String,
    /// Manufacturer (TokenInfo).
    pub manufacturer: String,
    /// The PIN's state.
    pub pin: SecretState,
    /// The PUK's state.
    pub puk: SecretState,
    /// Slots without a key.
    pub free_slots: u8,
}

/// Where a PIN or PUK stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretState {
    /// Verified in the card's current session.
    Verified,
    /// Not verified; this many wrong tries left before it blocks.
    TriesLeft(u8),
    /// Blocked.
    Blocked,
}

/// Why a card operation failed. Each says what the holder can do about it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenError {
    /// pcscd is not running or not reachable.
    #[error("the smart card service (pcscd) is not running: start it, then try again")]
    NoService,
    /// No reader at all.
    #[error("no smart card reader is connected")]
    NoReaders,
    /// The reader asked for does not exist.
    #[error("there is no reader named {0:?}: `ca token list` shows the readers")]
    UnknownReader(String),
    /// Nothing inserted in time.
    #[error("no card was inserted within {0:?}")]
    NoCard(Duration),
    /// A card this driver has no profile for.
    #[error("the card in {reader} is not an ID card or Kaztoken this program knows (ATR {atr})")]
    UnknownCard {
        /// Its reader.
        reader: String,
        /// Its answer to reset, hex.
        atr: String,
    },
    /// The card left the reader.
    #[error("the card was removed: put it back and repeat the command")]
    CardRemoved,
    /// Wrong PIN.
    #[error("wrong PIN: {tries_left} tries left before it blocks")]
    WrongPin {
        /// Tries left.
        tries_left: u8,
    },
    /// PIN blocked.
    #[error("the PIN is blocked after too many wrong tries: unblock it with the PUK (`ca token unblock`)")]
    PinBlocked,
    /// Wrong PUK.
    #[error("wrong PUK: {tries_left} tries left before the card can never be unblocked")]
    WrongPuk {
        /// Tries left.
        tries_left: u8,
    },
    /// PUK blocked.
    #[error("the PUK is blocked: this card's keys can no longer be used; apply for new certificates on another card")]
    PukBlocked,
    /// A PIN or PUK of the wrong length or characters.
    #[error("the {what} must be {min} to {max} ASCII characters")]
    PinFormat {
        /// PIN or PUK.
        what: &'static str,
        /// Fewest.
        min: usize,
        /// Most.
        max: usize,
    },
    /// The operation needs the PIN first.
    #[error("the card refuses: the PIN has not been verified")]
    PinNotVerified,
    /// No key in that slot.
    #[error("slot {0} holds no key")]
    EmptySlot(u8),
    /// All slots hold keys.
    #[error("no free key slot on the card: erase a slot you no longer need (`ca token erase`)")]
    NoFreeSlot,
    /// The certificate is not for the slot's key.
    #[error("the certificate is not for the key in slot {0}")]
    WrongCertificate(u8),
    /// More data than the card's file holds.
    #[error("{what} ({len} bytes) does not fit the card's {room}-byte file")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The room.
        room: usize,
    },
    /// The card answered a status word this command does not expect.
    #[error("the card refused {command}: status {sw}")]
    Status {
        /// Which command.
        command: &'static str,
        /// What it said.
        sw: StatusWord,
    },
    /// The card's answer is malformed.
    #[error("the card's answer to {command} is malformed: {why}")]
    Malformed {
        /// Which command.
        command: &'static str,
        /// What is wrong.
        why: String,
    },
    /// Any other PC/SC failure.
    #[error("smart card service error: {0}")]
    Pcsc(String),
}

impl TokenError {
    /// A malformed answer to `command`.
    pub fn malformed(command: &'static str, why: impl Into<String>) -> Self {
        TokenError::Malformed { command, why: why.into() }
    }
}
