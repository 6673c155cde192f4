//! The applications API's client: the routes and bodies of `ca_core::api`, typed
//! both ways. A refusal by the server (4xx) is a refusal here (exit 1) with the
//! server's code and message; a server that cannot be reached or fails (5xx) is
//! an internal failure (exit 3).

use crate::error::{CliError, CliResult};
use crate::tls;
use ca_core::api::{routes, ErrorBody, SECRET_HEADER};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// A client of one server.
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`, or `https://…`).
    pub fn new(base: &str) -> CliResult<Self> {
        Self::with_identity(base, None)
    }

    /// A client that shows `identity` in the TLS handshake (for mutual TLS).
    pub fn with_identity(base: &str, identity: Option<&tls::Identity>) -> CliResult<Self> {
        check_base(base)?;
        let mut agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60));
        if tls::is_https(base) {
            agent = agent.tls_connector(tls::connector(identity)?);
        }
        Ok(Client { base: base.trim_end_matches('/').to_string(), agent: agent.build() })
    }

    fn url(&self, route: &str, number: Option<&str>) -> String {
        let path = match number {
            Some(n) => routes::with_number(route, n),
            None => route.to_string(),
        };
        format!("{}{path}", self.base)
    }

    /// POST `body` to `route` (with `number` filled in); the answer when the status is `ok`.
    pub fn post<B: Serialize, T: DeserializeOwned>(&self, route: &str, number: Option<&str>, body: &B, ok: u16) -> CliResult<T> {
        answer(self.agent.post(&self.url(route, number)).send_json(body), ok)
    }

    /// GET `route` for application `number` with its secret.
    pub fn get<T: DeserializeOwned>(&self, route: &str, number: &str, secret: &str) -> CliResult<T> {
        answer(self.agent.get(&self.url(route, Some(number))).set(SECRET_HEADER, secret).call(), 200)
    }
}

/// A server address must be an http:// or https:// URL: `host:port` alone is a
/// usage error that says what to write.
fn check_base(base: &str) -> CliResult<()> {
    let lower = base.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "--server {base:?} has no scheme: write http://{base} (or https://{base} for a server with TLS)",
        base = base.trim_start_matches("//")
    )))
}

fn answer<T: DeserializeOwned>(r: Result<ureq::Response, ureq::Error>, ok: u16) -> CliResult<T> {
    let resp = match r {
        Ok(resp) => resp,
        Err(ureq::Error::Status(_, resp)) => resp,
        Err(e) => return Err(CliError::internal("unreachable", format!("cannot reach the server: {e}"))),
    };
    let status = resp.status();
    if status != ok {
        let body: Option<ErrorBody> = resp.into_json().ok();
        let (code, message) =
            body.map(|b| (b.error.code, b.error.message)).unwrap_or_else(|| ("unknown".into(), "no explanation given".into()));
        let text = format!("the server refused ({status} {code}): {message}");
        return Err(if status >= 500 { CliError::internal("server_error", text) } else { CliError::refused("server_refused", text) });
    }
    resp.into_json().map_err(|e| CliError::internal("bad_answer", format!("the server's answer is not what the API describes: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_without_a_scheme_is_a_usage_error_that_says_what_to_write() {
        let e = Client::new("127.0.0.1:8080").err().expect("refused");
        assert_eq!(e.exit, crate::error::Exit::Usage);
        assert!(e.message.contains("write http://127.0.0.1:8080"), "{}", e.message);
        assert!(Client::new("http://127.0.0.1:8080").is_ok());
        assert!(Client::new("HTTPS://pki.example.kz/").is_ok());
    }
}
