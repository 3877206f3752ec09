//! The destination's verify lock, `state/{destination}/verification/running.json`: at most one
//! verification of a destination runs at a time. It names the verification holding it and what
//! it was asked; the verification's last step releases it.

use crate::app::launcher::VerifyRequest;
use crate::destination::keys;
use crate::store::get_json;
use crate::{Deps, JobError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The content of the verify lock: the verification holding it and what it was asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Holder {
    pub(super) verification_id: String,
    pub(super) started_at: DateTime<Utc>,
    pub(super) request: VerifyRequest,
}

/// Releases the destination's verify lock if verification `id` holds it.
pub async fn release(deps: &Deps, dest: &str, id: &str) -> Result<(), JobError> {
    let store = deps.store.as_ref();
    let key = keys::verifying(dest);
    if get_json::<Holder>(store, &key)
        .await?
        .is_some_and(|held| held.verification_id == id)
    {
        store.delete(&key).await?;
    }
    Ok(())
}
