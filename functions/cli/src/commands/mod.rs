//! One module per command. Each takes the [`Context`] (and its own arguments) and says how it
//! ended; `main` only picks the module. A new command is a module here, a variant in
//! [`crate::args::Command`] and one line in `main::run`.

pub mod completions;
pub mod configure;
pub mod connect;
pub mod console;
pub mod demo;
pub mod destinations;
pub mod dry_run;
pub mod export;
pub mod history;
pub mod remove;
pub mod sandbox;
pub mod status;
pub mod verify;

use shared::app::audit::{self, Action, Entry};
use shared::Deps;
use std::path::PathBuf;

/// What every command is given: the data folder, the jobs' dependencies on it, and whether to
/// print one JSON document instead of text.
pub struct Context {
    pub data_dir: PathBuf,
    pub deps: Deps,
    pub json: bool,
}

impl Context {
    /// Records a call that changed `destination` in its audit trail, under the operating
    /// system's user ([`audit::local_caller`]).
    pub async fn record(
        &self,
        action: Action,
        destination: &str,
        details: impl Into<String>,
        label: Option<&str>,
    ) -> Result<(), shared::JobError> {
        let entry = Entry::now(&audit::local_caller(), action, destination)
            .details(details)
            .label(label);
        audit::record(self.deps.store.as_ref(), &entry).await
    }

    pub fn new(data_dir: PathBuf, json: bool) -> Self {
        let deps = crate::data_folder::local_deps(&data_dir);
        Self {
            data_dir,
            deps,
            json,
        }
    }
}
