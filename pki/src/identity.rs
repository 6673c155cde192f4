//! Identity numbers: the IIN of an individual and the BIN of a legal entity.
//!
//! Both are 12 digits with a check digit (weights 1..11, sum mod 11; if that is 10,
//! weights 3..11,1,2; if 10 again the number is invalid). An IIN also carries the
//! birth date (YYMMDD), and in digit 7 the century and sex.
//!
//! Enrollment parses strictly ([`Iin::parse`], [`Bin::parse`]). Reading an existing
//! certificate must not refuse what the authority itself issued — its test
//! certificates use IIN 123456789011, which fails the check digit — so
//! [`Iin::parse_lenient`] only demands 12 digits and reports validity separately.

use crate::calendar::Date;
use std::fmt;
use thiserror::Error;

/// Minimum age at which an individual may hold certificates.
pub const MINIMUM_AGE: u16 = 16;

/// Which kind of identity number a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberKind {
    /// Individual identification number.
    Iin,
    /// Business identification number.
    Bin,
}

impl fmt::Display for NumberKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberKind::Iin => "IIN",
            NumberKind::Bin => "BIN",
        })
    }
}

/// Why an identity number was refused. Each message names the number and the fault.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentityError {
    /// Not exactly 12 characters.
    #[error("{kind} must be 12 digits, got {len} characters")]
    WrongLength {
        /// IIN or BIN.
        kind: NumberKind,
        /// How long it was.
        len: usize,
    },
    /// A character that is not an ASCII digit.
    #[error("{kind} must contain digits only; character {position} is {found:?}")]
    NotADigit {
        /// IIN or BIN.
        kind: NumberKind,
        /// Where, counting from 1.
        position: usize,
        /// What was found.
        found: char,
    },
    /// The check digit does not match the other eleven. The right digit is not
    /// told: a mistyped number is as likely wrong elsewhere, and "fixing" the last
    /// digit would turn it into somebody else's valid number.
    #[error("{kind} is mistyped: its last (check) digit does not agree with the other eleven; compare each digit with the document")]
    CheckDigit {
        /// IIN or BIN.
        kind: NumberKind,
    },
    /// Both weightings give 10: no valid number has these first eleven digits.
    #[error("{kind} {number} cannot be valid: its first eleven digits admit no check digit")]
    NoCheckDigit {
        /// IIN or BIN.
        kind: NumberKind,
        /// The number.
        number: String,
    },
    /// Digit 7 of an IIN is not 1–6.
    #[error("IIN digit 7 (century and sex) must be 1 to 6, got {0}")]
    CenturyDigit(u8),
    /// Digits 1–6 of an IIN are not a real date.
    #[error("IIN birth date {yymmdd} (YYMMDD) is not a real date in the {century}s")]
    BirthDate {
        /// The date digits.
        yymmdd: String,
        /// The century digit 7 gives.
        century: u16,
    },
    /// Digits 1–6 of an IIN give a birth date after the day that matters.
    #[error("the IIN's birth date {birth} is in the future (after {on}): the number is mistyped")]
    FutureBirthDate {
        /// The birth date the IIN gives.
        birth: Date,
        /// The day.
        on: Date,
    },
    /// Younger than [`MINIMUM_AGE`] on the day that matters.
    #[error("the applicant is {age} years old on {on}; certificates are issued from age {MINIMUM_AGE}")]
    TooYoung {
        /// Age in years.
        age: u16,
        /// The day.
        on: Date,
    },
}

impl IdentityError {
    /// What is wrong, as a stable code for clients that word the message
    /// themselves (the applicants' page, in three languages).
    pub fn reason(&self) -> &'static str {
        match self {
            IdentityError::WrongLength { .. } => "length",
            IdentityError::NotADigit { .. } => "not_a_digit",
            IdentityError::CheckDigit { .. } | IdentityError::NoCheckDigit { .. } => "mistyped",
            IdentityError::CenturyDigit(_) => "century_digit",
            IdentityError::BirthDate { .. } => "birth_date",
            IdentityError::FutureBirthDate { .. } => "future_birth_date",
            IdentityError::TooYoung { .. } => "under_age",
        }
    }

    /// Which number is wrong: `iin` or `bin`.
    pub fn field(&self) -> &'static str {
        let kind = match self {
            IdentityError::WrongLength { kind, .. }
            | IdentityError::NotADigit { kind, .. }
            | IdentityError::CheckDigit { kind }
            | IdentityError::NoCheckDigit { kind, .. } => *kind,
            _ => NumberKind::Iin,
        };
        match kind {
            NumberKind::Iin => "iin",
            NumberKind::Bin => "bin",
        }
    }
}

/// Sex encoded in digit 7 of an IIN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    /// Odd century digit.
    Male,
    /// Even century digit.
    Female,
}

