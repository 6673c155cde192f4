//! The driver: a card in a reader, reached through pcscd.

use crate::apdu::{ins, Command, Response, StatusWord};
use crate::applet::{self, KeyAlgorithm, GET_DATA_SLOTS, MAX_UPDATE, SLOT_EMPTY};
use crate::pin::Pin;
use crate::pkcs15::{self, named_bits, usage, CertificateObject, CommonObjectAttributes, KeyEntry, Path, RsaKeyObject};
use crate::profile::{Profile, SecretPolicy};
use crate::tlv;
use crate::{KeyObject, Role, SecretState, TokenDescription, TokenError};
use der::asn1::OctetString;
use der::{Decode, Encode};
use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};
use sha1::{Digest, Sha1};
use spki::SubjectPublicKeyInfoOwned;
use std::ffi::CString;
use std::time::{Duration, Instant};

/// How many GET RESPONSE rounds one answer may take before the card is called broken.
const MAX_CHAINED: usize = 32;
/// How often an operation is retried after another program reset the card.
const RESET_RETRIES: usize = 3;

fn pcsc_error(e: pcsc::Error) -> TokenError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => TokenError::NoService,
        pcsc::Error::NoReadersAvailable | pcsc::Error::ReaderUnavailable => TokenError::NoReaders,
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard | pcsc::Error::UnpoweredCard | pcsc::Error::UnresponsiveCard => {
            TokenError::CardRemoved
        }
        other => TokenError::Pcsc(other.to_string()),
    }
}

/// A reader and what sits in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReaderStatus {
    /// The reader's name.
    pub name: String,
    /// The card's answer to reset, when a card is present.
    pub atr: Option<Vec<u8>>,
    /// The card's profile, when it is one this driver knows.
    pub profile: Option<&'static Profile>,
}

fn context() -> Result<Context, TokenError> {
    Context::establish(Scope::User).map_err(pcsc_error)
}

fn reader_names(ctx: &Context) -> Result<Vec<CString>, TokenError> {
    match ctx.list_readers_owned() {
        Ok(names) if names.is_empty() => Err(TokenError::NoReaders),
        Ok(names) => Ok(names),
        Err(e) => Err(pcsc_error(e)),
    }
}

fn states(names: &[CString]) -> Vec<ReaderState> {
    names.iter().map(|n| ReaderState::new(n.clone(), State::UNAWARE)).collect()
}

fn status_of(state: &ReaderState) -> ReaderStatus {
    let present = state.event_state().contains(State::PRESENT) && !state.event_state().contains(State::MUTE);
    let atr = present.then(|| state.atr().to_vec());
    ReaderStatus { name: state.name().to_string_lossy().into_owned(), profile: atr.as_deref().and_then(Profile::for_atr), atr }
}

/// Every reader and its card, as they are now.
pub fn readers() -> Result<Vec<ReaderStatus>, TokenError> {
    let ctx = context()?;
    let names = reader_names(&ctx)?;
    let mut states = states(&names);
    ctx.get_status_change(Duration::ZERO, &mut states).map_err(pcsc_error)?;
    Ok(states.iter().map(status_of).collect())
}

/// Wait (through `SCardGetStatusChange`, no polling) until `reader`, or any reader,
/// holds a card; its status.
fn wait_for_card(ctx: &Context, reader: Option<&str>, wait: Duration) -> Result<ReaderStatus, TokenError> {
    let mut names = reader_names(ctx)?;
    if let Some(r) = reader {
        names.retain(|n| n.to_string_lossy() == r);
        if names.is_empty() {
            return Err(TokenError::UnknownReader(r.to_string()));
        }
    }
    let mut states = states(&names);
    let deadline = Instant::now() + wait;
    let mut first = true;
    loop {
        let timeout = if first { Duration::ZERO } else { deadline.saturating_duration_since(Instant::now()) };
        match ctx.get_status_change(timeout, &mut states) {
            Ok(()) => {}
            Err(pcsc::Error::Timeout) if !first => return Err(TokenError::NoCard(wait)),
            Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(pcsc_error(e)),
        }
        first = false;
        let found: Vec<ReaderStatus> = states.iter().map(status_of).filter(|s| s.atr.is_some()).collect();
        if let Some(known) = found.iter().find(|s| s.profile.is_some()) {
            return Ok(known.clone());
        }
        if let (Some(_), Some(unknown)) = (reader, found.first()) {
            return Err(TokenError::UnknownCard {
                reader: unknown.name.clone(),
                atr: hex::encode(unknown.atr.clone().unwrap_or_default()),
            });
        }
        if Instant::now() >= deadline {
            return Err(TokenError::NoCard(wait));
        }
        states.iter_mut().for_each(ReaderState::sync_current_state);
    }
}

