//! How the relying party's library reaches OCSP responders, CRLs and CA
//! certificates: a [`Fetch`] the caller may implement (a bank's own HTTP stack,
//! a proxy, a test double), and [`HttpFetch`] over `ureq` with the `http` feature.

use thiserror::Error;

/// Answers larger than this are refused: a CRL of a million entries fits.
pub const MAX_FETCH_BYTES: u64 = 64 * 1024 * 1024;

/// A fetch that failed.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{url}: {message}")]
pub struct FetchError {
    /// What was fetched.
    pub url: String,
    /// What went wrong.
    pub message: String,
}

/// Fetch over HTTP (or anything URL-shaped).
pub trait Fetch: Send + Sync {
    /// GET `url`; the body of a 200 answer.
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError>;
    /// POST `body` to `url`; the body of a 200 answer.
    fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, FetchError>;

    /// Whether `url` is answered in this process (the authority's own responder,
    /// asked by its verification API): no network between, so an OCSP request
    /// there needs no nonce against replays, and gets the responder's cached answer.
    fn is_in_process(&self, _url: &str) -> bool {
        false
    }
}

/// [`Fetch`] over plain HTTP with `ureq`: bounded time and size.
#[cfg(feature = "fetch")]
pub struct HttpFetch {
    agent: ureq::Agent,
}

#[cfg(feature = "fetch")]
impl HttpFetch {
    /// A fetcher giving up after `timeout`.
    pub fn new(timeout: std::time::Duration) -> Self {
        HttpFetch { agent: ureq::AgentBuilder::new().timeout(timeout).redirects(3).build() }
    }

    fn body(url: &str, r: Result<ureq::Response, ureq::Error>) -> Result<Vec<u8>, FetchError> {
        use std::io::Read;
        let fail = |message: String| FetchError { url: url.to_string(), message };
        let resp = r.map_err(|e| fail(e.to_string()))?;
        if resp.status() != 200 {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let mut out = Vec::new();
        resp.into_reader().take(MAX_FETCH_BYTES + 1).read_to_end(&mut out).map_err(|e| fail(e.to_string()))?;
        if out.len() as u64 > MAX_FETCH_BYTES {
            return Err(fail(format!("more than {MAX_FETCH_BYTES} bytes")));
        }
        Ok(out)
    }
}

#[cfg(feature = "fetch")]
impl Default for HttpFetch {
    fn default() -> Self {
        Self::new(std::time::Duration::from_secs(10))
    }
}

#[cfg(feature = "fetch")]
impl Fetch for HttpFetch {
    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        Self::body(url, self.agent.get(url).call())
    }

    fn post(&self, url: &str, content_type: &str, body: &[u8]) -> Result<Vec<u8>, FetchError> {
        Self::body(url, self.agent.post(url).set("Content-Type", content_type).send_bytes(body))
    }
}