/// Twelve ASCII digits, as values 0–9.
type Digits = [u8; 12];

fn digits(kind: NumberKind, s: &str) -> Result<Digits, IdentityError> {
    let len = s.chars().count();
    if len != 12 {
        return Err(IdentityError::WrongLength { kind, len });
    }
    let mut out = [0u8; 12];
    for (i, c) in s.chars().enumerate() {
        let d = c.to_digit(10).filter(|_| c.is_ascii_digit());
        out[i] = d.ok_or(IdentityError::NotADigit { kind, position: i + 1, found: c })? as u8;
    }
    Ok(out)
}

/// The check digit the first eleven digits call for, or `None` if there is none.
fn expected_check_digit(d: &Digits) -> Option<u8> {
    let weighted = |w: &dyn Fn(usize) -> u32| (0..11).map(|i| u32::from(d[i]) * w(i)).sum::<u32>() % 11;
    let first = weighted(&|i| i as u32 + 1);
    if first != 10 {
        return Some(first as u8);
    }
    let second = weighted(&|i| ((i as u32 + 2) % 11) + 1);
    (second != 10).then_some(second as u8)
}

fn check(kind: NumberKind, d: &Digits) -> Result<(), IdentityError> {
    match expected_check_digit(d) {
        Some(expected) if expected == d[11] => Ok(()),
        Some(_) => Err(IdentityError::CheckDigit { kind }),
        None => Err(IdentityError::NoCheckDigit { kind, number: text(d) }),
    }
}

fn text(d: &Digits) -> String {
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

/// An individual identification number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Iin(Digits);

impl Iin {
    /// Parse for enrollment: 12 digits, a valid check digit, a real birth date.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let iin = Self::parse_lenient(s)?;
        check(NumberKind::Iin, &iin.0)?;
        iin.birth_date()?;
        Ok(iin)
    }

    /// Parse an IIN found in an existing certificate: 12 digits, nothing more.
    pub fn parse_lenient(s: &str) -> Result<Self, IdentityError> {
        digits(NumberKind::Iin, s).map(Iin)
    }

    /// Whether the check digit matches (false for the authority's test IIN).
    pub fn check_digit_valid(&self) -> bool {
        check(NumberKind::Iin, &self.0).is_ok()
    }

    /// The century the holder was born in (1800, 1900 or 2000).
    pub fn century(&self) -> Result<u16, IdentityError> {
        match self.0[6] {
            1 | 2 => Ok(1800),
            3 | 4 => Ok(1900),
            5 | 6 => Ok(2000),
            other => Err(IdentityError::CenturyDigit(other)),
        }
    }

    /// The holder's sex as digit 7 records it.
    pub fn sex(&self) -> Result<Sex, IdentityError> {
        self.century()?;
        Ok(if self.0[6] % 2 == 1 { Sex::Male } else { Sex::Female })
    }

    /// The holder's birth date from digits 1–6 and the century digit.
    pub fn birth_date(&self) -> Result<Date, IdentityError> {
        let century = self.century()?;
        let two = |i: usize| self.0[i] * 10 + self.0[i + 1];
        let year = century + u16::from(two(0));
        Date::new(year, two(2), two(4)).ok_or_else(|| IdentityError::BirthDate { yymmdd: text(&self.0)[..6].to_string(), century })
    }

    /// Full years of age on `on`.
    pub fn age_on(&self, on: Date) -> Result<u16, IdentityError> {
        Ok(self.birth_date()?.age_on(on))
    }

    /// Refuse a holder younger than [`MINIMUM_AGE`] on `on`.
    pub fn require_adult_on(&self, on: Date) -> Result<(), IdentityError> {
        let birth = self.birth_date()?;
        if birth > on {
            return Err(IdentityError::FutureBirthDate { birth, on });
        }
        let age = birth.age_on(on);
        if age < MINIMUM_AGE {
            return Err(IdentityError::TooYoung { age, on });
        }
        Ok(())
    }
}

/// A business identification number (legal entities, branches).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bin(Digits);

impl Bin {
    /// Parse for enrollment: 12 digits and a valid check digit.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let d = digits(NumberKind::Bin, s)?;
        check(NumberKind::Bin, &d)?;
        Ok(Bin(d))
    }

    /// Parse a BIN found in an existing certificate: 12 digits, nothing more.
    pub fn parse_lenient(s: &str) -> Result<Self, IdentityError> {
        digits(NumberKind::Bin, s).map(Bin)
    }

    /// Whether the check digit matches.
    pub fn check_digit_valid(&self) -> bool {
        check(NumberKind::Bin, &self.0).is_ok()
    }
}