/// A card in a reader. Each operation is one PC/SC transaction. The card forgets
/// a verified PIN when this handle is dropped (the card is reset on disconnect).
pub struct Token {
    ctx: Context,
    reader: CString,
    card: Option<Card>,
    profile: &'static Profile,
    /// The PIN verified in this session, to restore the card's state after
    /// another program resets it; wiped on drop.
    pin: Option<Pin>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token").field("reader", &self.reader).field("profile", &self.profile.name).finish_non_exhaustive()
    }
}

impl Token {
    /// The card in `reader` (or the first reader holding a known card), waiting up
    /// to `wait` for one to be inserted.
    pub fn open(reader: Option<&str>, wait: Duration) -> Result<Token, TokenError> {
        let ctx = context()?;
        let status = wait_for_card(&ctx, reader, wait)?;
        let profile = status.profile.ok_or_else(|| TokenError::UnknownCard {
            reader: status.name.clone(),
            atr: hex::encode(status.atr.clone().unwrap_or_default()),
        })?;
        let reader = CString::new(status.name).map_err(|_| TokenError::Pcsc("reader name with a NUL byte".into()))?;
        let mut token = Token { ctx, reader, card: None, profile, pin: None };
        token.connect()?;
        Ok(token)
    }

    /// The card's profile.
    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// The reader's name.
    pub fn reader(&self) -> String {
        self.reader.to_string_lossy().into_owned()
    }

