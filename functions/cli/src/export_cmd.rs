//! `autopilot-export export DEST`: runs (or resumes) an export under a per-destination lock,
//! prints its report and ends with the status it earned: 0 succeeded, 3 partially succeeded (with
//! one line on stderr saying what did not land and what to run), 1 failed.

use crate::args::ExportArgs;
use crate::failure::{BoxError, Outcome, Reported};
use crate::output;
use shared::destination;
use shared::jobs::finalize::Status;
use shared::jobs::{ClientSettings, Clients};
use shared::{local_export, Deps, JobError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(
    deps: &Deps,
    data_dir: &Path,
    args: ExportArgs,
    json: bool,
) -> Result<Outcome, BoxError> {
    let options = local_export::Options {
        concurrency: args.concurrency as usize,
        chunk_size: args.chunk_size.map(|c| c as usize),
        requests_per_second: args.requests_per_second,
        full: args.full,
        override_guardrails: args.override_guardrails,
        keep_exports_days: args.keep_exports_days,
        ..local_export::Options::new(&args.dest)
    };
    let deps = &Deps {
        clients: Arc::new(Clients::new(ClientSettings {
            max_in_flight: options.concurrency,
            max_elapsed: Duration::from_secs(args.max_outage_minutes * 60),
            ..ClientSettings::default()
        })),
        ..deps.clone()
    };
    if args.dry_run {
        let preview = local_export::preview(deps, &options).await?;
        output::preview(&preview, json)?;
        return Ok(Outcome::Done);
    }
    let _held = hold_lock(data_dir, &args.dest)?;
    let report = output::export_with_progress(deps, &options, json).await?;
    output::report(&report, data_dir, json)?;
    match report.status {
        Status::Succeeded => Ok(Outcome::Done),
        Status::PartiallySucceeded => {
            eprintln!("error: {}", output::partial_line(&report, data_dir));
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

/// The file whose OS lock an `export` of `dest` holds (not locked by this call).
pub fn lock_file(
    data_dir: &Path,
    dest: &str,
) -> Result<(std::fs::File, PathBuf), (std::io::Error, PathBuf)> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = data_dir.join("locks");
    let path = dir.join(format!("{}.lock", destination::slug(dest)));
    // Private like everything else in the data folder, whatever the umask.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&path)
        })
        .map(|file| (file, path.clone()))
        .map_err(|e| (e, path))
}

/// Holds an operating-system lock on `{data}/locks/{dest}.lock` for as long as this process
/// exports `dest`: a second `export` of it from another terminal is refused instead of sending the
/// same chunks again. The lock goes with the process however it ends, so after Ctrl-C or a kill
/// the next `export` takes it and resumes.
fn hold_lock(data_dir: &Path, dest: &str) -> Result<std::fs::File, BoxError> {
    let (file, path) = lock_file(data_dir, dest)
        .map_err(|(e, path)| format!("could not open the lock file {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JobError::Conflict(format!(
            "another autopilot-export process is exporting '{dest}' from this data folder right now: wait for it to finish (`autopilot-export status {dest}` shows how far it has got)"
        ))
        .into()),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("could not lock {}: {e}", path.display()).into())
        }
    }
}
