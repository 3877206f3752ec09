//! `autopilot-export console`: the web console on the command's data folder, with the same
//! dependencies (`LocalStore`, `FileSecrets`, local snapshots) every other command uses; built
//! with the `aws` feature, `--stack NAME` (or the stack's resources by flag) serves it on a
//! deployed stack instead, through the adapters its Lambda functions use.

use super::Context;
use crate::failure::{BoxError, Outcome};
use clap::Args;
use shared::audience_api::ApiKind;
use std::net::IpAddr;
use std::path::PathBuf;

/// The example every build's `console --help` starts its closing text with.
macro_rules! console_example {
    () => {
        "Example:\n  autopilot-export console --snapshots ./segments\n\n"
    };
}

#[cfg(feature = "aws")]
const AWS_MODE: &str = concat!(console_example!(), "On a deployed stack: --stack NAME, with your own AWS credentials (they need \
cloudformation:DescribeStacks besides the stack's S3, Secrets Manager and Step Functions). The \
stack's resources come from its outputs and parameters, and the pages show its next scheduled \
runs; --bucket, --state-machine-arn, --snapshot-bucket, --snapshot-prefix, --allowed-hosts and \
--secret-prefix override them (without --stack, the first four with --secret-prefix name the stack).");
#[cfg(not(feature = "aws"))]
const AWS_MODE: &str = concat!(console_example!(), "This build has no AWS mode: the console on a \
deployed stack (--stack NAME; --bucket, --state-machine-arn, --snapshot-bucket, --snapshot-prefix, \
--allowed-hosts, --secret-prefix) needs a build with `cargo install --path functions/cli --features aws`.");

#[derive(Debug, Args)]
#[command(after_help = AWS_MODE)]
pub struct ConsoleArgs {
    /// The port to serve on (0 for any free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The folder of segment snapshots: every *.csv, *.csv.gz and *.tsv is a segment named after
    /// its file.
    #[arg(long, default_value = ".")]
    pub snapshots: PathBuf,
    /// The API URL the set-up page starts with (a sandbox's for trials; Autopilot's API unless
    /// given); `--autopilot-url` is the same flag.
    #[arg(long, visible_alias = "autopilot-url")]
    pub api_url: Option<String>,
    /// The address to listen on; anything but 127.0.0.1 is reachable from other machines, and
    /// needs --tls-cert and --tls-key (or --insecure-readable-traffic).
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: IpAddr,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Listen off the loopback over plain HTTP, where anyone on the network path can read the
    /// access token, the API keys typed in and the refused rows.
    #[arg(long, conflicts_with = "tls_cert")]
    pub insecure_readable_traffic: bool,
    #[cfg(feature = "aws")]
    #[command(flatten)]
    pub stack: StackArgs,
}

/// A deployed stack: its name, or its resources one by one; a resource given by flag wins over
/// the stack's own.
#[cfg(feature = "aws")]
#[derive(Debug, Args)]
pub struct StackArgs {
    /// The stack's name: its resources and schedule are read from its outputs and parameters
    /// (CloudFormation DescribeStacks).
    #[arg(long)]
    pub stack: Option<String>,
    /// The stack's data bucket (output DataBucketName).
    #[arg(long)]
    pub bucket: Option<String>,
    /// The stack's export state machine (output StateMachineArn).
    #[arg(long)]
    pub state_machine_arn: Option<String>,
    /// The bucket segments are read from (parameter SnapshotBucket).
    #[arg(long)]
    pub snapshot_bucket: Option<String>,
    /// The part of that bucket segments are read from (parameter SnapshotPrefix).
    #[arg(long)]
    pub snapshot_prefix: Option<String>,
    /// Hosts besides Autopilot's destinations may use (parameter AllowedAutopilotHosts).
    #[arg(long, num_args = 0.., value_delimiter = ',')]
    pub allowed_hosts: Option<Vec<String>>,
    /// The prefix of the stack's secrets: the stack's name and a slash (`STACK/`).
    #[arg(long)]
    pub secret_prefix: Option<String>,
}

pub async fn run(ctx: &Context, args: ConsoleArgs) -> Result<Outcome, BoxError> {
    let options = web_console::Options {
        deps: ctx.deps.clone(),
        data_dir: ctx.data_dir.clone(),
        snapshots: web_console::Segments::Folder(args.snapshots),
        deployed: None,
        boundary: shared::destination::Boundary::anywhere(),
        api_url: args
            .api_url
            .unwrap_or_else(|| ApiKind::default().default_url().to_string()),
        listen: args.listen,
        port: args.port,
        tls: args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| web_console::listen::TlsFiles { cert, key }),
        readable_traffic: args.insecure_readable_traffic,
        current_user: current_user(),
        schedule: None,
    };
    #[cfg(feature = "aws")]
    let options = match web_console::aws::resolve(flags(args.stack)).await? {
        Some((stack, schedule)) => web_console::Options {
            schedule,
            ..on_stack(options, &stack).await?
        },
        None => options,
    };
    web_console::serve(options).await?;
    Ok(Outcome::Done)
}

/// The console's options on `stack`: its adapters, snapshot objects and state machine.
#[cfg(feature = "aws")]
async fn on_stack(
    options: web_console::Options,
    stack: &web_console::aws::Stack,
) -> Result<web_console::Options, BoxError> {
    let connected = web_console::aws::connect(stack).await?;
    Ok(web_console::Options {
        deps: connected.deps,
        snapshots: web_console::Segments::S3(connected.segments),
        deployed: Some(connected.launcher),
        boundary: connected.boundary,
        ..options
    })
}

#[cfg(feature = "aws")]
fn flags(args: StackArgs) -> web_console::aws::Flags {
    web_console::aws::Flags {
        stack: args.stack,
        data_bucket: args.bucket,
        state_machine_arn: args.state_machine_arn,
        snapshot_bucket: args.snapshot_bucket,
        snapshot_prefix: args.snapshot_prefix,
        allowed_hosts: args.allowed_hosts,
        secret_prefix: args.secret_prefix,
        force_path_style: std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true"),
    }
}

/// The console on the demo's folder (`work/data`, `work/snapshots`) until Ctrl-C, on 127.0.0.1.
pub async fn serve(
    deps: shared::Deps,
    work: &std::path::Path,
    api_url: String,
    port: u16,
) -> Result<(), BoxError> {
    web_console::serve(web_console::Options {
        deps,
        data_dir: work.join("data"),
        snapshots: web_console::Segments::Folder(work.join("snapshots")),
        deployed: None,
        boundary: shared::destination::Boundary::anywhere(),
        api_url,
        listen: IpAddr::from([127, 0, 0, 1]),
        port,
        tls: None,
        readable_traffic: false,
        current_user: current_user(),
        schedule: None,
    })
    .await
}

/// Who "Add yourself as export user" fills in: the login name.
fn current_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|u| !u.trim().is_empty()))
}
