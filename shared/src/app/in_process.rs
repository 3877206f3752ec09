//! The in-process [`ExportLauncher`]: runs an export as a task of this process
//! ([`crate::app::local_export::run`]: plan → chunk uploads on one pacer → finalize) under the data
//! folder's per-destination operating-system lock ([`crate::local_lock`]), and keeps each run's
//! live progress for progress bars. The console starts its exports through it; the command's
//! `export` runs the same `local_export::run` in the foreground. A verification runs as a task
//! too, step after step of [`crate::app::verify::job`] until it ends, its progress in the store.

use super::launcher::{ExportLauncher, ExportRequest, Launch, RunState};
use super::verify::job::{self as verify_job, VerifyRequest};
use crate::app::local_export::{self, Progress};
use crate::jobs::lock;
use crate::{local_lock, Deps, JobError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// One export this launcher started.
#[derive(Debug, Clone)]
pub struct Run {
    pub destination_id: String,
    pub export_id: String,
    /// When it was started.
    pub launched: Instant,
    /// When the current run began sending (reset when its plan is ready).
    pub started: Instant,
    /// Contacts to send or take off a list.
    pub total: u64,
    /// Contacts handled so far, by this run or an earlier, interrupted one.
    pub done: u64,
    /// Contacts an earlier, interrupted run had already handled.
    pub already_done: u64,
    /// Set while the API does not answer properly.
    pub waiting: Option<Waiting>,
    /// `None` while the export runs.
    pub outcome: Option<Outcome>,
}

/// The API has not answered properly for `seconds`; `reason` is the error class of the last try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub seconds: u64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The export has its report.
    Finished,
    /// The export stopped before its report: why, in words.
    Stopped(String),
}

impl Run {
    /// An export of `destination_id` named `export_id`, starting now.
    fn new(destination_id: &str, export_id: &str) -> Self {
        Self {
            destination_id: destination_id.to_string(),
            export_id: export_id.to_string(),
            launched: Instant::now(),
            started: Instant::now(),
            total: 0,
            done: 0,
            already_done: 0,
            waiting: None,
            outcome: None,
        }
    }

    pub fn is_running(&self) -> bool {
        self.outcome.is_none()
    }

    /// Contacts handled per second by this run (not counting what an earlier run did).
    pub fn per_second(&self) -> f64 {
        let seconds = self.started.elapsed().as_secs_f64();
        if seconds > 0.0 {
            self.done.saturating_sub(self.already_done) as f64 / seconds
        } else {
            0.0
        }
    }

    fn record(&mut self, progress: Progress) {
        match progress {
            Progress::Planned {
                contacts,
                already_done,
                ..
            } => {
                self.total = contacts;
                self.done = already_done;
                self.already_done = already_done;
                self.started = Instant::now();
            }
            Progress::Handled { contacts } => self.done += contacts,
            Progress::Waiting {
                seconds, reason, ..
            } => self.waiting = Some(Waiting { seconds, reason }),
            Progress::Resumed => self.waiting = None,
        }
    }
}

type Shared = Arc<Mutex<Run>>;

/// Runs exports as tasks of this process. Cheap to clone: clones share their runs.
#[derive(Clone)]
pub struct InProcess {
    deps: Deps,
    data_dir: PathBuf,
    /// By export id.
    runs: Arc<Mutex<HashMap<String, Shared>>>,
    /// Verifications, by id: `None` while one runs.
    verifications: Arc<Mutex<HashMap<String, Option<Outcome>>>>,
}

impl InProcess {
    /// A launcher for the data folder `data_dir` (where the operating-system locks live).
    pub fn new(deps: Deps, data_dir: PathBuf) -> Self {
        Self {
            deps,
            data_dir,
            runs: Arc::default(),
            verifications: Arc::default(),
        }
    }

    /// The latest export of `destination` this launcher started, as it stands now.
    pub fn latest(&self, destination: &str) -> Option<Run> {
        let runs = self.runs.lock().ok()?;
        runs.values()
            .filter_map(|run| run.lock().ok().map(|r| r.clone()))
            .filter(|run| run.destination_id == destination)
            .max_by_key(|run| run.launched)
    }

    /// Whether an export of `destination` runs in this process.
    pub fn is_running(&self, destination: &str) -> bool {
        self.latest(destination).is_some_and(|r| r.is_running())
    }

