//! What a destination's exports left behind: their reports, newest first, and refused rows.

use crate::destination::keys;
use crate::jobs::finalize::Report;
use crate::store::get_json;
use crate::{Deps, JobError};

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
