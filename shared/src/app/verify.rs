//! Read-back verification: what Autopilot holds now against what the last export left there.
//!
//! For each segment in the destination's baseline, its list is read back page by page
//! (`GET /list/{id}/contacts[/{bookmark}]`, 100 members a page in Autopilot, through the
//! destination's client and so paced at its rate like every other request) and compared with the
//! members the baseline records: who is `present`, who is `missing` (ours, no longer on the list),
//! who is on it but `unsubscribed` (they will not receive email), who is `foreign` (added by
//! someone else: counted, never touched), and whether the list itself is gone (or was recreated
//! under another id). Samples are masked; no address reaches a log or an error.
//!
//! A repair puts missing members back on their list with the add-to-list call alone
//! (`POST /list/{id}/contact/{email}`): never an upsert, never a contact's field, never a
//! subscription. It is refused while an export of the destination runs, and a list that is gone
//! is left for the next export to recreate. Cost: ⌈members/100⌉ requests per list to read, one
//! per member repaired.

use crate::autopilot::api::{MemberStatus, MemberStatusPage};
use crate::autopilot::{AutopilotClient, AutopilotError, ListLimits};
use crate::baseline::{self, SegmentBaseline};
use crate::destination::Destination;
use crate::jobs::lock;
use crate::{Deps, JobError};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::time::Instant;

mod compare;
pub use compare::SAMPLES;
use compare::{compare, samples};

/// Members put back on their list at once (each request still waits for its turn at the rate).
const REPAIRS_IN_FLIGHT: usize = 8;

/// What a verification found, per list, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verified {
    pub destination_id: String,
    /// The export whose baseline the lists were compared with.
    pub export_id: String,
    pub lists: Vec<ListCheck>,
    /// Requests to Autopilot (reading and repairing), retries included.
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
    /// Of the present ones, those who unsubscribed in Autopilot.
    pub unsubscribed: u64,
    /// Members on the list that the export did not put there.
    pub foreign: u64,
    /// The list no longer exists in Autopilot.
    pub list_gone: bool,
    /// When the list is gone but a list of the segment's name exists: its id (the next export
    /// fills it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recreated_as: Option<String>,
    /// Missing members put back on the list by a repair.
    pub repaired: u64,
    /// Missing members a repair could not put back (no longer a contact in Autopilot).
    pub not_repaired: u64,
    pub samples: Samples,
    /// Requests this list took, and how long.
    pub requests: u64,
    pub seconds: f64,
}

/// A few masked addresses of each finding (`j***@example.com`), sorted.
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

/// Reads every list of the destination's last export back and compares it with the baseline;
/// with `repair`, puts missing members back.
pub async fn run(deps: &Deps, destination_id: &str, repair: bool) -> Result<Verified, JobError> {
    let destination = crate::destination::load(deps.store.as_ref(), destination_id).await?;
    let dest = destination.id.as_str();
    let Some(base) = baseline::load(deps.store.as_ref(), dest).await? else {
        return Err(JobError::NotFound(format!(
            "'{dest}' has no finished export to verify yet: export it first"
        )));
    };
    if repair {
        if let Some(running) = lock::holder(deps, dest).await? {
            return Err(JobError::Conflict(format!(
                "export {} of '{dest}' is running: repair after it finishes",
                running.export_id
            )));
        }
    }
    let client = client(deps, &destination).await?;
    let started = Instant::now();
    let before = client.stats().requests;
    let mut lists = Vec::with_capacity(base.segments.len());
    for (segment, members) in &base.segments {
        lists.push(check_list(&client, segment, members, repair).await?);
    }
    if lists.iter().any(|l| l.list_gone) {
        find_recreated(&client, &mut lists).await?;
    }
    let verified = Verified {
        destination_id: dest.to_string(),
        export_id: base.export_id.clone(),
        lists,
        requests: client.stats().requests - before,
        seconds: rounded(started.elapsed().as_secs_f64()),
        requests_per_second: destination.requests_per_second,
        repair,
    };
    tracing::info!(
        destination = dest,
        lists = verified.lists.len(),
        requests = verified.requests,
        in_place = verified.in_place(),
        "verified"
    );
    Ok(verified)
}

async fn client(deps: &Deps, destination: &Destination) -> Result<AutopilotClient, JobError> {
    deps.clients
        .for_destination(destination, &deps.secrets, destination.requests_per_second)
        .await
}

