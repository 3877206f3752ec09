//! The console on a deployed stack: the adapters the Lambda functions use (`S3Store` on the data
//! bucket, `SecretsManagerSecrets`, `S3Snapshots` within the deployment's boundary, `Executions`
//! on its state machine), with the caller's own AWS credentials, and the segments listed from the
//! snapshot objects under the stack's snapshot bucket and prefix. With `--stack NAME` its
//! resources come from the stack's outputs and parameters ([`resolve`]).

mod resolve;
pub use resolve::{resolve, Flags};

use aws_adapters::{sdk_config, Executions, Settings};
use shared::app::launcher::ExportLauncher;
use shared::destination::Boundary;
use shared::Deps;
use std::sync::Arc;

/// A deployed stack's resources, as its outputs and parameters name them.
#[derive(Debug, Clone)]
pub struct Stack {
    /// `DataBucketName`: destinations, exports and baselines.
    pub data_bucket: String,
    /// `StateMachineArn`: the export state machine.
    pub state_machine_arn: String,
    /// `SnapshotBucket` and `SnapshotPrefix`: where segments are read from.
    pub snapshot_bucket: String,
    pub snapshot_prefix: String,
    /// `AllowedAutopilotHosts`: hosts besides Autopilot's API host destinations may use.
    pub allowed_hosts: Vec<String>,
    /// `SecretPrefix`: secrets are named `{prefix}{destination_id}`.
    pub secret_prefix: String,
    /// Path-style S3 addressing, for emulators.
    pub force_path_style: bool,
}

/// What the console needs of a stack.
pub struct Connected {
    pub deps: Deps,
    pub segments: SnapshotPlace,
    pub launcher: Arc<dyn ExportLauncher>,
    /// Where the stack's destinations may send data and read segments from, as its API enforces.
    pub boundary: Boundary,
}

/// Connects to `stack` with the default AWS credential chain (nothing is called yet).
pub async fn connect(stack: &Stack) -> Result<Connected, String> {
    let settings = Settings {
        force_path_style: stack.force_path_style,
        secret_prefix: stack.secret_prefix.clone(),
        allowed_autopilot_hosts: stack.allowed_hosts.clone(),
        snapshot_bucket: Some(stack.snapshot_bucket.clone()),
        snapshot_prefix: stack.snapshot_prefix.clone(),
        state_machine_arn: Some(stack.state_machine_arn.clone()),
        ..Settings::new(&stack.data_bucket)
    };
    let boundary = settings.boundary()?;
    let sdk = sdk_config().await;
    let deps = aws_adapters::deps(&sdk, &settings)?;
    let launcher = Executions::new(aws_sdk_sfn::Client::new(&sdk), &stack.state_machine_arn);
    Ok(Connected {
        deps,
        segments: SnapshotPlace {
            bucket: stack.snapshot_bucket.clone(),
            prefix: stack.snapshot_prefix.clone(),
        },
        launcher: Arc::new(launcher),
        boundary,
    })
}

/// The snapshot objects of a stack: under a prefix of its snapshot bucket (read through the
/// deployment's `S3Snapshots`, within its boundary).
#[derive(Clone)]
pub struct SnapshotPlace {
    bucket: String,
    prefix: String,
}

impl SnapshotPlace {
    /// `s3://bucket/prefix`, as the matching page names it.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

// On moto: only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#[cfg(all(test, feature = "moto-tests"))]
mod stack_tests;
#[cfg(all(test, feature = "moto-tests"))]
mod tests;
