//! `remove`: deletes a destination's key and configuration; later exports of it fail clearly.
//! Reports of past exports stay where they are.

use super::{Deps, JobError};
use crate::destination;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub removed: bool,
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    deps.secrets.delete(&destination.id).await?;
    deps.clients.forget(&destination.id);
    deps.store
        .delete(&destination::keys::destination(&destination.id))
        .await?;
    deps.store
        .delete(&destination::keys::running(&destination.id))
        .await?;
    tracing::info!(destination = %destination.id, "destination removed");
    Ok(Output {
        destination_id: destination.id,
        removed: true,
    })
}
