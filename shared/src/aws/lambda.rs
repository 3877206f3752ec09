//! What every Lambda entry point shares: JSON logs, the dependencies built once per cold start,
//! and the mapping of job errors to the runtime's error report, whose `errorType` is the stable
//! class name the state machine's `Retry` and `Catch` match.

use super::{s3_client, sdk_config, S3Snapshots, S3Store, SecretsManagerSecrets, Settings};
use crate::jobs::{ClientSettings, Clients, Deps, JobError};
use std::sync::Arc;

/// JSON logs on stdout (CloudWatch), level from `RUST_LOG` (default `info`). Logs carry ids and
/// counts, never emails or keys.
pub fn init_logs() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}

/// The jobs' dependencies on AWS, and the settings they were built from.
pub async fn deps() -> Result<(Deps, Settings), lambda_runtime::Error> {
    let settings = Settings::from_env()?;
    let sdk = sdk_config().await;
    let s3 = s3_client(&sdk, &settings);
    let deps = Deps {
        store: Arc::new(S3Store::new(s3.clone(), &settings.data_bucket)),
        secrets: Arc::new(SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
            &settings.secret_prefix,
        )),
        snapshots: Arc::new(S3Snapshots::new(s3)),
        clients: Arc::new(Clients::new(ClientSettings::default())),
    };
    Ok((deps, settings))
}

/// A Step Functions client for the configured state machine.
pub async fn executions(settings: &Settings) -> Result<super::Executions, lambda_runtime::Error> {
    let arn = settings.state_machine_arn.as_deref().ok_or(
        "the environment variable STATE_MACHINE_ARN is not set: it names the export state machine",
    )?;
    Ok(super::Executions::new(
        aws_sdk_sfn::Client::new(&sdk_config().await),
        arn,
    ))
}

impl From<JobError> for lambda_runtime::Diagnostic {
    fn from(err: JobError) -> Self {
        tracing::warn!(
            error_type = err.type_name(),
            retryable = err.is_retryable(),
            "job failed"
        );
        lambda_runtime::Diagnostic {
            error_type: err.type_name().to_string(),
            error_message: err.to_string(),
        }
    }
}

/// Reads an event into a job's input; a malformed event is an `InvalidInput` (fatal, never
/// retried), described without quoting its values.
pub fn parse<T: serde::de::DeserializeOwned>(event: serde_json::Value) -> Result<T, JobError> {
    serde_json::from_value(event).map_err(|e| crate::jobs::input_error(&e))
}

/// The instant after which a function should start no new request: its deadline less a margin to
/// store progress (a fifth of the time it has, between 1 and 90 seconds, never more than half).
pub fn budget(context: &lambda_runtime::Context) -> tokio::time::Instant {
    use std::time::Duration;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    // Lambda sends the deadline in milliseconds since the epoch; `cargo lambda watch` sends the
    // timeout itself (600000). A value before 2001 can only be the latter.
    let left = if context.deadline < 1_000_000_000_000 {
        Duration::from_millis(context.deadline)
    } else {
        Duration::from_millis(context.deadline.saturating_sub(now_ms))
    };
    let margin = (left / 5)
        .clamp(Duration::from_secs(1), Duration::from_secs(90))
        .min(left / 2);
    let budget = left.saturating_sub(margin);
    tracing::debug!(
        left_ms = left.as_millis() as u64,
        budget_ms = budget.as_millis() as u64,
        "time budget"
    );
    tokio::time::Instant::now() + budget
}