    fn get(&self, export_id: &str) -> Option<Run> {
        let runs = self.runs.lock().ok()?;
        let run = runs.get(export_id)?.lock().ok()?.clone();
        Some(run)
    }
}

#[async_trait::async_trait]
impl ExportLauncher for InProcess {
    async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError> {
        let dest = request.destination_id.clone();
        let os_lock = local_lock::hold(&self.data_dir, &dest)?;
        let run = Arc::new(Mutex::new(Run::new(&dest, name)));
        self.runs
            .lock()
            .map_err(|_| JobError::internal("the export runs could not be read"))?
            .insert(name.to_string(), run.clone());
        let options = local_export::Options {
            export_id: Some(name.to_string()),
            full: request.full,
            override_guardrails: request.override_guardrails,
            trigger: request.trigger,
            ..local_export::Options::new(&dest)
        };
        let deps = self.deps.clone();
        tokio::spawn(async move {
            let _os_lock = os_lock;
            let seen = run.clone();
            let on_progress = move |p: Progress| {
                if let Ok(mut r) = seen.lock() {
                    r.record(p);
                }
            };
            let outcome = match local_export::run(&deps, &options, &on_progress).await {
                Ok(_) => Outcome::Finished,
                Err(e) => Outcome::Stopped(e.to_string()),
            };
            if let Ok(mut r) = run.lock() {
                r.outcome = Some(outcome);
            }
        });
        Ok(Launch::Started)
    }

    async fn state(&self, name: &str) -> Result<RunState, JobError> {
        let verification = self
            .verifications
            .lock()
            .ok()
            .and_then(|v| v.get(name).cloned());
        Ok(match self.get(name).map(|r| r.outcome).or(verification) {
            Some(None) => RunState::Running,
            Some(Some(Outcome::Finished)) => RunState::Succeeded,
            Some(Some(Outcome::Stopped(_))) => RunState::Failed,
            None => RunState::Unknown,
        })
    }

    /// Runs the verification's steps one after another until it ends; a step that fails ends
    /// it as failed, with the error's kind and message.
    async fn start_verification(
        &self,
        name: &str,
        request: &VerifyRequest,
    ) -> Result<Launch, JobError> {
        let mut verifications = self
            .verifications
            .lock()
            .map_err(|_| JobError::internal("the verifications could not be read"))?;
        if matches!(verifications.get(name), Some(None)) {
            return Ok(Launch::AlreadyStarted);
        }
        verifications.insert(name.to_string(), None);
        drop(verifications);
        let (deps, request, name) = (self.deps.clone(), request.clone(), name.to_string());
        let verifications = self.verifications.clone();
        tokio::spawn(async move {
            let outcome = match run_verification(&deps, &request, &name).await {
                Ok(()) => Outcome::Finished,
                Err(e) => Outcome::Stopped(e.to_string()),
            };
            if let Ok(mut v) = verifications.lock() {
                v.insert(name, Some(outcome));
            }
        });
        Ok(Launch::Started)
    }

    /// A held lock whose destination no process of this data folder exports (its operating-system
    /// lock is free) belongs to an interrupted export: it is resumed.
    async fn holder_running(&self, destination: &str, _: &lock::Running) -> Result<bool, JobError> {
        Ok(self.is_running(destination) || local_lock::is_held(&self.data_dir, destination))
    }
}

/// Steps of a verification until it ends; a failed step is recorded as its failure.
async fn run_verification(deps: &Deps, request: &VerifyRequest, id: &str) -> Result<(), JobError> {
    loop {
        match verify_job::step(deps, request, id, request.budget()).await {
            Ok(progress) if progress.done => return Ok(()),
            Ok(_) => continue,
            Err(e) => {
                let dest = &request.destination_id;
                verify_job::fail(deps, dest, id, e.kind().as_str(), &e.to_string()).await?;
                return Err(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_what_this_run_handled() {
        let mut run = Run::new("d", "e");
        run.record(Progress::Planned {
            contacts: 500,
            already_done: 100,
            resumed: true,
        });
        run.record(Progress::Handled { contacts: 100 });
        run.record(Progress::Waiting {
            seconds: 3,
            budget: 900,
            reason: "Throttled",
        });
        assert_eq!((run.total, run.done), (500, 200));
        assert_eq!(run.waiting.map(|w| w.seconds), Some(3));
        run.record(Progress::Resumed);
        assert!(run.waiting.is_none());
    }
}
