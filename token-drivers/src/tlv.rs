//! BER-TLV as smart cards use it (ISO/IEC 7816-4 §5.2): one- and two-byte tags,
//! definite lengths. Used for FCP templates, control references and the public key
//! template `7F49`; PKCS#15 files are DER and go through the `der` crate.

/// Encode one TLV: `tag` is the tag's bytes as written (`[0x7F, 0x49]` or `[0x80]`).
pub fn encode(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    let n = value.len();
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        _ => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(value);
    out
}

/// One decoded element: its tag (up to two bytes, as a number) and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// The tag, e.g. `0x62` or `0x7F49`.
    pub tag: u16,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Decode a run of TLVs covering `bytes` exactly (padding 0x00 or 0xFF between
/// elements is skipped); `None` if anything is malformed.
pub fn decode(mut bytes: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while let Some((&first, rest)) = bytes.split_first() {
        if first == 0x00 || first == 0xFF {
            bytes = rest;
            continue;
        }
        let (tag, rest) = if first & 0x1F == 0x1F {
            let (&second, rest) = rest.split_first()?;
            if second & 0x80 != 0 {
                return None; // three-byte tags are not used by the applet
            }
            (u16::from_be_bytes([first, second]), rest)
        } else {
            (u16::from(first), rest)
        };
        let (&l, rest) = rest.split_first()?;
        let (len, rest) = match l {
            0..=0x7F => (usize::from(l), rest),
            0x81 => {
                let (&n, rest) = rest.split_first()?;
                (usize::from(n), rest)
            }
            0x82 => {
                let (n, rest) = rest.split_at_checked(2)?;
                (usize::from(u16::from_be_bytes([n[0], n[1]])), rest)
            }
            _ => return None,
        };
        let (value, rest) = rest.split_at_checked(len)?;
        out.push(Element { tag, value });
        bytes = rest;
    }
    Some(out)
}

/// The value of the first element tagged `tag`.
pub fn find<'a>(elements: &[Element<'a>], tag: u16) -> Option<&'a [u8]> {
    elements.iter().find(|e| e.tag == tag).map(|e| e.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_short_and_long_forms() {
        for n in [0usize, 1, 127, 128, 255, 256, 1000] {
            let value = vec![0xAB; n];
            let bytes = encode(&[0x7F, 0x49], &value);
            let els = decode(&bytes).unwrap();
            assert_eq!(els, vec![Element { tag: 0x7F49, value: &value }]);
        }
        let two = [encode(&[0x80], &[1, 2]), encode(&[0x83], &[0x50, 0x15])].concat();
        let els = decode(&two).unwrap();
        assert_eq!(find(&els, 0x83), Some(&[0x50, 0x15][..]));
    }

    #[test]
    fn malformed_input_is_none() {
        assert_eq!(decode(&[0x80, 0x05, 1, 2]), None);
        assert_eq!(decode(&[0x7F]), None);
        assert_eq!(decode(&[0x80, 0x83, 0, 0, 1]), None);
        assert_eq!(decode(&[0x80, 0x82, 0x01]), None);
    }
}
