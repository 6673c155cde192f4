//! `ca token`: the holder's cards — list the readers, show a card, change or
//! unblock its PIN, erase a slot. Also `ca inspect --token`.

use crate::args::{CardArgs, TokenCommand};
use crate::card::{self, NEW_PIN_ENV, PIN_ENV, PUK_ENV};
use crate::error::CliResult;
use crate::output::{print, Output};
use ca_core::verify::CertificateInfo;
use der::Decode;
use serde::Serialize;
use token_drivers::{Role, SecretState, Token};

/// Run a `ca token` command.
pub fn run(command: &TokenCommand, json: bool) -> CliResult<()> {
    match command {
        TokenCommand::List => print(&list()?, json),
        TokenCommand::Info { card } => print(&info(card)?, json),
        TokenCommand::ChangePin { card, new_pin_file } => print(&change_pin(card, new_pin_file.as_deref())?, json),
        TokenCommand::Unblock { card, puk_file, new_pin_file } => {
            print(&unblock(card, puk_file.as_deref(), new_pin_file.as_deref())?, json)
        }
        TokenCommand::Erase { card, slot } => print(&erase(card, *slot)?, json),
    }
}

/// The readers.
#[derive(Serialize)]
pub struct Readers {
    readers: Vec<ReaderView>,
}

#[derive(Serialize)]
struct ReaderView {
    name: String,
    /// `idcard`, `kaztoken`, `unknown`, or absent when the reader is empty.
    card: Option<&'static str>,
    atr: Option<String>,
}

impl Output for Readers {
    fn human(&self) -> String {
        self.readers.iter().map(|r| format!("{}: {}", r.name, r.card.unwrap_or("no card"))).collect::<Vec<_>>().join("\n")
    }
}

fn list() -> CliResult<Readers> {
    let readers = token_drivers::readers()?
        .into_iter()
        .map(|r| ReaderView {
            card: r.atr.as_ref().map(|_| r.profile.map_or("unknown", |p| p.name)),
            atr: r.atr.map(hex::encode),
            name: r.name,
        })
        .collect();
    Ok(Readers { readers })
}

/// A PIN's or PUK's state as printed.
#[derive(Serialize)]
struct SecretView {
    /// `verified`, `not_verified` or `blocked`.
    state: &'static str,
    tries_left: Option<u8>,
}

impl From<SecretState> for SecretView {
    fn from(s: SecretState) -> Self {
        match s {
            SecretState::Verified => SecretView { state: "verified", tries_left: None },
            SecretState::TriesLeft(n) => SecretView { state: "not_verified", tries_left: Some(n) },
            SecretState::Blocked => SecretView { state: "blocked", tries_left: Some(0) },
        }
    }
}

/// A key slot as printed.
#[derive(Serialize)]
struct SlotView {
    slot: u8,
    /// AUTH or SIGN; absent for a key the card's directory does not describe.
    role: Option<&'static str>,
    /// `rsa` or `gost`.
    algorithm: ca_core::model::Family,
    key_id: String,
    bits: u32,
    certificate: Option<CertificateInfo>,
}

/// A card's contents.
#[derive(Serialize)]
pub struct CardView {
    kind: &'static str,
    reader: String,
    profile: &'static str,
    serial: String,
    label: String,
    manufacturer: String,
    pin: SecretView,
    puk: SecretView,
    free_slots: u8,
    keys: Vec<SlotView>,
}

impl Output for CardView {}

/// `ca token info`, `ca inspect --token`.
pub fn info(args: &CardArgs) -> CliResult<CardView> {
    let mut token = card::open(args)?;
    describe(&mut token)
}

fn describe(token: &mut Token) -> CliResult<CardView> {
    let d = token.describe()?;
    let keys = token
        .objects()?
        .into_iter()
        .map(|k| SlotView {
            slot: k.slot,
            role: k.role.map(Role::label),
            algorithm: card::family_of_algorithm(k.algorithm),
            key_id: hex::encode(&k.id),
            bits: k.bits,
            certificate: k.certificate.as_deref().and_then(|c| x509_cert::Certificate::from_der(c).ok()).map(|c| CertificateInfo::of(&c)),
        })
        .collect();
    Ok(CardView {
        kind: "token",
        reader: d.reader,
        profile: d.profile.name,
        serial: d.serial,
        label: d.label,
        manufacturer: d.manufacturer,
        pin: d.pin.into(),
        puk: d.puk.into(),
        free_slots: d.free_slots,
        keys,
    })
}

/// Something done to a card.
#[derive(Serialize)]
pub struct Done {
    reader: String,
    done: &'static str,
}

impl Output for Done {
    fn human(&self) -> String {
        format!("{} ({})", self.done, self.reader)
    }
}

fn change_pin(args: &CardArgs, new_file: Option<&std::path::Path>) -> CliResult<Done> {
    let mut token = card::open(args)?;
    let old = card::secret(args.pin_file.as_deref(), PIN_ENV, "current PIN", "--pin-file")?;
    let new = card::secret(new_file, NEW_PIN_ENV, "new PIN", "--new-pin-file")?;
    token.change_pin(&old, &new)?;
    Ok(Done { reader: token.reader(), done: "the PIN is changed" })
}

fn unblock(args: &CardArgs, puk_file: Option<&std::path::Path>, new_file: Option<&std::path::Path>) -> CliResult<Done> {
    let mut token = card::open(args)?;
    let puk = card::secret(puk_file, PUK_ENV, "PUK", "--puk-file")?;
    let new = card::secret(new_file, NEW_PIN_ENV, "new PIN", "--new-pin-file")?;
    token.unblock(&puk, &new)?;
    Ok(Done { reader: token.reader(), done: "the PIN is unblocked and set anew" })
}

fn erase(args: &CardArgs, slot: u8) -> CliResult<Done> {
    let mut token = card::open_with_pin(args)?;
    token.erase(slot)?;
    Ok(Done { reader: token.reader(), done: "the slot's key and certificate are destroyed" })
}
