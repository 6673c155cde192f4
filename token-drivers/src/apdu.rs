//! ISO/IEC 7816-4 command and response APDUs, short form only: every command of
//! the applet fits in 255 bytes of data, and answers longer than 256 bytes come in
//! pieces through GET RESPONSE (`61xx`).

use std::fmt;

/// The class byte of every command: interindustry, no secure messaging, no chaining.
pub const CLA: u8 = 0x00;

/// Instruction bytes the applet knows (APPLET.md, "Commands").
pub mod ins {
    /// SELECT (7816-4).
    pub const SELECT: u8 = 0xA4;
    /// READ BINARY (7816-4).
    pub const READ_BINARY: u8 = 0xB0;
    /// UPDATE BINARY (7816-4).
    pub const UPDATE_BINARY: u8 = 0xD6;
    /// VERIFY (7816-4).
    pub const VERIFY: u8 = 0x20;
    /// CHANGE REFERENCE DATA (7816-4).
    pub const CHANGE_REFERENCE_DATA: u8 = 0x24;
    /// RESET RETRY COUNTER (7816-4).
    pub const RESET_RETRY_COUNTER: u8 = 0x2C;
    /// GET DATA (7816-4).
    pub const GET_DATA: u8 = 0xCA;
    /// GET RESPONSE (7816-4).
    pub const GET_RESPONSE: u8 = 0xC0;
    /// GENERATE ASYMMETRIC KEY PAIR (7816-8).
    pub const GENERATE_KEY_PAIR: u8 = 0x46;
    /// MANAGE SECURITY ENVIRONMENT (7816-4/-8).
    pub const MSE: u8 = 0x22;
    /// PERFORM SECURITY OPERATION (7816-8).
    pub const PSO: u8 = 0x2A;
    /// DELETE FILE (7816-9), used on a key object to destroy the key.
    pub const DELETE_FILE: u8 = 0xE4;
}

/// A command APDU.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    /// Instruction.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (at most 255 bytes).
    pub data: Vec<u8>,
    /// Expected answer length: `None` for none, `Some(256)` for "up to 256".
    pub le: Option<u16>,
}

impl Command {
    /// A command without data and without an expected answer.
    pub fn new(ins: u8, p1: u8, p2: u8) -> Self {
        Command { ins, p1, p2, data: Vec::new(), le: None }
    }

    /// With command data.
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// Expecting up to `le` bytes (1..=256) in the answer.
    pub fn le(mut self, le: u16) -> Self {
        self.le = Some(le.clamp(1, 256));
        self
    }

    /// The bytes on the wire (short APDU cases 1–4); `None` when the data is too long
    /// for a short APDU.
    pub fn to_bytes(&self) -> Option<Vec<u8>> {
        let mut out = vec![CLA, self.ins, self.p1, self.p2];
        if !self.data.is_empty() {
            out.push(u8::try_from(self.data.len()).ok()?);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            out.push((le % 256) as u8);
        }
        Some(out)
    }

    /// Parse a short command APDU as a card receives it.
    pub fn parse(bytes: &[u8]) -> Result<Command, StatusWord> {
        let (header, body) = bytes.split_at_checked(4).ok_or(StatusWord::WRONG_LENGTH)?;
        if header[0] != CLA {
            return Err(StatusWord::CLA_NOT_SUPPORTED);
        }
        let mut c = Command::new(header[1], header[2], header[3]);
        let le = |b: u8| if b == 0 { 256 } else { u16::from(b) };
        match body {
            [] => {}
            [l] => c.le = Some(le(*l)),
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                if lc == 0 {
                    return Err(StatusWord::WRONG_LENGTH);
                }
                match rest.len().checked_sub(lc) {
                    Some(0) => c.data = rest.to_vec(),
                    Some(1) => {
                        c.data = rest[..lc].to_vec();
                        c.le = Some(le(rest[lc]));
                    }
                    _ => return Err(StatusWord::WRONG_LENGTH),
                }
            }
        }
        Ok(c)
    }
}

impl Drop for Command {
    // Command data may be a PIN: wiped when the command is dropped.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.data);
    }
}

impl fmt::Debug for Command {
    // Command data may be a PIN: never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command(INS {:02X}, P1 {:02X}, P2 {:02X}, {} data bytes, Le {:?})", self.ins, self.p1, self.p2, self.data.len(), self.le)
    }
}

