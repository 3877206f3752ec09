//! "Export now": starts an export through the application layer (`app::exports::start`) on the
//! in-process launcher, which runs what `autopilot-export export` runs under the same
//! per-destination file lock and keeps its progress for the page's progress bar.

use crate::AppState;
use serde::Serialize;
use shared::app::exports;
use shared::app::in_process::{InProcess, Outcome};
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

/// The latest export of `dest` this console started, for the progress bar.
pub fn view(exports: &InProcess, dest: &str) -> Option<View> {
    exports.latest(dest).map(|run| {
        let (export_id, error) = match &run.outcome {
            Some(Outcome::Finished) => (Some(run.export_id.clone()), None),
            Some(Outcome::Stopped(message)) => (None, Some(message.clone())),
            None => (None, None),
        };
        View {
            running: run.is_running(),
            sent: run.done,
            total: run.total,
            per_second: run.per_second(),
            waiting: run.waiting.map(|w| {
                format!(
                    "Autopilot has not answered properly for {} s ({}); retrying",
                    w.seconds, w.reason
                )
            }),
            export_id,
            error,
        }
    })
}

/// Starts an export of `dest` unless one is running; `Err` says why not.
pub async fn start(state: &AppState, dest: &str) -> Result<(), String> {
    let request = ExportRequest::new(dest, Trigger::Console);
    exports::start(&state.options.deps, &state.exports, &request)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
