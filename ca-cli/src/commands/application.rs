//! `ca application`: the workflow on the data directory, or through the operator
//! API with `--server URL --key-dir DIR`; either way each confirmation and
//! rejection is signed with the operator's own SIGN key.

use super::Ctx;
use crate::args::Remote;
use crate::error::{CliError, CliResult};
use crate::output::Output;
use ca_core::api::{routes, ApplicationView, PairPem, PairSerials, PendingPage, SignedAction, MAX_PAGE};
use ca_core::model::{ApplicationState, Serial};
use serde::Serialize;
use std::path::PathBuf;

impl Output for ApplicationView {}
impl Output for PairPem {}

/// A list of applications.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Views(pub Vec<ApplicationView>);

impl Output for Views {}

/// `ca application list` on the data directory.
pub fn list(ctx: &Ctx, state: Option<ApplicationState>, center: Option<&str>) -> CliResult<Vec<ApplicationView>> {
    ctx.with_ra(false, |ra| Ok(ra.list(state, center)?.into_iter().map(ApplicationView::from).collect()))
}

/// `ca application show`.
pub fn show(ctx: &Ctx, number: &str) -> CliResult<ApplicationView> {
    ctx.with_ra(false, |ra| Ok(ra.show(number)?.into()))
}

/// An application confirmed on the console: the pair issued for it.
#[derive(Serialize)]
pub struct Confirmed {
    number: String,
    state: ApplicationState,
    pair_id: i64,
    certificates: PairSerials,
}

impl Output for Confirmed {}

/// `ca application confirm`: identity checked in person; issue.
pub fn confirm(ctx: &Ctx, number: &str) -> CliResult<Confirmed> {
    ctx.with_ra(true, |ra| {
        let member = super::staff::authorize(ctx, ra, SignedAction::Confirm { application: number.to_string() })?;
        let pair = ra.confirm(number, &member)?;
        Ok(Confirmed {
            number: number.to_string(),
            state: ApplicationState::Issued,
            pair_id: pair.pair_id,
            certificates: PairSerials { auth: Serial::of(&pair.auth), sign: Serial::of(&pair.sign) },
        })
    })
}

/// `ca application reject`.
pub fn reject(ctx: &Ctx, number: &str, reason: &str) -> CliResult<ApplicationView> {
    ctx.with_ra(false, |ra| {
        let action = SignedAction::Reject { application: number.to_string(), reason: reason.to_string() };
        let member = super::staff::authorize(ctx, ra, action)?;
        Ok(ra.reject(number, reason, &member)?.into())
    })
}

/// Pages `ca application list --server` reads at most.
const MAX_PAGES: u32 = 200;

/// An operator at a server, with the key store holding their SIGN certificate.
pub struct Operator {
    server: String,
    key_dir: PathBuf,
    password: zeroize::Zeroizing<String>,
}

impl Remote {
    /// The operator API target, when `--server` is given.
    pub fn target(&self) -> CliResult<Option<Operator>> {
        match (&self.server, &self.key_dir) {
            (Some(server), Some(key_dir)) => Ok(Some(Operator {
                server: server.clone(),
                key_dir: key_dir.clone(),
                password: super::enroll::password(self.password_file.as_deref())?,
            })),
            _ => Ok(None),
        }
    }
}

impl Operator {
    fn call<T: serde::de::DeserializeOwned>(&self, route: &str, number: Option<&str>, action: SignedAction) -> CliResult<T> {
        super::enroll::signed_call(&self.server, &self.key_dir, &self.password, route, number, action)
    }

    /// The applications awaiting identity confirmation, page after page (each a
    /// signed request), up to [`MAX_PAGES`] pages.
    pub fn pending(&self, center: Option<String>) -> CliResult<Vec<ApplicationView>> {
        let mut all = Vec::new();
        let mut after = None;
        for _ in 0..MAX_PAGES {
            let action = SignedAction::ListPending { center: center.clone(), after: after.take(), limit: Some(MAX_PAGE) };
            let page: PendingPage = self.call(routes::OPERATOR_PENDING, None, action)?;
            all.extend(page.applications);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
        Err(CliError::refused(
            "too_many",
            format!("more than {} applications are pending; list one center at a time", MAX_PAGES * MAX_PAGE),
        ))
    }

    /// Confirm an application: the server issues the pair.
    pub fn confirm(&self, number: &str) -> CliResult<PairPem> {
        self.call(routes::OPERATOR_CONFIRM, Some(number), SignedAction::Confirm { application: number.to_string() })
    }

    /// Reject an application.
    pub fn reject(&self, number: &str, reason: &str) -> CliResult<ApplicationView> {
        let action = SignedAction::Reject { application: number.to_string(), reason: reason.to_string() };
        self.call(routes::OPERATOR_REJECT, Some(number), action)
    }
}
