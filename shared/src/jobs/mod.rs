//! The jobs an export is made of. Each is `run(input, &deps) -> Result<output, JobError>` with
//! serde input and output types: those types are the Step Functions payload contract, so they
//! carry ids, keys and counts, never contacts and never the API key.

pub mod configure;
pub mod connect;
pub mod finalize;
pub mod ledger;
pub mod lock;
pub mod plan;
pub mod progress;
pub mod remove;
pub mod upload_chunk;

use crate::autopilot::{AutopilotClient, AutopilotError, ClientConfig, KeySource, RetryPolicy};
use crate::destination::Destination;
use crate::error::ErrorKind;
use crate::secrets::{SecretError, SecretStore};
use crate::snapshot::{SnapshotError, SnapshotReader};
use crate::store::{ObjectStore, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a job failed. Every error is of an [`ErrorKind`], whose stable name
/// ([`JobError::type_name`]) the state machine's `Retry` and `Catch` match on.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the segments hold at least {distinct} distinct profiles, more than this destination's limit of {limit}: nothing was sent. Raise the limit with `autopilot-export configure DEST --profile-limit N` (mind your Autopilot contract's contact cap) or export fewer segments")]
    LimitExceeded { distinct: u64, limit: u64 },
    /// An export of the destination is running already (kind `ExportRunning`).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    GuardrailTripped(String),
    #[error("{0}")]
    AlreadyExists(String),
    /// A failure of another kind, said with its kind (a snapshot that could not be read, a failed
    /// AWS call, a task that died).
    #[error("{message}")]
    Failed { kind: ErrorKind, message: String },
    #[error(transparent)]
    Autopilot(#[from] AutopilotError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

impl JobError {
    /// A failure of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::Failed {
            kind,
            message: message.into(),
        }
    }

    /// A fault inside the product (a task that died, a channel closed early): not the input's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::InvalidInput(_) => ErrorKind::InvalidInput,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::LimitExceeded { .. } => ErrorKind::LimitExceeded,
            Self::Conflict(_) => ErrorKind::ExportRunning,
            Self::GuardrailTripped(_) => ErrorKind::GuardrailTripped,
            Self::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Self::Failed { kind, .. } => *kind,
            Self::Autopilot(e) => e.kind(),
            Self::Store(e) => e.kind(),
            Self::Secret(e) => e.kind(),
        }
    }

    /// The stable name of this error's kind.
    pub fn type_name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether running the job again later can succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind().retryable()
    }
}

/// A snapshot that could not be read, as a job's error of the same kind.
impl From<SnapshotError> for JobError {
    fn from(err: SnapshotError) -> Self {
        Self::new(err.kind(), err.message())
    }
}

/// Settings for the clients the jobs build.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The longest a request waits for its answer.
    pub timeout: Duration,
    /// The shortest (requests usually wait a few times the recent answer time in between).
    pub min_timeout: Duration,
    pub max_attempts: u32,
    /// How long one request keeps being retried while Autopilot does not answer properly: the
    /// outage an export waits out before it stops (resumably).
    pub max_elapsed: Duration,
    /// Requests to one destination in flight at once.
    pub max_in_flight: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: crate::autopilot::DEFAULT_TIMEOUT,
            min_timeout: crate::autopilot::DEFAULT_MIN_TIMEOUT,
            max_attempts: crate::autopilot::retry::DEFAULT_MAX_ATTEMPTS,
            max_elapsed: crate::autopilot::retry::DEFAULT_RETRY_BUDGET,
            max_in_flight: crate::autopilot::DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Retries when checking a key that is not stored yet (connect, key rotation): someone is
/// waiting for the answer, so an unreachable Autopilot is reported within seconds.
const KEY_CHECK_ATTEMPTS: u32 = 3;
const KEY_CHECK_BUDGET: Duration = Duration::from_secs(20);

/// Builds Autopilot clients, one per destination and process, so every concurrent upload of a
/// process shares one pacer. The key is fetched from the secret store once and kept in the client;
/// it is read again only when Autopilot refuses it (a rotation by another process).
pub struct Clients {
    settings: ClientSettings,
    cache: Mutex<HashMap<String, AutopilotClient>>,
}

