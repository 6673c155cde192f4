//! PINs and PUKs: held in memory wiped on drop, never printed.

use crate::profile::SecretPolicy;
use crate::TokenError;
use std::fmt;
use zeroize::Zeroizing;

/// A PIN or PUK as the holder typed it. Its `Debug` hides it; its memory is wiped
/// when dropped.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// A PIN from what the holder typed, without a trailing line end.
    pub fn new(text: &str) -> Pin {
        Pin(Zeroizing::new(text.trim_end_matches(['\r', '\n']).to_string()))
    }

    /// The bytes sent to the card: the characters, padded with 0xFF to the policy's
    /// length; refused if the PIN breaks the policy's length rules.
    pub fn block(&self, policy: &SecretPolicy, what: &'static str) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let n = self.0.chars().count();
        if n < policy.min_len || n > policy.max_len || !self.0.is_ascii() {
            return Err(TokenError::PinFormat { what, min: policy.min_len, max: policy.max_len });
        }
        let mut block = Zeroizing::new(self.0.as_bytes().to_vec());
        block.resize(policy.max_len, 0xFF);
        Ok(block)
    }

    /// The PIN's text, for a card emulator comparing what it stores.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// A PIN block from the card's side: the characters before the 0xFF padding.
pub fn unpad(block: &[u8]) -> &[u8] {
    let end = block.iter().position(|&b| b == 0xFF).unwrap_or(block.len());
    &block[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::KAZTOKEN;

    #[test]
    fn blocks_are_padded_and_checked() {
        let block = Pin::new("12345678\n").block(&KAZTOKEN.pin, "PIN").unwrap();
        assert_eq!(block.len(), 12);
        assert_eq!(unpad(&block), b"12345678");
        assert!(matches!(Pin::new("123").block(&KAZTOKEN.pin, "PIN"), Err(TokenError::PinFormat { .. })));
        assert!(Pin::new("1234567890123").block(&KAZTOKEN.pin, "PIN").is_err());
        assert_eq!(format!("{:?}", Pin::new("12345678")), "Pin(<redacted>)");
    }
}
