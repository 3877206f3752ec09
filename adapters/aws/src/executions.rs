//! `Executions`: starts and describes executions of the export state machine: exports, and
//! verifications (whose input's `job` is `verify`, which the state machine's first Choice reads).

use aws_sdk_sfn::error::SdkError;
use aws_sdk_sfn::operation::describe_execution::{
    DescribeExecutionError as DescribeError, DescribeExecutionOutput as DescribeOutput,
};
use aws_sdk_sfn::types::ExecutionStatus as SfnStatus;
use shared::app::launcher::{ExportLauncher, ExportRequest, Launch, RunState};
use shared::app::verify::job::VerifyRequest;
use shared::JobError;

/// A failed Step Functions call as a job error: `Transient` when trying again may work.
fn failed<E>(doing: &str, name: &str, err: &SdkError<E>) -> JobError
where
    E: std::error::Error + aws_sdk_sfn::error::ProvideErrorMetadata + 'static,
{
    JobError::new(
        super::kind(err),
        format!("{doing}: {}", super::summary(name, err)),
    )
}

#[derive(Debug, Clone)]
pub struct Executions {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

/// What starting an execution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        execution_arn: String,
    },
    /// An execution of that name exists already (a duplicated event): nothing new was started.
    AlreadyStarted,
}

impl Executions {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: &str) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.to_string(),
        }
    }

    /// Starts an execution named `name` (unique per state machine; a name is the export id).
    pub async fn start(
        &self,
        name: &str,
        input: &serde_json::Value,
    ) -> Result<StartOutcome, JobError> {
        let started = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input.to_string())
            .send()
            .await;
        match started {
            Ok(out) => Ok(StartOutcome::Started {
                execution_arn: out.execution_arn().to_string(),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists()) =>
            {
                Ok(StartOutcome::AlreadyStarted)
            }
            Err(e) => Err(failed("the export could not be started", name, &e)),
        }
    }

    /// Whether an execution named `name` was ever started (Step Functions keeps names for 90 days).
    pub async fn exists(&self, name: &str) -> Result<bool, JobError> {
        match self.describe(name).await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                Ok(false)
            }
            Err(e) => Err(failed("executions could not be read", name, &e)),
        }
    }

    async fn describe(&self, name: &str) -> Result<DescribeOutput, SdkError<DescribeError>> {
        let arn = format!(
            "{}:{name}",
            self.state_machine_arn
                .replacen(":stateMachine:", ":execution:", 1)
        );
        self.client
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
    }
}

/// Exports start as executions of the export state machine, named after the export (whose id
/// starts with the destination's, as execution names are unique per state machine): a name that
/// was ever started (Step Functions keeps names for 90 days) is not started again.
#[async_trait::async_trait]
impl ExportLauncher for Executions {
    async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError> {
        if self.exists(name).await? {
            return Ok(Launch::AlreadyStarted);
        }
        let input = serde_json::to_value(request)
            .map_err(|e| JobError::internal(format!("the export's input: {e}")))?;
        Ok(match Executions::start(self, name, &input).await? {
            StartOutcome::Started { .. } => Launch::Started,
            StartOutcome::AlreadyStarted => Launch::AlreadyStarted,
        })
    }

    /// A verification is an execution of the same state machine, named after the verification,
    /// its input the request with `"job": "verify"`.
    async fn start_verification(
        &self,
        name: &str,
        request: &VerifyRequest,
    ) -> Result<Launch, JobError> {
        if self.exists(name).await? {
            return Ok(Launch::AlreadyStarted);
        }
        let mut input = serde_json::to_value(request)
            .map_err(|e| JobError::internal(format!("the verification's input: {e}")))?;
        if let Some(fields) = input.as_object_mut() {
            fields.insert("job".into(), "verify".into());
        }
        Ok(match Executions::start(self, name, &input).await? {
            StartOutcome::Started { .. } => Launch::Started,
            StartOutcome::AlreadyStarted => Launch::AlreadyStarted,
        })
    }

    async fn state(&self, name: &str) -> Result<RunState, JobError> {
        match self.describe(name).await {
            Ok(out) => Ok(match out.status() {
                SfnStatus::Running => RunState::Running,
                SfnStatus::Succeeded => RunState::Succeeded,
                SfnStatus::Failed
                | SfnStatus::Aborted
                | SfnStatus::TimedOut
                | SfnStatus::PendingRedrive => RunState::Failed,
                _ => RunState::Running,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist()) =>
            {
                Ok(RunState::Unknown)
            }
            Err(e) => Err(failed("the export's status could not be read", name, &e)),
        }
    }

    fn new_export_id(&self, destination: &str) -> String {
        format!("{destination}-{}", shared::jobs::plan::new_export_id())
    }
}
