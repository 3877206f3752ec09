//! The export function's work: the state machine's Plan step, and the steps of a verification
//! ([`verify`]). Plan takes the destination's lock for this export (named after the execution),
//! reads the snapshots, writes chunks, and answers with chunk numbers and the rate each concurrent
//! upload may use. A destination outside the deployment's boundary (an Autopilot URL or a segment
//! it may not use, stored before the boundary was enforced or written by hand) fails here, before
//! anything is read or sent.

use aws_adapters::Settings;
use lambda_glue::{self as lambda, Failure};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use shared::app::launcher::ExportRequest;
use shared::destination::{self, Boundary};
use shared::jobs::{lock, plan};
use shared::Deps;

pub mod verify;

/// The state machine's Plan input: the execution's input and its name.
#[derive(Deserialize)]
struct Event {
    request: Request,
    export_id: String,
}

/// What starts an export (API, schedule or a manual execution), and for a manual execution the
/// chunk size.
#[derive(Deserialize)]
struct Request {
    #[serde(flatten)]
    export: ExportRequest,
    #[serde(default)]
    chunk_size: Option<usize>,
}

/// The answer to one event.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Answer {
    Plan(Output),
    Verify(shared::app::verify::job::Progress),
}

/// What the function was configured with.
pub struct Config<'a> {
    pub settings: &'a Settings,
    pub boundary: &'a Boundary,
    /// Seconds one Verify step reads for.
    pub verify_step_seconds: u64,
}

/// Answers the event: plans an export, or runs a step of a verification.
pub async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    config: &Config<'_>,
) -> Result<Answer, Failure> {
    let payload = &event.payload;
    if let Some(step) = payload.get("verify") {
        let seconds = config.verify_step_seconds;
        let step = lambda::parse(step.clone())?;
        return verify::step(step, &event, deps, config.boundary, seconds)
            .await
            .map(Answer::Verify);
    }
    if let Some(failed) = payload.get("verify_failure") {
        let failed = lambda::parse(failed.clone())?;
        return verify::failed(failed, deps).await.map(Answer::Verify);
    }
    let Event { request, export_id } = lambda::parse(payload.clone())?;
    plan(request, export_id, deps, config.settings, config.boundary)
        .await
        .map(Answer::Plan)
}

#[derive(Serialize)]
pub struct Output {
    #[serde(flatten)]
    plan: plan::Output,
    /// Requests/second for each upload: the destination's rate shared by MAX_CONCURRENCY uploads.
    upload_rate: f64,
}

/// Plans the export the event names.
async fn plan(
    request: Request,
    export_id: String,
    deps: &Deps,
    settings: &Settings,
    boundary: &Boundary,
) -> Result<Output, Failure> {
    let Request { export, chunk_size } = request;
    lock::acquire(deps, &export.destination_id, &export_id).await?;
    boundary.check_destination(
        &destination::load(deps.store.as_ref(), &export.destination_id).await?,
    )?;
    let input = plan::Input {
        destination_id: export.destination_id,
        export_id: Some(export_id),
        chunk_size: chunk_size.or(settings.chunk_size),
        full: export.full,
        override_guardrails: export.override_guardrails,
        trigger: export.trigger,
        ..plan::Input::default()
    };
    let plan = plan::run(input, deps).await?;
    let upload_rate = plan.requests_per_second / f64::from(settings.max_concurrency);
    Ok(Output { plan, upload_rate })
}
