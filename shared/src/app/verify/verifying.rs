//! The destination's verify lock, `state/{destination}/verification/running.json`: at most one
//! verification of a destination runs at a time, whichever front door started it (the HTTP API,
//! the console, the command line). It names the verification holding it and what it was asked;
//! the verification's last step releases it. Taking it forgets the records of earlier
//! verifications (only the latest is kept).
//!
//! Whether its holder still runs is told two ways. A verification started through a launcher is
//! running as long as the launcher says so. One run to its end by the process that took the lock
//! ([`super::foreground`]) holds a lease instead, renewed between its steps: past the lease, that
//! process is gone (Ctrl-C, a closed console) and the next verification takes the lock over.

use crate::app::launcher::{ExportLauncher, RunState, VerifyRequest};
use crate::destination::keys;
use crate::store::{get_json, put_json};
use crate::{Deps, ErrorKind, JobError};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long a verification run by the process that took the lock is taken to be alive after it
/// last renewed its lease: several of its steps (each reads for at most
/// [`super::foreground::STEP_SECONDS`]).
pub const LEASE_SECONDS: i64 = 300;

/// The content of the verify lock: the verification holding it and what it was asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Holder {
    pub(super) verification_id: String,
    pub(super) started_at: DateTime<Utc>,
    pub(super) request: VerifyRequest,
    /// Set when the process that took the lock runs the verification itself: until when it is
    /// taken to be alive. `None` when a launcher runs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) alive_until: Option<DateTime<Utc>>,
}

impl Holder {
    /// A new verification of `request`'s destination, named `verification_id`.
    pub(super) fn new(verification_id: String, request: VerifyRequest) -> Self {
        Self {
            verification_id,
            started_at: Utc::now(),
            request,
            alive_until: None,
        }
    }

    /// The same holder, with a lease from now.
    pub(super) fn leased(self) -> Self {
        Self {
            alive_until: Some(Utc::now() + chrono::Duration::seconds(LEASE_SECONDS)),
            ..self
        }
    }

    /// Whether the verification holding the lock still runs: by its lease, else by what
    /// `launcher` says of it. Without a launcher to ask, one a launcher runs is taken as running.
    pub(super) async fn is_running(
        &self,
        launcher: Option<&dyn ExportLauncher>,
    ) -> Result<bool, JobError> {
        Ok(match (self.alive_until, launcher) {
            (Some(until), _) => until > Utc::now(),
            (None, Some(launcher)) => {
                launcher.state(&self.verification_id).await? == RunState::Running
            }
            (None, None) => true,
        })
    }

    /// Why another verification cannot start now, in words for whoever clicked or typed it.
    pub(super) fn busy(&self, dest: &str) -> JobError {
        JobError::new(
            ErrorKind::AlreadyExists,
            format!(
                "'{dest}' is already being verified (a verification started at {} UTC is still running): wait for it to finish and look at what it found before starting another",
                self.started_at.format("%H:%M")
            ),
        )
    }
}

/// Takes the destination's verify lock for `holder`, or answers the holder that has it.
pub(super) async fn take(
    deps: &Deps,
    dest: &str,
    holder: &Holder,
) -> Result<Option<Holder>, JobError> {
    let store = deps.store.as_ref();
    let body = Bytes::from(serde_json::to_vec(holder).unwrap_or_default());
    if store.put_if_absent(&keys::verifying(dest), body).await? {
        forget_older(deps, dest, &holder.verification_id).await?;
        return Ok(None);
    }
    match get_json::<Holder>(store, &keys::verifying(dest)).await? {
        Some(held) => Ok(Some(held)),
        // Released between the two reads: the holder just ended.
        None => Err(JobError::new(
            ErrorKind::AlreadyExists,
            format!("'{dest}' has just been verified by another run: try again"),
        )),
    }
}

/// Writes `holder` over the lock of a verification that no longer runs (taking it over), or
/// over its own lock (renewing its lease).
pub(super) async fn overwrite(deps: &Deps, dest: &str, holder: &Holder) -> Result<(), JobError> {
    Ok(put_json(deps.store.as_ref(), &keys::verifying(dest), holder).await?)
}

/// Renews the lease of `holder` if it still holds the lock; `false` when it no longer does.
pub(super) async fn renew(deps: &Deps, dest: &str, holder: Holder) -> Result<bool, JobError> {
    let held = get_json::<Holder>(deps.store.as_ref(), &keys::verifying(dest)).await?;
    if held.is_some_and(|h| h.verification_id == holder.verification_id) {
        overwrite(deps, dest, &holder.leased()).await?;
        return Ok(true);
    }
    Ok(false)
}

/// Deletes the records of earlier verifications (and anything they left), keeping `current`'s.
pub(super) async fn forget_older(deps: &Deps, dest: &str, current: &str) -> Result<(), JobError> {
    let store = deps.store.as_ref();
    let (lock, mine) = (
        keys::verifying(dest),
        keys::verification_parts(dest, current),
    );
    for key in store.list(&keys::verification_dir(dest)).await? {
        if key != lock && key != keys::verification(dest, current) && !key.starts_with(&mine) {
            store.delete(&key).await?;
        }
    }
    Ok(())
}

/// Releases the destination's verify lock if verification `id` holds it.
pub async fn release(deps: &Deps, dest: &str, id: &str) -> Result<(), JobError> {
    let store = deps.store.as_ref();
    let key = keys::verifying(dest);
    if get_json::<Holder>(store, &key)
        .await?
        .is_some_and(|held| held.verification_id == id)
    {
        store.delete(&key).await?;
    }
    Ok(())
}