    fn connect(&mut self) -> Result<(), TokenError> {
        // While another program connects or resets the card, pcscd may refuse us its
        // protocol for a moment (SCARD_E_PROTO_MISMATCH): ask again shortly.
        let mut connected = self.ctx.connect(&self.reader, ShareMode::Shared, Protocols::ANY);
        for _ in 0..RESET_RETRIES {
            if !matches!(connected, Err(pcsc::Error::ProtoMismatch)) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
            connected = self.ctx.connect(&self.reader, ShareMode::Shared, Protocols::ANY);
        }
        let mut card = connected.map_err(pcsc_error)?;
        let mut status = card.status2_owned();
        for _ in 0..RESET_RETRIES {
            // Another program reset the card between our connecting and asking.
            if !matches!(status, Err(pcsc::Error::ResetCard)) {
                break;
            }
            card.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard).map_err(pcsc_error)?;
            status = card.status2_owned();
        }
        let atr = status.map_err(pcsc_error)?.atr().to_vec();
        if Profile::for_atr(&atr) != Some(self.profile) {
            return Err(TokenError::UnknownCard { reader: self.reader(), atr: hex::encode(atr) });
        }
        self.card = Some(card);
        Ok(())
    }

    /// Run `op` inside one transaction, after selecting the application. When
    /// another program has reset the card, reconnect, restore the verified PIN and
    /// run it again; when the card was removed, the next call connects afresh.
    fn run<T>(&mut self, op: impl Fn(&Channel<'_>) -> Result<T, TokenError>) -> Result<T, TokenError> {
        let mut restore = false;
        for _ in 0..RESET_RETRIES {
            if self.card.is_none() {
                self.connect()?;
                restore = true;
            }
            let profile = self.profile;
            let Some(card) = self.card.as_mut() else { continue };
            let outcome = match card.transaction2() {
                Ok(tx) => {
                    let channel = Channel { card: &tx, profile };
                    let result = channel.select_app().and_then(|()| {
                        if let (true, Some(pin)) = (restore, &self.pin) {
                            channel.verify(&profile.pin, pin, "PIN")?;
                        }
                        op(&channel)
                    });
                    let _ = tx.end(Disposition::LeaveCard);
                    result
                }
                Err((_, e)) => Err(ChannelError::Pcsc(e).into_token_error()),
            };
            match outcome {
                Err(TokenError::Pcsc(ref m)) if m == RESET_MARK => {
                    // Reconnect; if even that is refused for now, connect afresh next round.
                    let reconnected = self.card.as_mut().map(|c| c.reconnect(ShareMode::Shared, Protocols::ANY, Disposition::LeaveCard));
                    match reconnected {
                        Some(Err(pcsc::Error::ProtoMismatch | pcsc::Error::ResetCard)) => self.card = None,
                        Some(Err(e)) => return Err(pcsc_error(e)),
                        _ => {}
                    }
                    restore = true;
                }
                Err(TokenError::CardRemoved) => {
                    self.card = None;
                    return Err(TokenError::CardRemoved);
                }
                Err(TokenError::Malformed { command, why }) if why == NO_ANSWER => {
                    // An empty answer is how a card pulled out mid-command shows
                    // through some readers: ask the reader whether it is empty now.
                    if self.card_gone() {
                        self.card = None;
                        return Err(TokenError::CardRemoved);
                    }
                    return Err(TokenError::Malformed { command, why });
                }
                other => return other,
            }
        }
        Err(TokenError::Pcsc("the card keeps being reset by another program".into()))
    }

    /// Whether the reader turns out empty within a second.
    fn card_gone(&self) -> bool {
        let mut state = [ReaderState::new(self.reader.clone(), State::UNAWARE)];
        let deadline = Instant::now() + Duration::from_secs(1);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.ctx.get_status_change(left, &mut state) {
                Ok(()) if state[0].event_state().contains(State::EMPTY) => return true,
                Ok(()) if !left.is_zero() => state[0].sync_current_state(),
                _ => return false,
            }
        }
    }

    /// Token information, the PIN's and PUK's states and the free slots.
    pub fn describe(&mut self) -> Result<TokenDescription, TokenError> {
        let reader = self.reader();
        self.run(|ch| {
            let info: pkcs15::TokenInfo = ch
                .read_contents(ch.profile.files.token_info, true, "reading TokenInfo")
                .and_then(|b| pkcs15::TokenInfo::from_der(&b).map_err(|e| TokenError::malformed("reading TokenInfo", e.to_string())))?;
            let serial = info.serial_number.as_bytes();
            Ok(TokenDescription {
                reader: reader.clone(),
                profile: ch.profile,
                serial: hex::encode_upper(serial),
                label: info.label.unwrap_or_default(),
                manufacturer: info.manufacturer_id.unwrap_or_default(),
                pin: ch.secret_state(&ch.profile.pin)?,
                puk: ch.secret_state(&ch.profile.puk)?,
                free_slots: ch.free_slots()?,
            })
        })
    }

    /// How many key slots are free: one GET DATA after the application's SELECT,
    /// the cheapest whole operation (the benchmark's round trip).
    pub fn free_slots(&mut self) -> Result<u8, TokenError> {
        self.run(|ch| ch.free_slots())
    }

    /// Verify the PIN; the card then allows key generation, writing and signing
    /// until it is reset or this handle is dropped.
    pub fn verify_pin(&mut self, pin: &Pin) -> Result<(), TokenError> {
        self.run(|ch| ch.verify(&ch.profile.pin, pin, "PIN"))?;
        self.pin = Some(pin.clone());
        Ok(())
    }

    /// Change the PIN from `old` to `new`.
    pub fn change_pin(&mut self, old: &Pin, new: &Pin) -> Result<(), TokenError> {
        self.run(|ch| {
            let p = &ch.profile.pin;
            let data = [old.block(p, "PIN")?.as_slice(), new.block(p, "new PIN")?.as_slice()].concat();
            let r = ch.transmit(&Command::new(ins::CHANGE_REFERENCE_DATA, 0, p.reference).data(data), "CHANGE REFERENCE DATA")?;
            secret_answer(r.sw, "CHANGE REFERENCE DATA", false)
        })?;
        self.pin = Some(new.clone());
        Ok(())
    }

    /// Unblock the PIN with the PUK, setting `new` as the PIN.
    pub fn unblock(&mut self, puk: &Pin, new: &Pin) -> Result<(), TokenError> {
        self.run(|ch| {
            let data = [puk.block(&ch.profile.puk, "PUK")?.as_slice(), new.block(&ch.profile.pin, "new PIN")?.as_slice()].concat();
            let cmd = Command::new(ins::RESET_RETRY_COUNTER, 0, ch.profile.pin.reference).data(data);
            let r = ch.transmit(&cmd, "RESET RETRY COUNTER")?;
            secret_answer(r.sw, "RESET RETRY COUNTER", true)
        })
    }

    /// Generate a key pair of `algorithm` for `role` in a free slot; the private
    /// key is made on the card and no command returns it. Needs the PIN verified.
    pub fn generate(&mut self, role: Role, algorithm: KeyAlgorithm) -> Result<(KeyObject, SubjectPublicKeyInfoOwned), TokenError> {
        self.run(|ch| {
            let slot = ch.slots()?.iter().position(|&s| s == SLOT_EMPTY).ok_or(TokenError::NoFreeSlot)? as u8 + 1;
            let crt = [tlv::encode(&[0x80], &[algorithm.generate_ref()]), tlv::encode(&[0x84], &[slot])].concat();
            let r = ch.expect(&Command::new(ins::GENERATE_KEY_PAIR, 0, 0).data(crt).le(256), "GENERATE ASYMMETRIC KEY PAIR")?;
            let malformed = |why: String| TokenError::malformed("GENERATE ASYMMETRIC KEY PAIR", why);
            let spki = match algorithm {
                KeyAlgorithm::Rsa2048 => {
                    let (n, e) = applet::read_public_key_template(&r).ok_or_else(|| malformed("no RSA public key template".into()))?;
                    applet::rsa_spki(&n, &e).map_err(|e| malformed(e.to_string()))?
                }
                KeyAlgorithm::Gost2015 => {
                    let point = applet::read_gost_public_key_template(&r).ok_or_else(|| malformed("no GOST public key template".into()))?;
                    applet::gost_spki(&point).map_err(|e| malformed(e.to_string()))?
                }
            };
            let bits = match algorithm {
                KeyAlgorithm::Rsa2048 => applet::rsa_bits(&spki).unwrap_or(0),
                KeyAlgorithm::Gost2015 => algorithm.bits(),
            };
            let id = key_id(&spki);
            ch.edit_keys(|keys, publics| {
                keys.retain(|k| k.key().key_reference != Some(slot));
                publics.retain(|k| k.key().key_reference != Some(slot));
                keys.push(key_object(ch.profile, role, slot, &id, algorithm, bits, true)?);
                publics.push(key_object(ch.profile, role, slot, &id, algorithm, bits, false)?);
                Ok(())
            })?;
            Ok((KeyObject { slot, role: Some(role), algorithm, id, bits, certificate: None }, spki))
        })
    }

    /// Every key on the card with its certificate.
    pub fn objects(&mut self) -> Result<Vec<KeyObject>, TokenError> {
        self.run(|ch| {
            let slots = ch.slots()?;
            let keys: Vec<KeyEntry> = ch.directory(ch.profile.files.prkdf, "reading the PrKDF")?;
            let certs: Vec<CertificateObject> = ch.directory(ch.profile.files.cdf, "reading the CDF")?;
            let mut out = Vec::new();
            for (i, &code) in slots.iter().enumerate().filter(|(_, &s)| s != SLOT_EMPTY) {
                let slot = i as u8 + 1;
                let algorithm = KeyAlgorithm::of_slot_code(code)
                    .ok_or_else(|| TokenError::malformed("GET DATA (key slots)", format!("slot {slot} holds a key of kind {code:02x}")))?;
                let described = keys.iter().find(|k| k.key().key_reference == Some(slot));
                let id = described.map(|k| k.key().id.as_bytes().to_vec()).unwrap_or_default();
                let certificate = match certs.iter().find(|c| !id.is_empty() && c.cert.id.as_bytes() == id.as_slice()) {
                    Some(c) => {
                        let fid = c.x509.value.file_id().ok_or_else(|| TokenError::malformed("reading the CDF", "empty path"))?;
                        Some(ch.read_contents(fid, true, "reading a certificate")?)
                    }
                    None => None,
                };
                out.push(KeyObject {
                    slot,
                    role: described.map(role_of),
                    algorithm,
                    id,
                    bits: described.map_or(0, KeyEntry::bits),
                    certificate,
                });
            }
            Ok(out)
        })
    }

    /// The public key of the key in `slot`.
    pub fn public_key(&mut self, slot: u8) -> Result<SubjectPublicKeyInfoOwned, TokenError> {
        self.run(|ch| ch.public_key(slot))
    }

    /// Store `certificate` (DER) next to the key in `slot`; refused unless it
    /// certifies that key. Needs the PIN verified.
    pub fn write_certificate(&mut self, slot: u8, certificate: &[u8]) -> Result<(), TokenError> {
        let cert = x509_cert::Certificate::from_der(certificate)
            .map_err(|e| TokenError::malformed("writing a certificate", format!("not a certificate: {e}")))?;
        self.run(|ch| {
            let spki = ch.public_key(slot)?;
            if spki != cert.tbs_certificate.subject_public_key_info {
                return Err(TokenError::WrongCertificate(slot));
            }
            let room = usize::from(ch.profile.sizes.certificate);
            if certificate.len() > room {
                return Err(TokenError::TooLarge { what: "the certificate", len: certificate.len(), room });
            }
            let fid = ch.profile.files.certificate + u16::from(slot);
            ch.write(fid, certificate)?;
            let id = key_id(&spki);
            let keys: Vec<KeyEntry> = ch.directory(ch.profile.files.prkdf, "reading the PrKDF")?;
            let role = keys.iter().find(|k| k.key().key_reference == Some(slot)).map(role_of);
            let object = certificate_object(ch.profile, role, slot, &id)?;
            ch.edit_certificates(&id, Some(object))
        })
    }

    /// Sign a SHA-256 digest with the RSA key in `slot` (PKCS#1 v1.5). Needs the PIN verified.
    pub fn sign_digest(&mut self, slot: u8, digest: &[u8; 32]) -> Result<Vec<u8>, TokenError> {
        self.sign_input(slot, KeyAlgorithm::Rsa2048, applet::digest_info_sha256(digest))
    }

    /// Sign a Streebog-512 hash with the GOST key in `slot`: r ‖ s, 64 bytes each,
    /// little-endian. Needs the PIN verified.
    pub fn sign_gost_hash(&mut self, slot: u8, hash: &[u8; 64]) -> Result<Vec<u8>, TokenError> {
        let sig = self.sign_input(slot, KeyAlgorithm::Gost2015, hash.to_vec())?;
        if sig.len() != 2 * 64 {
            return Err(TokenError::malformed("PSO:COMPUTE DIGITAL SIGNATURE", format!("a GOST signature of {} bytes", sig.len())));
        }
        Ok(sig)
    }

    fn sign_input(&mut self, slot: u8, algorithm: KeyAlgorithm, input: Vec<u8>) -> Result<Vec<u8>, TokenError> {
        self.run(|ch| {
            let mse = [tlv::encode(&[0x80], &[algorithm.signature_ref()]), tlv::encode(&[0x84], &[slot])].concat();
            ch.expect(&Command::new(ins::MSE, 0x41, 0xB6).data(mse), "MSE:SET")?;
            let sig = ch
                .expect(&Command::new(ins::PSO, 0x9E, 0x9A).data(input.clone()).le(256), "PSO:COMPUTE DIGITAL SIGNATURE")
                .map_err(|e| if let TokenError::EmptySlot(_) = e { TokenError::EmptySlot(slot) } else { e })?;
            if sig.is_empty() {
                return Err(TokenError::malformed("PSO:COMPUTE DIGITAL SIGNATURE", "no signature"));
            }
            Ok(sig)
        })
    }

    /// Destroy the key in `slot` and its certificate. Needs the PIN verified.
    pub fn erase(&mut self, slot: u8) -> Result<(), TokenError> {
        self.run(|ch| {
            // Refused here, before anything is changed, when the slot holds no key.
            let id = key_id(&ch.public_key(slot)?);
            let fid = ch.profile.files.key + u16::from(slot);
            ch.expect(&Command::new(ins::DELETE_FILE, 0, 0).data(fid.to_be_bytes().to_vec()), "DELETE FILE")?;
            let cert_fid = ch.profile.files.certificate + u16::from(slot);
            ch.write(cert_fid, &[0u8; 16])?;
            ch.edit_keys(|keys, publics| {
                keys.retain(|k| k.key().key_reference != Some(slot));
                publics.retain(|k| k.key().key_reference != Some(slot));
                Ok(())
            })?;
            ch.edit_certificates(&id, None)
        })
    }
}

