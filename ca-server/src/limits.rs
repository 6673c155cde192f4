//! Per-client rate limits: one token bucket per client address (an IPv4 address,
//! or the /64 of an IPv6 one, since one host holds a whole /64). The table is
//! bounded: buckets that have refilled are the same as absent and are dropped
//! when it grows; when it is full of active clients, a new client is refused
//! rather than letting the table grow without end.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The client a request came from, as the connection loop records it.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// The part of an address that names one client.
fn client_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => u128::from(v6) & !((1u128 << 64) - 1) | (1 << 32),
        },
    }
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A per-client limit: `per_minute` requests on average, `burst` at once.
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    max_clients: usize,
    buckets: Mutex<HashMap<u128, Bucket>>,
}

/// Clients tracked at most per limit (a few MiB of table).
const MAX_CLIENTS: usize = 100_000;

impl RateLimit {
    /// A limit of `per_minute` with bursts of `burst` (both at least 1).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Self::with_table(per_minute, burst, MAX_CLIENTS)
    }

    fn with_table(per_minute: u32, burst: u32, max_clients: usize) -> Self {
        RateLimit {
            per_second: f64::from(per_minute.max(1)) / 60.0,
            burst: f64::from(burst.max(1)),
            max_clients,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request of `client`'s allowance at `now`; when there is none left,
    /// how long until there is.
    pub fn take(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(()); // a panicked holder: do not turn a bug into an outage
        };
        let key = client_key(client);
        if !buckets.contains_key(&key) && buckets.len() >= self.max_clients {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst);
            if buckets.len() >= self.max_clients {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: self.burst, at: now });
        let refilled = bucket.tokens + now.saturating_duration_since(bucket.at).as_secs_f64() * self.per_second;
        bucket.tokens = refilled.min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second).max(Duration::from_secs(1)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_rate() {
        let limit = RateLimit::new(60, 3); // one a second, three at once
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limit.take(ip("192.0.2.1"), t0).is_ok());
        }
        let wait = limit.take(ip("192.0.2.1"), t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Another client is not affected.
        assert!(limit.take(ip("192.0.2.2"), t0).is_ok());
        // A second later one more is allowed, and only one.
        let t1 = t0 + Duration::from_secs(1);
        assert!(limit.take(ip("192.0.2.1"), t1).is_ok());
        assert!(limit.take(ip("192.0.2.1"), t1).is_err());
        // Refilling never goes above the burst.
        let t2 = t1 + Duration::from_secs(3_600);
        for _ in 0..3 {
            assert!(limit.take(ip("192.0.2.1"), t2).is_ok());
        }
        assert!(limit.take(ip("192.0.2.1"), t2).is_err());
    }

    #[test]
    fn an_ipv6_host_is_its_slash_64() {
        let limit = RateLimit::new(1, 1);
        let t = Instant::now();
        assert!(limit.take(ip("2001:db8:1:2::1"), t).is_ok());
        assert!(limit.take(ip("2001:db8:1:2:ffff::9"), t).is_err(), "same /64, same client");
        assert!(limit.take(ip("2001:db8:1:3::1"), t).is_ok(), "another /64");
        // An IPv4-mapped address is the IPv4 client.
        assert!(limit.take(ip("198.51.100.7"), t).is_ok());
        assert!(limit.take(ip("::ffff:198.51.100.7"), t).is_err());
    }

    #[test]
    fn the_table_stays_bounded() {
        let limit = RateLimit::with_table(60, 1, 4);
        let t = Instant::now();
        for i in 1..=4 {
            assert!(limit.take(ip(&format!("10.0.0.{i}")), t).is_ok());
        }
        // Full of active clients: a fifth is refused, the table does not grow.
        assert!(limit.take(ip("10.0.0.5"), t).is_err());
        assert_eq!(limit.buckets.lock().unwrap().len(), 4);
        // Once their buckets have refilled they are forgotten and room is made.
        let later = t + Duration::from_secs(2);
        assert!(limit.take(ip("10.0.0.5"), later).is_ok());
        assert_eq!(limit.buckets.lock().unwrap().len(), 1);
    }
}
