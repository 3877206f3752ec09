//! `finalize`: the export's report. Per segment it accounts for every row read — sent (added or
//! updated), unchanged since the last export, invalid (by reason), duplicate, rejected by Autopilot
//! (by message) or unsent (a chunk that did not finish) — and the members taken off the list. It
//! writes `report.json` and `rejected.csv` beside it, commits the new baseline when nothing failed
//! (and otherwise records in the old one exactly what landed, [`super::ledger`]), deletes the
//! chunk objects and the plan's parts of refused rows (copied into `rejected.csv`) and releases
//! the destination for the next export.

use super::ledger::{self, ChunkOutcome};
use super::plan::{ChunkKind, Plan, Trigger};
use super::upload_chunk::{ChunkResult, Partial};
use super::{Deps, JobError};
use crate::baseline::{self, Baseline};
use crate::destination::keys;
use crate::email;
use crate::store::{get_json, put_json};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod finished;
mod rejected;

pub use finished::{ExportFinished, Totals, DETAIL_TYPE, SOURCE};

/// Store requests in flight at once while reading results and deleting chunks.
const IN_FLIGHT: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
    pub export_id: String,
    /// Why the export stopped, when it did.
    #[serde(default)]
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub error_type: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every valid profile is in its list.
    Succeeded,
    /// Some contacts were sent, others were refused by Autopilot or not sent.
    PartiallySucceeded,
    Failed,
}

/// How the rows of a segment (or of all segments) ended. `rows_read` equals the sum of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rows_read: u64,
    /// Contacts Autopilot accepted: `added + updated`.
    pub sent: u64,
    pub added: u64,
    pub updated: u64,
    /// Contacts as the last export left them: not sent.
    pub unchanged: u64,
    /// Members this connector had added who left the segment, taken off the list.
    pub removed: u64,
    pub invalid: u64,
    pub invalid_by_reason: BTreeMap<String, u64>,
    pub duplicates: u64,
    pub rejected: u64,
    pub rejected_by_message: BTreeMap<String, u64>,
    pub unsent: u64,
}

impl Counts {
    /// Whether every row is in exactly one bucket.
    pub fn adds_up(&self) -> bool {
        self.rows_read
            == self.sent
                + self.unchanged
                + self.invalid
                + self.duplicates
                + self.rejected
                + self.unsent
    }