impl Clients {
    pub fn new(settings: ClientSettings) -> Self {
        Self {
            settings,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A client for a key that is not stored yet (connect, key rotation).
    pub fn for_key(
        &self,
        url: &str,
        key: secrecy::SecretString,
        rate: f64,
    ) -> Result<AutopilotClient, JobError> {
        let mut config = self.config(url, rate)?;
        config.retry = RetryPolicy::new(
            KEY_CHECK_ATTEMPTS.min(self.settings.max_attempts),
            KEY_CHECK_BUDGET.min(self.settings.max_elapsed),
        );
        Ok(AutopilotClient::new(config, key)?)
    }

    fn config(&self, url: &str, rate: f64) -> Result<ClientConfig, JobError> {
        let base_url = url::Url::parse(url).map_err(|e| {
            JobError::InvalidInput(format!("'{url}' is not a valid Autopilot URL: {e}"))
        })?;
        crate::autopilot::check_base_url(&base_url)?;
        let mut config = ClientConfig::new(base_url);
        config.requests_per_second = rate;
        config.timeout = self.settings.timeout;
        config.min_timeout = self.settings.min_timeout;
        config.max_in_flight = self.settings.max_in_flight;
        config.retry = RetryPolicy::new(self.settings.max_attempts, self.settings.max_elapsed);
        Ok(config)
    }

    /// The shared client of a destination at `rate` requests/second.
    pub async fn for_destination(
        &self,
        destination: &Destination,
        secrets: &Arc<dyn SecretStore>,
        rate: f64,
    ) -> Result<AutopilotClient, JobError> {
        let cache_key = format!("{}@{rate}", destination.id);
        if let Some(client) = self.lock().get(&cache_key) {
            return Ok(client.clone());
        }
        let key = secrets.get(&destination.id).await?;
        let source = Arc::new(StoredKey {
            secrets: secrets.clone(),
            destination_id: destination.id.clone(),
        });
        let config = self.config(&destination.autopilot_url, rate)?;
        let client = AutopilotClient::with_key_source(config, key, source)?;
        Ok(self.lock().entry(cache_key).or_insert(client).clone())
    }

    /// Forgets a destination's clients (after its key changed or it was removed).
    pub fn forget(&self, destination_id: &str) {
        let prefix = format!("{destination_id}@");
        self.lock().retain(|k, _| !k.starts_with(&prefix));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, AutopilotClient>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A destination's key as the secret store holds it now.
struct StoredKey {
    secrets: Arc<dyn SecretStore>,
    destination_id: String,
}

#[async_trait::async_trait]
impl KeySource for StoredKey {
    async fn current_key(&self) -> Option<secrecy::SecretString> {
        self.secrets.get(&self.destination_id).await.ok()
    }
}

/// What the jobs run against.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn ObjectStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub snapshots: Arc<dyn SnapshotReader>,
    pub clients: Arc<Clients>,
}

/// An input that could not be read, described without quoting any of its values (a value may be
/// an API key typed into the wrong field).
pub fn input_error(err: &serde_json::Error) -> JobError {
    let text = err.to_string();
    let head = text.split(" at line ").next().unwrap_or_default();
    let message = if ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| head.starts_with(p))
    {
        head.to_string()
    } else if err.is_syntax() || err.is_eof() {
        "the body is not valid JSON".to_string()
    } else {
        "a field has a value of the wrong type or format".to_string()
    };
    let position = if err.line() > 0 {
        format!(" (line {}, column {})", err.line(), err.column())
    } else {
        String::new()
    };
    JobError::InvalidInput(format!("{message}{position}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_errors_never_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            consent: bool,
            name: String,
        }
        let table = [
            (r#"{"consent": "sk-secret-1", "name": "x"}"#, "wrong type"),
            (r#"{"name": "x"}"#, "missing field `consent`"),
            (r#"{"consent": true, "name": "x""#, "not valid JSON"),
            (r#"not json sk-secret-1"#, "not valid JSON"),
        ];
        for (body, expected) in table {
            let err = super::input_error(&serde_json::from_str::<Body>(body).unwrap_err());
            assert!(err.to_string().contains(expected), "{err}");
            assert!(!err.to_string().contains("sk-secret"), "{err}");
            assert_eq!(err.type_name(), "InvalidInput");
        }
    }
}
