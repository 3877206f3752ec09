//! At most one export per destination at a time: `exports/{destination}/running.json` is created
//! only if absent, and released by `finalize` ([`release`]). A lock left by an export that already has its report
//! is stale and taken over.

use super::{Deps, JobError};
use crate::destination::keys;
use crate::store::get_json;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// The content of the lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Running {
    pub export_id: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
}

/// Takes the destination's lock for `export_id` (again, if it holds it already).
pub async fn acquire(deps: &Deps, destination: &str, export_id: &str) -> Result<(), JobError> {
    let store = deps.store.as_ref();
    let key = keys::running(destination);
    let mine = Running {
        export_id: export_id.to_string(),
        started_at: chrono::Utc::now(),
    };
    let body = Bytes::from(serde_json::to_vec(&mine).unwrap_or_default());
    for _ in 0..2 {
        if store.put_if_absent(&key, body.clone()).await? {
            return Ok(());
        }
        match get_json::<Running>(store, &key).await? {
            Some(held) if held.export_id == export_id => return Ok(()),
            Some(held)
                if store
                    .exists(&keys::report(destination, &held.export_id))
                    .await? =>
            {
                store.delete(&key).await?;
            }
            Some(held) => {
                return Err(JobError::Conflict(format!(
                    "export {} of '{destination}' has been running since {}: wait for it to finish",
                    held.export_id, held.started_at
                )))
            }
            None => {}
        }
    }
    Err(JobError::Conflict(format!(
        "'{destination}' is being exported by another run"
    )))
}

/// Releases the destination's lock if `export_id` holds it.
pub async fn release(deps: &Deps, destination: &str, export_id: &str) -> Result<(), JobError> {
    let store = deps.store.as_ref();
    let key = keys::running(destination);
    if get_json::<Running>(store, &key)
        .await?
        .is_some_and(|held| held.export_id == export_id)
    {
        store.delete(&key).await?;
    }
    Ok(())
}

/// The export holding the destination's lock, if one is running.
pub async fn holder(deps: &Deps, destination: &str) -> Result<Option<Running>, JobError> {
    let store = deps.store.as_ref();
    match get_json::<Running>(store, &keys::running(destination)).await? {
        Some(held)
            if !store
                .exists(&keys::report(destination, &held.export_id))
                .await? =>
        {
            Ok(Some(held))
        }
        _ => Ok(None),
    }
}
