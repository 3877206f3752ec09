//! "Export now": runs `shared::local_export::run` (what `autopilot-export export` runs) in the
//! background under the same per-destination file lock the command takes, and keeps its progress
//! for the page's progress bar.

use crate::AppState;
use serde::Serialize;
use shared::local_export::{self, Progress};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The exports this console started, by destination.
#[derive(Default)]
pub struct Runs(Mutex<HashMap<String, Arc<Mutex<Run>>>>);

/// One export this console started.
#[derive(Debug, Clone)]
pub struct Run {
    pub started: Instant,
    pub total: u64,
    pub done: u64,
    /// Contacts an earlier, interrupted run had already handled.
    pub already_done: u64,
    pub waiting: Option<String>,
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone)]
pub enum Outcome {
    Finished { export_id: String },
    Stopped(String),
}

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

impl Runs {
    pub fn get(&self, dest: &str) -> Option<Run> {
        let runs = self.0.lock().ok()?;
        let run = runs.get(dest)?.lock().ok()?.clone();
        Some(run)
    }

    pub fn view(&self, dest: &str) -> Option<View> {
        self.get(dest).map(|run| {
            let handled = run.done.saturating_sub(run.already_done);
            let seconds = run.started.elapsed().as_secs_f64();
            let (export_id, error) = match &run.outcome {
                Some(Outcome::Finished { export_id, .. }) => (Some(export_id.clone()), None),
                Some(Outcome::Stopped(message)) => (None, Some(message.clone())),
                None => (None, None),
            };
            View {
                running: run.outcome.is_none(),
                sent: run.done,
                total: run.total,
                per_second: if seconds > 0.0 {
                    handled as f64 / seconds
                } else {
                    0.0
                },
                waiting: run.waiting,
                export_id,
                error,
            }
        })
    }
}

/// Starts an export of `dest` unless one is running; `Err` says why not.
pub fn start(state: &AppState, dest: &str) -> Result<(), String> {
    let lock =
        shared::local_lock::hold(&state.options.data_dir, dest).map_err(|e| e.to_string())?;
    let run = Arc::new(Mutex::new(Run {
        started: Instant::now(),
        total: 0,
        done: 0,
        already_done: 0,
        waiting: None,
        outcome: None,
    }));
    {
        let mut runs = state.runs.0.lock().map_err(|_| "the console is stopping")?;
        if runs
            .get(dest)
            .is_some_and(|r| r.lock().is_ok_and(|r| r.outcome.is_none()))
        {
            return Err("an export of this destination is running already".into());
        }
        runs.insert(dest.to_string(), run.clone());
    }
    let state = state.clone();
    let dest = dest.to_string();
    tokio::spawn(async move {
        let _lock = lock;
        let options = local_export::Options::new(&dest);
        let seen = run.clone();
        let on_progress = move |p: Progress| {
            if let Ok(mut r) = seen.lock() {
                record(&mut r, p);
            }
        };
        let outcome = match local_export::run(&state.options.deps, &options, &on_progress).await {
            Ok(report) => Outcome::Finished {
                export_id: report.export_id,
            },
            Err(e) => Outcome::Stopped(e.to_string()),
        };
        if let Ok(mut r) = run.lock() {
            r.outcome = Some(outcome);
        }
    });
    Ok(())
}

fn record(run: &mut Run, progress: Progress) {
    match progress {
        Progress::Planned {
            contacts,
            already_done,
            ..
        } => {
            run.total = contacts;
            run.done = already_done;
            run.already_done = already_done;
            run.started = Instant::now();
        }
        Progress::Handled { contacts } => run.done += contacts,
        Progress::Waiting {
            seconds, reason, ..
        } => {
            run.waiting = Some(format!(
                "Autopilot has not answered properly for {seconds} s ({reason}); retrying"
            ));
        }
        Progress::Resumed => run.waiting = None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_what_this_run_handled() {
        let mut run = Run {
            started: Instant::now(),
            total: 0,
            done: 0,
            already_done: 0,
            waiting: None,
            outcome: None,
        };
        record(
            &mut run,
            Progress::Planned {
                contacts: 500,
                already_done: 100,
                resumed: true,
            },
        );
        record(&mut run, Progress::Handled { contacts: 100 });
        record(
            &mut run,
            Progress::Waiting {
                seconds: 3,
                budget: 900,
                reason: "Throttled",
            },
        );
        assert_eq!((run.total, run.done), (500, 200));
        assert!(run.waiting.is_some());
        record(&mut run, Progress::Resumed);
        assert!(run.waiting.is_none());
    }
}
