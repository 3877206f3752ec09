//! `autopilot-export destinations`: the connected destinations.

use super::Context;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::app::destinations;

pub async fn run(ctx: &Context) -> Result<Outcome, BoxError> {
    output::destinations(&destinations::list(&ctx.deps).await?, ctx.json)?;
    Ok(Outcome::Done)
}
