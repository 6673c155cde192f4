//! Card profiles: everything that differs between the kinds of card, as data.
//! Supporting another card that speaks the applet is one more table here.

use std::fmt;

/// The PKCS#15 application identifier (ISO/IEC 7816-15, PKCS#15 v1.1 §5.4.1).
pub const PKCS15_AID: &[u8] = &[0xA0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4B, 0x43, 0x53, 0x2D, 0x31, 0x35];

/// The kinds of card.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// The national ID card.
    Idcard,
    /// The Kaztoken USB token.
    Kaztoken,
}

/// A PIN or PUK: its reference on the card and its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretPolicy {
    /// Reference in VERIFY / CHANGE REFERENCE DATA / RESET RETRY COUNTER (P2).
    pub reference: u8,
    /// Fewest characters.
    pub min_len: usize,
    /// Most characters; on the wire the value is padded with 0xFF to this length.
    pub max_len: usize,
    /// Wrong tries before it blocks.
    pub tries: u8,
    /// The value a new card comes with, when the profile has one.
    pub factory: Option<&'static str>,
}

/// File identifiers of the applet's file system (APPLET.md, "Files").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Files {
    /// EF.DIR under the MF.
    pub dir: u16,
    /// The PKCS#15 application DF under the MF.
    pub app: u16,
    /// EF.ODF.
    pub odf: u16,
    /// EF.TokenInfo.
    pub token_info: u16,
    /// EF.AODF (the PIN object).
    pub aodf: u16,
    /// EF.PrKDF.
    pub prkdf: u16,
    /// EF.PuKDF.
    pub pukdf: u16,
    /// EF.CDF.
    pub cdf: u16,
    /// Public key of slot `n` is EF `public_key + n`, written by the card on generation.
    pub public_key: u16,
    /// Certificate of slot `n` is EF `certificate + n`.
    pub certificate: u16,
    /// Private key object of slot `n` is `key + n` (never readable).
    pub key: u16,
}

/// Sizes the card allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Each object directory file (PrKDF, PuKDF, CDF).
    pub directory: u16,
    /// Each certificate file.
    pub certificate: u16,
}

/// One kind of card.
#[derive(Debug, PartialEq, Eq)]
pub struct Profile {
    /// Which.
    pub kind: ProfileKind,
    /// Its name on the command line (`--storage`, `--profile`).
    pub name: &'static str,
    /// Historical bytes of its answer to reset: how a card is recognised.
    pub historical: &'static [u8],
    /// The application identifier selected first.
    pub aid: &'static [u8],
    /// Manufacturer written in TokenInfo.
    pub manufacturer: &'static str,
    /// Label written in TokenInfo at personalisation.
    pub label: &'static str,
    /// The user PIN.
    pub pin: SecretPolicy,
    /// The unblocking PUK.
    pub puk: SecretPolicy,
    /// Key slots (numbered 1..=slots). A slot holds one key and its certificate.
    pub slots: u8,
    /// Whether a legal entity's employees may keep their keys here.
    pub legal_entities: bool,
    /// The file system.
    pub files: Files,
    /// Allocated sizes.
    pub sizes: Sizes,
}

const FILES: Files = Files {
    dir: 0x2F00,
    app: 0x5015,
    odf: 0x5031,
    token_info: 0x5032,
    aodf: 0x4401,
    prkdf: 0x4402,
    pukdf: 0x4403,
    cdf: 0x4404,
    public_key: 0x4510,
    certificate: 0x4530,
    key: 0x4B00,
};

/// The national ID card: individuals only, a PIN set when the card is
/// personalised, the current AUTH and SIGN keys plus room for a renewal's pair.
pub static IDCARD: Profile = Profile {
    kind: ProfileKind::Idcard,
    name: "idcard",
    historical: b"KZ-IDCARD",
    aid: PKCS15_AID,
    manufacturer: "kz-pki virtual ID card",
    label: "National ID card",
    pin: SecretPolicy { reference: 0x01, min_len: 4, max_len: 12, tries: 3, factory: None },
    puk: SecretPolicy { reference: 0x02, min_len: 8, max_len: 12, tries: 10, factory: None },
    slots: 4,
    legal_entities: false,
    files: FILES,
    sizes: Sizes { directory: 1024, certificate: 3072 },
};

/// The Kaztoken USB token: factory PIN 12345678, a PUK, several key pairs.
pub static KAZTOKEN: Profile = Profile {
    kind: ProfileKind::Kaztoken,
    name: "kaztoken",
    historical: b"KAZTOKEN",
    aid: PKCS15_AID,
    manufacturer: "kz-pki virtual Kaztoken",
    label: "Kaztoken",
    pin: SecretPolicy { reference: 0x01, min_len: 6, max_len: 12, tries: 3, factory: Some("12345678") },
    puk: SecretPolicy { reference: 0x02, min_len: 8, max_len: 12, tries: 10, factory: Some("87654321") },
    slots: 8,
    legal_entities: true,
    files: FILES,
    sizes: Sizes { directory: 2048, certificate: 3072 },
};

/// Every profile this driver knows.
pub static PROFILES: [&Profile; 2] = [&IDCARD, &KAZTOKEN];

impl Profile {
    /// The profile named `name` (`idcard`, `kaztoken`).
    pub fn named(name: &str) -> Option<&'static Profile> {
        PROFILES.iter().copied().find(|p| p.name == name)
    }

    /// The profile whose answer to reset this is.
    pub fn for_atr(atr: &[u8]) -> Option<&'static Profile> {
        PROFILES.iter().copied().find(|p| p.atr() == atr)
    }

    /// The answer to reset: direct convention, T=1 only, then the historical bytes
    /// and the check byte (ISO/IEC 7816-3 §8).
    pub fn atr(&self) -> Vec<u8> {
        let k = self.historical.len().min(15) as u8;
        let mut atr = vec![0x3B, 0x80 | k, 0x01];
        atr.extend_from_slice(&self.historical[..usize::from(k)]);
        let tck = atr[1..].iter().fold(0u8, |x, b| x ^ b);
        atr.push(tck);
        atr
    }

    /// The slots, in order.
    pub fn slot_numbers(&self) -> impl Iterator<Item = u8> {
        1..=self.slots
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_told_apart_by_their_atr() {
        for p in PROFILES {
            assert_eq!(Profile::for_atr(&p.atr()), Some(p));
            assert_eq!(Profile::named(p.name), Some(p));
        }
        assert_ne!(IDCARD.atr(), KAZTOKEN.atr());
        assert_eq!(Profile::for_atr(&[0x3B, 0x00]), None);
        // T0 says how many historical bytes follow; the check byte makes the XOR zero.
        let atr = KAZTOKEN.atr();
        assert_eq!(usize::from(atr[1] & 0x0F), KAZTOKEN.historical.len());
        assert_eq!(atr[1..].iter().fold(0, |x, b| x ^ b), 0);
    }
}
