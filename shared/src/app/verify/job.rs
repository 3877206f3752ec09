//! A verification run in steps ([`step`]), each within a [`Budget`] of pages and time, so that a
//! list of any size is verified by invocations that each end well inside Lambda's 15 minutes.
//! Between steps the verification's record (`state/{destination}/verification/{id}.json`: the
//! cursor and counts of each list, later its checks and repair cursors) and the members each
//! step read (one object per step and list: ours by key hash, the others by a hash keyed with the
//! record's own key, which goes when the verification ends — no address of anyone who is not
//! ours) are in the store; the last step compares every list with the baseline, puts missing
//! members back when asked (again within budgets), writes the result into the record and releases
//! the destination's verify lock (`verifying`).
//!
//! A verification fails (its record says why, in words that hold no address and no key) when
//! the API cannot be read, when an export of the destination starts while it runs, or when an
//! export finished in between (the baseline it compares with changed).

use super::reading::{Budget, ListReading};
use super::seen::MemberHasher;
use super::{client, last_baseline, log, repair, rounded, ListCheck, Verified};
pub use crate::app::launcher::VerifyRequest;
use crate::destination::{self, keys};
use crate::jobs::finalize::Failure;
use crate::store::{delete_under, get_json, put_json};
use crate::{Deps, JobError};
use chrono::{DateTime, Utc};
use lists::{compare_lists, read_lists, repair_lists, same_baseline};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

mod lists;

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
    /// The key the members read who are not ours are hashed with, while it runs.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub member_key: String,
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
            lists_read: self.lists.iter().filter(|l| l.read.done).count(),
            pages: self.lists.iter().map(|l| l.read.pages).sum(),
            members: self.lists.iter().map(|l| l.read.members).sum(),
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
    let api = client(deps, &destination).await?;
    let (started, before) = (Instant::now(), api.stats().requests);
    if record.checks.is_empty() {
        let base = same_baseline(deps, &record).await?;
        if record.member_key.is_empty() {
            record.member_key = MemberHasher::new_key();
        }
        read_lists(deps, api.as_ref(), &mut record, &base, &mut budget).await?;
        if record.lists.iter().all(|l| l.read.done) {
            compare_lists(deps, &mut record, &base).await?;
        }
    }
    if !record.checks.is_empty() && record.repair {
        repair_lists(deps, api.as_ref(), &mut record, &mut budget).await?;
    }
    let finished = !record.checks.is_empty() && (!record.repair || record.repaired_all());
    let mut checks = Vec::new();
    if finished {
        checks = std::mem::take(&mut record.checks);
        repair::find_recreated(api.as_ref(), &mut checks).await?;
    }
    record.steps += 1;
    record.requests += api.stats().requests - before;
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
        message: crate::job_error::cause_message(message),
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
            member_key: String::new(),
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

/// Writes the verification's end, deletes what it read and releases the destination's lock.
async fn end(
    deps: &Deps,
    mut record: Verification,
    status: VerificationStatus,
) -> Result<Progress, JobError> {
    record.status = status;
    record.finished_at = Some(Utc::now());
    record.member_key.clear();
    let (dest, id) = (
        record.destination_id.clone(),
        record.verification_id.clone(),
    );
    save(deps, &record).await?;
    delete_under(deps.store.as_ref(), &keys::verification_parts(&dest, &id)).await?;
    super::verifying::release(deps, &dest, &id).await?;
    if let Some(verified) = &record.result {
        log(verified);
    }
    Ok(record.progress())
}