/// Reads one list back, compares it and, with `repair`, puts the missing members back.
async fn check_list(
    client: &AutopilotClient,
    segment: &str,
    base: &SegmentBaseline,
    repair: bool,
) -> Result<ListCheck, JobError> {
    let started = Instant::now();
    let before = client.stats().requests;
    let mut check = ListCheck {
        segment: segment.to_string(),
        list_id: base.list_id.clone(),
        expected: base.contacts.len() as u64,
        ..ListCheck::default()
    };
    match read_list(client, &base.list_id, ListLimits::default()).await? {
        None => {
            check.list_gone = true;
            check.missing = check.expected;
        }
        Some(members) => {
            let found = compare(base, &members);
            check.present = found.present;
            check.missing = found.missing.len() as u64;
            check.unsubscribed = found.unsubscribed.len() as u64;
            check.foreign = found.foreign.len() as u64;
            check.samples = Samples {
                missing: samples(&found.missing),
                unsubscribed: samples(&found.unsubscribed),
                foreign: samples(&found.foreign),
            };
            if repair {
                let failed = put_back(client, &base.list_id, &found.missing).await?;
                check.not_repaired = failed;
                check.repaired = check.missing - failed;
            }
        }
    }
    check.requests = client.stats().requests - before;
    check.seconds = rounded(started.elapsed().as_secs_f64());
    tracing::info!(
        segment,
        expected = check.expected,
        missing = check.missing,
        unsubscribed = check.unsubscribed,
        foreign = check.foreign,
        list_gone = check.list_gone,
        repaired = check.repaired,
        "list verified"
    );
    Ok(check)
}

/// Every member of a list (email and subscription), following bookmarks within `limits`; `None`
/// when the list does not exist.
async fn read_list(
    client: &AutopilotClient,
    list_id: &str,
    limits: ListLimits,
) -> Result<Option<Vec<MemberStatus>>, JobError> {
    let mut members = Vec::new();
    let mut bookmark: Option<String> = None;
    for _ in 0..limits.pages {
        let page = match client
            .list_member_statuses_page(list_id, bookmark.as_deref())
            .await
        {
            Ok(page) => page,
            Err(AutopilotError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let MemberStatusPage {
            members: read,
            bookmark: next,
        } = page;
        let empty = read.is_empty();
        members.extend(read);
        if members.len() > limits.members {
            return Err(AutopilotError::ListTooLarge {
                list: list_id.chars().take(80).collect(),
                limit: limits.members,
            }
            .into());
        }
        match next {
            Some(next) if !empty && bookmark.as_deref() != Some(next.as_str()) => {
                bookmark = Some(next)
            }
            _ => return Ok(Some(members)),
        }
    }
    Err(JobError::Autopilot(AutopilotError::InvalidResponse(
        format!(
            "the Autopilot list went on for more than {} pages: stopped reading it",
            limits.pages
        ),
    )))
}

/// Puts `missing` back on the list, membership alone; how many could not be (no such contact in
/// Autopilot any more: putting them back would take an upsert, which a repair never sends).
async fn put_back(
    client: &AutopilotClient,
    list_id: &str,
    missing: &[String],
) -> Result<u64, JobError> {
    let outcomes: Vec<bool> = futures::stream::iter(missing)
        .map(|email| async move {
            match client.add_to_list(list_id, email).await {
                Ok(()) => Ok(true),
                Err(AutopilotError::NotFound { .. }) => Ok(false),
                Err(e) => Err(JobError::from(e)),
            }
        })
        .buffer_unordered(REPAIRS_IN_FLIGHT)
        .try_collect()
        .await?;
    Ok(outcomes.iter().filter(|added| !**added).count() as u64)
}

/// For each list that is gone, a list of the segment's name under another id, if Autopilot has
/// one (one request for all of them).
async fn find_recreated(client: &AutopilotClient, lists: &mut [ListCheck]) -> Result<(), JobError> {
    let existing = client.lists().await?;
    for check in lists.iter_mut().filter(|l| l.list_gone) {
        check.recreated_as = existing
            .iter()
            .find(|l| l.title == check.segment && l.list_id != check.list_id)
            .map(|l| l.list_id.clone());
    }
    Ok(())
}

fn rounded(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

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
