//! `upload_chunk`: sends one chunk through the audience port — its removals and contacts in the
//! requests the plan's [`Limits`] cut it into (Autopilot: a request per removal, 100 contacts a
//! request; paced, retried, refused contacts isolated) — and stores its result. A chunk whose
//! result exists is not sent again.
//!
//! Up to [`REQUESTS_IN_FLIGHT`] requests of a chunk are in flight at once; the destination's pacer
//! spaces their starts, so an answer that hangs holds one request, not the chunk's share of the
//! rate. After every answered request the chunk's progress is stored (`partial/{chunk}.json`:
//! which requests are done and what they did), so a run that fails, is killed, or stops at its
//! deadline (a Lambda function's time budget: no request starts after it, no retry waits past
//! it — a request still failing then is left for the next run — and the run answers
//! `done: false`) is carried on by the next run of the same input, which repeats at most the
//! requests that were in flight. Every write is an upsert by email, and a removal is done once
//! the member is gone, so a repeated request changes nothing.
//!
//! A chunk's contacts stay JSON text until their request is sent ([`sender`]), so the memory of a
//! chunk under way is its text and the requests in flight, however large the plan made chunks.

use super::plan::{ChunkFile, ChunkKind, Plan};
use super::{Deps, JobError};
use crate::audience_api::{Batch, Limits};
use crate::destination::{self, keys};
use crate::http_api::{deadline, ApiError};
use crate::store::{get_json, put_json};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

mod sender;

use sender::{Chunk, Sender};

/// Requests of one chunk in flight at once.
pub const REQUESTS_IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
    pub export_id: String,
    pub chunk: u32,
    /// This sender's share of the destination's rate; the destination's whole rate by default.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// No new request starts after this instant; set by the Lambda function from its time budget.
    #[serde(skip)]
    pub deadline: Option<tokio::time::Instant>,
    /// Told how many contacts (or removals) each answered request accounted for.
    #[serde(skip)]
    pub on_request: Option<OnRequest>,
}

/// A progress callback: contacts (or removals) one answered request accounted for.
#[derive(Clone)]
pub struct OnRequest(pub Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for OnRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnRequest")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub chunk: u32,
    /// `false` when the deadline came first: run the same input again to finish.
    pub done: bool,
    pub sent: u64,
    pub rejected: u64,
    pub removed: u64,
    /// Requests the API answered 429 during this run (for the throttling metric).
    #[serde(default)]
    pub throttled: u64,
}

/// `results/{chunk}.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkResult {
    pub chunk: u32,
    pub segment: usize,
    #[serde(default = "add_kind")]
    pub kind: ChunkKind,
    pub sent: u64,
    pub rejected: Vec<RejectedContact>,
    /// Members taken off the list (removal chunks).
    #[serde(default)]
    pub removed: u64,
}

fn add_kind() -> ChunkKind {
    ChunkKind::Add
}

/// `partial/{chunk}.json`: what an unfinished chunk has done so far.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Partial {
    pub result: ChunkResult,
    /// Requests answered, by their position in [`requests`].
    #[serde(default)]
    pub done: BTreeSet<u32>,
    /// Written by earlier versions: removals or contacts handled, in order.
    #[serde(default, skip_serializing)]
    next: usize,
}

impl Partial {
    /// The requests this progress says are answered.
    pub fn done_requests(&self, requests: &[Request]) -> BTreeSet<u32> {
        let mut done = self.done.clone();
        let mut handled = 0;
        for (position, request) in requests.iter().enumerate() {
            handled += request.items();
            if handled <= self.next {
                done.insert(position as u32);
            }
        }
        done
    }
}

/// One request of a chunk: the positions of its removals and of its contacts.
pub type Request = Batch;

/// The requests a chunk is sent in at `limits` (its plan's): its removals, then its contacts.
/// Always the same for the same chunk, so stored progress can name them by position.
pub fn requests(chunk: &ChunkFile, limits: &Limits) -> Vec<Request> {
    limits.batches(chunk.removals.len(), chunk.contacts.len())
}

