//! `upload_chunk`: sends one chunk in bulk upserts of at most 100 (paced, retried, bisected), or
//! takes a removal chunk's members off the segment's list one request each, and stores its result. A chunk whose result exists is not sent again, so running this twice
//! changes nothing more. A chunk that fails stores no result and can simply be run again: every
//! write is an upsert by email. Given a deadline (a Lambda function's time budget), a chunk stops
//! between requests when the deadline has passed, stores its progress and answers `done: false`;
//! the next run of the same input carries on from there.

use super::plan::{ChunkFile, ChunkKind, Plan};
use super::{Deps, JobError};
use crate::autopilot::{AutopilotError, ContactBatch};
use crate::destination::{self, keys};
use crate::store::{get_json, put_json};
use serde::{Deserialize, Serialize};

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
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub chunk: u32,
    /// `false` when the deadline came first: run the same input again to finish.
    pub done: bool,
    pub sent: u64,
    pub rejected: u64,
    pub removed: u64,
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

/// `partial/{chunk}.json`: what a chunk stopped by its deadline had done.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Partial {
    result: ChunkResult,
    /// Removals or contacts already handled.
    next: usize,
}

/// A contact Autopilot refused, with its message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RejectedContact {
    pub row: u64,
    pub email: String,
    pub message: String,
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let store = deps.store.as_ref();
    let result_key = keys::result(&input.destination_id, &input.export_id, input.chunk);
    if let Some(done) = get_json::<ChunkResult>(store, &result_key).await? {
        return Ok(summary(&done));
    }
    let destination = destination::load(store, &input.destination_id).await?;
    let plan: Plan = get_json(store, &keys::plan(&input.destination_id, &input.export_id))
        .await?
        .ok_or_else(|| JobError::NotFound(format!("export {} has no plan", input.export_id)))?;
    let chunk: ChunkFile = get_json(
        store,
        &keys::chunk(&input.destination_id, &input.export_id, input.chunk),
    )
    .await?
    .ok_or_else(|| {
        JobError::NotFound(format!(
            "export {} has no chunk {}",
            input.export_id, input.chunk
        ))
    })?;
    let list_id = plan
        .segments
        .get(chunk.segment)
        .map(|s| s.list_id.clone())
        .ok_or_else(|| {
            JobError::InvalidInput(format!("chunk {} names an unknown segment", input.chunk))
        })?;
    let rate = input
        .requests_per_second
        .unwrap_or(plan.requests_per_second);
    let client = deps
        .clients
        .for_destination(&destination, &deps.secrets, rate)
        .await?;

    let partial_key = keys::partial(&input.destination_id, &input.export_id, input.chunk);
    let (mut result, mut next) = match get_json::<Partial>(store, &partial_key).await? {
        Some(partial) => (partial.result, partial.next),
        None => (
            ChunkResult {
                chunk: input.chunk,
                segment: chunk.segment,
                kind: chunk.kind,
                sent: 0,
                rejected: Vec::new(),
                removed: 0,
            },
            0,
        ),
    };
    // At least one request per run, so a chunk always moves on however short its budget.
    let mut progressed = false;
    let out_of_time = |progressed: bool| {
        progressed
            && input
                .deadline
                .is_some_and(|d| tokio::time::Instant::now() >= d)
    };
    for email in chunk.removals.iter().skip(next) {
        if out_of_time(progressed) {
            return pause(store, &partial_key, result, next).await;
        }
        progressed = true;
        // Already gone (taken off by hand, or the contact deleted) is as good as removed.
        match client.remove_from_list(&list_id, email).await {
            Ok(()) | Err(AutopilotError::NotFound { .. }) => result.removed += 1,
            Err(e) => return Err(e.into()),
        }
        next += 1;
    }
    let skip = next.saturating_sub(chunk.removals.len());
    let contacts: Vec<_> = chunk
        .contacts
        .into_iter()
        .skip(skip)
        .map(|c| c.with_list(&list_id))
        .collect();
    let mut offset = skip;
    for batch in ContactBatch::split(contacts) {
        if out_of_time(progressed) {
            let done = chunk.removals.len() + offset;
            return pause(store, &partial_key, result, done).await;
        }
        progressed = true;
        let outcome = client.upsert_contacts(&batch).await?;
        result.sent += outcome.written as u64;
        for rejection in outcome.rejected {
            let index = offset + rejection.index;
            result.rejected.push(RejectedContact {
                row: chunk.rows.get(index).copied().unwrap_or_default(),
                email: batch.contacts()[rejection.index].email().to_string(),
                message: rejection.message,
            });
        }
        offset += batch.len();
    }
    put_json(store, &result_key, &result).await?;
    store.delete(&partial_key).await?;
    tracing::info!(
        chunk = input.chunk,
        sent = result.sent,
        rejected = result.rejected.len(),
        removed = result.removed,
        "chunk done"
    );
    Ok(summary(&result))
}

/// Stores a chunk's progress and says it is not done.
async fn pause(
    store: &dyn crate::store::ObjectStore,
    key: &str,
    result: ChunkResult,
    next: usize,
) -> Result<Output, JobError> {
    let output = Output {
        done: false,
        ..summary(&result)
    };
    put_json(store, key, &Partial { result, next }).await?;
    tracing::info!(chunk = output.chunk, next, "chunk paused at its deadline");
    Ok(output)
}

fn summary(result: &ChunkResult) -> Output {
    Output {
        chunk: result.chunk,
        done: true,
        sent: result.sent,
        rejected: result.rejected.len() as u64,
        removed: result.removed,
    }
}
