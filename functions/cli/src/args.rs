//! The command line: every command, its flags and their help text.

use crate::help;
use clap::{Args, Parser, Subcommand};
use shared::destination::Guardrails;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "autopilot-export",
    version = help::VERSION,
    about = "Export customer segments to Autopilot lists or Ortto tags",
    after_help = help::ROOT
)]
pub struct Cli {
    /// Where destinations, exports, reports and keys are kept.
    #[arg(
        long,
        global = true,
        default_value = ".autopilot-export",
        env = "AUTOPILOT_EXPORT_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sandbox + sample segments + connect + configure + export + read-back check, in one go.
    #[command(after_help = help::DEMO)]
    Demo(DemoArgs),
    /// Serve the sandbox (Autopilot-compatible, or Ortto-compatible with --api ortto) until
    /// interrupted.
    #[command(after_help = help::SANDBOX)]
    Sandbox(SandboxArgs),
    /// Connect an Autopilot account: validate its API key and store it.
    #[command(after_help = help::CONNECT)]
    Connect(ConnectArgs),
    /// Data matching and segments of a destination.
    #[command(after_help = help::CONFIGURE)]
    Configure(ConfigureArgs),
    /// Export the destination's segments now (resumes an interrupted export).
    #[command(after_help = help::EXPORT)]
    Export(ExportArgs),
    /// The report of the latest (or the given) export.
    #[command(after_help = help::STATUS)]
    Status(StatusArgs),
    /// The connected destinations.
    #[command(after_help = help::DESTINATIONS)]
    Destinations,
    /// Serve the web console on 127.0.0.1 (its URL, with an access token, is the first line printed).
    Console(crate::commands::console::ConsoleArgs),
    /// Remove a destination and delete its key.
    #[command(after_help = help::REMOVE)]
    Remove(RemoveArgs),
    /// Read the lists back from Autopilot and compare them with what the last export put there.
    #[command(after_help = help::VERIFY)]
    Verify(VerifyArgs),
    /// Past exports of a destination, newest first.
    #[command(after_help = help::HISTORY)]
    History(HistoryArgs),
    /// Print a shell's completion script for this command (bash, zsh, fish, elvish, powershell).
    #[command(after_help = help::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write one page per command into a folder.
    #[command(after_help = help::MAN)]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The API the demo's sandbox speaks: `autopilot` or `ortto`.
    #[arg(long, default_value = "autopilot", value_parser = api_kind)]
    pub api: shared::audience_api::ApiKind,
    /// Distinct profiles in the sample segments.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub profiles: u64,
    /// The sandbox's rate limit (requests/second, from 0.1 to 10,000); the export runs at it.
    #[arg(long, default_value_t = 50.0, value_parser = rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// Then serve the web console on the demo's data, with its sandbox still running for Export
    /// now, until Ctrl-C.
    #[arg(long)]
    pub console: bool,
    /// How the sample segments are written: CSV, or Parquet as a warehouse or Spark writes it.
    #[arg(long, value_enum, default_value_t = crate::commands::demo::Format::Csv)]
    pub format: crate::commands::demo::Format,
    /// Write each segment as a folder of this many parts (with `_SUCCESS` beside them), as an
    /// unload does; 1 writes one file.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub parts: u64,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The destination's display name; its id is derived from it.
    #[arg(long)]
    pub name: String,
    /// Agree to the data-privacy notice: exported profiles leave your platform.
    #[arg(long)]
    pub agree: bool,
    /// Environment variable holding the API key.
    #[arg(
        long,
        default_value = "AUTOPILOT_API_KEY",
        conflicts_with = "api_key_stdin"
    )]
    pub api_key_env: String,
    /// Read the API key from standard input instead.
    #[arg(long)]
    pub api_key_stdin: bool,
    /// The API the account speaks: `autopilot` (legacy Autopilot Journeys) or `ortto`.
    #[arg(long, default_value = "autopilot", value_parser = api_kind)]
    pub api: shared::audience_api::ApiKind,
    /// Ortto's region the account is in: `global` (the default), `au` or `eu`.
    #[arg(long)]
    pub region: Option<String>,
    /// The API's base URL when not its public one (a sandbox's `http://127.0.0.1:PORT/v1` for
    /// Autopilot, `http://127.0.0.1:PORT` for Ortto); `--autopilot-url` is the same flag.
    #[arg(long, visible_alias = "autopilot-url")]
    pub api_url: Option<String>,
    /// Ortto: only update people Ortto already has, never create one (Ortto subscribes the
    /// people it creates to email by default).
    #[arg(long)]
    pub update_only: bool,
    /// Who exports run as.
    #[arg(long)]
    pub export_user: Option<String>,
    #[arg(long, value_parser = rate, allow_negative_numbers = true, help = format!(
        "Requests per second the account allows (default {}; from 0.1 to 10,000)",
        shared::http_api::DEFAULT_REQUESTS_PER_SECOND
    ))]
    pub requests_per_second: Option<f64>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The destination's id.
    pub dest: String,
    /// An export id from an earlier report; the latest export when left out.
    pub export_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The destination's id.
    pub dest: String,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `autopilot-export.1` and one `autopilot-export-COMMAND.1` per command into this
    /// folder instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The destination's id.
    pub dest: String,
    /// Put missing members back on their lists (list membership only: no contact is written, no
    /// subscription changed).
    #[arg(long)]
    pub repair: bool,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The destination's id.
    pub dest: String,
    /// Most exports shown, newest first.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The destination's id (see `autopilot-export destinations`).
    pub dest: String,
    /// Overrides the destination's requests/second for this export (from 0.1 to 10,000).
    #[arg(long, value_parser = rate, allow_negative_numbers = true)]
    pub requests_per_second: Option<f64>,
    /// Requests to Autopilot in flight at once; their starts are spaced at the rate whatever this
    /// is. Raise it when answers are slow and the rate is high (it needs rate × answer time).
    #[arg(long, default_value_t = shared::app::local_export::DEFAULT_CONCURRENCY as u32, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// How long to wait out an Autopilot that does not answer properly before the export stops
    /// (it can be resumed by running it again).
    #[arg(long, default_value_t = shared::http_api::DEFAULT_RETRY_BUDGET.as_secs() / 60, value_parser = clap::value_parser!(u64).range(1..=24 * 60))]
    pub max_outage_minutes: u64,
    /// Past exports of this destination (reports, refused rows) older than this many days are
    /// deleted when the export starts.
    #[arg(long, default_value_t = shared::retention::DEFAULT_KEEP_DAYS, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub keep_exports_days: u32,
    /// Contacts per chunk.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub chunk_size: Option<u64>,
    /// Show what the export would send and remove, without writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Send every contact, not only what changed since the last export.
    #[arg(long)]
    pub full: bool,
    /// Export even when a guardrail trips (a large share of a list removed, a segment shrunk by half).
    #[arg(long)]
    pub override_guardrails: bool,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// The destination's id (printed by `connect`).
    pub dest: String,
    /// Column holding the email address (needed unless only the notification URL or the light
    /// verify changes).
    #[arg(long, required_unless_present_any = ["notify_url", "no_notify", "rotate_notify_secret", "verify_pages"])]
    pub email_field: Option<String>,
    #[arg(long)]
    pub first_name_field: Option<String>,
    #[arg(long)]
    pub last_name_field: Option<String>,
    /// A standard Autopilot field from a column: `Company=company_name`.
    #[arg(long = "field", value_parser = pair)]
    pub fields: Vec<(String, String)>,
    /// A typed custom field from a column: `string--Loyalty--Tier=tier`.
    #[arg(long = "custom", value_parser = pair)]
    pub custom: Vec<(String, String)>,
    /// A segment and its snapshot: `VIP Customers=/data/vip.csv` (or an s3:// URL). The snapshot
    /// can be a file, a folder of parts (`s3://bucket/unload/vip/`), a glob
    /// (`/data/vip/part-*.parquet`) or a data-lake model's entity (`/lake/model.json#VipCustomers`).
    #[arg(long = "segment", value_parser = pair, required_unless_present_any = ["notify_url", "no_notify", "rotate_notify_secret", "verify_pages"])]
    pub segments: Vec<(String, String)>,
    /// The names of the columns of headerless CSV files (a warehouse unload without a header
    /// row), in order: `--columns email,first_name,age`. For every segment but data-lake models,
    /// which name their own.
    #[arg(long, value_delimiter = ',', value_name = "A,B,C")]
    pub columns: Option<Vec<String>>,
    /// The CSV files are unquoted text whose values a backslash escapes (`Acme\, Inc.`, `\N` for
    /// NULL): PostgreSQL's COPY in text format, MySQL's INTO OUTFILE, Snowflake's unload without
    /// FIELD_OPTIONALLY_ENCLOSED_BY, Redshift's UNLOAD … ESCAPE. For every segment but data-lake
    /// models.
    #[arg(long)]
    pub backslash_escapes: bool,
    #[arg(long, help = format!(
        "Most distinct profiles an export may hold (default {})",
        shared::text::thousands(shared::destination::DEFAULT_PROFILE_LIMIT)
    ))]
    pub profile_limit: Option<u64>,
    #[arg(long, value_name = "PERCENT", help = format!(
        "Stop an export that would take more than this percent of the members this connector added off a list (default {}; 100 turns it off)",
        Guardrails::default().max_removal_percent
    ))]
    pub max_removal_percent: Option<f64>,
    #[arg(long, value_name = "PERCENT", help = format!(
        "Stop an export of a segment that shrank by more than this percent since the last export (default {}; 100 turns it off)",
        Guardrails::default().max_shrink_percent
    ))]
    pub max_shrink_percent: Option<f64>,
    /// Post every finished export of the destination to this http(s) URL (a chat webhook, say):
    /// the "Export Finished" event as JSON with a one-line `text`, signed with a new secret shown
    /// once (header Autopilot-Export-Signature). Alone, changes only this.
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
    /// Stop posting finished exports (the signing secret is deleted).
    #[arg(long, conflicts_with = "notify_url")]
    pub no_notify: bool,
    /// Replace the secret that signs the posts to the notification URL; the new one is shown
    /// once. Alone, changes only this.
    #[arg(long, conflicts_with_all = ["notify_url", "no_notify"])]
    pub rotate_notify_secret: bool,
    #[arg(long, value_name = "N", help = format!(
        "Pages of each list (100 members a page) read back after every export, the light verify in the report (default {}, at most {}; 0 turns it off). Alone, changes only this",
        shared::destination::DEFAULT_VERIFY_PAGES,
        shared::destination::MAX_VERIFY_PAGES
    ))]
    pub verify_pages: Option<u32>,
}

