//! Calendar dates and the one piece of calendar arithmetic the profile needs:
//! "one calendar year later", including what happens on 29 February.

use der::DateTime;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A proleptic Gregorian calendar date, always valid once constructed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Whether `year` has a 29 February.
pub(crate) fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in `month` (1–12) of `year`; 0 for a month out of range.
pub(crate) fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date, or `None` if no such day exists.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }

    /// The same day `years` later. 29 February becomes 28 February when the target
    /// year has no leap day, so the result is never later than the anniversary:
    /// a certificate valid "one year" is never valid for a day more than a year.
    pub fn add_years(&self, years: u16) -> Date {
        let year = self.year.saturating_add(years);
        let day = self.day.min(days_in_month(year, self.month));
        Date { year, month: self.month, day }
    }

    /// Full years completed on `on` by someone born on `self`. A person born on
    /// 29 February completes a year on 1 March in non-leap years.
    pub fn age_on(&self, on: Date) -> u16 {
        if on < *self {
            return 0;
        }
        let years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years - 1
        } else {
            years
        }
    }

    /// The date part of a UTC timestamp.
    pub fn of(dt: &DateTime) -> Date {
        Date { year: dt.year(), month: dt.month(), day: dt.day() }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The current time in UTC, whole seconds (X.509 times carry no fractions).
pub fn now() -> DateTime {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    // Only fails past the year 9999.
    DateTime::from_unix_duration(std::time::Duration::from_secs(secs)).unwrap_or(DateTime::INFINITY)
}

/// `dt` moved `years` calendar years later, same time of day (see [`Date::add_years`]).
pub fn add_years(dt: &DateTime, years: u16) -> Result<DateTime, der::Error> {
    let d = Date::of(dt).add_years(years);
    DateTime::new(d.year, d.month, d.day, dt.hour(), dt.minutes(), dt.seconds())
}

/// Now, in seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    unix_seconds(&now())
}

/// Seconds since the Unix epoch, for storage.
pub fn unix_seconds(dt: &DateTime) -> i64 {
    dt.unix_duration().as_secs() as i64
}

/// The timestamp for stored Unix seconds; `None` if out of X.509's range.
pub fn from_unix_seconds(secs: i64) -> Option<DateTime> {
    let secs = u64::try_from(secs).ok()?;
    DateTime::from_unix_duration(std::time::Duration::from_secs(secs)).ok()
}

/// RFC 3339 text of a timestamp, e.g. `2022-01-18T04:38:50Z`.
pub fn rfc3339(dt: &DateTime) -> String {
    format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", dt.year(), dt.month(), dt.day(), dt.hour(), dt.minutes(), dt.seconds())
}

/// Unix seconds of an RFC 3339 UTC timestamp such as `2022-01-18T04:38:50Z`
/// (the form [`rfc3339`] writes); `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    parse_rfc3339_time(s).map(|dt| unix_seconds(&dt))
}

/// The time an RFC 3339 UTC timestamp such as `2022-01-18T04:38:50Z` names (the
/// form [`rfc3339`] writes); `None` for anything else.
pub fn parse_rfc3339_time(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).filter(|d| d.bytes().all(|c| c.is_ascii_digit()))?.parse::<u16>().ok();
    DateTime::new(n(0..4)?, n(5..7)? as u8, n(8..10)? as u8, n(11..13)? as u8, n(14..16)? as u8, n(17..19)? as u8).ok()
}

/// `dt` as an X.509 time: UTCTime before 2050, GeneralizedTime from then on (RFC
/// 5280 §4.1.2.5).
pub fn x509_time(dt: DateTime) -> Result<x509_cert::time::Time, der::Error> {
    Ok(if dt.year() < 2050 {
        x509_cert::time::Time::UtcTime(der::asn1::UtcTime::from_date_time(dt)?)
    } else {
        x509_cert::time::Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = parse_rfc3339("2022-01-18T04:38:50Z").unwrap();
        assert_eq!(rfc3339(&from_unix_seconds(t).unwrap()), "2022-01-18T04:38:50Z");
        for bad in ["2022-01-18 04:38:50Z", "2022-13-18T04:38:50Z", "2022-01-18T04:38:50+05:00", "", "2022-01-18T04:38:5xZ"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    fn d(y: u16, m: u8, day: u8) -> Date {
        Date::new(y, m, day).expect("valid test date")
    }

    #[test]
    fn rejects_impossible_dates() {
        assert!(Date::new(2023, 2, 29).is_none());
        assert!(Date::new(2024, 2, 29).is_some());
        assert!(Date::new(1900, 2, 29).is_none());
        assert!(Date::new(2000, 2, 29).is_some());
        assert!(Date::new(2024, 4, 31).is_none());
        assert!(Date::new(2024, 13, 1).is_none());
        assert!(Date::new(2024, 1, 0).is_none());
    }

    #[test]
    fn one_year_later_keeps_the_day() {
        assert_eq!(d(2022, 1, 18).add_years(1), d(2023, 1, 18));
        assert_eq!(d(2023, 12, 31).add_years(1), d(2024, 12, 31));
    }

    #[test]
    fn leap_day_moves_to_28_february() {
        assert_eq!(d(2024, 2, 29).add_years(1), d(2025, 2, 28));
        assert_eq!(d(2024, 2, 29).add_years(4), d(2028, 2, 29));
        assert_eq!(d(2096, 2, 29).add_years(4), d(2100, 2, 28));
    }

    #[test]
    fn timestamps_keep_time_of_day() {
        let start = DateTime::new(2024, 2, 29, 4, 38, 50).unwrap();
        let end = add_years(&start, 1).unwrap();
        assert_eq!(rfc3339(&end), "2025-02-28T04:38:50Z");
    }

    #[test]
    fn age_counts_completed_years() {
        let born = d(2008, 5, 10);
        assert_eq!(born.age_on(d(2024, 5, 9)), 15);
        assert_eq!(born.age_on(d(2024, 5, 10)), 16);
        assert_eq!(born.age_on(d(2000, 1, 1)), 0);
        let leap = d(2008, 2, 29);
        assert_eq!(leap.age_on(d(2024, 2, 28)), 15);
        assert_eq!(leap.age_on(d(2024, 2, 29)), 16);
        assert_eq!(leap.age_on(d(2025, 2, 28)), 16);
        assert_eq!(d(2009, 2, 28).age_on(d(2025, 2, 28)), 16);
    }

    #[test]
    fn unix_round_trip() {
        let t = DateTime::new(2026, 11, 22, 13, 0, 5).unwrap();
        assert_eq!(from_unix_seconds(unix_seconds(&t)), Some(t));
        assert_eq!(from_unix_seconds(-1), None);
    }
}
