//! A destination's exports: starting one ([`start`], through an [`ExportLauncher`]), how one is
//! doing ([`status`], and the one holding the destination's lock: [`unfinished`]), what one would
//! do ([`preview`]), and what they left behind: their reports, newest first, and refused rows.

use super::launcher::{ExportLauncher, ExportRequest, Launch, RunState};
use crate::destination::{self, keys, Destination};
use crate::jobs::finalize::Report;
use crate::jobs::progress::{self, ChunkProgress};
use crate::jobs::{lock, plan};
use crate::store::get_json;
use crate::{Deps, ErrorKind, JobError};

/// Starts an export of the destination `request` names and answers its export id. Refused with
/// `NotConfigured` before its data matching and segments are chosen, and with `ExportRunning`
/// while another export of it runs; an export that was interrupted (its lock still held, its run
/// gone) is resumed under its own id instead of starting a second one.
pub async fn start(
    deps: &Deps,
    launcher: &dyn ExportLauncher,
    request: &ExportRequest,
) -> Result<String, JobError> {
    let destination = destination::load(deps.store.as_ref(), &request.destination_id).await?;
    check_configured(&destination)?;
    let id = destination.id.as_str();
    let export_id = match lock::holder(deps, id).await? {
        Some(held) if launcher.holder_running(id, &held).await? => {
            return Err(JobError::Conflict(format!(
                "export {} of '{id}' is still running: wait for it to finish",
                held.export_id
            )))
        }
        Some(interrupted) => interrupted.export_id,
        None => launcher.new_export_id(id),
    };
    match launcher.start(&export_id, request).await? {
        Launch::Started | Launch::AlreadyStarted => Ok(export_id),
    }
}

/// Refuses a destination that cannot be exported yet.
pub fn check_configured(destination: &Destination) -> Result<(), JobError> {
    if destination.data_matching.is_none() || destination.segments.is_empty() {
        return Err(JobError::new(
            ErrorKind::NotConfigured,
            format!(
                "'{}' has no data matching or segments yet: choose the email column and the segments first",
                destination.id
            ),
        ));
    }
    Ok(())
}

/// How an export is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportStatus {
    /// Chunks are being sent: how many are done.
    Running(ChunkProgress),
    /// The run ended; its report is being written.
    Finishing,
    /// The run stopped without a report.
    Failed,
    /// The export's report.
    Finished(Box<Report>),
}

/// An export that holds its destination's lock: running, or interrupted (the next export of the
/// destination resumes it), and how far it has got.
#[derive(Debug, Clone)]
pub struct Unfinished {
    pub running: lock::Running,
    pub progress: ChunkProgress,
}

/// The export holding the destination's lock, with its progress; `None` when none does. Whether
/// it still runs is for the launcher that runs it to say ([`status`]), or, locally, the data
/// folder's lock ([`crate::local_lock::is_held`]).
pub async fn unfinished(deps: &Deps, destination: &str) -> Result<Option<Unfinished>, JobError> {
    let Some(running) = lock::holder(deps, destination).await? else {
        return Ok(None);
    };
    let progress = progress::of(deps.store.as_ref(), destination, &running.export_id).await?;
    Ok(Some(Unfinished { running, progress }))
}

/// Where a destination's exports stand, as the command's `status` shows them.
#[derive(Debug, Clone)]
pub enum Standing {
    /// The export holding the destination's lock.
    Unfinished(Unfinished),
    /// The report of the export asked for (or of the latest).
    Finished(Box<Report>),
    /// No export of the destination has a report yet.
    NotExported,
}

/// Where the destination's exports stand: the export holding its lock (when it is the one asked
/// for, or none is), else the report of `export` (or of the latest export).
pub async fn standing(
    deps: &Deps,
    destination: &str,
    export: Option<&str>,
) -> Result<Standing, JobError> {
    if let Some(held) = unfinished(deps, destination).await? {
        if export.is_none_or(|id| id == held.running.export_id) {
            return Ok(Standing::Unfinished(held));
        }
    }
    let export = match export {
        Some(id) => id.to_string(),
        None => match latest(deps, destination).await? {
            Some(id) => id,
            None => return Ok(Standing::NotExported),
        },
    };
    let report = report(deps, destination, &export).await?;
    Ok(Standing::Finished(Box::new(report)))
}

/// The status of export `export` of `destination`: its report once it has one, else what the
/// launcher knows of it. An export the launcher never started is `NotFound`.
pub async fn status(
    deps: &Deps,
    launcher: &dyn ExportLauncher,
    destination: &str,
    export: &str,
) -> Result<ExportStatus, JobError> {
    let destination = destination::load(deps.store.as_ref(), destination).await?;
    let dest = destination.id.as_str();
    if !is_export_id(export) {
        return Err(JobError::NotFound(NOT_AN_EXPORT_ID.into()));
    }
    let store = deps.store.as_ref();
    if let Some(report) = get_json::<Report>(store, &keys::report(dest, export)).await? {
        return Ok(ExportStatus::Finished(Box::new(report)));
    }
    Ok(match launcher.state(export).await? {
        RunState::Running => ExportStatus::Running(progress::of(store, dest, export).await?),
        RunState::Succeeded => ExportStatus::Finishing,
        RunState::Failed => ExportStatus::Failed,
        RunState::Unknown => {
            return Err(JobError::NotFound(format!(
                "'{dest}' has no export {export}"
            )))
        }
    })
}

