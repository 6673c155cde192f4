//! Which database holds the records: `sqlite:PATH` (the embedded default) or a
//! PostgreSQL URL (`postgres://user:password@host:port/db`, several hosts allowed:
//! `postgres://h1,h2/db?target_session_attrs=read-write`). A password in the URL is
//! never shown: [`Database`]'s `Display` and `Debug` print it as `***`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;
use zeroize::Zeroizing;

/// Where the records live.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL. It may hold a password: it is zeroized when
/// dropped and shown only with the password replaced.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(Zeroizing<String>);

impl PostgresUrl {
    /// The URL as given, password included: for the client library only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

/// Why a database URL was refused.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseUrlError {
    /// Neither `sqlite:` nor `postgres://` / `postgresql://`.
    #[error("a database URL starts with sqlite: (then a file path) or postgres:// (then user@host/database)")]
    UnknownScheme,
    /// `sqlite:` with no path.
    #[error("sqlite: needs a file path after it")]
    NoPath,
    /// `postgres://` with nothing after it.
    #[error("the PostgreSQL URL names no host or database")]
    NoHost,
}

impl Database {
    /// The SQLite file `path`.
    pub fn sqlite(path: &Path) -> Self {
        Database::Sqlite(path.to_path_buf())
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }
}

impl FromStr for Database {
    type Err = DatabaseUrlError;

    fn from_str(text: &str) -> Result<Self, DatabaseUrlError> {
        let text = text.trim();
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(DatabaseUrlError::NoPath);
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        for scheme in ["postgres://", "postgresql://"] {
            if let Some(rest) = text.strip_prefix(scheme) {
                if rest.is_empty() || rest.starts_with(['/', '?']) && !rest.contains("host=") {
                    return Err(DatabaseUrlError::NoHost);
                }
                return Ok(Database::Postgres(PostgresUrl(Zeroizing::new(text.to_string()))));
            }
        }
        Err(DatabaseUrlError::UnknownScheme)
    }
}

/// `url` with the password (in the user information or a `password=` parameter)
/// replaced by `***`.
fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user_info, hosts)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{hosts}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_string(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({self})")
    }
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Database::Postgres(url) => url.fmt(f),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Database({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_back_end_and_never_show_a_password() {
        assert_eq!("sqlite:/var/lib/ca/ca.sqlite".parse(), Ok(Database::Sqlite("/var/lib/ca/ca.sqlite".into())));
        assert_eq!("sqlite:ca.sqlite".parse(), Ok(Database::Sqlite("ca.sqlite".into())));
        assert_eq!("sqlite:".parse::<Database>(), Err(DatabaseUrlError::NoPath));
        assert_eq!("mysql://x/y".parse::<Database>(), Err(DatabaseUrlError::UnknownScheme));
        assert_eq!("postgres://".parse::<Database>(), Err(DatabaseUrlError::NoHost));
        let cases = [
            ("postgres://ca:s3cret@db1:5432/ca", "postgres://ca:***@db1:5432/ca"),
            ("postgresql://ca:p@ss@db1,db2/ca?target_session_attrs=read-write", "postgresql://ca:***@db1,db2/ca?target_session_attrs=read-write"),
            ("postgres://ca@db/ca?sslmode=disable&password=s3cret", "postgres://ca@db/ca?sslmode=disable&password=***"),
            ("postgres:///ca?host=/tmp/pg&user=ca", "postgres:///ca?host=/tmp/pg&user=ca"),
        ];
        for (url, shown) in cases {
            let db: Database = url.parse().unwrap();
            assert!(db.is_postgres());
            assert_eq!(db.to_string(), shown);
            assert!(!format!("{db:?}").contains("s3cret") && !format!("{db:?}").contains("p@ss"), "{db:?}");
        }
    }
}
