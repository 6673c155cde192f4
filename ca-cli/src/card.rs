//! Keys on a chip for the `ca` program: the card the holder names, PINs from a file,
//! the environment or a prompt without echo (never from the command line), and a
//! [`Signer`] whose key never leaves the card.

use crate::args::CardArgs;
use crate::error::{CliError, CliResult};
use ca_core::model::Family;
use ca_core::signing::{sha256_with_rsa, Signer, SigningError};
use sha2::{Digest, Sha256};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;
use token_drivers::applet::KeyAlgorithm;
use token_drivers::{Pin, Token, TokenError};
use zeroize::Zeroizing;

/// The environment variable holding the card's PIN.
pub const PIN_ENV: &str = "CA_TOKEN_PIN";
/// The environment variable holding a new PIN.
pub const NEW_PIN_ENV: &str = "CA_TOKEN_NEW_PIN";
/// The environment variable holding the PUK.
pub const PUK_ENV: &str = "CA_TOKEN_PUK";

impl From<TokenError> for CliError {
    fn from(e: TokenError) -> Self {
        let message = e.to_string();
        let code = match e {
            TokenError::WrongPin { .. } => "wrong_pin",
            TokenError::PinBlocked => "pin_blocked",
            TokenError::WrongPuk { .. } => "wrong_puk",
            TokenError::PukBlocked => "puk_blocked",
            TokenError::PinFormat { .. } => "bad_pin",
            TokenError::PinNotVerified => "pin_not_verified",
            TokenError::EmptySlot(_) => "empty_slot",
            TokenError::NoFreeSlot => "no_free_slot",
            TokenError::WrongCertificate(_) => "wrong_certificate",
            TokenError::TooLarge { .. } => "too_large",
            TokenError::UnknownReader(_) => "unknown_reader",
            TokenError::UnknownCard { .. } => "unknown_card",
            TokenError::NoService => return CliError::internal("no_pcsc_service", message),
            TokenError::NoReaders => return CliError::internal("no_reader", message),
            TokenError::NoCard(_) => return CliError::internal("no_card", message),
            TokenError::CardRemoved => return CliError::internal("card_removed", message),
            // Status, Malformed, Pcsc, and what a later driver may add.
            _ => return CliError::internal("card_failure", message),
        };
        CliError::refused(code, message)
    }
}

/// A PIN or PUK: from `file`, else the environment variable `env`, else asked at the
/// terminal without echo.
pub fn secret(file: Option<&Path>, env: &str, what: &str, flag: &str) -> CliResult<Pin> {
    if let Some(f) = file {
        let text = Zeroizing::new(std::fs::read_to_string(f).map_err(|e| CliError::reading(f, e))?);
        return Ok(Pin::new(&text));
    }
    if let Ok(v) = std::env::var(env) {
        return Ok(Pin::new(&Zeroizing::new(v)));
    }
    match rpassword::prompt_password(format!("{what}: ")) {
        Ok(t) => Ok(Pin::new(&Zeroizing::new(t))),
        Err(_) => Err(CliError::refused("no_pin", format!("no {what}: pass {flag} FILE, set {env}, or run at a terminal to be asked"))),
    }
}

/// The card named by `args` (or the first known card), waiting for it to be inserted.
pub fn open(args: &CardArgs) -> CliResult<Token> {
    Ok(Token::open(args.reader.as_deref(), Duration::from_secs(args.wait))?)
}

/// The card, with its PIN verified.
pub fn open_with_pin(args: &CardArgs) -> CliResult<Token> {
    let mut token = open(args)?;
    let pin = secret(args.pin_file.as_deref(), PIN_ENV, "PIN", "--pin-file")?;
    token.verify_pin(&pin)?;
    if token.profile().pin.factory == Some(pin.expose()) {
        eprintln!("note: this card still has its factory PIN: change it with `ca token change-pin`");
    }
    Ok(token)
}

/// Signs with a key on the card: the message is hashed here (SHA-256 for RSA,
/// Streebog-512 for GOST), the card signs the hash, and the signature is checked
/// against the public key before it is used (a faulty card's signature never
/// leaves this process).
pub struct CardSigner<'a> {
    token: Mutex<&'a mut Token>,
    slot: u8,
    spki: SubjectPublicKeyInfoOwned,
    family: Family,
}

impl<'a> CardSigner<'a> {
    /// The key in `slot`.
    pub fn new(token: &'a mut Token, slot: u8) -> CliResult<Self> {
        let spki = token.public_key(slot)?;
        let family = family_of(&spki)?;
        Ok(CardSigner { token: Mutex::new(token), slot, spki, family })
    }
}

/// The family of a key the card holds.
pub fn family_of(spki: &SubjectPublicKeyInfoOwned) -> CliResult<Family> {
    let oid = spki.algorithm.oid;
    Family::of_key(&oid).ok_or_else(|| CliError::internal("card_key", format!("the card holds a key of algorithm {oid}")))
}

/// The card's kind of key for a family.
pub fn algorithm_of(family: Family) -> KeyAlgorithm {
    match family {
        Family::Rsa => KeyAlgorithm::Rsa2048,
        Family::Gost => KeyAlgorithm::Gost2015,
    }
}

/// The family of a card's kind of key.
pub fn family_of_algorithm(algorithm: KeyAlgorithm) -> Family {
    match algorithm {
        KeyAlgorithm::Rsa2048 => Family::Rsa,
        KeyAlgorithm::Gost2015 => Family::Gost,
    }
}

impl Signer for CardSigner<'_> {
    fn algorithm(&self) -> AlgorithmIdentifierOwned {
        match self.family {
            Family::Rsa => sha256_with_rsa(),
            Family::Gost => ca_core::gost::signature_algorithm(),
        }
    }

    fn public_key(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        let mut token = self.token.lock().map_err(|_| SigningError::Device("the card is in use by a failed task".into()))?;
        let signature = match self.family {
            Family::Rsa => token.sign_digest(self.slot, &Sha256::digest(message).into()),
            Family::Gost => token.sign_gost_hash(self.slot, &ca_core::gost::streebog512(message)),
        }
        .map_err(|e| SigningError::Device(e.to_string()))?;
        ca_core::verify::verify_signature(&self.spki, &self.algorithm(), message, &signature)
            .map_err(|_| SigningError::Device("the card's signature does not verify with its public key".into()))?;
        Ok(signature)
    }
}
