//! `finalize`: the export's report. Per segment it accounts for every row read — sent (added or
//! updated), unchanged since the last export, invalid (by reason), duplicate, rejected by the API
//! (by message) or unsent (a chunk that did not finish) — and the members taken off the list. It
//! writes `report.json` and `rejected.csv` beside it, commits the new baseline when nothing failed
//! (and otherwise records in the old one exactly what landed, [`super::ledger`]; an export whose
//! plan changed nothing leaves the baseline as it was), deletes the
//! chunk objects and the plan's parts of refused rows (copied into `rejected.csv`) and releases
//! the destination for the next export. Before the report is written, a few pages of each list
//! are read back against the baseline just saved (the light verify, [`sample`]; never the
//! export's failure) and the export's AWS cost is estimated ([`crate::cost`]).

use super::ledger::{self, ChunkOutcome};
use super::plan::{Plan, Trigger};
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

mod build;
mod finished;
mod light_verify;
mod rejected;

pub use finished::{ExportFinished, Totals, DETAIL_TYPE, SOURCE};
pub use light_verify::{LightVerify, SampledList};

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
    /// Some contacts were sent, others were refused by the API or not sent.
    PartiallySucceeded,
    Failed,
}

/// How the rows of a segment (or of all segments) ended. `rows_read` equals the sum of the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub rows_read: u64,
    /// Contacts the API accepted: `added + updated` (on Ortto, `added` counts people new to the
    /// segment's tag, not people Ortto created).
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
    /// Contacts the API left out on purpose (Ortto: addresses on its suppression list, people
    /// an update-only destination does not create): neither written nor refused.
    #[serde(default)]
    pub suppressed: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suppressed_by_message: BTreeMap<String, u64>,
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
                + self.suppressed
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
        self.suppressed += other.suppressed;
        self.unsent += other.unsent;
        for (k, v) in &other.invalid_by_reason {
            *self.invalid_by_reason.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.rejected_by_message {
            *self.rejected_by_message.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.suppressed_by_message {
            *self.suppressed_by_message.entry(k.clone()).or_default() += v;
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
    /// The API the destination speaks (Autopilot's for reports written before there was a
    /// choice), for the report's words.
    #[serde(default)]
    pub api: crate::audience_api::ApiKind,
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
    /// The export's requests by the API's cost model (Autopilot: ⌈contacts/100⌉ + removals) /
    /// rate: the least time the API's rate limit allows for this export.
    pub rate_limit_floor_seconds: f64,
    pub distinct_profiles: u64,
    pub segments: Vec<SegmentReport>,
    pub totals: Counts,
    /// Where the row-by-row list of refused rows is, when there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_file: Option<String>,
    /// Requests to the API, as the plan's cost model counts them (Autopilot: one per 100 contacts
    /// sent and one per member removed), as planned
    /// (retries and bisection not counted), plus the light verify's.
    #[serde(default)]
    pub requests: u64,
    /// Chunks the export was sent in (on AWS, one upload invocation each).
    #[serde(default)]
    pub chunks: u64,
    /// Lists the plan created.
    #[serde(default)]
    pub lists_created: u64,
    /// A few pages of each list read back after the export ([`sample`]); none when the
    /// destination reads none or the export failed before its plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light_verify: Option<LightVerify>,
    /// The export's estimated AWS cost ([`crate::cost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::Cost>,
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
        failure.message = crate::job_error::cause_message(&failure.message);
    }
    let store = deps.store.as_ref();
    let (dest, export) = (&input.destination_id, &input.export_id);
    let plan: Option<Plan> = get_json(store, &keys::plan(dest, export)).await?;
    let outcomes = chunk_outcomes(store, dest, export).await?;
    let results: Vec<&ChunkResult> = outcomes.iter().map(|o| &o.result).collect();
    let finished_at = Utc::now();
    let mut report = build::report(&input, plan.as_ref(), &results, finished_at);
    // A destination that cannot be read (removed while it exported, or the store refused) gets
    // no light verify (its report and refusals name the API the plan recorded); the log says
    // why, since the report then says nothing of it.
    let destination = match crate::destination::load(store, dest).await {
        Ok(destination) => Some(destination),
        Err(e) => {
            tracing::warn!(error = %e, "no light verify: the destination could not be read");
            None
        }
    };
    if let Some(destination) = &destination {
        report.api = destination.api;
    }
    report.rejected_file = rejected::write(
        store,
        report.api.vocabulary(),
        plan.as_ref(),
        dest,
        export,
        &results,
    )
    .await?;
    let committed = commit(store, &report, plan.as_ref(), &outcomes, &results).await?;
    report.light_verify = light_verify(
        deps,
        &report,
        destination.as_ref(),
        plan.as_ref(),
        committed,
    )
    .await?;
    build::costs(&mut report);
    let report_key = keys::report(dest, export);
    put_json(store, &report_key, &report).await?;
    store.delete(&baseline::candidate_key(dest, export)).await?;
    crate::store::delete_under(store, &keys::partial_dir(dest, export)).await?;
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
    let name = destination.map_or_else(|| dest.to_string(), |d| d.display_name);
    Ok(Output {
        event: ExportFinished::of(&report, &name, &report_key),
        status: report.status,
        report_key,
        sent: report.totals.sent,
        failure: report.failure,
    })
}

/// Commits the candidate baseline when nothing failed, and otherwise records in the old one
/// exactly what landed; the baseline saved, if any.
async fn commit(
    store: &dyn crate::store::ObjectStore,
    report: &Report,
    plan: Option<&Plan>,
    outcomes: &[ChunkOutcome],
    results: &[&ChunkResult],
) -> Result<Option<Baseline>, JobError> {
    let dest = &report.destination_id;
    let candidate = baseline::candidate_key(dest, &report.export_id);
    let Some(plan) = plan.filter(|plan| !plan.baseline_unchanged) else {
        // No plan, or one that left the baseline as it was: nothing to commit.
        return Ok(None);
    };
    let bytes = match store.get(&candidate).await {
        Ok(bytes) => bytes,
        Err(crate::store::StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    // The parser's words may quote the document: they are not repeated.
    let next: Baseline = serde_json::from_slice(&bytes)
        .map_err(|_| JobError::internal("this export's candidate baseline is damaged"))?;
    if report.failure.is_none() && results.iter().all(|r| r.rejected.is_empty()) {
        // The API took everything: the candidate is the baseline, stored as it was written.
        store.put(&baseline::key(dest), bytes).await?;
        return Ok(Some(next));
    }
    let old = baseline::load(store, dest).await?;
    let updated = if report.failure.is_none() {
        confirmed(next, old.as_ref(), plan, results)
    } else {
        let landed = ledger::landed(store, plan, outcomes).await?;
        let named: Vec<_> = plan
            .segments
            .iter()
            .map(|s| s.name.clone())
            .zip(landed)
            .collect();
        ledger::record(old, &next, &named)
    };
    baseline::save(store, dest, &updated).await?;
    Ok(Some(updated))
}

/// The light verify of the export's lists against the baseline it left ([`sample`]); an export
/// stopped by the API itself (its key refused, no answers) does not read it again.
async fn light_verify(
    deps: &Deps,
    report: &Report,
    destination: Option<&crate::destination::Destination>,
    plan: Option<&Plan>,
    committed: Option<Baseline>,
) -> Result<Option<LightVerify>, JobError> {
    if destination.is_none_or(|d| d.verify_pages == 0) || plan.is_none() {
        return Ok(None);
    }
    let base = match committed {
        Some(base) => Some(base),
        None => baseline::load(deps.store.as_ref(), &report.destination_id).await?,
    };
    let stopped = report
        .failure
        .as_ref()
        .map(|f| f.error_type.as_str())
        .filter(|kind| ["Unauthorized", "Throttled", "Transient"].contains(kind));
    Ok(light_verify::run(deps, destination, plan, base.as_ref(), stopped).await)
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

/// The candidate baseline, less what the API refused: a refused contact keeps the state it had
/// (or none), so the next export sends it again.
fn confirmed(
    mut next: Baseline,
    old: Option<&Baseline>,
    plan: &Plan,
    results: &[&ChunkResult],
) -> Baseline {
    for result in results {
        let Some(name) = plan.segments.get(result.segment).map(|s| &s.name) else {
            continue;
        };
        let before = old.and_then(|o| o.segments.get(name));
        let Some(segment) = next.segments.get_mut(name) else {
            continue;
        };
        if result.rejected.is_empty() {
            continue;
        }
        let mut contacts = segment.contacts.to_map();
        for rejected in &result.rejected {
            let key = email::dedupe_key(&rejected.email);
            match before
                .filter(|b| b.audience_id == segment.audience_id)
                .and_then(|b| b.contacts.get(&key))
            {
                Some(fp) => contacts.insert(key, fp),
                None => contacts.remove(&key),
            };
        }
        segment.contacts = contacts.into();
    }
    next
}
