//! A verification run to its end by the process that asks for it: the command line's `verify`
//! and the console's Verify and Repair. It is the verification of [`super::job`], step after step
//! in this process, under the destination's verify lock ([`super::verifying`]) like the ones the
//! HTTP API starts: while one runs, another (from any front door) is refused with words that say
//! so. [`claim`] takes the lock (so a front door can answer at once whether it starts), then
//! [`Claimed::run`] runs it; [`run`] does both.
//!
//! Between steps the lock's lease is renewed; a process that dies mid-way (Ctrl-C, a closed
//! console) leaves a lock whose lease runs out, and the next verification takes it over.

use super::job::{self, VerificationStatus};
use super::verifying::{self, Holder};
use super::{last_baseline, refuse_while_exporting, Verified};
use crate::app::launcher::VerifyRequest;
use crate::destination;
use crate::jobs::plan;
use crate::{Deps, JobError};

/// Seconds one step reads for: the lease is renewed at least this often.
pub const STEP_SECONDS: u64 = 60;

/// A verification whose lock this process holds, not yet run.
#[derive(Debug)]
#[must_use = "the lock stays held until the verification runs"]
pub struct Claimed {
    holder: Holder,
}

impl Claimed {
    /// The id of the verification.
    pub fn id(&self) -> &str {
        &self.holder.verification_id
    }

    /// Runs the verification to its end and answers what it found. A failed step ends it as
    /// failed (its record says why) and releases the lock.
    pub async fn run(self, deps: &Deps) -> Result<Verified, JobError> {
        let Holder {
            verification_id: id,
            request,
            ..
        } = &self.holder;
        let dest = request.destination_id.as_str();
        loop {
            match job::step(deps, request, id, request.budget()).await {
                Ok(progress) if progress.done => break,
                Ok(_) => {
                    if !verifying::renew(deps, dest, self.holder.clone()).await? {
                        return Err(JobError::internal(
                            "the verification lost its lock to another run: verify again",
                        ));
                    }
                }
                Err(e) => {
                    job::fail(deps, dest, id, e.type_name(), &e.to_string()).await?;
                    return Err(e);
                }
            }
        }
        let record = job::load(deps, dest, id)
            .await?
            .ok_or_else(|| JobError::internal("the verification's record is gone"))?;
        match (record.status, record.result, record.failure) {
            (VerificationStatus::Succeeded, Some(verified), _) => Ok(verified),
            (_, _, Some(failure)) => Err(JobError::internal(failure.message)),
            _ => Err(JobError::internal(
                "the verification ended without a result",
            )),
        }
    }
}

/// Takes the destination's verify lock for a verification of `destination_id` (with `repair`,
/// missing members are put back). Refused with `NotFound` before its first export,
/// `ExportRunning` while an export of it runs, and `AlreadyExists` while another verification
/// of it runs, started from anywhere.
pub async fn claim(deps: &Deps, destination_id: &str, repair: bool) -> Result<Claimed, JobError> {
    let destination = destination::load(deps.store.as_ref(), destination_id).await?;
    let dest = destination.id.as_str();
    last_baseline(deps, dest).await?;
    refuse_while_exporting(deps, dest, if repair { "repair" } else { "verify" }).await?;
    let request = VerifyRequest {
        destination_id: dest.to_string(),
        repair,
        step_seconds: Some(STEP_SECONDS),
        step_pages: None,
    };
    let holder = Holder::new(format!("{}-verify", plan::new_export_id()), request).leased();
    if let Some(held) = verifying::take(deps, dest, &holder).await? {
        if held.is_running(None).await? {
            return Err(held.busy(dest));
        }
        // Its process is gone: this verification starts afresh in its place.
        verifying::overwrite(deps, dest, &holder).await?;
        verifying::forget_older(deps, dest, &holder.verification_id).await?;
    }
    Ok(Claimed { holder })
}

/// Verifies the destination's lists in one go ([`claim`], then [`Claimed::run`]).
pub async fn run(deps: &Deps, destination_id: &str, repair: bool) -> Result<Verified, JobError> {
    claim(deps, destination_id, repair).await?.run(deps).await
}
