//! BER to DER, for the files other software writes in BER: the national
//! authority's PKCS#12 key files (Java writes indefinite lengths and OCTET
//! STRINGs in segments). Lengths become definite and segmented OCTET STRINGs one
//! string; nothing else is changed, so what a MAC or signature covers (the
//! octets of a string) stays the same. Bounded: depth, size, no panic on input.

use thiserror::Error;

/// Why input is not BER this reader can make DER of.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("not BER: {0}")]
pub(crate) struct BerError(&'static str);

/// Nesting deeper than this is refused (PKCS#12 nests about a dozen deep).
const MAX_DEPTH: usize = 64;

/// The DER form of the BER in `input` (one value, nothing after it).
pub(crate) fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    let mut out = Vec::with_capacity(input.len());
    let used = value(input, 0, &mut out)?;
    if used != input.len() {
        return Err(BerError("bytes after the value"));
    }
    Ok(out)
}

/// One value inside a constructed one: its first tag byte, its whole encoding,
/// and its contents.
pub(crate) type Child<'a> = (u8, &'a [u8], &'a [u8]);

/// The values inside the DER constructed value `input` (its tag and length skipped).
pub(crate) fn children(input: &[u8]) -> Result<Vec<Child<'_>>, BerError> {
    let (_, tl) = tag(input)?;
    let (Some(n), ll) = length(&input[tl..])? else { return Err(BerError("not DER")) };
    let content = input.get(tl + ll..tl + ll + n).ok_or(BerError("a value runs past the end"))?;
    let mut out = Vec::new();
    let mut at = 0;
    while at < content.len() {
        let rest = &content[at..];
        let (_, tl) = tag(rest)?;
        let (Some(n), ll) = length(&rest[tl..])? else { return Err(BerError("not DER")) };
        let whole = rest.get(..tl + ll + n).ok_or(BerError("a value runs past the end"))?;
        out.push((rest[0], whole, &whole[tl + ll..]));
        at += whole.len();
    }
    Ok(out)
}

/// Read one value at the start of `input`, append its DER to `out`; bytes used.
fn value(input: &[u8], depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError("nested too deep"));
    }
    let (tag, tag_len) = tag(input)?;
    let constructed = input[0] & 0x20 != 0;
    let rest = &input[tag_len..];
    let (length, len_len) = length(rest)?;
    let body = &rest[len_len..];
    match length {
        Some(n) => {
            let content = body.get(..n).ok_or(BerError("a value runs past the end"))?;
            if constructed {
                let mut inner = Vec::with_capacity(n);
                let mut at = 0;
                while at < content.len() {
                    at += value(&content[at..], depth + 1, &mut inner)?;
                }
                emit(tag, &inner, out);
            } else {
                emit(tag, content, out);
            }
            Ok(tag_len + len_len + n)
        }
        None => {
            if !constructed {
                return Err(BerError("an indefinite length on a primitive value"));
            }
            let mut inner = Vec::new();
            let mut at = 0;
            loop {
                let remaining = body.get(at..).ok_or(BerError("a value runs past the end"))?;
                if remaining.starts_with(&[0, 0]) {
                    at += 2;
                    break;
                }
                if remaining.is_empty() {
                    return Err(BerError("no end-of-contents"));
                }
                at += value(remaining, depth + 1, &mut inner)?;
            }
            emit(tag, &inner, out);
            Ok(tag_len + len_len + at)
        }
    }
}

/// Append a value: a constructed OCTET STRING (segments, already DER) becomes one
/// primitive string of their contents.
fn emit(tag: &[u8], content: &[u8], out: &mut Vec<u8>) {
    if tag == [0x24] {
        let mut octets = Vec::with_capacity(content.len());
        let mut at = 0;
        while at < content.len() {
            // Each segment is DER here: 04 len octets.
            let Ok((_, tl)) = self::tag(&content[at..]) else { break };
            let Ok((Some(n), ll)) = length(&content[at + tl..]) else { break };
            let start = at + tl + ll;
            octets.extend_from_slice(content.get(start..start + n).unwrap_or_default());
            at = start + n;
        }
        out.push(0x04);
        put_length(octets.len(), out);
        out.extend_from_slice(&octets);
        return;
    }
    out.extend_from_slice(tag);
    put_length(content.len(), out);
    out.extend_from_slice(content);
}

/// The tag bytes at the start of `input` (high tag numbers included).
fn tag(input: &[u8]) -> Result<(&[u8], usize), BerError> {
    let first = *input.first().ok_or(BerError("a value is cut off"))?;
    if first & 0x1f != 0x1f {
        return Ok((&input[..1], 1));
    }
    for (i, b) in input.iter().enumerate().skip(1).take(5) {
        if b & 0x80 == 0 {
            return Ok((&input[..=i], i + 1));
        }
    }
    Err(BerError("a tag number too long"))
}

/// The length at the start of `input`: `None` for indefinite; and its size.
fn length(input: &[u8]) -> Result<(Option<usize>, usize), BerError> {
    let first = *input.first().ok_or(BerError("a length is cut off"))?;
    if first < 0x80 {
        return Ok((Some(first as usize), 1));
    }
    if first == 0x80 {
        return Ok((None, 1));
    }
    let n = (first & 0x7f) as usize;
    if n > 4 {
        return Err(BerError("a length over 4 bytes"));
    }
    let bytes = input.get(1..=n).ok_or(BerError("a length is cut off"))?;
    let value = bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize);
    Ok((Some(value), 1 + n))
}

fn put_length(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let bytes = n.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_lengths_and_segmented_strings_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" }, INTEGER 5 }
        let ber = [0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x02, 0x01, 0x05, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), vec![0x30, 0x08, 0x04, 0x03, b'a', b'b', b'c', 0x02, 0x01, 0x05]);
        // DER stays as it is.
        let der = [0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(to_der(&der).unwrap(), der.to_vec());
        // Long lengths are re-encoded minimally.
        let mut long = vec![0x04, 0x82, 0x00, 0x81];
        long.extend(std::iter::repeat_n(7u8, 0x81));
        assert_eq!(&to_der(&long).unwrap()[..3], &[0x04, 0x81, 0x81]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x80, 0x02],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x05, 0x01],
            &[0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(to_der(bad).is_err(), "{bad:?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert!(to_der(&deep).is_err());
    }
}
