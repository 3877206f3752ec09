//! The upload-chunk function: one Map iteration of the state machine. Sends one chunk within the
//! function's time budget; a chunk that could not finish answers `done: false` and is invoked again.
//! Each run emits its count of throttled answers as a metric.

use lambda_glue::{self as lambda, Failure};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::jobs::upload_chunk;
use shared::Deps;

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
) -> Result<upload_chunk::Output, Failure> {
    let mut input: upload_chunk::Input = lambda::parse(event.payload)?;
    input.deadline = Some(lambda::budget(&event.context));
    let destination = input.destination_id.clone();
    let out = upload_chunk::run(input, deps).await?;
    let metrics =
        lambda::metrics::chunk_uploaded(&lambda::metrics::namespace(), &destination, &out);
    lambda::metrics::emit(&metrics);
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::memory::tune();
    lambda::init_logs();
    let (deps, _) = lambda::deps().await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps))).await
}
