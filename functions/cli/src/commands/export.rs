//! `autopilot-export export DEST`: runs (or resumes) an export under the destination's lock,
//! prints its report and ends with the status it earned: 0 succeeded, 3 partially succeeded (with
//! one line on stderr saying what did not land and what to run), 1 failed. With `--dry-run` it
//! shows what would be sent instead ([`super::dry_run`]).

use super::Context;
use crate::args::ExportArgs;
use crate::failure::{BoxError, Outcome, Reported};
use crate::{output, runner};
use shared::app::audit::Action;
use shared::app::launcher::ExportRequest;
use shared::app::local_export;
use shared::audience_api::{ApiFactory, ClientSettings};
use shared::jobs::finalize::{Report, Status};
use shared::jobs::plan::Trigger;
use shared::Deps;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(ctx: &Context, args: ExportArgs) -> Result<Outcome, BoxError> {
    let options = options(&args);
    let deps = deps(&ctx.deps, &options, args.max_outage_minutes);
    if args.dry_run {
        let request = ExportRequest {
            destination_id: args.dest.clone(),
            full: args.full,
            override_guardrails: args.override_guardrails,
            trigger: Trigger::Manual,
        };
        return super::dry_run::run(ctx, &deps, &request).await;
    }
    let _held = shared::local_lock::hold(&ctx.data_dir, &args.dest)?;
    let report = runner::export(&deps, &options, ctx.json).await?;
    let details = format!("export {}", report.export_id);
    (ctx.record(Action::Export, &args.dest, details, None)).await?;
    output::report(&report, &ctx.data_dir, ctx.json)?;
    outcome(ctx, &report)
}

fn options(args: &ExportArgs) -> local_export::Options {
    local_export::Options {
        concurrency: args.concurrency as usize,
        chunk_size: args.chunk_size.map(|c| c as usize),
        requests_per_second: args.requests_per_second,
        full: args.full,
        override_guardrails: args.override_guardrails,
        keep_exports_days: args.keep_exports_days,
        ..local_export::Options::new(&args.dest)
    }
}

/// The jobs' dependencies with a client that keeps `options.concurrency` requests in flight and
/// waits out an Autopilot that does not answer for `max_outage_minutes`.
fn deps(deps: &Deps, options: &local_export::Options, max_outage_minutes: u64) -> Deps {
    Deps {
        apis: Arc::new(ApiFactory::new(ClientSettings {
            max_in_flight: options.concurrency,
            max_elapsed: Duration::from_secs(max_outage_minutes * 60),
            ..ClientSettings::default()
        })),
        ..deps.clone()
    }
}

/// How the command ends after the report is printed.
fn outcome(ctx: &Context, report: &Report) -> Result<Outcome, BoxError> {
    match report.status {
        Status::Succeeded => Ok(Outcome::Done),
        Status::PartiallySucceeded => {
            eprintln!("error: {}", output::partial_line(report, &ctx.data_dir));
            Ok(Outcome::Partial)
        }
        Status::Failed => Err(Reported(format!(
            "the export failed ({}): the report above says why; fix that and run `autopilot-export export {}` again",
            report
                .failure
                .as_ref()
                .map_or("no reason recorded", |f| f.error_type.as_str()),
            report.destination_id
        ))
        .into()),
    }
}
