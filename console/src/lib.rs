//! The web console: the command line's use-cases (connect, configure, the dry run, export,
//! status, verify, remove) behind server-rendered pages, for people who would rather not type commands.
//! It does nothing of its own: every page calls the same `shared` functions the command line
//! calls, on the same data folder, so behaviour is identical.
//!
//! Security: it listens on 127.0.0.1 unless told otherwise, and anywhere else only over HTTPS
//! (or with plain HTTP explicitly accepted as readable; see [`listen`]); a random token printed
//! once in the first URL becomes an HttpOnly, SameSite=Strict cookie (`Secure` over HTTPS),
//! without which every request gets 401; requests that change something must also come from the
//! console's own pages (see [`security`]). The API key is write-only: no page, answer or log
//! line holds it.

mod actions;
mod app;
#[cfg(feature = "aws")]
pub mod aws;
mod checks;
mod data_routes;
mod export_runs;
mod forms;
pub mod listen;
mod matching_form;
mod page_routes;
mod pages;
mod routes;
mod runs;
pub mod schedule;
mod scratch;
pub mod security;
mod trail;

pub use app::Segments;
use axum_server::tls_rustls::RustlsConfig;
use shared::app::launcher::ExportLauncher;
use shared::Deps;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

/// What the console serves and where.
#[derive(Clone)]
pub struct Options {
    /// The same dependencies the command line builds for the data folder.
    pub deps: Deps,
    /// The data folder (for the export lock files and the refused-rows files).
    pub data_dir: PathBuf,
    /// Where the segment snapshots are: every `*.csv`, `*.csv.gz` and `*.tsv` is a segment.
    pub snapshots: Segments,
    /// The launcher of a deployed stack (its state machine); `None` runs exports in this process.
    pub deployed: Option<Arc<dyn ExportLauncher>>,
    /// Where destinations may send data and read segments from: anywhere locally; on a stack, its
    /// Autopilot hosts and snapshot prefix (an API key is never sent to another host).
    pub boundary: shared::destination::Boundary,
    /// The Autopilot API URL the set-up page starts with.
    pub api_url: String,
    /// The address to listen on: 127.0.0.1 unless asked otherwise.
    pub listen: IpAddr,
    /// The port (0 for any free one).
    pub port: u16,
    /// The certificate and key to serve HTTPS with; required off the loopback unless
    /// `readable_traffic`.
    pub tls: Option<listen::TlsFiles>,
    /// Plain HTTP off the loopback, accepted by the user as readable by the network.
    pub readable_traffic: bool,
    /// Who "Add yourself as export user" fills in.
    pub current_user: Option<String>,
    /// The stack's schedule, for the next scheduled runs; `None` locally, where none runs.
    pub schedule: Option<schedule::Deployed>,
}

/// Shared by every request.
pub(crate) struct State {
    pub options: Options,
    pub token: security::Token,
    /// Runs the exports this console starts.
    pub exports: runs::Runs,
    /// The Verify and Repair checks this console runs.
    pub checks: checks::Checks,
}

pub(crate) type AppState = Arc<State>;

/// Serves the console until interrupted. The first line on standard output is its URL with the
/// access token; listening anywhere but on the loopback address prints a warning on stderr, and
/// is refused over plain HTTP unless `readable_traffic` is set.
pub async fn serve(options: Options) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    listen::check(
        options.listen,
        options.tls.as_ref(),
        options.readable_traffic,
    )?;
    let tls = options
        .tls
        .as_ref()
        .map(listen::server_config)
        .transpose()?;
    let addr = SocketAddr::new(options.listen, options.port);
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| format!("the console cannot listen on {addr}: {e}"))?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    if !options.listen.is_loopback() {
        eprintln!(
            "warning: the console listens on {bound}, reachable from other machines; anyone with its link can export and remove destinations"
        );
        if tls.is_none() {
            eprintln!("warning: over plain HTTP, as asked: anyone on the network path can read the link's token, the API keys typed in and the refused rows");
        }
    }
    let token = security::Token::generate()
        .map_err(|e| format!("the console cannot make its access token: {e}"))?;
    let host = match options.listen {
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "Console: {scheme}://{host}:{}/?token={}",
        bound.port(),
        token.as_str()
    );
    eprintln!("Open the link above in your browser; Ctrl-C stops the console.");
    let exports = match &options.deployed {
        Some(launcher) => runs::Runs::Deployed(runs::Deployed::new(launcher.clone())),
        None => runs::Runs::Local(shared::app::in_process::InProcess::new(
            options.deps.clone(),
            options.data_dir.clone(),
        )),
    };
    let state = Arc::new(State {
        options,
        token,
        exports,
        checks: checks::Checks::default(),
    });
    let app = routes::router(state);
    match tls {
        None => {
            axum::serve(tokio::net::TcpListener::from_std(listener)?, app)
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?
        }
        Some(config) => {
            let handle = axum_server::Handle::new();
            let stop = handle.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            axum_server::from_tcp_rustls(listener, RustlsConfig::from_config(config))?
                .handle(handle)
                .serve(app.into_make_service())
                .await?
        }
    }
    Ok(())
}