/// AUTH or SIGN, from a private key object's usage: SIGN keys carry nonRepudiation.
fn role_of(k: &KeyEntry) -> Role {
    if pkcs15::has_bit(&k.key().usage, usage::NON_REPUDIATION) {
        Role::Sign
    } else {
        Role::Auth
    }
}

/// The PKCS#15 key identifier: SHA-1 of the subjectPublicKey bits, which is also the
/// certificate's subject key identifier under RFC 5280 method 1.
pub(crate) fn key_id(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

fn der_error(command: &'static str) -> impl Fn(der::Error) -> TokenError {
    move |e| TokenError::malformed(command, e.to_string())
}

fn key_object(
    profile: &Profile,
    role: Role,
    slot: u8,
    id: &[u8],
    algorithm: KeyAlgorithm,
    bits: u32,
    private: bool,
) -> Result<KeyEntry, TokenError> {
    let e = der_error("writing the key directory");
    let usage_bits: &[u8] = match (role, private) {
        (Role::Auth, true) => &[usage::SIGN],
        (Role::Sign, true) => &[usage::SIGN, usage::NON_REPUDIATION],
        (Role::Auth, false) => &[usage::VERIFY],
        (Role::Sign, false) => &[usage::VERIFY, usage::NON_REPUDIATION],
    };
    let fid = if private { profile.files.key } else { profile.files.public_key } + u16::from(slot);
    let common = CommonObjectAttributes {
        label: Some(role.label().into()),
        flags: Some(named_bits(if private { &[0, 1] } else { &[1] })),
        auth_id: if private { Some(OctetString::new(vec![1]).map_err(&e)?) } else { None },
    };
    let key = pkcs15::CommonKeyAttributes {
        id: OctetString::new(id.to_vec()).map_err(&e)?,
        usage: named_bits(usage_bits),
        native: None,
        // sensitive, alwaysSensitive, neverExtractable, local.
        access_flags: private.then(|| named_bits(&[0, 2, 3, 4])),
        key_reference: Some(slot),
    };
    let value = Path::in_app(profile, fid);
    Ok(match algorithm {
        KeyAlgorithm::Rsa2048 => KeyEntry::Rsa(RsaKeyObject { common, key, rsa: pkcs15::RsaKeyAttributes { value, modulus_length: bits } }),
        KeyAlgorithm::Gost2015 => KeyEntry::Ec(pkcs15::EcKeyObject { common, key, ec: pkcs15::EcKeyAttributes { value } }),
    })
}

fn certificate_object(profile: &Profile, role: Option<Role>, slot: u8, id: &[u8]) -> Result<CertificateObject, TokenError> {
    let e = der_error("writing the certificate directory");
    Ok(CertificateObject {
        common: CommonObjectAttributes {
            label: Some(role.map_or("certificate", Role::label).into()),
            flags: Some(named_bits(&[1])),
            auth_id: None,
        },
        cert: pkcs15::CommonCertificateAttributes { id: OctetString::new(id.to_vec()).map_err(&e)? },
        x509: pkcs15::X509CertificateAttributes { value: Path::in_app(profile, profile.files.certificate + u16::from(slot)) },
    })
}

/// What `VERIFY`, `CHANGE REFERENCE DATA` and `RESET RETRY COUNTER` answered.
fn secret_answer(sw: StatusWord, command: &'static str, puk: bool) -> Result<(), TokenError> {
    match (sw, sw.counter(), puk) {
        (StatusWord::OK, _, _) => Ok(()),
        (_, Some(0), false) | (StatusWord::BLOCKED, _, false) => Err(TokenError::PinBlocked),
        (_, Some(0), true) | (StatusWord::BLOCKED, _, true) => Err(TokenError::PukBlocked),
        (_, Some(n), false) => Err(TokenError::WrongPin { tries_left: n }),
        (_, Some(n), true) => Err(TokenError::WrongPuk { tries_left: n }),
        (sw, None, _) => Err(TokenError::Status { command, sw }),
    }
}

const RESET_MARK: &str = "card reset by another program";
const NO_ANSWER: &str = "no answer at all";

enum ChannelError {
    Pcsc(pcsc::Error),
}

impl ChannelError {
    fn into_token_error(self) -> TokenError {
        match self {
            // Another program reset the card, or is negotiating its protocol: reconnect and retry.
            ChannelError::Pcsc(pcsc::Error::ResetCard | pcsc::Error::ProtoMismatch) => TokenError::Pcsc(RESET_MARK.into()),
            ChannelError::Pcsc(e) => pcsc_error(e),
        }
    }
}

/// Commands inside one transaction.
struct Channel<'a> {
    card: &'a Card,
    profile: &'static Profile,
}

