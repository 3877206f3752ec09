//! `autopilot-export export DEST --dry-run`: what an export would send and remove, without
//! writing anything. A dry run asks the destination's API which audiences exist (and, of one the
//! export has not written to yet, who is on it): while the API does not answer, a line on stderr
//! says so every half minute, up to `--max-outage-minutes`, instead of a silent wait.

use super::Context;
use crate::failure::{BoxError, Outcome};
use crate::{output, progress};
use shared::app::local_export::{self, Progress};
use shared::app::{exports, launcher::ExportRequest};
use shared::audience_api::{AudienceApi, Vocabulary};
use shared::Deps;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(ctx: &Context, deps: &Deps, request: &ExportRequest) -> Result<Outcome, BoxError> {
    let destination =
        shared::destination::load(deps.store.as_ref(), &request.destination_id).await?;
    let words = destination.api.vocabulary();
    // The client the plan asks: the one made for the destination at its own rate. When it
    // cannot be made the plan says why.
    let rate = destination.requests_per_second;
    let client = deps
        .apis
        .for_destination(&destination, &deps.secrets, rate)
        .await
        .ok();
    let preview = exports::preview(deps, request);
    tokio::pin!(preview);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut noted = None;
    let preview = loop {
        tokio::select! {
            done = &mut preview => break done?,
            _ = tick.tick() => {
                if let Some(line) = waiting(client.as_ref(), words, &mut noted) {
                    if !ctx.json {
                        eprintln!("{line}");
                    }
                }
            }
        }
    };
    output::preview(&preview, words, ctx.json)?;
    Ok(Outcome::Done)
}

/// The line due now about waiting for `client`'s API, if any.
fn waiting(
    client: Option<&Arc<dyn AudienceApi>>,
    words: &Vocabulary,
    noted: &mut Option<u64>,
) -> Option<String> {
    let Some(Progress::Waiting {
        seconds,
        budget,
        reason,
    }) = local_export::waiting_on(client?.as_ref())
    else {
        *noted = None;
        return None;
    };
    let then = "then the dry run stops";
    progress::wait_note_due(noted, seconds)
        .then(|| progress::waiting_line(words, seconds, budget, reason, then))
}
