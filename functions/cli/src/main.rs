//! `autopilot-export`: the export jobs in one process, with a local folder for storage and a
//! local file for the key; plus the Autopilot sandbox and the demo.

mod args;
mod console_cmd;
mod demo;
mod export_cmd;
mod failure;
mod output;

use args::{Cli, Command, ConfigureArgs, SandboxArgs};
use clap::Parser;
use failure::{BoxError, InvalidInput, Outcome};
use secrecy::SecretString;
use shared::destination::{self, DataMatching, Segment};
use shared::jobs::{configure, connect, lock, progress, remove, ClientSettings, Clients};
use shared::store::{get_json, LocalStore};
use shared::{csv_snapshot::LocalFiles, secrets::FileSecrets, Deps};
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

type CliResult = Result<(), BoxError>;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return failure::usage(e),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AUTOPILOT_EXPORT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let json = cli.json;
    match run(cli).await {
        Ok(outcome) => outcome.into(),
        Err(e) => failure::fail(e.as_ref(), json),
    }
}

/// The jobs' dependencies for a data folder.
pub fn local_deps(data_dir: &Path) -> Deps {
    warn_if_open_to_others(data_dir);
    Deps {
        store: Arc::new(LocalStore::new(data_dir)),
        secrets: Arc::new(FileSecrets::new(data_dir.join("secrets"))),
        snapshots: Arc::new(LocalFiles),
        clients: Arc::new(Clients::new(ClientSettings::default())),
    }
}

/// One line on stderr when other users can open the data folder: it holds every exported email
/// (the baseline, chunks, rejected.csv). Nothing is said about a folder that does not exist yet.
fn warn_if_open_to_others(data_dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(data_dir) else {
            return;
        };
        if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
            let shown = data_dir.display().to_string();
            eprintln!(
                "warning: the data folder {shown} is readable by other users: it holds every exported email; run `chmod -R go= {}`",
                shell_word(&shown)
            );
        }
    }
}

/// `text` as one word for a POSIX shell: as it is when that is safe, else in single quotes.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs a command; only `export` can end in anything but [`Outcome::Done`].
async fn run(cli: Cli) -> Result<Outcome, BoxError> {
    let deps = local_deps(&cli.data_dir);
    let done = |result: CliResult| result.map(|()| Outcome::Done);
    match cli.command {
        Command::Export(args) => export_cmd::run(&deps, &cli.data_dir, args, cli.json).await,
        Command::Demo { profiles, rate } => {
            done(demo::run(&cli.data_dir, profiles, rate, cli.json).await)
        }
        Command::Sandbox(args) => done(serve_sandbox(args).await),
        Command::Console(args) => done(console_cmd::run(&deps, &cli.data_dir, args).await),
        Command::Connect {
            name,
            agree,
            api_key_env,
            api_key_stdin,
            autopilot_url,
            export_user,
            requests_per_second,
        } => {
            if !agree {
                return Err(InvalidInput("consent is required: exported profiles leave your platform's compliance boundary. Read the data-privacy notice and pass --agree to connect".into()).into());
            }
            let api_key = read_key(&api_key_env, api_key_stdin)?;
            let input = connect::Input {
                display_name: name,
                api_key,
                consent: agree,
                export_user: export_user.or_else(|| std::env::var("USER").ok()),
                autopilot_url,
                requests_per_second,
            };
            let out = connect::run(input, &deps).await?;
            output::connected(&out, cli.json);
            Ok(Outcome::Done)
        }
        Command::Configure(args) => {
            let out = configure::run(configure_input(args), &deps).await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "Configured {} with {} segment(s). Export with: autopilot-export export {}",
                    out.destination_id, out.segments, out.destination_id
                );
            }
            Ok(Outcome::Done)
        }
        Command::Status { dest, export_id } => {
            done(status(&deps, &cli.data_dir, &dest, export_id, cli.json).await)
        }
        Command::Destinations => {
            let mut found = Vec::new();
            for key in deps.store.list("destinations/").await? {
                if let Some(d) =
                    get_json::<destination::Destination>(deps.store.as_ref(), &key).await?
                {
                    found.push(d);
                }
            }
            done(output::destinations(&found, cli.json))
        }
        Command::Remove { dest } => {
            let out = remove::run(
                remove::Input {
                    destination_id: dest,
                },
                &deps,
            )
            .await?;
            if cli.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "Removed {}: its API key is deleted and no further export runs.",
                    out.destination_id
                );
            }
            Ok(Outcome::Done)
        }
    }
}

