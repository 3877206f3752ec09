//! `autopilot-export status DEST [EXPORT]`: where the running or interrupted export stands, else
//! the report of the given (or the latest) export.

use super::Context;
use crate::args::StatusArgs;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::app::exports::{self, Standing};
use shared::destination;

pub async fn run(ctx: &Context, args: StatusArgs) -> Result<Outcome, BoxError> {
    let destination = destination::load(ctx.deps.store.as_ref(), &args.dest).await?;
    let dest = destination.id.as_str();
    match exports::standing(&ctx.deps, dest, args.export_id.as_deref()).await? {
        Standing::Unfinished(held) => {
            let active = shared::local_lock::is_held(&ctx.data_dir, dest);
            output::unfinished(dest, &held.running, &held.progress, active, ctx.json)?;
        }
        Standing::Finished(report) => output::report(&report, &ctx.data_dir, ctx.json)?,
        Standing::NotExported if ctx.json => {
            let never = serde_json::json!({"destination_id": dest, "status": "not_exported"});
            println!("{never}");
        }
        Standing::NotExported => println!("{dest} has not been exported yet."),
    }
    Ok(Outcome::Done)
}
