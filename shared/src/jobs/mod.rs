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

use crate::audience_api::ApiFactory;
use crate::error::ErrorKind;
use crate::http_api::ApiError;
use crate::secrets::{SecretError, SecretStore};
use crate::snapshot::{SnapshotError, SnapshotReader};
use crate::store::{ObjectStore, StoreError};
use std::sync::Arc;

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
    /// The API of the destination's audience tool failed.
    #[error(transparent)]
    Api(#[from] ApiError),
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
            Self::Api(e) => e.kind(),
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

/// What the jobs run against.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn ObjectStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub snapshots: Arc<dyn SnapshotReader>,
    /// Makes the client of a destination's API (checked against the deployment's boundary).
    pub apis: Arc<ApiFactory>,
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
