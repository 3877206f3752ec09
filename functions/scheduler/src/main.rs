//! The scheduler function: on each EventBridge schedule event, starts an export for every
//! destination with scheduling enabled and no export running. Executions are named after the event
//! and an existing name is never started again, so a duplicated event starts no second export.

use aws_adapters::{Executions, StartOutcome};
use lambda_glue::{self as lambda, Failure};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde::Serialize;
use shared::destination::Destination;
use shared::jobs::lock;
use shared::store::get_json;
use shared::{Deps, JobError};

#[derive(Serialize, Default)]
struct Output {
    started: Vec<String>,
    skipped_running: Vec<String>,
    already_started: Vec<String>,
}

/// An execution name from a destination and an event id: `[A-Za-z0-9-_]`, at most 80 characters.
fn execution_name(destination: &str, event_id: &str) -> String {
    let clean: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let mut name = format!("{destination}-sched-{clean}");
    name.truncate(80);
    name
}

async fn handle(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    executions: &Executions,
) -> Result<Output, Failure> {
    let event_id = event
        .payload
        .get("id")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            JobError::InvalidInput(
                "the event has no id: expected an EventBridge scheduled event".into(),
            )
        })?
        .to_string();
    let store = deps.store.as_ref();
    let mut out = Output::default();
    for key in store.list("destinations/").await? {
        let Some(destination) = get_json::<Destination>(store, &key).await? else {
            continue;
        };
        if !destination.schedule.enabled || destination.segments.is_empty() {
            continue;
        }
        if lock::holder(deps, &destination.id).await?.is_some() {
            out.skipped_running.push(destination.id);
            continue;
        }
        let name = execution_name(&destination.id, &event_id);
        if executions.exists(&name).await? {
            out.already_started.push(name);
            continue;
        }
        let input = serde_json::json!({ "destination_id": destination.id });
        match executions.start(&name, &input).await {
            Ok(StartOutcome::Started { .. }) => out.started.push(name),
            Ok(StartOutcome::AlreadyStarted) => out.already_started.push(name),
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(
        started = out.started.len(),
        skipped = out.skipped_running.len(),
        duplicates = out.already_started.len(),
        "scheduled exports"
    );
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    let executions = lambda::executions(&settings).await?;
    lambda_runtime::run(service_fn(|event| handle(event, &deps, &executions))).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_valid_and_stable() {
        let name = super::execution_name("marketing", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
        assert_eq!(name, "marketing-sched-53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
        let long = super::execution_name(&"d".repeat(60), "e/v:e n t");
        assert!(long.len() <= 80 && long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
