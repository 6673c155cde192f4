//! The server's own settings: the `server` and `limits` sections of the
//! authority's `config.json`, read here (the library knows nothing of them).

use serde::Deserialize;
use std::path::Path;

/// Per-client limits (a client is an IPv4 address or an IPv6 /64): each a token
/// bucket that refills at `per_minute` and holds at most `burst`. Over it, a
/// submission gets HTTP 429 with `Retry-After`, an OCSP request that needs a live
/// signature gets `tryLater`; cached OCSP answers are never limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Applications a client may submit per minute (default 6).
    pub submissions_per_minute: u32,
    /// Applications a client may submit at once (default 30: a registration
    /// center's kiosk behind one address).
    pub submissions_burst: u32,
    /// OCSP answers signed live (nonce, cache miss) per client per minute (default 3,000).
    pub ocsp_live_per_minute: u32,
    /// Live OCSP answers a client may ask for at once (default 200).
    pub ocsp_live_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { submissions_per_minute: 6, submissions_burst: 30, ocsp_live_per_minute: 3_000, ocsp_live_burst: 200 }
    }
}

/// How the server treats connections: a client that sends nothing, half a header
/// or half a body is cut off; the number of connections stays below the file
/// limit; a stop finishes what is in flight within a deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Seconds allowed for a request's head, counted from the connection's start or
    /// the previous response (so also the longest idle keep-alive).
    pub header_timeout_seconds: u32,
    /// Seconds allowed for a request's body.
    pub body_timeout_seconds: u32,
    /// Most connections at once; at the cap the connection that has waited longest
    /// for a request head gives way to a newcomer. It is also kept 64 below the
    /// open-file limit (whose soft value is raised to the hard one).
    pub max_connections: u32,
    /// Seconds a stop (SIGTERM, SIGINT) waits for requests in flight.
    pub shutdown_seconds: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { header_timeout_seconds: 10, body_timeout_seconds: 10, max_connections: 10_000, shutdown_seconds: 10 }
    }
}

/// The sections of `config.json` the server reads for itself.
#[derive(Debug, Default, Deserialize)]
struct Sections {
    #[serde(default)]
    server: ServerSettings,
    #[serde(default)]
    limits: RateLimits,
}

/// The server's settings from the authority's `config.json` at `path` (defaults for
/// sections it does not have).
pub fn read(path: &Path) -> anyhow::Result<(ServerSettings, RateLimits)> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let sections: Sections = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((sections.server, sections.limits))
}