macro_rules! number_text {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&text(&self.0))
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($t), text(&self.0))
            }
        }
    };
}
number_text!(Iin);
number_text!(Bin);

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a number with a valid check digit from eleven digits.
    fn with_check(first11: &str) -> String {
        let mut d = digits(NumberKind::Iin, &format!("{first11}0")).unwrap();
        d[11] = expected_check_digit(&d).expect("has a check digit");
        text(&d)
    }

    #[test]
    fn check_digit_first_weighting() {
        // 1*8+2*8+3*0+4*5+5*1+6*5+7*3+8*0+9*0+10*1+11*2 = 132, 132 mod 11 = 0
        assert_eq!(Iin::parse("880515300120").unwrap().to_string(), "880515300120");
    }

    #[test]
    fn check_digit_second_weighting() {
        // Find eleven digits whose first sum is 10 and check the second weighting is used.
        let d: Digits = [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0];
        let first: u32 = (0..11).map(|i| u32::from(d[i]) * (i as u32 + 1)).sum::<u32>() % 11;
        assert_eq!(first, 10);
        let second: u32 = (0..11).map(|i| u32::from(d[i]) * ((i as u32 + 2) % 11 + 1)).sum::<u32>() % 11;
        assert_eq!(expected_check_digit(&d), Some(second as u8));
    }

    #[test]
    fn wrong_check_digit_says_mistyped_without_a_hint() {
        let good = with_check("95010130001");
        let mut bad = good.clone();
        let last = bad.pop().unwrap().to_digit(10).unwrap() as u8;
        let wrong = (last + 1) % 10;
        bad.push(char::from(b'0' + wrong));
        let err = Iin::parse(&bad).unwrap_err();
        assert_eq!(err, IdentityError::CheckDigit { kind: NumberKind::Iin });
        let text = err.to_string();
        assert!(text.starts_with("IIN is mistyped"), "{text}");
        assert!(!text.contains(char::from(b'0' + last)), "the right digit {last} is not hinted: {text}");
    }

    #[test]
    fn length_and_characters() {
        assert_eq!(Iin::parse("12345").unwrap_err(), IdentityError::WrongLength { kind: NumberKind::Iin, len: 5 });
        assert!(matches!(Iin::parse("12345678901x"), Err(IdentityError::NotADigit { position: 12, found: 'x', .. })));
        assert!(matches!(Bin::parse("１２３４５６７８９０１２"), Err(IdentityError::NotADigit { position: 1, .. })));
    }

    #[test]
    fn birth_date_century_and_sex() {
        let iin = Iin::parse(&with_check("95010130001")).unwrap();
        assert_eq!(iin.birth_date().unwrap(), Date::new(1995, 1, 1).unwrap());
        assert_eq!(iin.sex().unwrap(), Sex::Male);
        let iin = Iin::parse(&with_check("08022960001")).unwrap();
        assert_eq!(iin.birth_date().unwrap(), Date::new(2008, 2, 29).unwrap());
        assert_eq!(iin.sex().unwrap(), Sex::Female);
        let iin = Iin::parse_lenient(&with_check("99123120001")).unwrap();
        assert_eq!(iin.birth_date().unwrap(), Date::new(1899, 12, 31).unwrap());
    }

    #[test]
    fn impossible_birth_dates_refused() {
        assert!(matches!(Iin::parse(&with_check("07022960001")), Err(IdentityError::BirthDate { .. })));
        assert!(matches!(Iin::parse(&with_check("95010190001")), Err(IdentityError::CenturyDigit(9))));
    }

    #[test]
    fn test_iin_of_the_authority_reads_leniently() {
        let iin = Iin::parse_lenient("123456789011").unwrap();
        assert!(!iin.check_digit_valid());
        assert!(Iin::parse("123456789011").is_err());
    }

    #[test]
    fn minimum_age() {
        let iin = Iin::parse(&with_check("08051050001")).unwrap();
        assert!(iin.require_adult_on(Date::new(2024, 5, 10).unwrap()).is_ok());
        let err = iin.require_adult_on(Date::new(2024, 5, 9).unwrap()).unwrap_err();
        assert_eq!(err, IdentityError::TooYoung { age: 15, on: Date::new(2024, 5, 9).unwrap() });
    }

    #[test]
    fn a_birth_date_in_the_future_is_named_so_not_age_zero() {
        let iin = Iin::parse(&with_check("30051050001")).unwrap();
        let on = Date::new(2026, 11, 29).unwrap();
        let err = iin.require_adult_on(on).unwrap_err();
        assert_eq!(err, IdentityError::FutureBirthDate { birth: Date::new(2030, 5, 10).unwrap(), on });
        let text = err.to_string();
        assert!(text.contains("2030-05-10 is in the future") && !text.contains("years old"), "{text}");
    }

    #[test]
    fn bin_check_digit() {
        let bin = with_check("04084000012");
        assert!(Bin::parse(&bin).is_ok());
        assert!(Bin::parse_lenient("123456789021").is_ok());
    }
}
