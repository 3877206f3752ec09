//! The console's part of the audit trail ([`shared::app::audit`]): every form that changes a
//! destination records an entry once its change is made — set-up (connect), the export user, the
//! data matching and segments, the schedule and guardrails (each a configure), **Export now**
//! (with its export id), **Verify** and **Repair**, **Remove** — and the destination's page shows
//! the latest [`SHOWN`] entries beside its exports, whichever front door made them. The console
//! has no key change of its own (rotation is the command line's and the HTTP API's).
//!
//! The caller is the operating-system user running the console ([`audit::local_caller`]), on a
//! deployed stack (`--stack`) too: that user's AWS credentials are the ones the console acts with,
//! and the console does not ask AWS whose they are. Anyone holding the console's link acts as that
//! user. Details hold ids and counts only, never an address, a cell value or a key; the export
//! user's name is kept as the entry's label. As for every front door, a trail that cannot be
//! written fails the answer, though the change stays made.

use shared::app::audit::{self, Action, Entry};
use shared::{Deps, JobError};

/// Entries the destination's page shows.
pub const SHOWN: usize = 20;

/// Records a change of `destination` under the console's caller.
pub async fn record(
    deps: &Deps,
    action: Action,
    destination: &str,
    details: impl Into<String>,
    label: Option<&str>,
) -> Result<(), JobError> {
    let entry = Entry::now(&audit::local_caller(), action, destination)
        .details(details)
        .label(label);
    audit::record(deps.store.as_ref(), &entry).await
}

/// The latest [`SHOWN`] changes of `destination`, newest first; none when the trail cannot be
/// read (the reason goes to the log).
pub async fn recent(deps: &Deps, destination: &str) -> Vec<Entry> {
    audit::recent(deps.store.as_ref(), destination, SHOWN)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(destination, error = %e, "the audit trail cannot be read");
            Vec::new()
        })
}

#[cfg(test)]
mod tests;
