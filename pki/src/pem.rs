//! Reading PEM as people and other tools write it: any line length (64 as RFC 7468
//! writes, 76 as MIME tools do, or one long line), LF or CRLF, surrounding text
//! ignored. What is written is strict RFC 7468 (the `der` crate's encoder).

use base64ct::{Base64, Encoding};
use thiserror::Error;

/// Why a PEM text could not be read.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// No `-----BEGIN …-----` line.
    #[error("no PEM BEGIN line")]
    NoBegin,
    /// No `-----END …-----` line for the label.
    #[error("no PEM END line for {0}")]
    NoEnd(String),
    /// The body is not base64.
    #[error("the PEM body of {0} is not base64")]
    BadBase64(String),
}

/// Whether `bytes` look like PEM: a `-----BEGIN ` line, after nothing or after
/// explanatory text (RFC 7468 §5.2), such as the "Bag Attributes", "subject=" and
/// "issuer=" lines `openssl pkcs12` writes before each block.
pub fn is_pem(bytes: &[u8]) -> bool {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let Some(at) = bytes.windows(BEGIN.len()).position(|w| w == BEGIN) else { return false };
    let before = &bytes[..at];
    let at_line_start = before.rsplit(|b| *b == b'\n').next().is_none_or(|line| line.iter().all(u8::is_ascii_whitespace));
    at_line_start && std::str::from_utf8(before).is_ok_and(|t| !t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')))
}

/// The label and the DER of the first PEM block in `bytes`.
pub fn decode(bytes: &[u8]) -> Result<(String, Vec<u8>), PemError> {
    let text = String::from_utf8_lossy(bytes);
    let begin = text.find("-----BEGIN ").ok_or(PemError::NoBegin)?;
    let after = &text[begin + "-----BEGIN ".len()..];
    let label_end = after.find("-----").ok_or(PemError::NoBegin)?;
    let label = after[..label_end].trim().to_string();
    let body_and_rest = &after[label_end + "-----".len()..];
    let end_line = format!("-----END {label}-----");
    let end = body_and_rest.find(&end_line).ok_or_else(|| PemError::NoEnd(label.clone()))?;
    let body: String = body_and_rest[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = Base64::decode_vec(&body).map_err(|_| PemError::BadBase64(label.clone()))?;
    Ok((label, der))
}

/// Every PEM block in `bytes`, in order: a bundle of certificates.
pub fn decode_all(bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, PemError> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut rest: &str = &text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let block = &rest[begin..];
        let (label, der) = decode(block.as_bytes())?;
        out.push((label.clone(), der));
        let end_line = format!("-----END {label}-----");
        let end = block.find(&end_line).ok_or(PemError::NoEnd(label))?;
        rest = &block[end + end_line.len()..];
    }
    if out.is_empty() {
        return Err(PemError::NoBegin);
    }
    Ok(out)
}

/// The DER in a file as people hand them over: PEM (the first block), bare base64
/// (any line breaks, as the authority's `.cms` files are), or DER as it is.
pub fn read_der(bytes: &[u8]) -> Result<Vec<u8>, PemError> {
    if is_pem(bytes) {
        return decode(bytes).map(|(_, der)| der);
    }
    // DER always starts with a tag byte that is not base64 text ('0' is 0x30: a
    // SEQUENCE's tag, so text is only taken for base64 when it decodes entirely).
    Ok(public_base64(bytes).unwrap_or_else(|| bytes.to_vec()))
}

/// Base64 (white space anywhere, `=` padding at the end) of public data — signed
/// documents, signatures, certificates — decoded in variable time: several times
/// faster than the constant-time decoder that key material needs. `None` unless
/// the whole text is base64.
fn public_base64(text: &[u8]) -> Option<Vec<u8>> {
    const INVALID: u8 = 0xff;
    const TABLE: [u8; 256] = {
        let mut t = [INVALID; 256];
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut i = 0;
        while i < 64 {
            t[alphabet[i] as usize] = i as u8;
            i += 1;
        }
        t
    };
    // Line breaks (and any white space) out first, only when there are any.
    let compact: std::borrow::Cow<'_, [u8]> = if text.iter().any(u8::is_ascii_whitespace) {
        text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect::<Vec<u8>>().into()
    } else {
        text.into()
    };
    if compact.is_empty() || !compact.len().is_multiple_of(4) {
        return None;
    }
    let padding = compact.iter().rev().take_while(|b| **b == b'=').count();
    if padding > 2 {
        return None;
    }
    let body = &compact[..compact.len() - padding];
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut quads = body.chunks_exact(4);
    for q in &mut quads {
        let (a, b, c, d) = (TABLE[q[0] as usize], TABLE[q[1] as usize], TABLE[q[2] as usize], TABLE[q[3] as usize]);
        if (a | b | c | d) == INVALID || (a | b | c | d) & 0xc0 != 0 {
            return None;
        }
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
    }
    let rest = quads.remainder();
    let mut n = 0u32;
    for (i, &ch) in rest.iter().enumerate() {
        let v = TABLE[ch as usize];
        if v == INVALID {
            return None;
        }
        n |= u32::from(v) << (18 - 6 * i);
    }
    match rest.len() {
        0 => {}
        // Two symbols make one byte, three make two; the bits past them must be zero.
        2 if n & 0xffff == 0 => out.push((n >> 16) as u8),
        3 if n & 0xff == 0 => out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8]),
        _ => return None,
    }
    Some(out)
}

