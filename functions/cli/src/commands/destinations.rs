//! `autopilot-export destinations`: the connected destinations.

use super::Context;
use crate::failure::{BoxError, Outcome};
use crate::output;
use shared::destination::Destination;
use shared::store::{get_json, keys};

pub async fn run(ctx: &Context) -> Result<Outcome, BoxError> {
    let store = ctx.deps.store.as_ref();
    let mut found = Vec::new();
    for key in store.list(&keys::destinations_dir()).await? {
        if let Some(d) = get_json::<Destination>(store, &key).await? {
            found.push(d);
        }
    }
    output::destinations(&found, ctx.json)?;
    Ok(Outcome::Done)
}