/// A dry run: what an export of `request` would do, counted without writing anything anywhere.
pub async fn preview(deps: &Deps, request: &ExportRequest) -> Result<plan::Output, JobError> {
    let input = plan::Input {
        destination_id: request.destination_id.clone(),
        full: request.full,
        dry_run: true,
        ..plan::Input::default()
    };
    plan::run(input, deps).await
}

/// Every finished export's report, newest first. Exports expire after the retention period, and
/// so leave the history.
pub async fn history(deps: &Deps, destination: &str) -> Result<Vec<Report>, JobError> {
    let store = deps.store.as_ref();
    let mut reports = Vec::new();
    for key in store.list(&keys::exports_dir(destination)).await? {
        if key.ends_with("/report.json") {
            if let Some(report) = get_json::<Report>(store, &key).await? {
                reports.push(report);
            }
        }
    }
    reports.sort_by_key(|r| std::cmp::Reverse(r.finished_at));
    Ok(reports)
}

/// Like [`history`], a page of it: the reports of the `limit` latest exports after the `skip`
/// latest, newest first. Export ids start with the second they started, so only the reports of
/// the exports up to the page's end (and any started in the same second as its last) are read.
pub async fn recent(
    deps: &Deps,
    destination: &str,
    skip: usize,
    limit: usize,
) -> Result<Vec<Report>, JobError> {
    let store = deps.store.as_ref();
    let found = store.list(&keys::exports_dir(destination)).await?;
    let mut exports: Vec<&str> = found
        .iter()
        .filter_map(|key| keys::export_of_report(destination, key))
        .collect();
    exports.sort_unstable_by(|a, b| b.cmp(a));
    let mut end = skip.saturating_add(limit).min(exports.len());
    while end > 0 && end < exports.len() && same_second(exports[end - 1], exports[end]) {
        end += 1;
    }
    let mut reports = Vec::with_capacity(end);
    for export in &exports[..end] {
        if let Some(report) = get_json::<Report>(store, &keys::report(destination, export)).await? {
            reports.push(report);
        }
    }
    reports.sort_by_key(|r| std::cmp::Reverse(r.finished_at));
    Ok(reports.into_iter().skip(skip).take(limit).collect())
}

/// Whether two export ids start with the same second (`20261130T142243Z-…`).
fn same_second(a: &str, b: &str) -> bool {
    let second = |id: &str| id.split('-').next().map(str::to_string);
    second(a) == second(b)
}

/// The id of the latest export of `destination` that has a report (export ids start with the
/// time they started, so keys sort in that order); only keys are listed, one report is read.
pub async fn latest(deps: &Deps, destination: &str) -> Result<Option<String>, JobError> {
    let found = deps.store.list(&keys::exports_dir(destination)).await?;
    Ok(found
        .iter()
        .filter_map(|key| keys::export_of_report(destination, key))
        .next_back()
        .map(str::to_string))
}

/// Why an export id that cannot be one is refused (without quoting it).
pub const NOT_AN_EXPORT_ID: &str = "there is no export with that id: export ids are letters, digits, - and _ (e.g. 20261130T142243Z-1a2b3c; `autopilot-export status DEST` shows the latest)";

/// The report of the latest export of `destination` that has one: the keys are listed, one report
/// is read (not the whole history).
pub async fn latest_report(deps: &Deps, destination: &str) -> Result<Option<Report>, JobError> {
    match latest(deps, destination).await? {
        Some(export) => report(deps, destination, &export).await.map(Some),
        None => Ok(None),
    }
}

/// Whether `id` can be an export id (letters, digits, `-` and `_`): anything else never reaches a
/// store key.
fn is_export_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
}

/// One export's report.
pub async fn report(deps: &Deps, destination: &str, export: &str) -> Result<Report, JobError> {
    if !is_export_id(export) {
        return Err(JobError::NotFound(NOT_AN_EXPORT_ID.into()));
    }
    get_json(deps.store.as_ref(), &keys::report(destination, export))
        .await?
        .ok_or_else(|| JobError::NotFound(format!("{destination} has no export {export}")))
}

