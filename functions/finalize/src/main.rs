//! The finalize function: the state machine's last step, and its failure path. Writes the report,
//! commits the baseline when nothing failed, cleans up and releases the destination.

use lambda_glue::{self as lambda, Failure};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::jobs::finalize;
use shared::Deps;

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
) -> Result<finalize::Output, Failure> {
    Ok(finalize::run(lambda::parse(event.payload)?, deps).await?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    let (deps, _) = lambda::deps().await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps))).await
}
