//! `autopilot-export`: the export jobs in one process, with a local folder for storage and a
//! local file for the key; plus the Autopilot sandbox and the demo. This file parses the command
//! line and hands it to the command's module in [`commands`].

mod args;
mod commands;
mod data_folder;
mod failure;
mod help;
mod output;
mod progress;
mod report_lines;
mod runner;
mod table;

use args::{Cli, Command};
use clap::Parser;
use commands::Context;
use failure::{BoxError, Outcome};
use std::io::IsTerminal;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    shared::memory::tune();
    end_quietly_when_the_reader_goes();
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

/// Like other command-line tools, ends when whoever reads standard output stops reading (`| head`)
/// instead of panicking on the next line printed. Rust ignores SIGPIPE by default; an export cut
/// short this way resumes on its next run, as after Ctrl-C.
fn end_quietly_when_the_reader_goes() {
    #[cfg(unix)]
    // SAFETY: sets the process-wide disposition of SIGPIPE back to the default; no handler for it
    // is installed anywhere in the program.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs a command; only `export` and `verify` can end in anything but [`Outcome::Done`].
async fn run(cli: Cli) -> Result<Outcome, BoxError> {
    let ctx = Context::new(cli.data_dir, cli.json);
    match cli.command {
        Command::Demo(args) => commands::demo::run(&ctx, args).await,
        Command::Sandbox(args) => commands::sandbox::run(args).await,
        Command::Connect(args) => commands::connect::run(&ctx, args).await,
        Command::Configure(args) => commands::configure::run(&ctx, args).await,
        Command::Export(args) => commands::export::run(&ctx, args).await,
        Command::Status(args) => commands::status::run(&ctx, args).await,
        Command::Destinations => commands::destinations::run(&ctx).await,
        Command::Remove(args) => commands::remove::run(&ctx, args).await,
        Command::Console(args) => commands::console::run(&ctx, args).await,
        Command::Verify(args) => commands::verify::run(&ctx, args).await,
        Command::History(args) => commands::history::run(&ctx, args).await,
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args),
    }
}
