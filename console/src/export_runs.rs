//! "Export now": starts an export through the application layer (`app::exports::start`) on the
//! console's launcher: locally the in-process one, which runs what `autopilot-export export` runs
//! under the same per-destination file lock; on a stack an execution of its state machine. The
//! progress bar's view comes from [`crate::runs`]. A started export is recorded in the
//! destination's audit trail ([`crate::trail`]) with its id.

use crate::AppState;
use serde::Serialize;
use shared::app::audit::Action;
use shared::app::exports;
use shared::app::in_process::{Outcome, Run};
use shared::app::launcher::ExportRequest;
use shared::jobs::plan::Trigger;

/// What the progress bar polls for.
#[derive(Debug, Serialize)]
pub struct View {
    pub running: bool,
    pub sent: u64,
    pub total: u64,
    pub per_second: f64,
    pub waiting: Option<String>,
    pub export_id: Option<String>,
    pub error: Option<String>,
}

/// The latest export of `dest`, for the progress bar; a wait for the API names it.
pub async fn view(state: &AppState, dest: &str) -> Option<View> {
    let run: Run = state.exports.latest(&state.options.deps, dest).await?;
    let (export_id, error) = match &run.outcome {
        Some(Outcome::Finished) => (Some(run.export_id.clone()), None),
        Some(Outcome::Stopped(message)) => (None, Some(message.clone())),
        None => (None, None),
    };
    let waiting = match &run.waiting {
        Some(w) => Some(format!(
            "{} has not answered properly for {} s ({}); retrying",
            api_name(state, dest).await,
            w.seconds,
            w.reason
        )),
        None => None,
    };
    Some(View {
        running: run.is_running(),
        sent: run.done,
        total: run.total,
        per_second: run.per_second(),
        waiting,
        export_id,
        error,
    })
}

/// The name of the API `dest` exports to ("The API" if it cannot be read).
async fn api_name(state: &AppState, dest: &str) -> &'static str {
    let store = state.options.deps.store.as_ref();
    match shared::destination::load(store, dest).await {
        Ok(d) => d.api.vocabulary().api,
        Err(_) => "The API",
    }
}

/// Starts an export of `dest` unless one is running; `Err` says why not.
pub async fn start(state: &AppState, dest: &str) -> Result<(), String> {
    // On a stack the started execution takes the lock only once its first step runs.
    if state.exports.is_running(&state.options.deps, dest).await {
        return Err(format!(
            "an export of '{dest}' is still running: wait for it to finish"
        ));
    }
    let request = ExportRequest::new(dest, Trigger::Console);
    let export_id = exports::start(&state.options.deps, state.exports.launcher(), &request)
        .await
        .map_err(|e| e.to_string())?;
    state.exports.started(dest, &export_id);
    let details = format!("export {export_id}");
    crate::trail::record(&state.options.deps, Action::Export, dest, details, None)
        .await
        .map_err(|e| format!("export {export_id} started, but {e}"))
}
