//! The AWS adapters of autopilot-export's ports: `S3Store` and `S3Snapshots` (S3),
//! `SecretsManagerSecrets` (Secrets Manager) and `Executions` (Step Functions); and [`stack`], a
//! deployed stack's outputs and parameters (CloudFormation), for tools that work on a stack from
//! outside it. Only this crate imports the AWS SDK; the domain crate `shared` knows its ports alone. Used by the Lambda
//! functions (through `lambda-glue`) and the tests that run against moto.
//!
//! Configuration is read once, from the environment, by [`Settings::from_env`]; the names are the
//! template's environment variables. The SDK itself honours `AWS_ENDPOINT_URL`, `AWS_REGION` and
//! the usual credential variables, which is how the tests point it at moto.

mod executions;
mod s3;
mod secrets_manager;
mod snapshots;
pub mod stack;

pub use executions::{Executions, StartOutcome};
pub use s3::S3Store;
pub use secrets_manager::SecretsManagerSecrets;
pub use snapshots::S3Snapshots;

use aws_sdk_s3::config::http::HttpResponse;
use shared::audience_api::{ApiFactory, ClientSettings};
use shared::destination::Boundary;
use shared::error::ErrorKind;

/// The deployment's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATA_BUCKET`: the bucket of destinations, exports and baselines.
    pub data_bucket: String,
    /// `S3_FORCE_PATH_STYLE`: `true` for emulators that do not serve virtual-host buckets.
    pub force_path_style: bool,
    /// `SECRET_PREFIX`: secrets are named `{prefix}{destination_id}`.
    pub secret_prefix: String,
    /// `STATE_MACHINE_ARN`: the export state machine (API and scheduler functions only).
    pub state_machine_arn: Option<String>,
    /// `MAX_CONCURRENCY`: chunk uploads the state machine runs at once; each gets its share of a
    /// destination's rate.
    pub max_concurrency: u32,
    /// `CHUNK_SIZE`: contacts per chunk object.
    pub chunk_size: Option<usize>,
    /// `DEFAULT_REQUESTS_PER_SECOND`: the rate of destinations connected without one.
    pub default_requests_per_second: Option<f64>,
    /// `ALLOWED_AUTOPILOT_HOSTS`: hosts besides Autopilot's API host that destinations may use,
    /// separated by commas or spaces (`host`, `host:port`, or `scheme://host:port`).
    pub allowed_autopilot_hosts: Vec<String>,
    /// `SNAPSHOT_BUCKET`: the only bucket segments are read from; unset, none can be read.
    pub snapshot_bucket: Option<String>,
    /// `SNAPSHOT_PREFIX`: the part of that bucket segments are read from (empty: all of it).
    pub snapshot_prefix: String,
    /// `ALLOWED_ACCOUNTS`: the ids of the only accounts destinations may export to (Autopilot's
    /// `instance_id`), separated by commas or spaces; empty, any account.
    pub allowed_accounts: Vec<String>,
}

impl Settings {
    /// The defaults for a data bucket: virtual-host addressing, secrets under `autopilot-export/`,
    /// four uploads at once, the jobs' own chunk size and rate.
    pub fn new(data_bucket: &str) -> Self {
        Self {
            data_bucket: data_bucket.to_string(),
            force_path_style: false,
            secret_prefix: "autopilot-export/".into(),
            state_machine_arn: None,
            max_concurrency: 4,
            chunk_size: None,
            default_requests_per_second: None,
            allowed_autopilot_hosts: Vec::new(),
            snapshot_bucket: None,
            snapshot_prefix: String::new(),
            allowed_accounts: Vec::new(),
        }
    }

    /// Where this deployment's destinations may send data and read segments from, and the
    /// accounts they may export to.
    pub fn boundary(&self) -> Result<Boundary, String> {
        Ok(Boundary::deployment(
            &self.allowed_autopilot_hosts,
            self.snapshot_bucket.as_deref(),
            &self.snapshot_prefix,
            &self.data_bucket,
        )?
        .for_accounts(&self.allowed_accounts))
    }

