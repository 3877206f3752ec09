//! `autopilot-export export DEST --dry-run`: what an export would send and remove, without
//! writing anything.

use super::Context;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::{local_export, Deps};

pub async fn run(
    ctx: &Context,
    deps: &Deps,
    options: &local_export::Options,
) -> Result<Outcome, BoxError> {
    let preview = local_export::preview(deps, options).await?;
    output::preview(&preview, ctx.json)?;
    Ok(Outcome::Done)
}
