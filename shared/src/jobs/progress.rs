//! How far an unfinished export has got, from its plan and the chunk results stored so far: what
//! `status` (command and API) shows while an export runs, and what a resumed export skips.

use super::plan::Plan;
use super::upload_chunk::Partial;
use super::JobError;
use crate::destination::keys;
use crate::store::{get_json, ObjectStore};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkProgress {
    /// The plan is written; `false` while the snapshots are still being read.
    pub planned: bool,
    pub chunks: usize,
    pub chunks_done: usize,
    /// Contacts to send plus members to take off lists.
    pub contacts: u64,
    pub contacts_done: u64,
    /// Chunks still to upload, with their contact counts.
    #[serde(skip)]
    pub todo: Vec<(u32, u64)>,
}

/// The progress of an export whose plan is loaded.
pub async fn of_plan(store: &dyn ObjectStore, plan: &Plan) -> Result<ChunkProgress, JobError> {
    let (dest, export) = (plan.destination_id.as_str(), plan.export_id.as_str());
    let done: HashSet<String> = store
        .list(&keys::results_dir(dest, export))
        .await?
        .into_iter()
        .collect();
    // Chunks under way store what their answered requests did; only those few are read.
    let partly: HashSet<String> = store
        .list(&keys::partial_dir(dest, export))
        .await?
        .into_iter()
        .collect();
    let mut progress = ChunkProgress {
        planned: true,
        chunks: plan.chunks.len(),
        ..ChunkProgress::default()
    };
    for (number, chunk) in plan.chunks.iter().enumerate() {
        let contacts = u64::from(chunk.contacts);
        progress.contacts += contacts;
        if done.contains(&keys::result(dest, export, number as u32)) {
            progress.chunks_done += 1;
            progress.contacts_done += contacts;
        } else {
            let partial_key = keys::partial(dest, export, number as u32);
            if partly.contains(&partial_key) {
                if let Some(partial) = get_json::<Partial>(store, &partial_key).await? {
                    let r = &partial.result;
                    progress.contacts_done += r.sent + r.rejected.len() as u64 + r.removed;
                }
            }
            progress.todo.push((number as u32, contacts));
        }
    }
    Ok(progress)
}

/// The progress of an export; not planned yet when its plan is not written.
pub async fn of(
    store: &dyn ObjectStore,
    destination_id: &str,
    export_id: &str,
) -> Result<ChunkProgress, JobError> {
    match get_json::<Plan>(store, &keys::plan(destination_id, export_id)).await? {
        Some(plan) => of_plan(store, &plan).await,
        None => Ok(ChunkProgress::default()),
    }
}
