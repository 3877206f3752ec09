//! The finalize function: the state machine's last step, and its failure path. Writes the report,
//! commits the baseline when nothing failed, cleans up and releases the destination; answers the
//! "Export Finished" event the state machine puts on EventBridge, and emits the export's metrics.

use lambda_glue::{self as lambda, Failure};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::jobs::finalize;
use shared::Deps;

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
) -> Result<finalize::Output, Failure> {
    let out = finalize::run(lambda::parse(event.payload)?, deps).await?;
    let namespace = lambda::metrics::namespace();
    lambda::metrics::emit(&lambda::metrics::export_finished(&namespace, &out.event));
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::memory::tune();
    lambda::init_logs();
    let (deps, _) = lambda::deps().await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps))).await
}
