//! `ca enroll` with the keys on a card (`--storage idcard|kaztoken`): the keys are
//! generated on the card, the requests and signed requests are signed there, and
//! the certificates are written next to their keys. Nothing secret touches the disk:
//! the key store directory holds the CSRs, `application.json` and `token.json`, the
//! record of which card and slots hold the pair.

use super::enroll::{self, certificate, move_into, pending, read_json, stage_pending, write_csr, write_json, KeysMade};
use crate::args::CardArgs;
use crate::card::{self, CardSigner};
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::api::{routes, Envelope, PairPem, Revoked, SignedAction, SignedRequest};
use ca_core::calendar;
use ca_core::model::{CertType, Family, KeyStorage, RevocationReason, Serial};
use der::Encode;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use token_drivers::{Role, Token};

/// Which card and slots hold a pair: `pending/token.json` while the application is
/// open, `token.json` once the certificates are on the card.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct OnCard {
    /// `idcard` or `kaztoken`.
    pub storage: KeyStorage,
    /// The card's serial number.
    pub card_serial: String,
    /// The AUTH key's slot.
    pub auth_slot: u8,
    /// The SIGN key's slot.
    pub sign_slot: u8,
    /// The AUTH key's identifier, hex (SHA-1 of the public key).
    pub auth_key_id: String,
    /// The SIGN key's identifier, hex.
    pub sign_key_id: String,
}

const RECORD: &str = "token.json";

fn pending_record(dir: &Path) -> PathBuf {
    pending(dir).join(RECORD)
}

fn current_record(dir: &Path) -> PathBuf {
    dir.join(RECORD)
}

/// Where the keys waiting for an application live, when on a card.
pub fn pending_on_card(dir: &Path) -> CliResult<Option<OnCard>> {
    let path = pending_record(dir);
    path.exists().then(|| read_json(&path)).transpose()
}

/// Where the current pair lives, when on a card.
pub fn current_on_card(dir: &Path) -> CliResult<Option<OnCard>> {
    let path = current_record(dir);
    path.exists().then(|| read_json(&path)).transpose()
}

fn storage_of(token: &Token) -> KeyStorage {
    match token.profile().kind {
        token_drivers::ProfileKind::Idcard => KeyStorage::Idcard,
        token_drivers::ProfileKind::Kaztoken => KeyStorage::Kaztoken,
    }
}

/// The card named by `args`, its PIN verified, checked to be the card `record` names.
fn open_card(args: &CardArgs, record: &OnCard) -> CliResult<Token> {
    let mut token = card::open_with_pin(args)?;
    let serial = token.describe()?.serial;
    if serial != record.card_serial || storage_of(&token) != record.storage {
        return Err(CliError::refused(
            "other_card",
            format!(
                "the keys are on the {} with serial {}; the card in {} is another ({serial})",
                record.storage,
                record.card_serial,
                token.reader()
            ),
        ));
    }
    Ok(token)
}

/// Generate the AUTH and SIGN keys on the card and their CSRs, signed there.
fn new_pair(token: &mut Token, sign: Family) -> CliResult<(OnCard, Vec<u8>, Vec<u8>)> {
    let mut made: Vec<(token_drivers::KeyObject, Vec<u8>)> = Vec::new();
    for (role, family) in [(Role::Auth, Family::Rsa), (Role::Sign, sign)] {
        let step = token.generate(role, card::algorithm_of(family)).map_err(CliError::from).and_then(|(key, _)| {
            let csr = ca_core::csr::create(&CardSigner::new(token, key.slot)?);
            match csr {
                Ok(csr) => Ok((key, csr)),
                Err(e) => {
                    let _ = token.erase(key.slot);
                    Err(e.into())
                }
            }
        });
        match step {
            Ok(pair) => made.push(pair),
            Err(e) => {
                // No half pair left behind on the card.
                for (key, _) in &made {
                    let _ = token.erase(key.slot);
                }
                return Err(e);
            }
        }
    }
    let serial = token.describe()?.serial;
    let (sign, sign_csr) = made.pop().unwrap_or_else(|| unreachable!("two keys made"));
    let (auth, auth_csr) = made.pop().unwrap_or_else(|| unreachable!("two keys made"));
    let record = OnCard {
        storage: storage_of(token),
        card_serial: serial,
        auth_slot: auth.slot,
        sign_slot: sign.slot,
        auth_key_id: hex::encode(&auth.id),
        sign_key_id: hex::encode(&sign.id),
    };
    Ok((record, auth_csr, sign_csr))
}

