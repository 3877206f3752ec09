//! A verification run in steps ([`step`]), each within a [`Budget`] of pages and time, so that a
//! list of any size is verified by invocations that each end well inside Lambda's 15 minutes.
//! Between steps the verification's record (`state/{destination}/verification/{id}.json`: the
//! bookmark and counts of each list, later its checks and repair cursors) and the members each
//! step read (one object per step and list) are in the store; the last step compares every list
//! with the baseline exactly as [`super::run`] does, puts missing members back when asked (again
//! within budgets), writes the result into the record and releases the destination's verify lock.
//!
//! A verification fails (its record says why, in words that hold no address and no key) when
//! Autopilot cannot be read, when an export of the destination starts while it runs, or when an
//! export finished in between (the baseline it compares with changed).

use super::reading::{self, Budget, ListReading};
use super::{client, last_baseline, log, repair, rounded, ListCheck, Verified};
use crate::autopilot::api::MemberStatus;
use crate::autopilot::ListLimits;
use crate::destination::{self, keys};
use crate::jobs::finalize::Failure;
use crate::store::{get_json, put_json};
use crate::{Deps, JobError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// What starts a verification: the execution input on AWS (with `"job": "verify"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    pub destination_id: String,
    /// Put missing members back on their lists.
    #[serde(default)]
    pub repair: bool,
    /// Seconds one step may read for (default [`DEFAULT_STEP_SECONDS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_seconds: Option<u64>,
    /// Requests one step may make at most (none by default: time alone bounds a step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_pages: Option<u64>,
}

/// A step reads for ten minutes: with a page's wait at the rate, it ends well inside Lambda's 15.
pub const DEFAULT_STEP_SECONDS: u64 = 600;

impl VerifyRequest {
    /// The budget of one step of this verification.
    pub fn budget(&self) -> Budget {
        let seconds = self.step_seconds.unwrap_or(DEFAULT_STEP_SECONDS);
        Budget::new(self.step_pages, Duration::from_secs(seconds))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Running,
    Succeeded,
    Failed,
}

/// A verification as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub verification_id: String,
    pub destination_id: String,
    pub repair: bool,
    pub status: VerificationStatus,
    pub started_at: DateTime<Utc>,
    #[serde(default)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The export whose baseline the lists are compared with.
    pub export_id: String,
    /// Each list of the baseline, in its order: how far it was read.
    pub lists: Vec<ListReading>,
    /// Once every list is read: each one's check (repairs counted in as they are made).
    #[serde(default)]
    pub checks: Vec<ListCheck>,
    /// Per list, how many of its missing members a repair went through.
    #[serde(default)]
    pub repaired_through: Vec<u64>,
    /// Steps run, and the requests and seconds they took.
    pub steps: u64,
    pub requests: u64,
    pub seconds: f64,
    #[serde(default)]
    pub result: Option<Verified>,
    #[serde(default)]
    pub failure: Option<Failure>,
}

/// How far a verification got: the step's answer (small: it travels in the state machine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub done: bool,
    pub status: VerificationStatus,
    pub lists: usize,
    pub lists_read: usize,
    pub pages: u64,
    pub members: u64,
    pub steps: u64,
}

impl Verification {
    /// Whether a repair went through every missing member of every list still there.
    fn repaired_all(&self) -> bool {
        (self.checks.iter().zip(&self.repaired_through))
            .all(|(c, through)| *through >= c.missing || c.list_gone)
    }

    pub fn progress(&self) -> Progress {
        Progress {
            done: self.status != VerificationStatus::Running,
            status: self.status,
            lists: self.lists.len(),
            lists_read: self.lists.iter().filter(|l| l.done).count(),
            pages: self.lists.iter().map(|l| l.pages).sum(),
            members: self.lists.iter().map(|l| l.members).sum(),
            steps: self.steps,
        }
    }
}

/// The record of verification `id` of `destination`, if there is one.
pub async fn load(
    deps: &Deps,
    destination: &str,
    id: &str,
) -> Result<Option<Verification>, JobError> {
    Ok(get_json(deps.store.as_ref(), &keys::verification(destination, id)).await?)
}

async fn save(deps: &Deps, record: &Verification) -> Result<(), JobError> {
    let key = keys::verification(&record.destination_id, &record.verification_id);
    Ok(put_json(deps.store.as_ref(), &key, record).await?)
}

