//! Verifications as the HTTP API sees them: [`start`] one through the launcher (at most one per
//! destination at a time, under `state/{destination}/verification/running.json`, created only if
//! absent), and [`status`] of one: running with its progress, then its result or why it failed.
//! An interrupted verification (its lock held, its run gone) is resumed under its own id by the
//! next start, from the cursors it kept. Only the latest verification's record is kept.

use super::job::{self, Verification, VerificationStatus, VerifyRequest};
use super::verifying::{self, Holder};
use super::{last_baseline, refuse_while_exporting};
use crate::app::exports::check_configured;
use crate::app::launcher::{ExportLauncher, RunState};
use crate::destination::{self, keys};
use crate::jobs::finalize::Failure;
use crate::store::get_json;
use crate::{Deps, ErrorKind, JobError};

/// Starts a verification of the destination `request` names and answers its id. Refused with
/// `NotConfigured` before the destination is configured and exported, `ExportRunning` while an
/// export of it runs, and `AlreadyExists` while another verification of it runs.
pub async fn start(
    deps: &Deps,
    launcher: &dyn ExportLauncher,
    request: &VerifyRequest,
) -> Result<String, JobError> {
    let destination = destination::load(deps.store.as_ref(), &request.destination_id).await?;
    check_configured(&destination)?;
    let dest = destination.id.as_str();
    if let Err(e) = last_baseline(deps, dest).await {
        return Err(match e.kind() {
            ErrorKind::NotFound => JobError::new(ErrorKind::NotConfigured, e.to_string()),
            _ => e,
        });
    }
    refuse_while_exporting(deps, dest, "verify").await?;
    let request = VerifyRequest {
        destination_id: dest.to_string(),
        ..request.clone()
    };
    let id = format!("{}-verify", launcher.new_export_id(dest));
    let mut holder = Holder::new(id, request);
    if let Some(held) = verifying::take(deps, dest, &holder).await? {
        if held.is_running(Some(launcher)).await? {
            return Err(held.busy(dest));
        }
        // Interrupted: resumed under its own id, from the cursors it kept, by the launcher.
        holder = Holder {
            alive_until: None,
            ..held
        };
        verifying::overwrite(deps, dest, &holder).await?;
    }
    launcher
        .start_verification(&holder.verification_id, &holder.request)
        .await?;
    Ok(holder.verification_id)
}

/// Verification `id` of `destination` as it stands: running with its progress, or ended with
/// its result or the reason it failed. One the launcher no longer runs, that did not end, is
/// answered as failed (the next start resumes it). `NotFound` for an id it does not know.
pub async fn status(
    deps: &Deps,
    launcher: &dyn ExportLauncher,
    destination: &str,
    id: &str,
) -> Result<Verification, JobError> {
    let destination = destination::load(deps.store.as_ref(), destination).await?;
    let dest = destination.id.as_str();
    let not_found = || JobError::NotFound(format!("'{dest}' has no verification with that id"));
    if id.is_empty()
        || id.len() > 200
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(not_found());
    }
    let held = get_json::<Holder>(deps.store.as_ref(), &keys::verifying(dest))
        .await?
        .filter(|held| held.verification_id == id);
    let mut record = match job::load(deps, dest, id).await? {
        Some(record) if record.status != VerificationStatus::Running => return Ok(record),
        Some(record) => record,
        None => match &held {
            Some(held) => Verification {
                started_at: held.started_at,
                repair: held.request.repair,
                ..job::pending(dest, id)
            },
            None => return Err(not_found()),
        },
    };
    let stopped = match &held {
        Some(leased) if leased.alive_until.is_some() => !leased.is_running(None).await?,
        _ => matches!(
            launcher.state(id).await?,
            RunState::Failed | RunState::Unknown
        ),
    };
    if stopped {
        record.status = VerificationStatus::Failed;
        record.failure = Some(Failure {
            error_type: ErrorKind::Internal.as_str().to_string(),
            message: "the verification stopped before it finished: start a verification again to resume it"
                .to_string(),
        });
    }
    Ok(record)
}
