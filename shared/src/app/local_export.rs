//! An export run in one process: plan → uploads (bounded concurrency, one shared pacer) →
//! finalize, the same sequence the state machine runs on AWS. An export that was interrupted
//! (no report yet) is picked up where it stopped by the next run: chunks store their progress
//! after every answered request, so only requests that were in flight when it stopped are sent
//! again, which the upsert by email makes harmless. While the API does not answer properly the
//! export waits (retrying, within the client's retry budget) and says so through [`Progress`].
//! A finished export, failed ones too, is posted to the destination's webhook when it has one
//! ([`crate::app::notify`]).

use crate::audience_api::AudienceApi;
use crate::destination::{self, keys};
use crate::jobs::finalize::{self, Failure, Report};
use crate::jobs::plan::{self, Plan};
use crate::jobs::{lock, progress as chunks, upload_chunk, Deps, JobError};
use crate::store::get_json;
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(test)]
mod tests;

/// Requests in flight at once when nothing else is asked for: the destination's client lets
/// [`ClientSettings::max_in_flight`](crate::audience_api::ClientSettings) of them out at once and spaces
/// their starts at the rate.
pub const DEFAULT_CONCURRENCY: usize = crate::http_api::DEFAULT_MAX_IN_FLIGHT;
/// How long the API must have failed to answer before progress says the export is waiting.
const WAITING_AFTER: Duration = Duration::from_secs(2);
/// Planning is tried this many times at most when it fails in a way that may pass (a snapshot
/// read that timed out or lost its connection), as the state machine retries it on AWS; the
/// waits in between double from [`PLAN_RETRY_DELAY`].
const PLAN_ATTEMPTS: u32 = 3;
const PLAN_RETRY_DELAY: Duration = Duration::from_millis(500);

/// How to run an export.
#[derive(Debug, Clone)]
pub struct Options {
    pub destination_id: String,
    /// The id of a new export (made up when `None`). An interrupted export of the destination is
    /// resumed under its own id whatever this says.
    pub export_id: Option<String>,
    /// Requests in flight at once (as the client allows them, [`DEFAULT_CONCURRENCY`]); chunks
    /// are uploaded a few at a time, as many as keep that many going ([`chunks_at_once`]).
    pub concurrency: usize,
    pub chunk_size: Option<usize>,
    pub requests_per_second: Option<f64>,
    /// Send every contact, not only what changed since the last export.
    pub full: bool,
    /// Let a run through that trips a guardrail.
    pub override_guardrails: bool,
    /// Past exports of the destination older than this many days are deleted when it starts.
    pub keep_exports_days: u32,
    /// What starts it (the command line unless said otherwise).
    pub trigger: plan::Trigger,
}

impl Options {
    pub fn new(destination_id: &str) -> Self {
        Self {
            destination_id: destination_id.to_string(),
            export_id: None,
            concurrency: DEFAULT_CONCURRENCY,
            chunk_size: None,
            requests_per_second: None,
            full: false,
            override_guardrails: false,
            keep_exports_days: crate::retention::DEFAULT_KEEP_DAYS,
            trigger: plan::Trigger::Manual,
        }
    }
}

/// Progress of a running export, for progress bars.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The plan is ready: `contacts` to send or take off a list, `already_done` of them by an
    /// earlier run.
    Planned {
        contacts: u64,
        already_done: u64,
        resumed: bool,
    },
    /// A request was answered, accounting for this many contacts (or removals).
    Handled { contacts: u64 },
    /// The API has not answered properly for `seconds`; requests are retried until `budget`
    /// seconds have passed. `reason` is the error class of the last attempt.
    Waiting {
        seconds: u64,
        budget: u64,
        reason: &'static str,
    },
    /// The API answers again after a wait.
    Resumed,
}

/// [`Progress::Waiting`] when `client`'s API has failed to answer for [`WAITING_AFTER`] or more
/// (the export, or a dry run, then says it waits); `None` while it answers or only just stopped.
pub fn waiting_on(client: &dyn AudienceApi) -> Option<Progress> {
    let trouble = client.trouble()?;
    let waited = trouble.since.elapsed();
    (waited >= WAITING_AFTER).then(|| Progress::Waiting {
        seconds: waited.as_secs(),
        budget: client.retry_budget().as_secs(),
        reason: trouble.reason,
    })
}