/// The refused rows of an export, as stored (`rejected.csv`).
pub async fn rejected_csv(
    deps: &Deps,
    destination: &str,
    export: &str,
) -> Result<bytes::Bytes, JobError> {
    let report = report(deps, destination, export).await?;
    let key = report
        .rejected_file
        .ok_or_else(|| JobError::NotFound("this export refused no rows".into()))?;
    Ok(deps.store.get(&key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::schedule::tests::destination;
    use crate::jobs::plan::Trigger;
    use std::sync::Mutex;

    /// Starts nothing; remembers what it was asked to start, says every run is `state`, and whether
    /// a held lock's export still runs.
    struct Fake {
        started: Mutex<Vec<String>>,
        state: RunState,
        holder_running: bool,
    }

    impl Fake {
        fn new(state: RunState, holder_running: bool) -> Self {
            Self {
                started: Mutex::default(),
                state,
                holder_running,
            }
        }
    }

    #[async_trait::async_trait]
    impl ExportLauncher for Fake {
        async fn start(&self, name: &str, _: &ExportRequest) -> Result<Launch, JobError> {
            self.started.lock().unwrap().push(name.to_string());
            Ok(Launch::Started)
        }
        async fn state(&self, _: &str) -> Result<RunState, JobError> {
            Ok(self.state)
        }
        async fn holder_running(&self, _: &str, _: &lock::Running) -> Result<bool, JobError> {
            Ok(self.holder_running)
        }
    }

    #[tokio::test]
    async fn start_refuses_what_cannot_run_and_resumes_what_was_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let deps = crate::jobs::connect::tests::deps(dir.path());
        destination(&deps, "bare", false, 0).await;
        destination(&deps, "ready", false, 1).await;
        let running = Fake::new(RunState::Running, true);

        let bare = start(&deps, &running, &ExportRequest::new("bare", Trigger::Api)).await;
        assert_eq!(bare.unwrap_err().kind(), ErrorKind::NotConfigured);
        let missing = start(
            &deps,
            &running,
            &ExportRequest::new("nowhere", Trigger::Api),
        )
        .await;
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);

        let first = start(&deps, &running, &ExportRequest::new("ready", Trigger::Api))
            .await
            .unwrap();
        assert_eq!(
            *running.started.lock().unwrap(),
            std::slice::from_ref(&first)
        );

        lock::acquire(&deps, "ready", "20260101T000000Z-000001")
            .await
            .unwrap();
        let busy = start(&deps, &running, &ExportRequest::new("ready", Trigger::Api)).await;
        assert_eq!(busy.unwrap_err().kind(), ErrorKind::ExportRunning);
        assert_eq!(
            running.started.lock().unwrap().len(),
            1,
            "nothing more started"
        );

        let interrupted = Fake::new(RunState::Unknown, false);
        let resumed = start(
            &deps,
            &interrupted,
            &ExportRequest::new("ready", Trigger::Api),
        )
        .await
        .unwrap();
        assert_eq!(resumed, "20260101T000000Z-000001");
        assert_eq!(*interrupted.started.lock().unwrap(), [resumed]);
    }

    #[tokio::test]
    async fn status_is_the_report_else_what_the_launcher_knows() {
        let dir = tempfile::tempdir().unwrap();
        let deps = crate::jobs::connect::tests::deps(dir.path());
        destination(&deps, "d", false, 1).await;
        let export = "20260101T000000Z-000002";
        let ask = |state| {
            let deps = deps.clone();
            async move { status(&deps, &Fake::new(state, true), "d", export).await }
        };
        assert!(matches!(
            ask(RunState::Running).await.unwrap(),
            ExportStatus::Running(_)
        ));
        assert_eq!(
            ask(RunState::Succeeded).await.unwrap(),
            ExportStatus::Finishing
        );
        assert_eq!(ask(RunState::Failed).await.unwrap(), ExportStatus::Failed);
        let unknown = ask(RunState::Unknown).await.unwrap_err();
        assert_eq!(unknown.kind(), ErrorKind::NotFound);
        let odd = status(&deps, &Fake::new(RunState::Running, true), "d", "../x").await;
        assert_eq!(odd.unwrap_err().kind(), ErrorKind::NotFound);

        crate::jobs::finalize::run(
            crate::jobs::finalize::Input {
                destination_id: "d".into(),
                export_id: export.into(),
                failure: None,
            },
            &deps,
        )
        .await
        .unwrap();
        match ask(RunState::Unknown).await.unwrap() {
            ExportStatus::Finished(report) => assert_eq!(report.export_id, export),
            other => panic!("expected the report, got {other:?}"),
        }
    }

    #[test]
    fn only_export_ids_reach_a_store_key() {
        for id in ["20261130T120000Z-ab12", "manual_1"] {
            assert!(is_export_id(id), "{id}");
        }
        for id in ["", "../state", "a/b", "a b", "x%2F"] {
            assert!(!is_export_id(id), "{id}");
        }
    }

    #[test]
    fn exports_started_in_one_second_are_told_apart_by_their_reports() {
        assert!(same_second(
            "20261130T120000Z-ab12",
            "20261130T120000Z-ff00"
        ));
        assert!(!same_second(
            "20261130T120000Z-ab12",
            "20261130T120001Z-ab12"
        ));
    }
}
