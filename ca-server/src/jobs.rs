//! Which server runs the authority's jobs. Several servers may share one database
//! (PostgreSQL, or one SQLite file on one machine); each answers every request, but
//! the jobs — the CRL updater of each CA, the audit checkpoint signer and the
//! expiry of old applications — run on one of them at a time: the one that holds
//! the `jobs` lease in the database. The holder renews it every second; if it
//! stops (killed, cut off from the database), its lease runs out after
//! [`LEASE_SECONDS`] and another server takes the jobs over within a second more.
//! A server shutting down cleanly gives the lease up at once.

use ca_core::store::{LeaseStore, StorePool};
use rand::RngCore;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The job lease's name.
const JOBS: &str = "jobs";
/// How long a lease runs unless renewed.
pub const LEASE_SECONDS: i64 = 5;
/// How often a server asks for (or renews) the lease.
const EVERY: Duration = Duration::from_secs(1);

/// Whether this server runs the jobs now.
pub struct Leadership {
    holder: String,
    held: AtomicBool,
}

impl Leadership {
    /// This server, named for the lease by host, process and a random tag.
    pub fn new() -> Arc<Self> {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        let mut tag = [0u8; 4];
        rand::rngs::OsRng.fill_bytes(&mut tag);
        let holder = format!("{}:{}:{}", if host.is_empty() { "host" } else { &host }, std::process::id(), hex::encode(tag));
        Arc::new(Leadership { holder, held: AtomicBool::new(false) })
    }

    /// Whether this server holds the lease (as of its last renewal).
    pub fn runs_jobs(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }
}

impl Leadership {
    /// Ask for (or renew) the lease, now (blocking): at start, so that a server
    /// alone on its database publishes its CRLs at once, and every second after.
    pub fn claim(&self, pool: &StorePool) {
        self.note(pool.get().and_then(|mut c| c.hold_lease(JOBS, &self.holder, LEASE_SECONDS)));
    }

    fn note(&self, held: Result<bool, ca_core::store::StoreError>) {
        let now = match held {
            Ok(h) => h,
            Err(e) => {
                // Without the database this server cannot know; another may take over.
                tracing::warn!(error = %e, "cannot renew the jobs lease");
                false
            }
        };
        if now != self.held.swap(now, Ordering::AcqRel) {
            if now {
                tracing::info!(holder = %self.holder, "this server runs the jobs now (CRLs, audit checkpoints, expiry)");
            } else {
                tracing::info!(holder = %self.holder, "another server runs the jobs now");
            }
        }
    }
}

/// Ask for the lease every second, for as long as the server runs.
pub async fn keep_lease(pool: Arc<StorePool>, me: Arc<Leadership>) {
    loop {
        tokio::time::sleep(EVERY).await;
        let (pool2, me2) = (pool.clone(), me.clone());
        if tokio::task::spawn_blocking(move || me2.claim(&pool2)).await.is_err() {
            // The renewal itself was interrupted: this server cannot say it holds the lease.
            me.note(Ok(false));
        }
    }
}

/// Give the lease up, if held: another server takes the jobs over at once.
pub async fn release(pool: Arc<StorePool>, me: Arc<Leadership>) {
    if !me.runs_jobs() {
        return;
    }
    me.held.store(false, Ordering::Release);
    let _ = tokio::task::spawn_blocking(move || pool.get().and_then(|mut c| c.release_lease(JOBS, &me.holder))).await;
}