impl Channel<'_> {
    /// Send one command, collecting `61xx` continuations; the answer checked for
    /// shape (status bytes present, no more data than asked).
    fn transmit(&self, cmd: &Command, name: &'static str) -> Result<Response, TokenError> {
        // The bytes may hold a PIN: wiped when done.
        let bytes = zeroize::Zeroizing::new(cmd.to_bytes().ok_or_else(|| TokenError::malformed(name, "command too long"))?);
        let mut response = self.exchange(&bytes, cmd.le, name)?;
        let mut data = std::mem::take(&mut response.data);
        for _ in 0..MAX_CHAINED {
            let Some(more) = response.sw.more() else {
                response.data = data;
                return Ok(response);
            };
            let get = Command::new(ins::GET_RESPONSE, 0, 0).le(more);
            response = self.exchange(&get.to_bytes().unwrap_or_default(), Some(more), name)?;
            data.append(&mut response.data);
        }
        Err(TokenError::malformed(name, "the answer never ends"))
    }

    fn exchange(&self, bytes: &[u8], le: Option<u16>, name: &'static str) -> Result<Response, TokenError> {
        let mut buf = [0u8; 258 + 16];
        let raw = self.card.transmit(bytes, &mut buf).map_err(|e| ChannelError::Pcsc(e).into_token_error())?;
        if raw.is_empty() {
            return Err(TokenError::malformed(name, NO_ANSWER));
        }
        let r = Response::parse(raw).ok_or_else(|| TokenError::malformed(name, format!("{} bytes, no status word", raw.len())))?;
        let asked = usize::from(le.unwrap_or(0));
        if r.data.len() > asked {
            return Err(TokenError::malformed(name, format!("{} bytes of data where at most {asked} were asked", r.data.len())));
        }
        Ok(r)
    }

    /// Send and require 9000; common refusals become their own errors.
    fn expect(&self, cmd: &Command, name: &'static str) -> Result<Vec<u8>, TokenError> {
        let r = self.transmit(cmd, name)?;
        match r.sw {
            StatusWord::OK => Ok(r.data),
            StatusWord::SECURITY_STATUS => Err(TokenError::PinNotVerified),
            StatusWord::BLOCKED => Err(TokenError::PinBlocked),
            // MSE names the slot last in its data; PSO's caller puts its slot in.
            StatusWord::NOT_FOUND if cmd.ins == ins::MSE || cmd.ins == ins::PSO => {
                Err(TokenError::EmptySlot(cmd.data.last().copied().unwrap_or(0)))
            }
            sw => Err(TokenError::Status { command: name, sw }),
        }
    }

    fn select_app(&self) -> Result<(), TokenError> {
        self.expect(&Command::new(ins::SELECT, 0x04, 0x0C).data(self.profile.aid.to_vec()), "SELECT application").map(drop)
    }

    /// Select an EF of the application; its allocated size.
    fn select(&self, fid: u16, name: &'static str) -> Result<usize, TokenError> {
        let fcp = self.expect(&Command::new(ins::SELECT, 0x02, 0x04).data(fid.to_be_bytes().to_vec()).le(256), name)?;
        let outer = tlv::decode(&fcp).ok_or_else(|| TokenError::malformed(name, "bad FCP"))?;
        let inner = tlv::find(&outer, 0x62).and_then(tlv::decode).ok_or_else(|| TokenError::malformed(name, "no FCP template"))?;
        match tlv::find(&inner, 0x80) {
            Some(&[a, b]) => Ok(usize::from(u16::from_be_bytes([a, b]))),
            _ => Err(TokenError::malformed(name, "FCP without the file size")),
        }
    }

    fn read_chunk(&self, offset: usize, len: usize, name: &'static str) -> Result<Vec<u8>, TokenError> {
        let off = u16::try_from(offset).ok().filter(|o| o & 0x8000 == 0).ok_or_else(|| TokenError::malformed(name, "file too long"))?;
        let [p1, p2] = off.to_be_bytes();
        let r = self.transmit(&Command::new(ins::READ_BINARY, p1, p2).le(len.clamp(1, 256) as u16), name)?;
        match r.sw {
            StatusWord::OK | StatusWord::END_OF_FILE if !r.data.is_empty() => Ok(r.data),
            StatusWord::SECURITY_STATUS => Err(TokenError::PinNotVerified),
            sw => Err(TokenError::Status { command: name, sw }),
        }
    }

    /// Read a file holding one DER object or a run of them ending in padding: only
    /// as much as the contents take, not the whole allocation.
    fn read_der_file(&self, fid: u16, name: &'static str) -> Result<Vec<u8>, TokenError> {
        self.read_contents(fid, false, name)
    }

    /// Read a file holding one DER object (`single`) or a run of them ending in
    /// padding, taking only as many chunks as the contents need.
    fn read_contents(&self, fid: u16, single: bool, name: &'static str) -> Result<Vec<u8>, TokenError> {
        let size = self.select(fid, name)?;
        let mut buf: Vec<u8> = Vec::new();
        loop {
            if let Some(end) = contents_end(&buf, single) {
                buf.truncate(end);
                return Ok(buf);
            }
            if buf.len() >= size {
                buf.truncate(size);
                return Ok(buf);
            }
            let chunk = self.read_chunk(buf.len(), (size - buf.len()).min(256), name)?;
            buf.extend_from_slice(&chunk);
        }
    }

    fn directory<T: for<'b> Decode<'b>>(&self, fid: u16, name: &'static str) -> Result<Vec<T>, TokenError> {
        let bytes = self.read_der_file(fid, name)?;
        pkcs15::objects(&bytes).map_err(|e| TokenError::malformed(name, e.to_string()))
    }

    /// Write `data` at the start of an EF, in UPDATE BINARY chunks.
    fn write(&self, fid: u16, data: &[u8]) -> Result<(), TokenError> {
        let size = self.select(fid, "selecting a file to write")?;
        if data.len() > size {
            return Err(TokenError::TooLarge { what: "the data", len: data.len(), room: size });
        }
        for (i, chunk) in data.chunks(MAX_UPDATE).enumerate() {
            let [p1, p2] = ((i * MAX_UPDATE) as u16).to_be_bytes();
            self.expect(&Command::new(ins::UPDATE_BINARY, p1, p2).data(chunk.to_vec()), "UPDATE BINARY")?;
        }
        Ok(())
    }

    /// Rewrite an object directory: the objects, then zeros over what was there.
    fn write_directory<T: Encode>(&self, fid: u16, objects: &[T]) -> Result<(), TokenError> {
        let old = self.read_der_file(fid, "reading a directory")?.len();
        let mut bytes = Vec::new();
        for o in objects {
            o.encode_to_vec(&mut bytes).map_err(der_error("writing a directory"))?;
        }
        let room = usize::from(self.profile.sizes.directory);
        if bytes.len() >= room {
            return Err(TokenError::TooLarge { what: "the object directory", len: bytes.len(), room });
        }
        bytes.resize(old.max(bytes.len() + 1).min(room), 0);
        self.write(fid, &bytes)
    }

    fn edit_keys(&self, edit: impl FnOnce(&mut Vec<KeyEntry>, &mut Vec<KeyEntry>) -> Result<(), TokenError>) -> Result<(), TokenError> {
        let f = &self.profile.files;
        let mut keys: Vec<KeyEntry> = self.directory(f.prkdf, "reading the PrKDF")?;
        let mut publics: Vec<KeyEntry> = self.directory(f.pukdf, "reading the PuKDF")?;
        edit(&mut keys, &mut publics)?;
        self.write_directory(f.prkdf, &keys)?;
        self.write_directory(f.pukdf, &publics)
    }

    /// Rewrite the CDF without the certificate object of key `id`, and with
    /// `replacement` in its place when given.
    fn edit_certificates(&self, id: &[u8], replacement: Option<CertificateObject>) -> Result<(), TokenError> {
        let mut certs: Vec<CertificateObject> = self.directory(self.profile.files.cdf, "reading the CDF")?;
        certs.retain(|c| c.cert.id.as_bytes() != id);
        certs.extend(replacement);
        self.write_directory(self.profile.files.cdf, &certs)
    }

    fn free_slots(&self) -> Result<u8, TokenError> {
        Ok(self.slots()?.iter().filter(|&&s| s == SLOT_EMPTY).count() as u8)
    }

    fn slots(&self) -> Result<Vec<u8>, TokenError> {
        let [p1, p2] = GET_DATA_SLOTS;
        let table = self.expect(&Command::new(ins::GET_DATA, p1, p2).le(256), "GET DATA (key slots)")?;
        if table.len() != usize::from(self.profile.slots) {
            return Err(TokenError::malformed(
                "GET DATA (key slots)",
                format!("{} slots where the profile has {}", table.len(), self.profile.slots),
            ));
        }
        Ok(table)
    }

    fn public_key(&self, slot: u8) -> Result<SubjectPublicKeyInfoOwned, TokenError> {
        if self.slots()?.get(usize::from(slot).wrapping_sub(1)).is_none_or(|&s| s == SLOT_EMPTY) {
            return Err(TokenError::EmptySlot(slot));
        }
        let bytes = self.read_contents(self.profile.files.public_key + u16::from(slot), true, "reading a public key")?;
        applet::spki_of_key_file(&bytes).map(|(_, spki)| spki).map_err(der_error("reading a public key"))
    }

    fn verify(&self, policy: &SecretPolicy, pin: &Pin, what: &'static str) -> Result<(), TokenError> {
        let block = pin.block(policy, what)?;
        let r = self.transmit(&Command::new(ins::VERIFY, 0, policy.reference).data(block.to_vec()), "VERIFY")?;
        secret_answer(r.sw, "VERIFY", policy.reference == self.profile.puk.reference)
    }

    fn secret_state(&self, policy: &SecretPolicy) -> Result<SecretState, TokenError> {
        let r = self.transmit(&Command::new(ins::VERIFY, 0, policy.reference), "VERIFY (status)")?;
        match (r.sw, r.sw.counter()) {
            (StatusWord::OK, _) => Ok(SecretState::Verified),
            (StatusWord::BLOCKED, _) | (_, Some(0)) => Ok(SecretState::Blocked),
            (_, Some(n)) => Ok(SecretState::TriesLeft(n)),
            (sw, None) => Err(TokenError::Status { command: "VERIFY (status)", sw }),
        }
    }
}

/// Where a file's DER contents end, once `buf` shows it: the end of the last whole
/// object before padding (0x00 or 0xFF), or of the single object it holds.
fn contents_end(buf: &[u8], single: bool) -> Option<usize> {
    if single {
        return der_length(buf).filter(|&n| n <= buf.len());
    }
    let mut pos = 0;
    loop {
        match buf.get(pos)? {
            0x00 | 0xFF => return Some(pos),
            _ => pos += der_length(&buf[pos..])?,
        }
        if pos > buf.len() {
            return None;
        }
    }
}

/// The whole length of the DER element starting `buf`, once its header is there.
fn der_length(buf: &[u8]) -> Option<usize> {
    let l = *buf.get(1)?;
    match l {
        0..=0x7F => Some(2 + usize::from(l)),
        0x81 => Some(3 + usize::from(*buf.get(2)?)),
        0x82 => Some(4 + usize::from(u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]))),
        _ => Some(usize::MAX / 2),
    }
}