/// Runs (or resumes) an export to its report. Errors that stop the export are finalized into a
/// failed report before they are returned, so `status` shows them too.
pub async fn run(
    deps: &Deps,
    options: &Options,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, JobError> {
    let store = deps.store.as_ref();
    let destination = destination::load(store, &options.destination_id).await?;
    let dest = destination.id.as_str();
    let resumable = lock::holder(deps, dest).await?;
    let resumed = resumable.is_some();
    let export_id = match resumable {
        Some(running) => running.export_id,
        None => {
            let export_id = options
                .export_id
                .clone()
                .unwrap_or_else(plan::new_export_id);
            lock::acquire(deps, dest, &export_id).await?;
            export_id
        }
    };
    let now = chrono::Utc::now();
    crate::retention::prune_exports(store, dest, options.keep_exports_days, now, &export_id)
        .await?;

    let plan: Plan = match get_json(store, &keys::plan(dest, &export_id)).await? {
        Some(plan) => plan,
        None => {
            let input = plan::Input {
                destination_id: dest.to_string(),
                export_id: Some(export_id.clone()),
                chunk_size: options.chunk_size,
                requests_per_second: options.requests_per_second,
                full: options.full,
                dry_run: false,
                override_guardrails: options.override_guardrails,
                trigger: options.trigger,
            };
            if let Err(e) = plan_with_retries(input, deps).await {
                return Err(fail(deps, dest, &export_id, e).await);
            }
            get_json(store, &keys::plan(dest, &export_id))
                .await?
                .ok_or_else(|| JobError::NotFound(format!("export {export_id} lost its plan")))?
        }
    };

    let so_far = chunks::of_plan(store, &plan).await?;
    progress(Progress::Planned {
        contacts: so_far.contacts,
        already_done: so_far.contacts_done,
        resumed,
    });

    let failure = upload(deps, options, &plan, so_far.todo, progress).await;

    let finalized = finalize::run(
        finalize::Input {
            destination_id: dest.to_string(),
            export_id: export_id.clone(),
            failure: failure.as_ref().map(failure_of),
        },
        deps,
    )
    .await?;
    let report: Option<Report> = get_json(store, &finalized.report_key).await?;
    if let Some(report) = &report {
        notify(deps, report).await;
    }
    if let Some(e) = failure {
        if finalized.sent == 0 {
            return Err(e);
        }
    }
    report.ok_or_else(|| JobError::NotFound(format!("export {export_id} has no report")))
}

/// Uploads the chunks still to do; the first error that stops a chunk stops the export.
async fn upload(
    deps: &Deps,
    options: &Options,
    plan: &Plan,
    todo: Vec<(u32, u64)>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Option<JobError> {
    let (dest, export) = (plan.destination_id.as_str(), plan.export_id.as_str());
    let (handled_tx, mut handled_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let on_request = upload_chunk::OnRequest(Arc::new(move |contacts| {
        let _ = handled_tx.send(contacts);
    }));
    let mut uploads = futures::stream::iter(todo)
        .map(|(chunk, _)| {
            let input = upload_chunk::Input {
                destination_id: dest.to_string(),
                export_id: export.to_string(),
                chunk,
                requests_per_second: None,
                deadline: None,
                on_request: Some(on_request.clone()),
            };
            upload_chunk::run(input, deps)
        })
        .buffer_unordered(chunks_at_once(options.concurrency));
    let client = match destination::load(deps.store.as_ref(), dest).await {
        Ok(d) => deps
            .apis
            .for_destination(&d, &deps.secrets, plan.requests_per_second)
            .await
            .ok(),
        Err(_) => None,
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut waiting = false;
    loop {
        tokio::select! {
            Some(contacts) = handled_rx.recv() => {
                if std::mem::take(&mut waiting) {
                    progress(Progress::Resumed);
                }
                progress(Progress::Handled { contacts });
            }
            next = uploads.next() => match next {
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error_type = e.type_name(), "chunk failed; the export stops");
                    return Some(e);
                }
                None => break,
            },
            _ = tick.tick() => {
                if let Some(client) = client.as_deref() {
                    if let Some(wait) = waiting_on(client) {
                        waiting = true;
                        progress(wait);
                    } else if waiting && client.trouble().is_none() {
                        waiting = false;
                        progress(Progress::Resumed);
                    }
                }
            }
        }
    }
    drop(uploads);
    while let Ok(contacts) = handled_rx.try_recv() {
        progress(Progress::Handled { contacts });
    }
    None
}

/// Chunks uploaded at once to keep `concurrency` requests in flight: each keeps up to
/// [`upload_chunk::REQUESTS_IN_FLIGHT`] going, and one more starts while another sends its last
/// requests. More would hold their contacts in memory only to wait for a place among the
/// requests in flight, so memory grows with the requests in flight, not with chunks.
fn chunks_at_once(concurrency: usize) -> usize {
    concurrency
        .max(1)
        .div_ceil(upload_chunk::REQUESTS_IN_FLIGHT)
        + 1
}

/// Plans, again after a short wait when planning failed in a way that may pass. An API
/// error is not retried here: the client has already waited out its own retry budget.
async fn plan_with_retries(input: plan::Input, deps: &Deps) -> Result<plan::Output, JobError> {
    let mut attempt = 1;
    loop {
        match plan::run(input.clone(), deps).await {
            Err(e)
                if attempt < PLAN_ATTEMPTS
                    && e.is_retryable()
                    && !matches!(e, JobError::Api(_)) =>
            {
                tracing::warn!(
                    error_type = e.type_name(),
                    attempt,
                    "planning failed; trying again"
                );
                tokio::time::sleep(PLAN_RETRY_DELAY * 2u32.pow(attempt - 1)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn failure_of(e: &JobError) -> Failure {
    Failure {
        error_type: e.type_name().to_string(),
        message: e.to_string(),
    }
}

/// Records a failed export and hands the error back.
async fn fail(deps: &Deps, dest: &str, export_id: &str, error: JobError) -> JobError {
    let input = finalize::Input {
        destination_id: dest.to_string(),
        export_id: export_id.to_string(),
        failure: Some(failure_of(&error)),
    };
    match finalize::run(input, deps).await {
        Ok(finalized) => {
            if let Ok(Some(report)) =
                get_json::<Report>(deps.store.as_ref(), &finalized.report_key).await
            {
                notify(deps, &report).await;
            }
        }
        Err(e) => tracing::warn!(
            error_type = e.type_name(),
            "the failed export could not be recorded"
        ),
    }
    error
}

/// Posts the finished export's event to its destination's webhook, if it has one: a webhook
/// that fails is a warning, never the export's failure.
async fn notify(deps: &Deps, report: &Report) {
    if let Err(why) = crate::app::notify::export_finished(deps, report).await {
        tracing::warn!("{why}");
    }
}