    /// Reads the settings; a missing required variable is an error that names it.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let data_bucket = var("DATA_BUCKET")
            .ok_or("the environment variable DATA_BUCKET is not set: it names the data bucket")?;
        let max_concurrency = match var("MAX_CONCURRENCY") {
            Some(v) => v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!("MAX_CONCURRENCY must be a positive whole number, not '{v}'")
            })?,
            None => 4,
        };
        let chunk_size =
            match var("CHUNK_SIZE") {
                Some(v) => Some(v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("CHUNK_SIZE must be a positive whole number, not '{v}'")
                })?),
                None => None,
            };
        let default_requests_per_second = match var("DEFAULT_REQUESTS_PER_SECOND") {
            Some(v) => Some(
                v.parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| {
                        format!("DEFAULT_REQUESTS_PER_SECOND must be a positive number, not '{v}'")
                    })?,
            ),
            None => None,
        };
        let defaults = Self::new(&data_bucket);
        Ok(Self {
            force_path_style: var("S3_FORCE_PATH_STYLE").is_some_and(|v| v == "true" || v == "1"),
            secret_prefix: var("SECRET_PREFIX").unwrap_or(defaults.secret_prefix),
            state_machine_arn: var("STATE_MACHINE_ARN"),
            max_concurrency,
            chunk_size,
            default_requests_per_second,
            allowed_autopilot_hosts: list(var("ALLOWED_AUTOPILOT_HOSTS")),
            allowed_accounts: list(var("ALLOWED_ACCOUNTS")),
            snapshot_bucket: var("SNAPSHOT_BUCKET"),
            snapshot_prefix: var("SNAPSHOT_PREFIX").unwrap_or_default(),
            ..defaults
        })
    }
}

/// The entries of a list variable, separated by commas, spaces or line breaks.
fn list(value: Option<String>) -> Vec<String> {
    value
        .map(|v| {
            v.split([',', ' ', '\n'])
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The SDK's shared configuration (region, credentials, endpoint) from the environment, with
/// its HTTPS client on rustls and `ring`, the one crypto backend of every client of the build
/// (the SDK's default client would bring `aws-lc-rs` as a second one).
pub async fn sdk_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(https)
        .load()
        .await
}

/// The jobs' dependencies on a deployment's AWS resources, as its functions (and the console on
/// the stack) use them: the data bucket, Secrets Manager, segments read within the deployment's
/// boundary, and API clients handed out only for URLs within it.
pub fn deps(sdk: &aws_config::SdkConfig, settings: &Settings) -> Result<shared::Deps, String> {
    let boundary = settings.boundary()?;
    let s3 = s3_client(sdk, settings);
    Ok(shared::Deps {
        store: std::sync::Arc::new(S3Store::new(s3.clone(), &settings.data_bucket)),
        secrets: std::sync::Arc::new(SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(sdk),
            &settings.secret_prefix,
        )),
        snapshots: std::sync::Arc::new(S3Snapshots::new(s3).within(boundary.clone())),
        apis: std::sync::Arc::new(ApiFactory::new(ClientSettings::default()).within(boundary)),
    })
}

/// An S3 client, path-style when the settings ask for it.
pub fn s3_client(sdk: &aws_config::SdkConfig, settings: &Settings) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(settings.force_path_style)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// What a caller may be told about a failed AWS call: the service's error code, or the kind of
/// failure. Never the service's message, which can name accounts, roles and resources by ARN;
/// that goes to the function's log, with `what` was being done.
pub(crate) fn summary<E, R>(what: &str, err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    tracing::warn!(what, error = %describe(err), "AWS call failed");
    match err {
        SdkError::ServiceError(service) => format!(
            "AWS answered {}; the function's log has the details",
            service.err().code().unwrap_or("with an error")
        ),
        SdkError::TimeoutError(_) => "the AWS call timed out".into(),
        SdkError::DispatchFailure(_) => "the AWS service could not be reached".into(),
        SdkError::ResponseError(_) => "the AWS service's answer could not be read".into(),
        _ => "the AWS call could not be made; the function's log has the details".into(),
    }
}

/// Whether a failed AWS call may work when made again: a timeout, a connection that failed or
/// was lost, an answer that could not be read, throttling, a 5xx. A refusal (access denied, a
/// missing resource, a bad request) is not.
pub(crate) fn transient<E>(err: &aws_sdk_s3::error::SdkError<E, HttpResponse>) -> bool
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    use aws_sdk_s3::error::SdkError;
    const THROTTLED: [&str; 7] = [
        "Throttling",
        "ThrottlingException",
        "SlowDown",
        "RequestTimeout",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
    ];
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => !failure.is_user(),
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.err().code().is_some_and(|c| THROTTLED.contains(&c))
        }
        _ => false,
    }
}

/// The kind of a failed AWS call: [`ErrorKind::Transient`] when trying again may work, else
/// [`ErrorKind::Internal`] (the deployment is wrong: a role without a permission, a resource
/// that is not there).
pub(crate) fn kind<E>(err: &aws_sdk_s3::error::SdkError<E, HttpResponse>) -> ErrorKind
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    if transient(err) {
        ErrorKind::Transient
    } else {
        ErrorKind::Internal
    }
}

/// The message of an SDK error with its causes, never the request (which can hold a key).
pub(crate) fn describe<E: std::error::Error>(err: &E) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