/// A contact the API refused, with its message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RejectedContact {
    pub row: u64,
    pub email: String,
    pub message: String,
    /// Left out by the API on purpose (Ortto: an address on its suppression list), not refused:
    /// the report's `suppressed` bucket.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let store = deps.store.as_ref();
    let (dest, export) = (&input.destination_id, &input.export_id);
    let result_key = keys::result(dest, export, input.chunk);
    if let Some(done) = get_json::<ChunkResult>(store, &result_key).await? {
        return Ok(summary(&done));
    }
    let destination = destination::load(store, dest).await?;
    let plan: Plan = get_json(store, &keys::plan(dest, export))
        .await?
        .ok_or_else(|| JobError::NotFound(format!("export {export} has no plan")))?;
    let chunk_key = keys::chunk(dest, export, input.chunk);
    let chunk: Chunk = get_json(store, &chunk_key).await?.ok_or_else(|| {
        JobError::NotFound(format!("export {export} has no chunk {}", input.chunk))
    })?;
    let audience = plan
        .segments
        .get(chunk.segment)
        .map(|s| s.audience_id.clone())
        .ok_or_else(|| {
            JobError::InvalidInput(format!("chunk {} names an unknown segment", input.chunk))
        })?;
    let rate = input
        .requests_per_second
        .unwrap_or(plan.requests_per_second);
    let api = deps
        .apis
        .for_destination(&destination, &deps.secrets, rate)
        .await?;
    let throttled_before = api.stats().throttled;
    let throttled = || api.stats().throttled.saturating_sub(throttled_before);

    let requests = plan
        .limits
        .batches(chunk.removals.len(), chunk.contacts.len());
    let partial_key = keys::partial(dest, export, input.chunk);
    let mut progress = match get_json::<Partial>(store, &partial_key).await? {
        Some(partial) => Partial {
            done: partial.done_requests(&requests),
            result: partial.result,
            next: 0,
        },
        None => Partial {
            result: ChunkResult {
                chunk: input.chunk,
                segment: chunk.segment,
                kind: chunk.kind,
                sent: 0,
                rejected: Vec::new(),
                removed: 0,
            },
            done: BTreeSet::new(),
            next: 0,
        },
    };
    let sender = Sender {
        api: api.as_ref(),
        chunk: &chunk,
        audience: &audience,
        key: &chunk_key,
    };
    // At least one request per run, so a chunk always moves on however short its budget.
    let started = AtomicBool::new(false);
    let pending: Vec<u32> = (0..requests.len() as u32)
        .filter(|n| !progress.done.contains(n))
        .collect();
    let mut answers = futures::stream::iter(pending)
        .map(|position| {
            let (sender, started) = (&sender, &started);
            let request = requests[position as usize].clone();
            async move {
                let late = input
                    .deadline
                    .is_some_and(|d| tokio::time::Instant::now() >= d);
                if late && started.load(Ordering::Relaxed) {
                    return (position, None);
                }
                started.store(true, Ordering::Relaxed);
                (position, Some(sender.send(request).await))
            }
        })
        .buffer_unordered(REQUESTS_IN_FLIGHT);
    let mut paused = false;
    // Polled within the deadline, the requests' retries stop before a wait that would reach it.
    while let Some((position, answer)) = deadline::within(input.deadline, answers.next()).await {
        let answered = match answer {
            None | Some(Err(JobError::Api(ApiError::DeadlineReached { .. }))) => {
                paused = true;
                continue;
            }
            Some(answer) => answer?,
        };
        let items = answered.items();
        answered.record(&mut progress.result);
        progress.done.insert(position);
        put_json(store, &partial_key, &progress).await?;
        if let Some(on_request) = &input.on_request {
            (on_request.0)(items);
        }
    }
    drop(answers);
    if paused {
        tracing::info!(
            chunk = input.chunk,
            done = progress.done.len(),
            "chunk paused at its deadline"
        );
        return Ok(Output {
            done: false,
            throttled: throttled(),
            ..summary(&progress.result)
        });
    }
    let mut result = progress.result;
    result.rejected.sort_by_key(|r| r.row);
    put_json(store, &result_key, &result).await?;
    store.delete(&partial_key).await?;
    tracing::info!(
        chunk = input.chunk,
        sent = result.sent,
        rejected = result.rejected.len(),
        removed = result.removed,
        "chunk done"
    );
    Ok(Output {
        throttled: throttled(),
        ..summary(&result)
    })
}

fn summary(result: &ChunkResult) -> Output {
    Output {
        chunk: result.chunk,
        done: true,
        sent: result.sent,
        rejected: result.rejected.len() as u64,
        removed: result.removed,
        throttled: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience_api::ApiKind;
    use crate::contact::Contact;

    fn chunk(removals: usize, contacts: usize) -> ChunkFile {
        ChunkFile {
            segment: 0,
            kind: ChunkKind::Add,
            rows: (0..contacts as u64).collect(),
            contacts: (0..contacts)
                .map(|i| Contact::new(&format!("p{i}@x.io")).unwrap())
                .collect(),
            removals: (0..removals).map(|i| format!("r{i}@x.io")).collect(),
        }
    }

    fn batch(removals: std::ops::Range<usize>, contacts: std::ops::Range<usize>) -> Request {
        Request { removals, contacts }
    }

    #[test]
    fn an_autopilot_chunk_is_sent_as_it_always_was() {
        // Stored progress names requests by position: a plan without limits (written before they
        // were recorded) is cut as Autopilot's always were.
        let limits = ApiKind::Autopilot.limits();
        let requests = requests(&chunk(2, 250), &limits);
        assert_eq!(
            requests,
            [
                batch(0..1, 0..0),
                batch(1..2, 0..0),
                batch(2..2, 0..100),
                batch(2..2, 100..200),
                batch(2..2, 200..250),
            ]
        );
        assert!(super::requests(&chunk(0, 0), &limits).is_empty());
    }

    #[test]
    fn progress_of_earlier_versions_counts_items_handled_in_order() {
        let requests = requests(&chunk(0, 250), &ApiKind::Autopilot.limits());
        let old: Partial = serde_json::from_value(serde_json::json!({
            "result": {"chunk": 0, "segment": 0, "kind": "add", "sent": 200, "rejected": []},
            "next": 200
        }))
        .unwrap();
        assert_eq!(old.done_requests(&requests), BTreeSet::from([0, 1]));
    }
}
