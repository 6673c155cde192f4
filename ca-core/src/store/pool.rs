//! A small pool of database connections (SQLite or PostgreSQL): each task takes one
//! for as long as it works and gives it back, so a slow reader (a million-entry
//! CRL) never holds up the others. SQLite in WAL mode lets many readers run beside
//! one writer; PostgreSQL lets writers run side by side. Writers queue on the
//! database's own locks, not on ours. At most `size` connections are
//! open; a task that finds them all in use waits for one, up to [`StorePool::WAIT`],
//! and is then told the database is busy.

use super::{Database, Store, StoreError};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Connections to one database, opened on demand up to a bound and kept for reuse.
pub struct StorePool {
    database: Database,
    /// Opened to read a standby: its connections do not migrate.
    reader: bool,
    size: usize,
    wait: Duration,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Store>,
    open: usize,
}

impl StorePool {
    /// How long a task waits for a connection when all are in use.
    pub const WAIT: Duration = Duration::from_secs(5);

    /// A pool of at most `size` connections (at least one) to `database`,
    /// created and migrated now.
    pub fn open(database: &Database, size: usize) -> Result<Self, StoreError> {
        Self::opened(database, false, size)
    }

    /// A pool of at most `size` connections to a hot standby of the records, to
    /// read only ([`Store::open_reader`]).
    pub fn open_reader(database: &Database, size: usize) -> Result<Self, StoreError> {
        Self::opened(database, true, size)
    }

    fn opened(database: &Database, reader: bool, size: usize) -> Result<Self, StoreError> {
        let pool = StorePool {
            database: database.clone(),
            reader,
            size: size.max(1),
            wait: Self::WAIT,
            state: Mutex::new(State { idle: Vec::new(), open: 1 }),
            returned: Condvar::new(),
        };
        let first = pool.connect()?;
        pool.state()?.idle.push(first);
        Ok(pool)
    }

    fn connect(&self) -> Result<Store, StoreError> {
        if self.reader {
            Store::open_reader(&self.database)
        } else {
            Store::open(&self.database)
        }
    }

    /// The same pool, waiting at most `wait` for a connection.
    pub fn with_wait(self, wait: Duration) -> Self {
        StorePool { wait, ..self }
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Busy)
    }

    /// A connection: an idle one, a new one while fewer than `size` are open, or
    /// the first one given back within the pool's wait ([`StorePool::WAIT`] unless set).
    pub fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let deadline = Instant::now() + self.wait;
        let mut state = self.state()?;
        loop {
            if let Some(store) = state.idle.pop() {
                return Ok(Pooled { pool: self, store: Some(store) });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(store) => Ok(Pooled { pool: self, store: Some(store) }),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(StoreError::Busy);
            }
            state = self.returned.wait_timeout(state, left).map_err(|_| StoreError::Busy)?.0;
        }
    }

    /// How many connections are open (in use or idle).
    pub fn open_connections(&self) -> usize {
        self.state.lock().map(|s| s.open).unwrap_or(0)
    }

    fn put_back(&self, store: Store) {
        if let Ok(mut state) = self.state.lock() {
            state.idle.push(store);
        }
        self.returned.notify_one();
    }

    fn forget_one(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.open -= 1;
        }
        self.returned.notify_one();
    }
}

/// A connection taken from a [`StorePool`]; back in the pool when dropped.
pub struct Pooled<'a> {
    pool: &'a StorePool,
    store: Option<Store>,
}

impl Deref for Pooled<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        self.store.as_ref().unwrap_or_else(|| unreachable!("present until dropped"))
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        self.store.as_mut().unwrap_or_else(|| unreachable!("present until dropped"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(s) = self.store.take() {
            self.pool.put_back(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::CertificateStore;

    #[test]
    fn connections_are_reused_bounded_and_work_side_by_side() {
        let dir = std::env::temp_dir().join(format!("ca-pool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = StorePool::open(&Database::sqlite(&dir.join("db.sqlite")), 2).unwrap();
        {
            let a = pool.get().unwrap();
            let b = pool.get().unwrap(); // a second one while the first is out
            assert_eq!(a.count().unwrap(), 0);
            assert_eq!(b.count().unwrap(), 0);
            assert_eq!(pool.open_connections(), 2);
            // A third waits: given back by another thread, it is handed over.
            std::thread::scope(|s| {
                s.spawn(move || {
                    std::thread::sleep(Duration::from_millis(100));
                    drop(a);
                });
                let c = pool.get().unwrap();
                assert_eq!(c.count().unwrap(), 0);
            });
        }
        assert_eq!(pool.open_connections(), 2, "reused, never more than the bound");
        drop(pool.get().unwrap());
        assert_eq!(pool.open_connections(), 2);
        // All in use past the wait: busy, and nothing more is opened.
        let pool = pool.with_wait(Duration::from_millis(50));
        let (_a, _b) = (pool.get().unwrap(), pool.get().unwrap());
        assert!(matches!(pool.get(), Err(StoreError::Busy)));
        assert_eq!(pool.open_connections(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
