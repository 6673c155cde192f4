//! The records of a test's authority, read and changed behind the programs' backs
//! (as an attacker with write access to the database would, or to move time), in
//! whichever database the authority uses: its SQLite file, or the PostgreSQL
//! database its `config.json` names. SQL is written once, with `?1`-style
//! parameters, in the dialect both share.

use std::path::Path;

/// Which database the end-to-end tests give their authorities: SQLite unless
/// `CA_TEST_BACKEND=postgres` (then `CA_TEST_POSTGRES_URL` names the cluster).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A file beside the authority's keys.
    Sqlite,
    /// A database of its own in the test cluster.
    Postgres,
}

/// The back end of this run.
pub fn backend() -> Backend {
    match std::env::var("CA_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("CA_TEST_BACKEND={other}: sqlite or postgres"),
    }
}

/// A value bound to a parameter.
pub enum Param<'a> {
    /// An integer.
    Int(i64),
    /// Text.
    Text(&'a str),
    /// Bytes.
    Bytes(&'a [u8]),
}

/// A value read from a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cell {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl Cell {
    /// The integer, or a panic.
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }

    /// The text, or a panic.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            other => panic!("not text: {other:?}"),
        }
    }

    /// The bytes, or a panic.
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            Cell::Bytes(b) => b.clone(),
            other => panic!("not bytes: {other:?}"),
        }
    }
}

/// A connection to an authority's database.
pub enum Db {
    /// Its SQLite file.
    Sqlite(rusqlite::Connection),
    /// Its PostgreSQL database.
    Postgres(postgres::Client),
}

/// `?1`-style parameters as PostgreSQL's `$1`.
fn dollar(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

impl Db {
    /// The database of the authority in `data`, as its `config.json` names it.
    pub fn open(data: &Path) -> Db {
        let config: serde_json::Value = serde_json::from_slice(&std::fs::read(data.join("config.json")).expect("config.json")).unwrap();
        match config["database"]["url"].as_str() {
            Some(url) if url.starts_with("postgres") => Db::Postgres(postgres::Client::connect(url, postgres::NoTls).expect("connect")),
            _ => Db::Sqlite(rusqlite::Connection::open(data.join("ca.sqlite")).expect("open ca.sqlite")),
        }
    }

    /// Run a statement; how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> usize {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                c.execute(sql, rusqlite::params_from_iter(values)).unwrap_or_else(|e| panic!("{sql}: {e}"))
            }
            Db::Postgres(c) => {
                let values = pg_values(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
                c.execute(&dollar(sql), &refs).unwrap_or_else(|e| panic!("{sql}: {e}")) as usize
            }
        }
    }

    /// The rows a query returns.
    pub fn rows(&mut self, sql: &str, params: &[Param<'_>]) -> Vec<Vec<Cell>> {
        match self {
            Db::Sqlite(c) => {
                let values: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = stmt.column_count();
                let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                    (0..n)
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Null => Cell::Null,
                                rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                                rusqlite::types::ValueRef::Real(v) => Cell::Int(v as i64),
                                rusqlite::types::ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                                rusqlite::types::ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                            })
                        })
                        .collect::<rusqlite::Result<Vec<Cell>>>()
                });
                rows.unwrap().map(Result::unwrap).collect()
            }
            Db::Postgres(c) => {
                let values = pg_values(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
                let rows = c.query(&dollar(sql), &refs).unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter().map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect()).collect()
            }
        }
    }
}

fn sqlite_value(p: &Param<'_>) -> rusqlite::types::Value {
    match p {
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
        Param::Text(t) => rusqlite::types::Value::Text(t.to_string()),
        Param::Bytes(b) => rusqlite::types::Value::Blob(b.to_vec()),
    }
}

fn pg_values(params: &[Param<'_>]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match p {
                Param::Int(i) => Box::new(*i),
                Param::Text(t) => Box::new(t.to_string()),
                Param::Bytes(b) => Box::new(b.to_vec()),
            }
        })
        .collect()
}

fn pg_cell(r: &postgres::Row, i: usize) -> Cell {
    use postgres::types::Type;
    let ty = r.columns()[i].type_().clone();
    let cell = if ty == Type::INT8 {
        r.get::<_, Option<i64>>(i).map(Cell::Int)
    } else if ty == Type::INT4 {
        r.get::<_, Option<i32>>(i).map(|v| Cell::Int(v.into()))
    } else if ty == Type::BOOL {
        r.get::<_, Option<bool>>(i).map(|v| Cell::Int(v.into()))
    } else if ty == Type::BYTEA {
        r.get::<_, Option<Vec<u8>>>(i).map(Cell::Bytes)
    } else {
        r.get::<_, Option<String>>(i).map(Cell::Text)
    };
    cell.unwrap_or(Cell::Null)
}
