//! The moment, from somewhere tests can move.

use crate::calendar;
use der::DateTime;
use std::sync::Mutex;

/// The moment, from somewhere tests can move.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        calendar::now()
    }
}

/// A clock that stands still until moved; for tests that cross the 30-day line or a
/// certificate's expiry.
#[derive(Debug)]
pub struct FixedClock(Mutex<i64>);

impl FixedClock {
    /// A clock showing `at`.
    pub fn new(at: DateTime) -> Self {
        FixedClock(Mutex::new(calendar::unix_seconds(&at)))
    }

    /// Move forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        if let Ok(mut t) = self.0.lock() {
            *t += seconds;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime {
        let secs = self.0.lock().map(|t| *t).unwrap_or(0);
        calendar::from_unix_seconds(secs).unwrap_or_else(calendar::now)
    }
}
