//! **Verify** and **Repair**: the verification the command line's `verify` runs
//! (`app::verify::foreground`), in the background so that a long read-back is not bound by a
//! request's time. The destination's verify lock is taken before the click is answered, so while a
//! verification of it runs (started here, by the command line or through the HTTP API) another
//! click is refused in words that say so. The destination's page shows "Verifying…" until it
//! ends, then its findings, which stay until the next check or until the console stops.

use shared::app::verify::{self, Verified};
use shared::Deps;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The latest check of one destination.
#[derive(Debug, Clone)]
pub struct Check {
    /// Whether missing members are put back.
    pub repair: bool,
    /// `None` while it runs; then what it found, or why it could not.
    pub outcome: Option<Result<Verified, String>>,
}

impl Check {
    pub fn is_running(&self) -> bool {
        self.outcome.is_none()
    }
}

/// The checks this console ran, by destination.
#[derive(Default, Clone)]
pub struct Checks(Arc<Mutex<HashMap<String, Check>>>);

impl Checks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Check>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The latest check of `destination`, running or not.
    pub fn latest(&self, destination: &str) -> Option<Check> {
        self.map().get(destination).cloned()
    }

    /// Starts a check of `destination` unless a verification of it runs (or it cannot be
    /// verified yet); `Err` says why not.
    pub async fn start(&self, deps: &Deps, destination: &str, repair: bool) -> Result<(), String> {
        let claimed = verify::foreground::claim(deps, destination, repair)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = None;
        let check = Check { repair, outcome };
        self.map().insert(destination.to_string(), check);
        let deps = deps.clone();
        // A task of its own, so that a panic in the check ends as its failure, not as a check
        // that runs forever.
        let task = tokio::spawn(async move { claimed.run(&deps).await });
        let (checks, dest) = (self.clone(), destination.to_string());
        tokio::spawn(async move {
            let outcome = match task.await {
                Ok(found) => found.map_err(|e| e.to_string()),
                Err(_) => Err("the check stopped unexpectedly: try again".to_string()),
            };
            let outcome = Some(outcome);
            checks.map().insert(dest, Check { repair, outcome });
        });
        Ok(())
    }

    /// Forgets the checks of a removed destination.
    pub fn forget(&self, destination: &str) {
        self.map().remove(destination);
    }
}

#[cfg(test)]
mod tests;
