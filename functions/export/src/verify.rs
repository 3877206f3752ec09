//! The state machine's Verify and Record verify failure steps, on the export function (it has the
//! client, the store and the secret). A Verify step reads the destination's lists on from where
//! the last one stopped, for at most `VERIFY_STEP_SECONDS` (600 by default; the execution input's
//! `step_seconds` and `step_pages` override it) and never past the invocation's own deadline, then
//! answers how far the verification got: the state machine invokes it again until `done`.

use lambda_glue::{self as lambda, Failure};
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use shared::app::verify::job::{self, Progress, VerifyRequest};
use shared::app::verify::reading::Budget;
use shared::destination::{self, Boundary};
use shared::{Deps, JobError};
use std::time::Duration;

/// The environment variable holding the seconds one Verify step reads for.
pub const STEP_SECONDS: &str = "VERIFY_STEP_SECONDS";

/// The seconds one Verify step reads for, from [`STEP_SECONDS`] (default
/// [`job::DEFAULT_STEP_SECONDS`]).
pub fn step_seconds_from_env() -> Result<u64, JobError> {
    match std::env::var(STEP_SECONDS) {
        Err(_) => Ok(job::DEFAULT_STEP_SECONDS),
        Ok(value) => value.trim().parse().map_err(|_| {
            JobError::internal(format!("{STEP_SECONDS} must be a whole number of seconds"))
        }),
    }
}

/// The Verify step's input: the execution's input and its name.
#[derive(Deserialize)]
pub struct Step {
    request: VerifyRequest,
    verification_id: String,
}

/// The Record verify failure step's input: what the state machine caught.
#[derive(Deserialize)]
pub struct Failed {
    destination_id: String,
    verification_id: String,
    error_type: String,
    message: String,
}

/// Runs one Verify step within the smaller of its budget and the invocation's time.
pub async fn step(
    step: Step,
    event: &LambdaEvent<serde_json::Value>,
    deps: &Deps,
    boundary: &Boundary,
    step_seconds: u64,
) -> Result<Progress, Failure> {
    let Step {
        request,
        verification_id,
    } = step;
    boundary.check_destination(
        &destination::load(deps.store.as_ref(), &request.destination_id).await?,
    )?;
    let seconds = Duration::from_secs(request.step_seconds.unwrap_or(step_seconds));
    let left =
        lambda::budget(&event.context).saturating_duration_since(tokio::time::Instant::now());
    let budget = Budget::new(request.step_pages, seconds.min(left));
    let progress = job::step(deps, &request, &verification_id, budget).await?;
    tracing::info!(
        verification = %verification_id,
        pages = progress.pages,
        done = progress.done,
        "verify step"
    );
    Ok(progress)
}

/// Records why a verification failed (and frees the destination for the next one).
pub async fn failed(failed: Failed, deps: &Deps) -> Result<Progress, Failure> {
    let Failed {
        destination_id,
        verification_id,
        error_type,
        message,
    } = failed;
    Ok(job::fail(
        deps,
        &destination_id,
        &verification_id,
        &error_type,
        &message,
    )
    .await?)
}
