//! **Verify** and **Repair**: `app::verify::run` (what the command line's `verify` runs) in the
//! background, one per destination at a time, so that a long read-back is
//! not bound by a request's time; the destination's page shows "Verifying…" until it ends, then
//! its findings, which stay until the next check or until the console stops.

use shared::app::verify::{self, Verified};
use shared::Deps;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The runtime checks run on, for the life of the process (never dropped, so never inside the
/// server's runtime). Its worker drives the connections checks open, which the console's other
/// requests may reuse, as they share the destination's client and its pacer. A check's future
/// runs on a thread of its own through `block_on`, which, unlike a spawned task, does not need
/// it to be `Send` for every lifetime (the repair's stream of borrowed addresses is not).
fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let built = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("console-checks")
            .enable_all()
            .build()
            .map_err(|e| format!("the check cannot start: {e}"))
    });
    built.as_ref().map_err(Clone::clone)
}

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

    /// Starts a check of `destination` unless one is running; `Err` says why not.
    pub fn start(&self, deps: &Deps, destination: &str, repair: bool) -> Result<(), String> {
        {
            let mut checks = self.map();
            if checks.get(destination).is_some_and(Check::is_running) {
                return Err(format!(
                    "'{destination}' is being verified already: wait for the result"
                ));
            }
            let outcome = None;
            checks.insert(destination.to_string(), Check { repair, outcome });
        }
        let runtime = match runtime() {
            Ok(runtime) => runtime,
            Err(message) => {
                self.map().remove(destination);
                return Err(message);
            }
        };
        let (checks, deps, dest) = (self.clone(), deps.clone(), destination.to_string());
        std::thread::spawn(move || {
            let run = || runtime.block_on(verify::run(&deps, &dest, repair));
            let outcome = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
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
