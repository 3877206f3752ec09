//! `autopilot-export console`: the web console on the command's data folder, with the same
//! dependencies (`LocalStore`, `FileSecrets`, local snapshots) every other command uses.

use super::Context;
use crate::failure::{BoxError, Outcome};
use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The port to serve on (0 for any free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The folder of segment snapshots: every *.csv, *.csv.gz and *.tsv is a segment named after
    /// its file.
    #[arg(long, default_value = ".")]
    pub snapshots: PathBuf,
    /// The Autopilot API URL the set-up page starts with (a sandbox's for trials).
    #[arg(long, default_value = shared::autopilot::DEFAULT_BASE_URL)]
    pub autopilot_url: String,
    /// The address to listen on; anything but 127.0.0.1 is reachable from other machines.
    #[arg(long, default_value = "127.0.0.1")]
    pub listen: IpAddr,
}

pub async fn run(ctx: &Context, args: ConsoleArgs) -> Result<Outcome, BoxError> {
    web_console::serve(web_console::Options {
        deps: ctx.deps.clone(),
        data_dir: ctx.data_dir.clone(),
        snapshots: args.snapshots,
        autopilot_url: args.autopilot_url,
        listen: args.listen,
        port: args.port,
        current_user: current_user(),
    })
    .await?;
    Ok(Outcome::Done)
}

/// The console on the demo's folder (`work/data`, `work/snapshots`) until Ctrl-C, on 127.0.0.1.
pub async fn serve(
    deps: shared::Deps,
    work: &std::path::Path,
    autopilot_url: String,
    port: u16,
) -> Result<(), BoxError> {
    web_console::serve(web_console::Options {
        deps,
        data_dir: work.join("data"),
        snapshots: work.join("snapshots"),
        autopilot_url,
        listen: IpAddr::from([127, 0, 0, 1]),
        port,
        current_user: current_user(),
    })
    .await
}

/// Who "Add yourself as export user" fills in: the login name.
fn current_user() -> Option<String> {
    ["USER", "LOGNAME"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|u| !u.trim().is_empty()))
}
