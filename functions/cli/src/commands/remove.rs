//! `autopilot-export remove DEST`: deletes a destination, its key and its exports.

use super::Context;
use crate::args::RemoveArgs;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::app::audit::Action;
use shared::jobs::remove;

pub async fn run(ctx: &Context, args: RemoveArgs) -> Result<Outcome, BoxError> {
    let input = remove::Input {
        destination_id: args.dest,
    };
    let out = remove::run(input, &ctx.deps).await?;
    (ctx.record(Action::Remove, &out.destination_id, "", None)).await?;
    output::removed(&out, ctx.json)?;
    Ok(Outcome::Done)
}