/// Runs one step of verification `id` within `budget`: reads on from where the last step
/// stopped, and once every list is read compares, repairs and writes the result. A finished
/// verification is answered as it is.
pub async fn step(
    deps: &Deps,
    request: &VerifyRequest,
    id: &str,
    mut budget: Budget,
) -> Result<Progress, JobError> {
    let destination = destination::load(deps.store.as_ref(), &request.destination_id).await?;
    let dest = destination.id.as_str();
    let mut record = match load(deps, dest, id).await? {
        Some(record) if record.status != VerificationStatus::Running => {
            return Ok(record.progress())
        }
        Some(record) => record,
        None => begin(deps, dest, request, id).await?,
    };
    super::refuse_while_exporting(deps, dest, "verify again").await?;
    let client = client(deps, &destination).await?;
    let (started, before) = (Instant::now(), client.stats().requests);
    read_lists(deps, &client, &mut record, &mut budget).await?;
    if record.lists.iter().all(|l| l.done) && record.checks.is_empty() {
        compare_lists(deps, &mut record).await?;
    }
    if !record.checks.is_empty() && record.repair {
        repair_lists(deps, &client, &mut record, &mut budget).await?;
    }
    let finished = !record.checks.is_empty() && (!record.repair || record.repaired_all());
    let mut checks = Vec::new();
    if finished {
        checks = std::mem::take(&mut record.checks);
        repair::find_recreated(&client, &mut checks).await?;
    }
    record.steps += 1;
    record.requests += client.stats().requests - before;
    record.seconds = rounded(record.seconds + started.elapsed().as_secs_f64());
    if finished {
        record.result = Some(Verified {
            destination_id: dest.to_string(),
            export_id: record.export_id.clone(),
            lists: checks,
            requests: record.requests,
            seconds: record.seconds,
            requests_per_second: destination.requests_per_second,
            repair: record.repair,
        });
        return end(deps, record, VerificationStatus::Succeeded).await;
    }
    save(deps, &record).await?;
    Ok(record.progress())
}

/// Records that verification `id` of `destination` failed and why (an error's type and message,
/// as the state machine caught it), and releases the destination's verify lock.
pub async fn fail(
    deps: &Deps,
    destination: &str,
    id: &str,
    error_type: &str,
    message: &str,
) -> Result<Progress, JobError> {
    let record = match load(deps, destination, id).await? {
        Some(record) if record.status != VerificationStatus::Running => {
            return Ok(record.progress())
        }
        Some(record) => record,
        None => pending(destination, id),
    };
    let failure = Failure {
        error_type: error_type.to_string(),
        message: readable(message),
    };
    tracing::warn!(
        destination,
        verification = id,
        error_type,
        "verification failed"
    );
    end(
        deps,
        Verification {
            failure: Some(failure),
            ..record
        },
        VerificationStatus::Failed,
    )
    .await
}

/// A verification whose first step has not run yet.
pub fn pending(destination: &str, id: &str) -> Verification {
    Verification::new(destination, id, false, String::new(), Vec::new())
}

impl Verification {
    fn new(
        destination: &str,
        id: &str,
        repair: bool,
        export_id: String,
        lists: Vec<ListReading>,
    ) -> Self {
        Self {
            verification_id: id.to_string(),
            destination_id: destination.to_string(),
            repair,
            status: VerificationStatus::Running,
            started_at: Utc::now(),
            finished_at: None,
            export_id,
            lists,
            checks: Vec::new(),
            repaired_through: Vec::new(),
            steps: 0,
            requests: 0,
            seconds: 0.0,
            result: None,
            failure: None,
        }
    }
}

/// The record of a verification's first step: every list of the last export's baseline, unread.
async fn begin(
    deps: &Deps,
    dest: &str,
    request: &VerifyRequest,
    id: &str,
) -> Result<Verification, JobError> {
    let base = last_baseline(deps, dest).await?;
    let lists = (base.segments.iter())
        .map(|(segment, b)| ListReading::new(segment, b))
        .collect();
    Ok(Verification::new(
        dest,
        id,
        request.repair,
        base.export_id,
        lists,
    ))
}

/// Reads the lists on, in order, while the budget lasts; what each read is stored at once.
async fn read_lists(
    deps: &Deps,
    client: &crate::autopilot::AutopilotClient,
    record: &mut Verification,
    budget: &mut Budget,
) -> Result<(), JobError> {
    let (dest, id) = (&record.destination_id, &record.verification_id);
    for (i, list) in record.lists.iter_mut().enumerate() {
        if list.done {
            continue;
        }
        if !budget.left() {
            break;
        }
        let members = reading::read_pages(client, list, budget, ListLimits::default()).await?;
        if !members.is_empty() {
            let stored: Vec<(&str, bool)> = members
                .iter()
                .map(|m| (m.email.as_str(), m.unsubscribed))
                .collect();
            let key = keys::verification_members(dest, id, i, list.pages as u32);
            put_json(deps.store.as_ref(), &key, &stored).await?;
        }
    }
    Ok(())
}

