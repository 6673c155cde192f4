//! A small pool of SQLite connections: each task takes one for as long as it works
//! and gives it back, so a slow reader (a million-entry CRL) never holds up the
//! others. SQLite in WAL mode lets many readers run beside one writer; writers
//! queue on the database's own lock, not on ours.

use super::{SqliteStore, StoreError};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Connections to one database, opened on demand and kept for reuse.
pub struct StorePool {
    path: PathBuf,
    idle: Mutex<Vec<SqliteStore>>,
    keep: usize,
}

impl StorePool {
    /// A pool over the database at `path` (created and migrated now), keeping at
    /// most `keep` idle connections.
    pub fn open(path: &Path, keep: usize) -> Result<Self, StoreError> {
        let first = SqliteStore::open(path)?;
        Ok(StorePool { path: path.to_path_buf(), idle: Mutex::new(vec![first]), keep: keep.max(1) })
    }

    /// A connection: an idle one, or a new one when all are in use.
    pub fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        let store = match idle {
            Some(s) => s,
            None => SqliteStore::open(&self.path)?,
        };
        Ok(Pooled { pool: self, store: Some(store) })
    }

    fn put_back(&self, store: SqliteStore) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < self.keep {
                idle.push(store);
            }
        }
    }
}

/// A connection taken from a [`StorePool`]; back in the pool when dropped.
pub struct Pooled<'a> {
    pool: &'a StorePool,
    store: Option<SqliteStore>,
}

impl Deref for Pooled<'_> {
    type Target = SqliteStore;
    fn deref(&self) -> &SqliteStore {
        self.store.as_ref().unwrap_or_else(|| unreachable!("present until dropped"))
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut SqliteStore {
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
    fn connections_are_reused_and_work_side_by_side() {
        let dir = std::env::temp_dir().join(format!("ca-pool-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = StorePool::open(&dir.join("db.sqlite"), 2).unwrap();
        {
            let a = pool.get().unwrap();
            let b = pool.get().unwrap(); // a second one while the first is out
            assert_eq!(a.count().unwrap(), 0);
            assert_eq!(b.count().unwrap(), 0);
        }
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
        drop(pool.get().unwrap());
        assert_eq!(pool.idle.lock().unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
