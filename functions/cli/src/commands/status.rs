//! `autopilot-export status DEST [EXPORT]`: where the running or interrupted export stands, else
//! the report of the given (or the latest) export.

use super::Context;
use crate::args::StatusArgs;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::app::exports;
use shared::destination;
use shared::jobs::{lock as export_lock, progress};

pub async fn run(ctx: &Context, args: StatusArgs) -> Result<Outcome, BoxError> {
    let store = ctx.deps.store.as_ref();
    let destination = destination::load(store, &args.dest).await?;
    let dest = destination.id.as_str();
    if let Some(running) = export_lock::holder(&ctx.deps, dest).await? {
        if args.export_id.is_none() || args.export_id.as_deref() == Some(&running.export_id) {
            let progress = progress::of(store, dest, &running.export_id).await?;
            let active = shared::local_lock::is_held(&ctx.data_dir, dest);
            output::unfinished(dest, &running, &progress, active, ctx.json)?;
            return Ok(Outcome::Done);
        }
    }
    let export_id = match args.export_id {
        Some(id) => id,
        None => match exports::latest(&ctx.deps, dest).await? {
            Some(id) => id,
            None => {
                if ctx.json {
                    let never =
                        serde_json::json!({"destination_id": dest, "status": "not_exported"});
                    println!("{never}");
                } else {
                    println!("{dest} has not been exported yet.");
                }
                return Ok(Outcome::Done);
            }
        },
    };
    let report = exports::report(&ctx.deps, dest, &export_id).await?;
    output::report(&report, &ctx.data_dir, ctx.json)?;
    Ok(Outcome::Done)
}