/// `ca enroll keygen --storage idcard|kaztoken [--sign-key gost]`: the AUTH key
/// RSA-2048, the SIGN key of `sign`'s family, both made on the card.
pub fn keygen(dir: &Path, storage: KeyStorage, sign: Family, args: &CardArgs) -> CliResult<KeysMade> {
    enroll::no_keys_pending(dir)?;
    let mut token = card::open_with_pin(args)?;
    if storage_of(&token) != storage {
        return Err(CliError::refused(
            "storage_mismatch",
            format!("the card in {} is a {}, not a {storage}", token.reader(), storage_of(&token)),
        ));
    }
    let (record, auth_csr, sign_csr) = new_pair(&mut token, sign)?;
    stage_pending(dir, |staging| {
        write_csr(staging, CertType::Auth, &auth_csr)?;
        write_csr(staging, CertType::Sign, &sign_csr)?;
        write_json(&staging.join(RECORD), &record)
    })?;
    Ok(KeysMade::new(dir, storage))
}

/// Certificates written to a card.
#[derive(Serialize)]
pub struct OnCardPair {
    /// The application or renewal.
    #[serde(skip_serializing_if = "Option::is_none")]
    number: Option<String>,
    reader: String,
    /// AUTH and SIGN certificates now on the card.
    serials: Vec<Serial>,
    /// Where the pair is recorded.
    record: OnCard,
    /// Pairs erased from the card (renewal).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    erased: Vec<u8>,
}

impl Output for OnCardPair {}

fn write_pair(token: &mut Token, record: &OnCard, pair: &PairPem) -> CliResult<Vec<Serial>> {
    let mut serials = Vec::new();
    for (slot, pem) in [(record.auth_slot, &pair.auth), (record.sign_slot, &pair.sign)] {
        let cert = certificate(pem)?;
        token.write_certificate(slot, &cert.to_der()?)?;
        serials.push(Serial::of(&cert));
    }
    Ok(serials)
}

fn save_current(dir: &Path, record: &OnCard) -> CliResult<()> {
    let path = current_record(dir);
    if path.exists() {
        move_into(dir, "superseded", &[&path])?;
    }
    write_json(&path, record)
}

/// `ca enroll fetch` for keys on a card: the certificates go onto the card.
pub fn fetch(server: &str, dir: &Path, number: &str, secret: Option<String>, args: &CardArgs, record: &OnCard) -> CliResult<OnCardPair> {
    let secret = enroll::secret_for(dir, number, secret)?;
    let pair: PairPem = Client::new(server)?.get(routes::CERTIFICATES, number, &secret)?;
    let mut token = open_card(args, record)?;
    let serials = write_pair(&mut token, record, &pair)?;
    save_current(dir, record)?;
    std::fs::remove_dir_all(pending(dir)).map_err(|e| CliError::writing(&pending(dir), e))?;
    enroll::mark_fetched(dir)?;
    Ok(OnCardPair { number: Some(number.to_string()), reader: token.reader(), serials, record: record.clone(), erased: Vec::new() })
}

/// `action`, signed on the card with the SIGN key of `record`.
pub fn sign_action(token: &mut Token, record: &OnCard, action: SignedAction) -> CliResult<Envelope> {
    let cert = token
        .objects()?
        .into_iter()
        .find(|k| k.slot == record.sign_slot && hex::encode(&k.id) == record.sign_key_id)
        .and_then(|k| k.certificate)
        .ok_or_else(|| {
            CliError::refused("no_certificates", format!("slot {} of the card holds no SIGN certificate: fetch it first", record.sign_slot))
        })?;
    let cert = <x509_cert::Certificate as der::Decode>::from_der(&cert)?;
    let signer = CardSigner::new(token, record.sign_slot)?;
    Ok(Envelope::sign(&SignedRequest::new(action), &signer, &cert, calendar::now())?)
}

fn current(dir: &Path) -> CliResult<OnCard> {
    current_on_card(dir)?
        .ok_or_else(|| CliError::refused("no_certificates", format!("{} records no pair on a card: fetch it first", dir.display())))
}

