//! Runs an export in this process with its progress shown, until it ends or Ctrl-C stops it.

use crate::failure::BoxError;
use crate::progress::Display;
use shared::app::local_export;
use shared::audience_api::ApiKind;
use shared::jobs::finalize::Report;
use shared::{destination, Deps};
use std::time::Instant;

/// Runs (or resumes) an export. Ctrl-C stops it and the error says how to finish it.
pub async fn export(
    deps: &Deps,
    options: &local_export::Options,
    json: bool,
) -> Result<Report, BoxError> {
    // Only for the words of the messages: the export itself says when it is unknown.
    let api = destination::load(deps.store.as_ref(), &options.destination_id)
        .await
        .map_or(ApiKind::default(), |d| d.api);
    let display = Display::new(json, api.vocabulary());
    let started = Instant::now();
    let show = |event| display.show(event);
    let result = tokio::select! {
        result = local_export::run(deps, options, &show) => result,
        _ = tokio::signal::ctrl_c() => {
            display.interrupted();
            return Err(interrupted(started, options, api).into());
        }
    };
    display.finish();
    Ok(result?)
}

/// What to do after Ctrl-C: nothing is lost, and running the export again finishes it.
fn interrupted(started: Instant, options: &local_export::Options, api: ApiKind) -> String {
    format!(
        "interrupted after {:.0}s: nothing is lost; run `autopilot-export export {}` again to finish this export. What {} confirmed is not sent again; only the requests that were in flight (at most {} contacts) may be repeated, which changes nothing",
        started.elapsed().as_secs_f64(),
        options.destination_id,
        api.vocabulary().api,
        options.concurrency * api.limits().batch_size
    )
}
