//! The port exports (and verifications) are started through: on AWS an execution of the export
//! state machine (`aws_adapters::Executions`), locally a task of this process
//! ([`super::in_process`]). The use-cases of [`super::exports`], [`super::schedule`] and
//! [`super::verify::runs`] decide *whether* a run starts; a launcher only runs it, under the name
//! it is given (the export id, the verification id): [`ExportLauncher::state`] answers for both.

use crate::jobs::plan::{self, Trigger};
use crate::jobs::{lock, JobError};
use serde::{Deserialize, Serialize};

/// What starts an export: the execution input on AWS, the options of a local run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRequest {
    pub destination_id: String,
    /// Send every contact, not only what changed since the last export.
    #[serde(default)]
    pub full: bool,
    /// Let a run through that trips a guardrail.
    #[serde(default)]
    pub override_guardrails: bool,
    /// What starts it.
    #[serde(default)]
    pub trigger: Trigger,
}

impl ExportRequest {
    /// An export of `destination_id` started by `trigger`.
    pub fn new(destination_id: &str, trigger: Trigger) -> Self {
        Self {
            destination_id: destination_id.to_string(),
            trigger,
            ..Self::default()
        }
    }
}

/// What starts a verification: the execution input on AWS (with `"job": "verify"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    pub destination_id: String,
    /// Put missing members back on their lists.
    #[serde(default)]
    pub repair: bool,
    /// Seconds one step may read for (default `verify::job::DEFAULT_STEP_SECONDS`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_seconds: Option<u64>,
    /// Requests one step may make at most (none by default: time alone bounds a step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_pages: Option<u64>,
}

/// What a launcher did with one start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launch {
    Started,
    /// An export of that name was started before (a duplicated event): nothing new started.
    AlreadyStarted,
}

/// What a launcher knows of an export it was asked to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    /// The run ended; its report is written last, so it may still be on its way.
    Succeeded,
    /// The run stopped without finishing (on AWS: failed, aborted or timed out).
    Failed,
    /// The launcher never started an export of that name (or has forgotten it).
    Unknown,
}

/// Starts exports and says how they are doing.
#[async_trait::async_trait]
pub trait ExportLauncher: Send + Sync {
    /// Starts an export named `name`, once per name.
    async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError>;

    /// What became of the export (or verification) named `name`.
    async fn state(&self, name: &str) -> Result<RunState, JobError>;

    /// Starts a verification named `name`, once per name: on AWS an execution of the same state
    /// machine (its input's `job` is `verify`), locally a task. A launcher that cannot run one
    /// refuses.
    async fn start_verification(
        &self,
        name: &str,
        request: &VerifyRequest,
    ) -> Result<Launch, JobError> {
        let _ = (name, request);
        Err(JobError::internal(
            "this launcher does not run verifications",
        ))
    }

    /// A new export id of `destination`: it starts with the time, so ids sort in start order.
    fn new_export_id(&self, destination: &str) -> String {
        let _ = destination;
        plan::new_export_id()
    }

    /// Whether the export holding the destination's lock is still being run. `false` means it was
    /// interrupted and is resumed by starting it again under its own name. On AWS the state
    /// machine releases the lock however an execution ends, so a held lock is a running export
    /// (the default).
    async fn holder_running(
        &self,
        destination: &str,
        holder: &lock::Running,
    ) -> Result<bool, JobError> {
        let _ = (destination, holder);
        Ok(true)
    }
}
