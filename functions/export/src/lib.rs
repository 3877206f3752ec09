//! The export function's work: the state machine's Plan step. Takes the destination's lock for
//! this export (named after the execution), reads the snapshots, writes chunks, and answers with
//! chunk numbers and the rate each concurrent upload may use. A destination outside the
//! deployment's boundary (an Autopilot URL or a segment it may not use, stored before the boundary
//! was enforced or written by hand) fails here, before anything is read or sent.

use aws_adapters::Settings;
use lambda_glue::{self as lambda, Failure};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use shared::app::launcher::ExportRequest;
use shared::destination::{self, Boundary};
use shared::jobs::{lock, plan};
use shared::Deps;

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

#[derive(Serialize)]
pub struct Output {
    #[serde(flatten)]
    plan: plan::Output,
    /// Requests/second for each upload: the destination's rate shared by MAX_CONCURRENCY uploads.
    upload_rate: f64,
}

/// Plans the export the event names.
pub async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    settings: &Settings,
    boundary: &Boundary,
) -> Result<Output, Failure> {
    let Event { request, export_id } = lambda::parse(event.payload)?;
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