/// Every list compared with the baseline (which must still be the one the verification began
/// with); the missing members of each kept for a repair, the members read deleted.
async fn compare_lists(deps: &Deps, record: &mut Verification) -> Result<(), JobError> {
    let dest = record.destination_id.clone();
    let base = last_baseline(deps, &dest).await?;
    if base.export_id != record.export_id {
        return Err(JobError::Conflict(format!(
            "export {} of '{dest}' finished while the lists were read: verify again",
            base.export_id
        )));
    }
    let store = deps.store.as_ref();
    let parts = keys::verification_parts(&dest, &record.verification_id);
    let mut found = store.list(&parts).await?;
    found.sort();
    for (i, list) in record.lists.iter().enumerate() {
        let Some(segment) = base.segments.get(&list.segment) else {
            return Err(JobError::internal(
                "the baseline lost a segment while verifying",
            ));
        };
        let prefix = keys::verification_list_members(&dest, &record.verification_id, i);
        let mut members = Vec::with_capacity(list.members as usize);
        for key in found.iter().filter(|k| k.starts_with(&prefix)) {
            let read: Vec<(String, bool)> = get_json(store, key).await?.unwrap_or_default();
            members.extend(read.into_iter().map(|(email, unsubscribed)| MemberStatus {
                email,
                unsubscribed,
            }));
        }
        let (mut check, missing) =
            repair::checked(list, segment, (!list.gone).then_some(members.as_slice()));
        (check.requests, check.seconds) = (list.requests, rounded(list.seconds));
        if record.repair && !missing.is_empty() {
            let key = keys::verification_missing(&dest, &record.verification_id, i);
            put_json(store, &key, &missing).await?;
        }
        record.checks.push(check);
    }
    record.repaired_through = vec![0; record.checks.len()];
    for key in found {
        store.delete(&key).await?;
    }
    Ok(())
}

/// Puts missing members back, list by list, from where the last step stopped.
async fn repair_lists(
    deps: &Deps,
    client: &crate::autopilot::AutopilotClient,
    record: &mut Verification,
    budget: &mut Budget,
) -> Result<(), JobError> {
    let (dest, id) = (&record.destination_id, &record.verification_id);
    for (i, check) in record.checks.iter_mut().enumerate() {
        let through = record.repaired_through[i];
        if check.list_gone || through >= check.missing || !budget.left() {
            continue;
        }
        let key = keys::verification_missing(dest, id, i);
        let missing: Vec<String> = get_json(deps.store.as_ref(), &key)
            .await?
            .unwrap_or_default();
        let rest = missing.get(through as usize..).unwrap_or_default();
        let (started, before) = (Instant::now(), client.stats().requests);
        let (done, failed) = repair::put_back(client, &check.list_id, rest, budget).await?;
        record.repaired_through[i] = through + done as u64;
        check.not_repaired += failed;
        check.repaired += done as u64 - failed;
        check.requests += client.stats().requests - before;
        check.seconds = rounded(check.seconds + started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Writes the verification's end, deletes what it read and releases the destination's lock.
async fn end(
    deps: &Deps,
    mut record: Verification,
    status: VerificationStatus,
) -> Result<Progress, JobError> {
    record.status = status;
    record.finished_at = Some(Utc::now());
    let (dest, id) = (
        record.destination_id.clone(),
        record.verification_id.clone(),
    );
    save(deps, &record).await?;
    let store = deps.store.as_ref();
    for key in store.list(&keys::verification_parts(&dest, &id)).await? {
        store.delete(&key).await?;
    }
    super::runs::release(deps, &dest, &id).await?;
    if let Some(verified) = &record.result {
        log(verified);
    }
    Ok(record.progress())
}

/// The message of a failure as the state machine catches it (a Lambda error's `Cause` is the
/// JSON of `errorType` and `errorMessage`).
fn readable(cause: &str) -> String {
    serde_json::from_str::<serde_json::Value>(cause)
        .ok()
        .and_then(|v| v.get("errorMessage")?.as_str().map(str::to_string))
        .unwrap_or_else(|| cause.to_string())
}
