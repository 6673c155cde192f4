//! The jobs that run beside the server: the CRL updater and the audit checkpointer,
//! each with a connection and a signer of its own.

use super::*;

/// One issuing CA whose CRLs the updater issues.
pub(super) struct CrlCa {
    pub(super) family: Family,
    pub(super) signer: Arc<dyn Signer>,
    pub(super) issuer: IssuerRef,
    pub(super) urls: Urls,
}

/// Issues each issuing CA's full and delta CRLs and publishes them where the server
/// serves them (`crl/` in the directory), replacing the previous files atomically.
/// Its own database connection and signers: signing a million-entry CRL holds up
/// nobody else.
pub struct CrlUpdater {
    store: Store,
    cas: Vec<CrlCa>,
    layout: Layout,
    schedule: CrlSchedule,
}

impl CrlUpdater {
    /// An updater over `store`, signing for `cas`, publishing into `layout`'s CRL directory.
    pub(super) fn new(store: Store, cas: Vec<CrlCa>, layout: Layout, schedule: CrlSchedule) -> Self {
        CrlUpdater { store, cas, layout, schedule }
    }

    /// The CAs it issues CRLs for.
    pub fn families(&self) -> Vec<Family> {
        self.cas.iter().map(|c| c.family).collect()
    }

    /// Issue `family`'s full or delta CRL now (`now` in Unix seconds), valid for
    /// the interval the schedule gives its kind, without publishing it.
    pub fn issue(&mut self, family: Family, kind: CrlKind, now: i64) -> Result<IssuedCrl, CrlError> {
        let interval = match kind {
            CrlKind::Full => self.schedule.full_interval_seconds,
            CrlKind::Delta => self.schedule.delta_interval_seconds,
        };
        let ca = self.cas.iter().find(|c| c.family == family).ok_or(CrlError::NoIssuer(family))?;
        let issuer = CrlIssuer { family, signer: ca.signer.as_ref(), issuer: ca.issuer.clone(), urls: Some(&ca.urls) };
        crl::issue(&mut self.store, &issuer, kind, now, now + i64::from(interval))
    }

    /// Issue a CRL and publish it.
    pub fn publish(&mut self, family: Family, kind: CrlKind, now: i64) -> Result<IssuedCrl, AuthorityError> {
        let crl = self.issue(family, kind, now)?;
        let dir = self.layout.crl_dir();
        fs::create_dir_all(&dir).map_err(io(&dir))?;
        write_atomically(&self.layout.crl_of(family, kind), &crl.der)?;
        Ok(crl)
    }

    /// Which CRLs are due at `now`, for each CA: a full CRL when none is current (a
    /// tenth of its interval before nextUpdate) or its file is missing; a delta CRL
    /// when the full one is due, the last delta is due or belongs to an older base,
    /// or its file is missing.
    pub fn due(&self, now: i64) -> Result<Vec<(Family, CrlKind)>, StoreError> {
        let mut due = Vec::new();
        for family in self.families() {
            let (full, delta) = (self.store.latest_crl(family, false)?, self.store.latest_crl(family, true)?);
            let margin = |interval: u32| i64::from(interval / 10);
            let full_due = full.is_none_or(|f| now >= f.next_update - margin(self.schedule.full_interval_seconds))
                || !self.layout.crl_of(family, CrlKind::Full).exists();
            let delta_due = full_due
                || delta.is_none_or(|d| {
                    d.base_number != full.map(|f| f.number) || now >= d.next_update - margin(self.schedule.delta_interval_seconds)
                })
                || !self.layout.crl_of(family, CrlKind::Delta).exists();
            due.extend([(CrlKind::Full, full_due), (CrlKind::Delta, delta_due)].into_iter().filter(|(_, d)| *d).map(|(k, _)| (family, k)));
        }
        Ok(due)
    }
}

/// Signs checkpoints of the audit log as it grows, with a database connection of
/// its own. It builds the Merkle tree once from the records (checking it against
/// the newest kept checkpoint, so a rewritten log is never signed) and then only
/// adds the records that arrive.
pub struct Checkpointer {
    store: Store,
    signer: RsaSigner,
    origin: String,
    frontier: Option<crate::audit::merkle::Frontier>,
    last_seq: i64,
}

/// Why no checkpoint was signed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log no longer matches the newest kept checkpoint: it was rewritten.
    #[error("the audit log no longer matches the kept checkpoint of size {size}: it will not be signed")]
    Rewritten {
        /// The checkpoint's size.
        size: u64,
    },
    /// Signing failed.
    #[error(transparent)]
    Checkpoint(#[from] crate::audit::CheckpointError),
}

/// Records read at a time while building the tree.
const AUDIT_PAGE: u32 = 10_000;

impl Checkpointer {
    /// A checkpointer over `store`, signing with `signer` for the log named `origin`.
    pub(super) fn new(store: Store, signer: RsaSigner, origin: String) -> Self {
        Checkpointer { store, signer, origin, frontier: None, last_seq: 0 }
    }

    /// Sign a checkpoint of the log as it is now at `time`, if it grew since the
    /// newest kept one; returns it.
    pub fn catch_up(&mut self, time: i64) -> Result<Option<crate::audit::Checkpoint>, CheckpointerError> {
        let latest = self.store.checkpoints(true)?.into_iter().next();
        let mut frontier = match self.frontier.take() {
            Some(f) => f,
            None => {
                let f = crate::audit::merkle::Frontier::default();
                self.last_seq = 0;
                f
            }
        };
        // Bounded: each round reads at most AUDIT_PAGE records per page until the end.
        loop {
            let page = self.store.audit_records(self.last_seq, AUDIT_PAGE)?;
            for r in &page {
                frontier.push(crate::audit::leaf(r));
                self.last_seq = r.seq;
                if let Some(kept) = latest.as_ref().filter(|k| k.size == frontier.size()) {
                    if kept.root_hash()? != frontier.root() {
                        return Err(CheckpointerError::Rewritten { size: kept.size });
                    }
                }
            }
            if page.len() < AUDIT_PAGE as usize {
                break;
            }
        }
        if latest.as_ref().is_some_and(|k| k.size > frontier.size()) {
            return Err(CheckpointerError::Rewritten { size: latest.map_or(0, |k| k.size) });
        }
        let size = frontier.size();
        let root = frontier.root();
        self.frontier = Some(frontier);
        if size == 0 || latest.is_some_and(|k| k.size >= size) {
            return Ok(None);
        }
        let checkpoint = crate::audit::Checkpoint::sign(&self.origin, size, &root, time, &self.signer)?;
        self.store.save_checkpoint(&checkpoint)?;
        Ok(Some(checkpoint))
    }
}