/// The two status bytes that end every answer.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    /// Normal end.
    pub const OK: StatusWord = StatusWord(0x9000);
    /// End of file reached before Le bytes were read.
    pub const END_OF_FILE: StatusWord = StatusWord(0x6282);
    /// Memory failure.
    pub const MEMORY_FAILURE: StatusWord = StatusWord(0x6581);
    /// Wrong length.
    pub const WRONG_LENGTH: StatusWord = StatusWord(0x6700);
    /// Security status not satisfied (the PIN is not verified).
    pub const SECURITY_STATUS: StatusWord = StatusWord(0x6982);
    /// Authentication method blocked (PIN or PUK blocked).
    pub const BLOCKED: StatusWord = StatusWord(0x6983);
    /// Conditions of use not satisfied.
    pub const CONDITIONS: StatusWord = StatusWord(0x6985);
    /// Incorrect data field.
    pub const WRONG_DATA: StatusWord = StatusWord(0x6A80);
    /// Function not supported.
    pub const NOT_SUPPORTED: StatusWord = StatusWord(0x6A81);
    /// File or application not found.
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    /// Not enough memory space in the file.
    pub const NO_SPACE: StatusWord = StatusWord(0x6A84);
    /// Incorrect P1 P2.
    pub const WRONG_P1P2: StatusWord = StatusWord(0x6A86);
    /// Referenced data (a key) not found.
    pub const NOT_FOUND: StatusWord = StatusWord(0x6A88);
    /// Offset outside the file.
    pub const WRONG_OFFSET: StatusWord = StatusWord(0x6B00);
    /// Instruction not supported.
    pub const INS_NOT_SUPPORTED: StatusWord = StatusWord(0x6D00);
    /// Class not supported.
    pub const CLA_NOT_SUPPORTED: StatusWord = StatusWord(0x6E00);

    /// From the two bytes.
    pub fn new(sw1: u8, sw2: u8) -> Self {
        StatusWord(u16::from_be_bytes([sw1, sw2]))
    }

    /// `63Cx`: verification failed, `x` tries left.
    pub fn tries_left(n: u8) -> Self {
        StatusWord(0x63C0 | u16::from(n.min(15)))
    }

    /// The tries left, when this is `63Cx`.
    pub fn counter(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some((self.0 & 0x0F) as u8)
    }

    /// `61xx`: this many more bytes wait for GET RESPONSE (0 meaning 256).
    pub fn more(self) -> Option<u16> {
        let n = match self.0 & 0xFF {
            0 => 256,
            n => n,
        };
        (self.0 >> 8 == 0x61).then_some(n)
    }

    /// SW1 and SW2.
    pub fn bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// An answer: data and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The data bytes.
    pub data: Vec<u8>,
    /// The status word.
    pub sw: StatusWord,
}

impl Response {
    /// Split an answer off the wire; `None` when shorter than the two status bytes.
    pub fn parse(bytes: &[u8]) -> Option<Response> {
        let split = bytes.len().checked_sub(2)?;
        let (data, sw) = bytes.split_at(split);
        Some(Response { data: data.to_vec(), sw: StatusWord::new(sw[0], sw[1]) })
    }

    /// A status word alone.
    pub fn status(sw: StatusWord) -> Response {
        Response { data: Vec::new(), sw }
    }

    /// Data with 9000.
    pub fn ok(data: Vec<u8>) -> Response {
        Response { data, sw: StatusWord::OK }
    }

    /// The bytes on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.bytes());
        out
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Response({} bytes, {})", self.data.len(), self.sw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_cases_round_trip() {
        let cases = [
            Command::new(ins::VERIFY, 0, 1),
            Command::new(ins::READ_BINARY, 0, 0).le(256),
            Command::new(ins::SELECT, 4, 0x0C).data(vec![0xA0, 0, 0]),
            Command::new(ins::PSO, 0x9E, 0x9A).data(vec![1; 51]).le(256),
        ];
        for c in cases {
            let bytes = c.to_bytes().unwrap();
            assert_eq!(Command::parse(&bytes).unwrap(), c, "{bytes:02X?}");
        }
        assert_eq!(Command::new(1, 2, 3).data(vec![0; 256]).to_bytes(), None);
    }

    #[test]
    fn malformed_commands_are_refused() {
        assert_eq!(Command::parse(&[0, 0xA4]), Err(StatusWord::WRONG_LENGTH));
        assert_eq!(Command::parse(&[0x80, 0xA4, 0, 0]), Err(StatusWord::CLA_NOT_SUPPORTED));
        // Lc says 5, three bytes follow.
        assert_eq!(Command::parse(&[0, 0xA4, 0, 0, 5, 1, 2, 3]), Err(StatusWord::WRONG_LENGTH));
        assert_eq!(Command::parse(&[0, 0xA4, 0, 0, 0, 1]), Err(StatusWord::WRONG_LENGTH));
    }

    #[test]
    fn status_words_read() {
        assert_eq!(StatusWord::new(0x63, 0xC2).counter(), Some(2));
        assert_eq!(StatusWord::OK.counter(), None);
        assert_eq!(StatusWord::new(0x61, 0x00).more(), Some(256));
        assert_eq!(StatusWord::new(0x61, 0x10).more(), Some(16));
        assert_eq!(Response::parse(&[0x90]), None);
        assert_eq!(Response::parse(&[1, 2, 0x90, 0]).unwrap().data, vec![1, 2]);
    }
}
