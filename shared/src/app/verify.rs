//! Read-back verification: what the destination's audience tool holds now against what the last
//! export left there, through the audience port (the API itself is never named here).
//!
//! For each segment in the destination's baseline, its list (its audience) is read back page by
//! page (Autopilot: 100 members a page, paced at the destination's rate like every other
//! request) and compared with the members the baseline records: who is `present`, who is
//! `missing` (ours, no longer on the list), who is on it but `unsubscribed` (they will not receive
//! email), who is `foreign` (added by someone else: counted, never touched), and whether the list
//! itself is gone (or was recreated under another id). Samples are masked; no address reaches a
//! log or an error.
//!
//! A repair puts missing members back on their list with the port's add-members call alone
//! (Autopilot: `POST /list/{id}/contact/{email}`): never an upsert, never a contact's field,
//! never a subscription. It is refused while an export of the destination runs, and a list that
//! is gone is left for the next export to recreate. Cost in Autopilot: ⌈members/100⌉ requests
//! per list to read, one per member repaired.
//!
//! A full verification of a large list outlasts an HTTP request (100,000 members take 100 s at
//! 10 requests/second) and, past about 900,000 members, one Lambda invocation, so there is one
//! verification, run in steps ([`job`]), each within a budget of pages and time, its progress
//! (cursors, counts, the members read) kept in the store between them; and one lock per
//! destination (`verifying`) that every front door takes, so at most one verification of a
//! destination runs, whoever started it. How the steps are driven is all that differs:
//! [`foreground`] runs them to the end in the process that asks (the command's `verify`, the
//! console's Verify and Repair); [`runs`] starts them through the launcher (the state machine's
//! Verify task, the in-process launcher) and says how they are doing (the HTTP API). Each step
//! sorts what it read (`seen`): ours by the baseline's key hash, everyone else by a keyed hash,
//! so the members a verification keeps between its steps hold no address of anyone who is not
//! ours.

use crate::audience_api::AudienceApi;
use crate::baseline::{self, Baseline};
use crate::destination::Destination;
use crate::jobs::lock;
use crate::{Deps, JobError};
use serde::{Deserialize, Serialize};

mod compare;
pub mod foreground;
pub mod job;
pub mod reading;
mod repair;
pub mod runs;
mod seen;
mod verifying;
pub use seen::SAMPLES;

/// What a verification found, per list, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    pub destination_id: String,
    /// The export whose baseline the lists were compared with.
    pub export_id: String,
    pub lists: Vec<ListCheck>,
    /// Requests to the API (reading and repairing), retries included.
    pub requests: u64,
    pub seconds: f64,
    /// The destination's rate, which paced them.
    pub requests_per_second: f64,
    /// Whether missing members were put back.
    pub repair: bool,
}

/// One segment's list as read back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListCheck {
    pub segment: String,
    pub list_id: String,
    /// Members the last export left on the list.
    pub expected: u64,
    /// Of those, on the list now (`expected = present + missing`).
    pub present: u64,
    /// Of those, no longer on the list.
    pub missing: u64,
    /// Of the present ones, those who unsubscribed.
    pub unsubscribed: u64,
    /// Members on the list that the export did not put there.
    pub foreign: u64,
    /// The list no longer exists.
    pub list_gone: bool,
    /// When the list is gone but a list of the segment's name exists: its id (the next export
    /// fills it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreated_as: Option<String>,
    /// Missing members put back on the list by a repair.
    pub repaired: u64,
    /// Missing members a repair could not put back (no longer a contact of the account).
    pub not_repaired: u64,
    pub samples: Samples,
    /// Requests this list took, and how long.
    pub requests: u64,
    pub seconds: f64,
}

/// A few masked addresses of each finding (`j***@example.com`): the first missing and
/// unsubscribed members by address, the first foreign members by masked address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Samples {
    pub missing: Vec<String>,
    pub unsubscribed: Vec<String>,
    pub foreign: Vec<String>,
}

impl ListCheck {
    /// Whether every member the export left is on the list (after any repair).
    pub fn in_place(&self) -> bool {
        !self.list_gone && self.missing == self.repaired
    }
}

impl Verified {
    /// Whether every list exists and holds every member the export left on it (after any repair).
    pub fn in_place(&self) -> bool {
        self.lists.iter().all(ListCheck::in_place)
    }
}

/// The baseline of the destination's last export; `NotFound` before its first.
async fn last_baseline(deps: &Deps, dest: &str) -> Result<Baseline, JobError> {
    baseline::load(deps.store.as_ref(), dest)
        .await?
        .ok_or_else(|| {
            JobError::NotFound(format!(
                "'{dest}' has no finished export to verify yet: export it first"
            ))
        })
}

/// Refuses `what` while an export of the destination runs: the lists and the baseline are
/// changing under it.
async fn refuse_while_exporting(deps: &Deps, dest: &str, what: &str) -> Result<(), JobError> {
    match lock::holder(deps, dest).await? {
        Some(running) => Err(JobError::Conflict(format!(
            "export {} of '{dest}' is running: {what} after it finishes",
            running.export_id
        ))),
        None => Ok(()),
    }
}

fn log(verified: &Verified) {
    tracing::info!(
        destination = %verified.destination_id,
        lists = verified.lists.len(),
        requests = verified.requests,
        in_place = verified.in_place(),
        "verified"
    );
}

async fn client(
    deps: &Deps,
    destination: &Destination,
) -> Result<std::sync::Arc<dyn AudienceApi>, JobError> {
    deps.apis
        .for_destination(destination, &deps.secrets, destination.requests_per_second)
        .await
}

fn rounded(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Front doors run a verification as a spawned task (the console's Verify), which needs its
    /// future to be `Send`; this fails to compile when it is not.
    #[test]
    fn a_verification_can_run_as_a_spawned_task() {
        fn spawnable<F: std::future::Future + Send>(_: F) {}
        let _ = |deps: Deps| spawnable(async move { foreground::run(&deps, "d", true).await });
    }

    #[test]
    fn in_place_means_nothing_missing_after_repair_and_no_list_gone() {
        let ok = ListCheck {
            expected: 5,
            present: 5,
            ..ListCheck::default()
        };
        assert!(ok.in_place());
        let missing = ListCheck {
            missing: 2,
            ..ok.clone()
        };
        assert!(!missing.in_place());
        assert!(ListCheck {
            repaired: 2,
            ..missing.clone()
        }
        .in_place());
        assert!(!ListCheck {
            list_gone: true,
            ..ok.clone()
        }
        .in_place());
        let unsubscribed = ListCheck {
            unsubscribed: 3,
            foreign: 1,
            ..ok
        };
        assert!(
            unsubscribed.in_place(),
            "unsubscribed and foreign members are facts, not gaps"
        );
    }
}
