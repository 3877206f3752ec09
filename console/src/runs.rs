//! Which exports run and how far they are, for the pages and the progress bar, from whichever
//! launcher the console starts exports with: locally the in-process launcher's own counters; on a
//! deployed stack the destination's lock (the running export) and its chunk progress, read through
//! `app::exports::status` as the API reads them.

use shared::app::exports::{self, ExportStatus};
use shared::app::in_process::{InProcess, Run};
use shared::app::launcher::ExportLauncher;
use shared::Deps;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The launcher of the exports this console starts.
pub enum Runs {
    /// Exports run in this process, on the data folder.
    Local(InProcess),
    /// Exports run elsewhere (a stack's state machine); their state is read from the store.
    Deployed(Deployed),
}

/// A launcher of exports run elsewhere, and the export this console last started of each
/// destination (its run takes the destination's lock only once its first step runs).
pub struct Deployed {
    launcher: Arc<dyn ExportLauncher>,
    started: Mutex<HashMap<String, String>>,
}

impl Deployed {
    pub fn new(launcher: Arc<dyn ExportLauncher>) -> Self {
        Self {
            launcher,
            started: Mutex::default(),
        }
    }

    fn last_started(&self, destination: &str) -> Option<String> {
        let started = self.started.lock().unwrap_or_else(|e| e.into_inner());
        started.get(destination).cloned()
    }
}

impl Runs {
    pub fn launcher(&self) -> &dyn ExportLauncher {
        match self {
            Runs::Local(local) => local,
            Runs::Deployed(deployed) => deployed.launcher.as_ref(),
        }
    }

    /// Notes that this console started export `export_id` of `destination`.
    pub fn started(&self, destination: &str, export_id: &str) {
        if let Runs::Deployed(deployed) = self {
            let mut started = deployed.started.lock().unwrap_or_else(|e| e.into_inner());
            started.insert(destination.to_string(), export_id.to_string());
        }
    }

    /// The latest export of `destination` as the pages show it: locally the latest this console
    /// started (running or not), deployed the one holding the destination's lock.
    pub async fn latest(&self, deps: &Deps, destination: &str) -> Option<Run> {
        match self {
            Runs::Local(local) => local.latest(destination),
            Runs::Deployed(deployed) => running(deps, deployed, destination).await,
        }
    }

    /// Whether an export of `destination` is running.
    pub async fn is_running(&self, deps: &Deps, destination: &str) -> bool {
        match self {
            Runs::Local(local) => local.is_running(destination),
            Runs::Deployed(_) => self
                .latest(deps, destination)
                .await
                .is_some_and(|run| run.is_running()),
        }
    }
}

/// The export holding the destination's lock (or else the one this console last started), with
/// its chunk progress; `None` when it is not running or its state cannot be read.
async fn running(deps: &Deps, deployed: &Deployed, destination: &str) -> Option<Run> {
    let held = exports::unfinished(deps, destination).await.ok().flatten();
    let export_id = held
        .map(|h| h.running.export_id)
        .or_else(|| deployed.last_started(destination))?;
    let launcher = deployed.launcher.as_ref();
    let (done, total) = match exports::status(deps, launcher, destination, &export_id).await {
        Ok(ExportStatus::Running(progress)) => (progress.contacts_done, progress.contacts),
        // The report is on its way: the lock goes with it.
        Ok(ExportStatus::Finishing) => (0, 0),
        Ok(ExportStatus::Failed | ExportStatus::Finished(_)) | Err(_) => return None,
    };
    let now = std::time::Instant::now();
    Some(Run {
        destination_id: destination.to_string(),
        export_id,
        launched: now,
        started: now,
        total,
        done,
        already_done: done,
        waiting: None,
        outcome: None,
    })
}