    fn add(&mut self, other: &Counts) {
        self.rows_read += other.rows_read;
        self.sent += other.sent;
        self.added += other.added;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.removed += other.removed;
        self.invalid += other.invalid;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.unsent += other.unsent;
        for (k, v) in &other.invalid_by_reason {
            *self.invalid_by_reason.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.rejected_by_message {
            *self.rejected_by_message.entry(k.clone()).or_default() += v;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentReport {
    pub name: String,
    pub list_id: String,
    pub list_created: bool,
    #[serde(flatten)]
    pub counts: Counts,
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub destination_id: String,
    pub export_id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// What started the export; unknown when it failed before its plan was written, or for
    /// reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: DateTime<Utc>,
    pub duration_seconds: f64,
    pub requests_per_second: f64,
    /// ⌈contacts/100⌉ / rate: the least time Autopilot's rate limit allows for this export.
    pub rate_limit_floor_seconds: f64,
    pub distinct_profiles: u64,
    pub segments: Vec<SegmentReport>,
    pub totals: Counts,
    /// Where the row-by-row list of refused rows is, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_file: Option<String>,
}

/// Small by design: it travels through the state machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub status: Status,
    pub report_key: String,
    pub sent: u64,
    pub failure: Option<Failure>,
    /// The detail of the "Export Finished" event the state machine puts on EventBridge.
    pub event: ExportFinished,
}

pub async fn run(mut input: Input, deps: &Deps) -> Result<Output, JobError> {
    if let Some(failure) = &mut input.failure {
        failure.message = readable_cause(&failure.message);
    }
    let store = deps.store.as_ref();
    let (dest, export) = (&input.destination_id, &input.export_id);
    let plan: Option<Plan> = get_json(store, &keys::plan(dest, export)).await?;
    let outcomes = chunk_outcomes(store, dest, export).await?;
    let results: Vec<ChunkResult> = outcomes.iter().map(|o| o.result.clone()).collect();
    let finished_at = Utc::now();
    let mut report = build_report(&input, plan.as_ref(), &results, finished_at);
    report.rejected_file = rejected::write(store, plan.as_ref(), dest, export, &results).await?;
    let report_key = keys::report(dest, export);
    put_json(store, &report_key, &report).await?;
    let candidate = baseline::candidate_key(dest, export);
    if let (Some(plan), Some(next)) = (&plan, get_json::<Baseline>(store, &candidate).await?) {
        let old = baseline::load(store, dest).await?;
        let updated = if report.failure.is_none() {
            confirmed(next, old.as_ref(), plan, &results)
        } else {
            let landed = ledger::landed(store, plan, &outcomes).await?;
            let named: Vec<_> = plan
                .segments
                .iter()
                .map(|s| s.name.clone())
                .zip(landed)
                .collect();
            ledger::record(old, &next, &named)
        };
        baseline::save(store, dest, &updated).await?;
    }
    store.delete(&candidate).await?;
    delete_all(store, &keys::partial_dir(dest, export)).await?;
    if let Some(plan) = &plan {
        futures::stream::iter(0..plan.chunks.len() as u32)
            .map(|number| async move { store.delete(&keys::chunk(dest, export, number)).await })
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<()>()
            .await?;
        rejected::forget_parts(store, plan, dest, export).await?;
    }
    super::lock::release(deps, dest, export).await?;
    tracing::info!(destination = %dest, export = %export, status = ?report.status, sent = report.totals.sent, "export finished");
    let name = crate::destination::load(store, dest)
        .await
        .map_or_else(|_| dest.to_string(), |d| d.display_name);
    Ok(Output {
        event: ExportFinished::of(&report, &name, &report_key),
        status: report.status,
        report_key,
        sent: report.totals.sent,
        failure: report.failure,
    })
}

/// Every chunk that did something: finished ones with their result, those under way with the
/// progress they stored. Up to 1,500 small objects: read a few at a time, not in turn.
async fn chunk_outcomes(
    store: &dyn crate::store::ObjectStore,
    dest: &str,
    export: &str,
) -> Result<Vec<ChunkOutcome>, JobError> {
    let finished: Vec<ChunkOutcome> =
        futures::stream::iter(store.list(&keys::results_dir(dest, export)).await?)
            .map(|key| async move { get_json::<ChunkResult>(store, &key).await })
            .buffered(IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .map(|result| ChunkOutcome { result, done: None })
            .collect();
    let mut outcomes = finished;
    let have: std::collections::HashSet<u32> = outcomes.iter().map(|o| o.result.chunk).collect();
    for key in store.list(&keys::partial_dir(dest, export)).await? {
        let Some(partial) = get_json::<Partial>(store, &key).await? else {
            continue;
        };
        if have.contains(&partial.result.chunk) {
            continue;
        }
        let done = partial.done.clone();
        outcomes.push(ChunkOutcome {
            result: partial.result,
            done: Some(done),
        });
    }
    Ok(outcomes)
}

async fn delete_all(store: &dyn crate::store::ObjectStore, prefix: &str) -> Result<(), JobError> {
    futures::stream::iter(store.list(prefix).await?)
        .map(|key| async move { store.delete(&key).await })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    Ok(())
}

/// A Step Functions error cause is the function's JSON error report; keep only its message.
fn readable_cause(cause: &str) -> String {
    serde_json::from_str::<serde_json::Value>(cause)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| cause.to_string())
}

/// The candidate baseline, less what Autopilot refused: a refused contact keeps the state it had
/// (or none), so the next export sends it again.
fn confirmed(
    mut next: Baseline,
    old: Option<&Baseline>,
    plan: &Plan,
    results: &[ChunkResult],
) -> Baseline {
    for result in results {
        let Some(name) = plan.segments.get(result.segment).map(|s| &s.name) else {
            continue;
        };
        let before = old.and_then(|o| o.segments.get(name));
        let Some(segment) = next.segments.get_mut(name) else {
            continue;
        };
        for rejected in &result.rejected {
            let key = email::dedupe_key(&rejected.email);
            match before
                .filter(|b| b.list_id == segment.list_id)
                .and_then(|b| b.contacts.get(&key))
            {
                Some(fp) => segment.contacts.insert(key, *fp),
                None => segment.contacts.remove(&key),
            };
        }
    }
    next
}

fn build_report(
    input: &Input,
    plan: Option<&Plan>,
    results: &[ChunkResult],
    finished_at: DateTime<Utc>,
) -> Report {
    let mut segments = Vec::new();
    let mut totals = Counts::default();
    let mut to_send = 0;
    let mut removals_pending = 0;
    if let Some(plan) = plan {
        for (index, segment) in plan.segments.iter().enumerate() {
            let mut counts = Counts {
                rows_read: segment.rows_read,
                unchanged: segment.unchanged,
                invalid: segment.invalid.values().sum(),
                invalid_by_reason: segment.invalid.clone(),
                duplicates: segment.duplicates,
                ..Counts::default()
            };
            let mut accounted = 0;
            for result in results.iter().filter(|r| r.segment == index) {
                match result.kind {
                    ChunkKind::Add => counts.added += result.sent,
                    ChunkKind::Update => counts.updated += result.sent,
                    ChunkKind::Remove => counts.removed += result.removed,
                }
                counts.sent += result.sent;
                counts.rejected += result.rejected.len() as u64;
                for r in &result.rejected {
                    *counts
                        .rejected_by_message
                        .entry(r.message.clone())
                        .or_default() += 1;
                }
                accounted += result.sent + result.rejected.len() as u64;
            }
            counts.unsent = segment.contacts.saturating_sub(accounted);
            removals_pending += segment.removals.saturating_sub(counts.removed);
            to_send += segment.contacts;
            totals.add(&counts);
            segments.push(SegmentReport {
                name: segment.name.clone(),
                list_id: segment.list_id.clone(),
                list_created: segment.list_created,
                counts,
            });
        }
    }
    let failure = input.failure.clone().or_else(|| {
        (plan.is_some() && (totals.unsent > 0 || removals_pending > 0)).then(|| Failure {
            error_type: "Incomplete".into(),
            message: format!(
                "{} contacts were not sent and {removals_pending} members not removed: run the export again to finish",
                totals.unsent
            ),
        })
    });
    let status = match (&failure, totals.sent, totals.rejected) {
        (None, _, 0) => Status::Succeeded,
        (None, _, _) => Status::PartiallySucceeded,
        (Some(_), 0, _) => Status::Failed,
        (Some(_), _, _) => Status::PartiallySucceeded,
    };
    let rate = plan.map_or(0.0, |p| p.requests_per_second);
    let removals: u64 = plan.map_or(0, |p| p.segments.iter().map(|s| s.removals).sum());
    let requests = to_send.div_ceil(crate::autopilot::MAX_CONTACTS_PER_BULK as u64) + removals;
    Report {
        destination_id: input.destination_id.clone(),
        export_id: input.export_id.clone(),
        status,
        failure,
        trigger: plan.map(|p| p.trigger),
        started_at: plan.map(|p| p.started_at),
        finished_at,
        duration_seconds: plan.map_or(0.0, |p| {
            (finished_at - p.started_at).num_milliseconds() as f64 / 1000.0
        }),
        requests_per_second: rate,
        rate_limit_floor_seconds: if rate > 0.0 {
            requests as f64 / rate
        } else {
            0.0
        },
        distinct_profiles: plan.map_or(0, |p| p.distinct_profiles),
        segments,
        totals,
        rejected_file: None,
    }
}
