//! The scheduler function: on each EventBridge schedule event, the application layer's scheduled
//! refresh ([`shared::app::schedule`]) starts an export of every destination with scheduling on and
//! no export running, as a Step Functions execution named after the event's time and id, so a
//! duplicated event starts no second export.

use aws_adapters::Executions;
use lambda_glue::{self as lambda, Failure};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use shared::app::schedule::{self, Scheduled};
use shared::Deps;

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    executions: &Executions,
) -> Result<Scheduled, Failure> {
    let event: schedule::Event = lambda::parse(event.payload)?;
    Ok(schedule::run(deps, executions, &event).await?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::memory::tune();
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    let executions = lambda::executions(&settings).await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps, &executions))).await
}
