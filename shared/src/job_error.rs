//! Why a job or a use-case failed: [`JobError`], one [`ErrorKind`] per error, so that every layer
//! (the destinations, the locks, the jobs, the use-cases, the front doors) answers with the same
//! type without importing the jobs.

use crate::error::ErrorKind;
use crate::http_api::ApiError;
use crate::secrets::SecretError;
use crate::snapshot::SnapshotError;
use crate::store::StoreError;

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

/// The message of a failure as the state machine catches it: a Lambda error's `Cause` is the JSON
/// of `errorType` and `errorMessage`; anything else is kept as it is.
pub fn cause_message(cause: &str) -> String {
    serde_json::from_str::<serde_json::Value>(cause)
        .ok()
        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}