/// A renewal the authority granted whose certificates are not yet all on the card:
/// kept in the key store so that running `renew` again finishes it instead of
/// asking (and being refused) a second time.
#[derive(Serialize, Deserialize)]
struct Granted {
    old: OnCard,
    new: OnCard,
    pair: PairPem,
}

const GRANTED: &str = "renewal.json";

/// Write the granted pair to the card, record it as current, destroy the old keys.
fn finish_renewal(dir: &Path, token: &mut Token, granted: &Granted) -> CliResult<OnCardPair> {
    let serials = write_pair(token, &granted.new, &granted.pair)?;
    save_current(dir, &granted.new)?;
    let mut erased = Vec::new();
    for slot in [granted.old.auth_slot, granted.old.sign_slot] {
        match token.erase(slot) {
            Ok(()) => erased.push(slot),
            // Erased already, by an earlier run that stopped after it.
            Err(token_drivers::TokenError::EmptySlot(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let _ = std::fs::remove_file(dir.join(GRANTED));
    Ok(OnCardPair { number: None, reader: token.reader(), serials, record: granted.new.clone(), erased })
}

/// `ca enroll renew` on a card: a new pair generated on the same card, the request
/// signed with the current SIGN key there; the old pair's keys are then destroyed.
/// If a run stops after the authority granted the renewal, the next run finishes it.
pub fn renew(server: &str, dir: &Path, args: &CardArgs) -> CliResult<OnCardPair> {
    if dir.join(GRANTED).exists() {
        let granted: Granted = read_json(&dir.join(GRANTED))?;
        let mut token = open_card(args, &granted.new)?;
        return finish_renewal(dir, &mut token, &granted);
    }
    let old = current(dir)?;
    let mut token = open_card(args, &old)?;
    // The new SIGN key is of the family the current one is.
    let sign_family = card::family_of(&token.public_key(old.sign_slot)?)?;
    let (new, auth_csr, sign_csr) = new_pair(&mut token, sign_family)?;
    let action = SignedAction::Renew { auth_csr, sign_csr };
    let answer = sign_action(&mut token, &old, action)
        .and_then(|envelope| Client::new(server)?.post::<_, PairPem>(routes::RENEWALS, None, &envelope, 201));
    let pair = match answer {
        Ok(pair) => pair,
        Err(e) => {
            // Refused: the new keys are of no use; free their slots.
            let _ = token.erase(new.auth_slot);
            let _ = token.erase(new.sign_slot);
            return Err(e);
        }
    };
    let granted = Granted { old, new, pair };
    write_json(&dir.join(GRANTED), &granted)?;
    finish_renewal(dir, &mut token, &granted)
}

/// `ca enroll revoke` on a card. The keys of a revoked pair are destroyed, except
/// on a hold, which can be lifted.
pub fn revoke(server: &str, dir: &Path, reason: RevocationReason, args: &CardArgs) -> CliResult<RevokedOnCard> {
    let record = current(dir)?;
    let mut token = open_card(args, &record)?;
    let envelope = sign_action(&mut token, &record, SignedAction::Revoke { reason: reason.as_str().to_string() })?;
    let answer: Revoked = Client::new(server)?.post(routes::REVOCATIONS, None, &envelope, 200)?;
    let mut erased = Vec::new();
    // A hold may be lifted: the record stays current and the keys stay on the card.
    if reason != RevocationReason::CertificateHold {
        move_into(dir, "revoked", &[&current_record(dir)])?;
        for slot in [record.auth_slot, record.sign_slot] {
            token.erase(slot)?;
            erased.push(slot);
        }
    }
    Ok(RevokedOnCard { revoked: answer.revoked, reason, erased })
}

/// A pair on a card revoked by its holder.
#[derive(Serialize)]
pub struct RevokedOnCard {
    revoked: Vec<Serial>,
    reason: RevocationReason,
    /// Slots whose keys were destroyed (none on a hold).
    erased: Vec<u8>,
}

impl Output for RevokedOnCard {}

/// `ca enroll approve`, signed on the card.
pub fn approve(server: &str, dir: &Path, number: &str, args: &CardArgs) -> CliResult<ca_core::api::ApplicationView> {
    let record = current(dir)?;
    let mut token = open_card(args, &record)?;
    let envelope = sign_action(&mut token, &record, SignedAction::Approve { application: number.to_string() })?;
    Client::new(server)?.post(routes::APPROVAL, Some(number), &envelope, 200)
}