/// The API key from the environment variable `env` or stdin, trimmed. Refused (and never
/// printed) when empty or holding a line break or another control character, which no API key
/// has and which would otherwise reach Autopilot as a request that cannot be sent.
fn read_key(env: &str, stdin: bool) -> Result<SecretString, BoxError> {
    let key = if stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::env::var(env).map_err(|_| {
            InvalidInput(format!("no API key: set the environment variable {env} to your Autopilot API key (Settings → Autopilot API), or pass --api-key-stdin"))
        })?
    };
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(InvalidInput("the API key is empty".into()).into());
    }
    if key.chars().any(char::is_control) {
        return Err(InvalidInput(connect::KEY_WITH_CONTROL_CHARACTERS.into()).into());
    }
    Ok(SecretString::from(key))
}

fn configure_input(args: ConfigureArgs) -> configure::Input {
    configure::Input {
        destination_id: args.dest,
        data_matching: DataMatching {
            email: args.email_field,
            first_name: args.first_name_field,
            last_name: args.last_name_field,
            fields: args.fields.into_iter().collect(),
            custom: args.custom.into_iter().collect(),
        },
        segments: args
            .segments
            .into_iter()
            .map(|(name, source)| Segment { name, source })
            .collect(),
        profile_limit: args.profile_limit,
        requests_per_second: None,
        schedule: None,
        max_removal_percent: args.max_removal_percent,
        max_shrink_percent: args.max_shrink_percent,
    }
}

async fn status(
    deps: &Deps,
    data_dir: &Path,
    dest: &str,
    export_id: Option<String>,
    json: bool,
) -> CliResult {
    let store = deps.store.as_ref();
    let destination = destination::load(store, dest).await?;
    if let Some(running) = lock::holder(deps, &destination.id).await? {
        if export_id.is_none() || export_id.as_deref() == Some(running.export_id.as_str()) {
            let progress = progress::of(store, &destination.id, &running.export_id).await?;
            let active = export_cmd::lock_file(data_dir, &destination.id)
                .map(|(file, _)| file.try_lock().is_err())
                .unwrap_or(false);
            return output::unfinished(&destination.id, &running, &progress, active, json);
        }
    }
    let export_id = match export_id {
        Some(id) => id,
        None => {
            let reports: Vec<String> = store
                .list(&format!("exports/{}/", destination.id))
                .await?
                .into_iter()
                .filter(|k| k.ends_with("/report.json"))
                .collect();
            let Some(latest) = reports.last() else {
                println!("{} has not been exported yet.", destination.id);
                return Ok(());
            };
            latest.rsplit('/').nth(1).unwrap_or_default().to_string()
        }
    };
    let report = get_json(
        store,
        &destination::keys::report(&destination.id, &export_id),
    )
    .await?
    .ok_or_else(|| format!("{} has no export {export_id}", destination.id))?;
    output::report(&report, data_dir, json)
}

async fn serve_sandbox(args: SandboxArgs) -> CliResult {
    let config = sandbox::SandboxConfig {
        api_keys: vec![args.api_key],
        rate: (args.rate > 0.0).then_some(args.rate),
        burst: args.burst,
        retry_after_header: !args.no_retry_after,
        faults: sandbox::Faults {
            error_rate: args.error_rate,
            drop_rate: args.drop_rate,
            slow_rate: args.slow_rate,
            slow_ms: args.slow_ms,
            throttle_burst_rate: args.throttle_burst_rate,
            throttle_burst_ms: args.throttle_burst_ms,
            outage_after_ms: args.outage_after_ms,
            outage_ms: args.outage_ms,
            seed: args.seed,
        },
    };
    let server = sandbox::Sandbox::start(config, args.port)
        .await
        .map_err(|e| format!("the sandbox cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    eprintln!(
        "Autopilot sandbox at {} (rate {}). Admin: http://{}/admin/state, /admin/counters. Ctrl-C stops it.",
        server.base_url(),
        if args.rate > 0.0 { format!("{}/s", args.rate) } else { "unlimited".into() },
        server.addr()
    );
    tokio::signal::ctrl_c().await?;
    server.stop().await;
    Ok(())
}
