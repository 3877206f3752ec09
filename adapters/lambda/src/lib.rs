//! What every Lambda entry point shares: JSON logs, the dependencies built once per cold start,
//! the mapping of job errors to the runtime's error report, whose `errorType` is the stable
//! class name the state machine's `Retry` and `Catch` match, and CloudWatch metrics
//! ([`metrics`]).

pub mod metrics;

use aws_adapters::{sdk_config, Executions, Settings};
use shared::jobs::Deps;
use shared::JobError;
use tracing_subscriber::EnvFilter;

/// Crates whose trace and debug logs can print a whole event or request (the runtime logs every
/// raw event at trace level, and the api function's connect event carries an API key): never
/// below info, whatever `RUST_LOG` says.
const PINNED_TO_INFO: [&str; 9] = [
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_lambda_events",
    "hyper",
    "hyper_util",
    "h2",
    "aws_smithy_runtime",
    "aws_smithy_http_client",
];

/// The log filter: `rust_log` (else `AWS_LAMBDA_LOG_LEVEL`, which Lambda sets from the function's
/// application log level, else info), with every crate of [`PINNED_TO_INFO`] at info at most and
/// no span directive.
pub fn log_filter(rust_log: Option<&str>, lambda_level: Option<&str>) -> EnvFilter {
    let base = rust_log
        .or(lambda_level)
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| "info".into());
    let kept: Vec<&str> = base
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        // Span directives (`[span]=trace`) would enable events inside the runtime's own spans.
        .filter(|d| !d.contains('[') && !PINNED_TO_INFO.iter().any(|c| d.contains(c)))
        .collect();
    let pinned = PINNED_TO_INFO.map(|c| format!("{c}=info")).join(",");
    EnvFilter::try_new(format!("{},{pinned}", kept.join(",")))
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{pinned}")))
}

/// JSON logs on stdout (CloudWatch), level from `RUST_LOG` (default `info`) but never a raw
/// event ([`log_filter`]). Logs carry ids and counts, never emails or keys.
pub fn init_logs() {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(log_filter(
            var("RUST_LOG").as_deref(),
            var("AWS_LAMBDA_LOG_LEVEL").as_deref(),
        ))
        .with_current_span(false)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}

/// The jobs' dependencies on AWS, and the settings they were built from.
pub async fn deps() -> Result<(Deps, Settings), lambda_runtime::Error> {
    let settings = Settings::from_env()?;
    let deps = aws_adapters::deps(&sdk_config().await, &settings)?;
    Ok((deps, settings))
}

/// A Step Functions client for the configured state machine.
pub async fn executions(settings: &Settings) -> Result<Executions, lambda_runtime::Error> {
    let arn = settings.state_machine_arn.as_deref().ok_or(
        "the environment variable STATE_MACHINE_ARN is not set: it names the export state machine",
    )?;
    Ok(Executions::new(
        aws_sdk_sfn::Client::new(&sdk_config().await),
        arn,
    ))
}

/// A job's error as a Lambda function answers it: the runtime's error report, whose `errorType`
/// is the error's kind ([`JobError::type_name`]). A handler returns `Result<_, Failure>`; `?`
/// converts whatever a `JobError` can be made from.
#[derive(Debug)]
pub struct Failure(pub JobError);

/// Whatever a job's error can be made from (a `JobError`, a `StoreError`, ...).
impl<E: Into<JobError>> From<E> for Failure {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl From<Failure> for lambda_runtime::Diagnostic {
    fn from(Failure(err): Failure) -> Self {
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
    serde_json::from_value(event).map_err(|e| shared::jobs::input_error(&e))
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

#[cfg(test)]
mod tests {
    use super::log_filter;
    use std::io::Write;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What a subscriber with `filter` writes for the runtime's raw-event trace and one line of
    /// our own at debug.
    fn logged(filter: tracing_subscriber::EnvFilter) -> String {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(filter).with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let _span = tracing::info_span!("Lambda runtime invoke").entered();
            tracing::trace!(
                target: "lambda_runtime::layers::api_response",
                body = r#"{"api_key":"sk-live-1"}"#,
                "raw JSON event received from Lambda"
            );
            tracing::debug!(target: "api", "ours at debug");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text
    }

    #[test]
    fn no_setting_logs_the_raw_event() {
        for (rust_log, lambda_level) in [
            (None, None),
            (Some("trace"), None),
            (None, Some("TRACE")),
            (Some("lambda_runtime=trace"), None),
            (
                Some("debug,lambda_runtime::layers::api_response=trace"),
                None,
            ),
            (Some("not a filter ((("), None),
            (Some("[Lambda runtime invoke]=trace"), None),
        ] {
            let text = logged(log_filter(rust_log, lambda_level));
            assert!(!text.contains("sk-live-1"), "{rust_log:?}: {text}");
        }
        // Our own code still follows the setting.
        assert!(logged(log_filter(Some("debug"), None)).contains("ours at debug"));
        assert!(logged(log_filter(None, Some("DEBUG"))).contains("ours at debug"));
        assert!(!logged(log_filter(None, None)).contains("ours at debug"));
    }
}