/// The API a sandbox imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SandboxApi {
    Autopilot,
    Ortto,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The API to imitate: Autopilot's (calls under /v1), or Ortto's (calls under /v1, and under
    /// /global/v1, /au/v1 and /eu/v1 to try a key against another region).
    #[arg(long, value_enum, default_value_t = SandboxApi::Autopilot)]
    pub api: SandboxApi,
    /// With --api ortto: the region the sandbox's key belongs to (global, au or eu).
    #[arg(long, value_parser = sandbox_region)]
    pub region: Option<sandbox::Region>,
    /// Requests per second per key (at least 0.1); 0 for no limit.
    #[arg(long, default_value_t = 10.0, value_parser = sandbox_rate, allow_negative_numbers = true)]
    pub rate: f64,
    /// Requests a key may bank (default: one second's worth).
    #[arg(long)]
    pub burst: Option<f64>,
    /// The API key the sandbox accepts.
    #[arg(long, default_value = "sandbox-key")]
    pub api_key: String,
    /// Environment variable holding the token its /admin routes require (16 to 256 letters,
    /// digits or - . _ ~ + / =); without this flag a random token is made and printed at start.
    #[arg(long, value_name = "VAR")]
    pub admin_token_env: Option<String>,
    /// Answer 429 without a Retry-After header (the body still says try-in-seconds); Ortto's 429
    /// has none unless --retry-after.
    #[arg(long, conflicts_with = "retry_after")]
    pub no_retry_after: bool,
    /// With --api ortto: answer 429 with a Retry-After header as well.
    #[arg(long)]
    pub retry_after: bool,
    /// Probability of answering 500.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Probability of dropping the connection without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Probability of answering only after --slow-ms.
    #[arg(long, default_value_t = 0.0)]
    pub slow_rate: f64,
    #[arg(long, default_value_t = 35_000)]
    pub slow_ms: u64,
    /// Probability that a request starts a burst of 429s lasting --throttle-burst-ms.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_burst_rate: f64,
    #[arg(long, default_value_t = 2_000)]
    pub throttle_burst_ms: u64,
    /// Start an outage (503 to everything) this long after start…
    #[arg(long)]
    pub outage_after_ms: Option<u64>,
    /// …lasting this long.
    #[arg(long, default_value_t = 30_000)]
    pub outage_ms: u64,
    /// Seed for the fault draws.
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `NAME=VALUE`, both non-empty, split at the first `=`.
fn pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() && !value.trim().is_empty() => {
            Ok((name.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!(
            "'{text}' must be written NAME=VALUE, for example 'VIP Customers=vip.csv'"
        )),
    }
}

/// A request rate for Autopilot: a finite number of requests per second from 0.1 to 10,000.
fn rate(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| {
        format!("'{text}' is not a number: requests per second must be a number from 0.1 to 10,000")
    })?;
    shared::jobs::connect::check_rate(value)
}

/// An Ortto region by name.
fn sandbox_region(text: &str) -> Result<sandbox::Region, String> {
    sandbox::Region::named(text.trim())
        .ok_or_else(|| format!("'{text}' is not an Ortto region: give global, au or eu"))
}

/// The sandbox's rate limit: 0 for none, else a finite number of at least 0.1 per second.
fn sandbox_rate(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value == 0.0 || (value.is_finite() && value >= 0.1) => Ok(value),
        _ => Err(format!(
            "'{text}' is not a rate: give requests per second of at least 0.1, or 0 for no limit"
        )),
    }
}

/// An API kind by its name (`autopilot`, `ortto`).
fn api_kind(name: &str) -> Result<shared::audience_api::ApiKind, String> {
    shared::audience_api::ApiKind::from_name(name).ok_or_else(|| {
        format!("'{name}' is not an API this connector speaks: use autopilot or ortto")
    })
}