/// Why a file gave no certificates.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificatesError {
    /// The PEM is damaged.
    #[error(transparent)]
    Pem(#[from] PemError),
    /// A block or the file is not a certificate.
    #[error("not a certificate: {0}")]
    NotACertificate(String),
    /// PEM without a CERTIFICATE block.
    #[error("no certificate in it")]
    None,
}

/// Every certificate in a file: the CERTIFICATE blocks of PEM (a bundle), or one
/// certificate in bare base64 or DER.
pub fn certificates(bytes: &[u8]) -> Result<Vec<x509_cert::Certificate>, CertificatesError> {
    use der::Decode;
    let parse = |der: &[u8]| x509_cert::Certificate::from_der(der).map_err(|e| CertificatesError::NotACertificate(e.to_string()));
    if is_pem(bytes) {
        let certs = decode_all(bytes)?
            .iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| parse(der))
            .collect::<Result<Vec<_>, _>>()?;
        if certs.is_empty() {
            return Err(CertificatesError::None);
        }
        return Ok(certs);
    }
    Ok(vec![parse(&read_der(bytes)?)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanatory_text_before_the_block_is_skipped_as_openssl_pkcs12_writes_it() {
        let pem = std::str::from_utf8(include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem")).unwrap();
        let exported = format!(
            "Bag Attributes\n    localKeyID: 6E 0F 43 8B\n    friendlyName: 6e0f438b\nsubject=CN = ТЕСТОВ ТЕСТ\nissuer=C = KZ\n{pem}"
        );
        assert!(is_pem(exported.as_bytes()));
        assert_eq!(read_der(exported.as_bytes()).unwrap(), read_der(pem.as_bytes()).unwrap());
        assert!(is_pem(format!("  \n  {pem}").as_bytes()), "leading white space");
        // Binary before a BEGIN is not explanatory text.
        let mut binary = vec![0x30, 0x82, 0x00, 0x01, b'\n'];
        binary.extend_from_slice(pem.as_bytes());
        assert!(!is_pem(&binary));
        assert!(!is_pem(b"text -----BEGIN CERTIFICATE-----"), "BEGIN must start a line");
    }

    const DER: &[u8] = include_bytes!("../../tests/data/nca-test/individual_sign_rsa.pem");

    fn rewrap(width: usize, newline: &str) -> String {
        let (label, der) = decode(DER).unwrap();
        let b64 = Base64::encode_string(&der);
        let lines: Vec<&str> = b64.as_bytes().chunks(width).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN {label}-----{newline}{}{newline}-----END {label}-----{newline}", lines.join(newline))
    }

    #[test]
    fn any_line_length_and_line_ending() {
        let (label, der) = decode(DER).unwrap();
        assert_eq!(label, "CERTIFICATE");
        for (width, nl) in [(64, "\n"), (76, "\n"), (76, "\r\n"), (10_000, "\n"), (17, "\r\n")] {
            let text = rewrap(width, nl);
            assert_eq!(decode(text.as_bytes()).unwrap().1, der, "width {width}");
            assert!(is_pem(text.as_bytes()));
        }
        // The der crate refuses 76-column PEM, which is why this reader exists.
        assert!(der::pem::decode_vec(rewrap(76, "\n").as_bytes()).is_err());
    }

    #[test]
    fn der_pem_and_bare_base64_give_the_same_bytes() {
        let (_, der) = decode(DER).unwrap();
        let b64 = Base64::encode_string(&der);
        let wrapped: Vec<String> = b64.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        assert_eq!(read_der(&der).unwrap(), der);
        assert_eq!(read_der(DER).unwrap(), der);
        assert_eq!(read_der(wrapped.join("\r\n").as_bytes()).unwrap(), der);
    }

    #[test]
    fn the_fast_base64_reader_agrees_with_the_constant_time_one() {
        for len in 0..70usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            let b64 = Base64::encode_string(&data);
            if len > 0 {
                assert_eq!(public_base64(b64.as_bytes()), Some(data.clone()), "{len}");
                let spaced: String = b64.chars().flat_map(|c| [c, '\n']).collect();
                assert_eq!(public_base64(spaced.as_bytes()), Some(data.clone()));
            }
            for bad in [format!("{b64}A"), format!("{b64}*"), format!("={b64}"), b64.replace('=', "")] {
                assert_eq!(public_base64(bad.as_bytes()).is_some(), Base64::decode_vec(&bad).is_ok() && !bad.is_empty(), "{bad:?}");
            }
        }
    }

    #[test]
    fn a_bundle_gives_every_block() {
        let one = rewrap(64, "\n");
        let bundle = format!("issuing CA\n{one}root\n{}", rewrap(76, "\r\n"));
        let blocks = decode_all(bundle.as_bytes()).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0], blocks[1]);
        assert_eq!(decode_all(b"no pem here"), Err(PemError::NoBegin));
    }

    #[test]
    fn damaged_pem_is_refused_with_a_reason() {
        assert_eq!(decode(b"hello"), Err(PemError::NoBegin));
        assert_eq!(decode(b"-----BEGIN X-----\nAAAA\n"), Err(PemError::NoEnd("X".into())));
        assert_eq!(decode(b"-----BEGIN X-----\n!!!!\n-----END X-----\n"), Err(PemError::BadBase64("X".into())));
    }
}
