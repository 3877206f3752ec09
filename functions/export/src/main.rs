//! The export function: the state machine's Plan step. Takes the destination's lock for this
//! export (named after the execution), reads the snapshots, writes chunks, and answers with chunk
//! numbers and the rate each concurrent upload may use.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Serialize;
use shared::aws::{lambda, Settings};
use shared::jobs::{lock, plan};
use shared::{Deps, JobError};

#[derive(Serialize)]
struct Output {
    #[serde(flatten)]
    plan: plan::Output,
    /// Requests/second for each upload: the destination's rate shared by MAX_CONCURRENCY uploads.
    upload_rate: f64,
}

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    settings: &Settings,
) -> Result<Output, JobError> {
    let input: plan::Input = lambda::parse(event.payload)?;
    let export_id = input
        .export_id
        .clone()
        .ok_or_else(|| JobError::InvalidInput("missing field `export_id`".into()))?;
    lock::acquire(deps, &input.destination_id, &export_id).await?;
    let plan = plan::run(
        plan::Input {
            dry_run: false,
            ..input
        },
        deps,
    )
    .await?;
    let upload_rate = plan.requests_per_second / f64::from(settings.max_concurrency);
    Ok(Output { plan, upload_rate })
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps, &settings))).await
}
