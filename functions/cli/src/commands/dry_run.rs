//! `autopilot-export export DEST --dry-run`: what an export would send and remove, without
//! writing anything.

use super::Context;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::app::{exports, launcher::ExportRequest};
use shared::Deps;

pub async fn run(ctx: &Context, deps: &Deps, request: &ExportRequest) -> Result<Outcome, BoxError> {
    let preview = exports::preview(deps, request).await?;
    let destination = shared::destination::load(deps.store.as_ref(), &request.destination_id);
    output::preview(&preview, destination.await?.api.vocabulary(), ctx.json)?;
    Ok(Outcome::Done)
}
