//! The reads the pages need that the command line does inside its own crate (destinations, the
//! latest report, history) or not at all (the snapshot folder's segments and headers), written on
//! the same `shared` functions and keys.

use shared::csv_snapshot::SnapshotRows;
use shared::destination::{self, keys, Destination};
use shared::jobs::finalize::Report;
use shared::store::get_json;
use shared::{Deps, JobError};
use std::path::Path;

/// The connected destinations, by id.
pub async fn destinations(deps: &Deps) -> Result<Vec<Destination>, JobError> {
    let mut found = Vec::new();
    for key in deps.store.list("destinations/").await? {
        if let Some(d) = get_json::<Destination>(deps.store.as_ref(), &key).await? {
            found.push(d);
        }
    }
    Ok(found)
}

/// Every finished export's report, newest first.
pub async fn history(deps: &Deps, dest: &str) -> Result<Vec<Report>, JobError> {
    let store = deps.store.as_ref();
    let mut reports = Vec::new();
    for key in store.list(&format!("exports/{dest}/")).await? {
        if key.ends_with("/report.json") {
            if let Some(report) = get_json::<Report>(store, &key).await? {
                reports.push(report);
            }
        }
    }
    reports.sort_by_key(|r| std::cmp::Reverse(r.finished_at));
    Ok(reports)
}

/// One export's report.
pub async fn report(deps: &Deps, dest: &str, export_id: &str) -> Result<Report, JobError> {
    if export_id.is_empty()
        || !export_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(JobError::NotFound("there is no such export".into()));
    }
    get_json(deps.store.as_ref(), &keys::report(dest, export_id))
        .await?
        .ok_or_else(|| JobError::NotFound(format!("{dest} has no export {export_id}")))
}

/// The refused rows of an export, as stored (`rejected.csv`).
pub async fn rejected_csv(
    deps: &Deps,
    dest: &str,
    export_id: &str,
) -> Result<bytes::Bytes, JobError> {
    let report = report(deps, dest, export_id).await?;
    let key = report
        .rejected_file
        .ok_or_else(|| JobError::NotFound("this export refused no rows".into()))?;
    Ok(deps.store.get(&key).await?)
}

/// Records who exports run as (the "Export user" step after Connect).
pub async fn set_export_user(deps: &Deps, dest: &str, user: &str) -> Result<(), JobError> {
    let user = user.trim();
    if user.is_empty() {
        return Err(JobError::InvalidInput(
            "give the export user: who the exports run as".into(),
        ));
    }
    let mut destination = destination::load(deps.store.as_ref(), dest).await?;
    destination.consent.export_user = user.to_string();
    destination::save(deps.store.as_ref(), &destination).await
}

/// A segment found in the snapshot folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The file name without its extensions: `VIP Customers.csv` is "VIP Customers".
    pub segment: String,
    pub path: String,
}

/// The segment name of a snapshot file, or `None` when the file is not a snapshot.
pub fn segment_name(file: &str) -> Option<&str> {
    [".csv.gz", ".csv", ".tsv"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .filter(|name| !name.trim().is_empty() && !name.starts_with('.'))
}

/// The snapshots in `dir`, by segment name.
pub fn snapshots(dir: &Path) -> Vec<Snapshot> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<Snapshot> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let file = e.file_name().to_string_lossy().into_owned();
            segment_name(&file).map(|segment| Snapshot {
                segment: segment.to_string(),
                path: e.path().display().to_string(),
            })
        })
        .collect();
    found.sort_by(|a, b| a.segment.cmp(&b.segment));
    found
}

/// The snapshots in `dir` as segments of `destination`: a file it already exports keeps the
/// segment name it was saved with (its Autopilot list), the others are named after their files.
pub fn snapshots_of(dir: &Path, destination: &Destination) -> Vec<Snapshot> {
    let mut found = snapshots(dir);
    for snapshot in &mut found {
        let real = |path: &str| std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
        let here = real(&snapshot.path);
        let same_file = |source: &str| real(source) == here;
        if let Some(saved) = destination.segments.iter().find(|s| same_file(&s.source)) {
            snapshot.segment = saved.name.clone();
        }
    }
    found.sort_by(|a, b| a.segment.cmp(&b.segment));
    found
}

/// The column names of the snapshots' header rows (only the header is read), in order of first
/// appearance; a snapshot that cannot be read is left out.
pub async fn columns(deps: &Deps, snapshots: &[Snapshot]) -> Vec<String> {
    let reader = deps.snapshots.clone();
    let paths: Vec<String> = snapshots.iter().map(|s| s.path.clone()).collect();
    tokio::task::spawn_blocking(move || {
        let mut columns: Vec<String> = Vec::new();
        for path in paths {
            let Ok(rows) = reader
                .open(&path)
                .and_then(|input| SnapshotRows::open(&path, input))
            else {
                continue;
            };
            for column in rows.header() {
                if !columns.contains(column) {
                    columns.push(column.clone());
                }
            }
        }
        columns
    })
    .await
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_named_after_their_files() {
        assert_eq!(segment_name("VIP Customers.csv"), Some("VIP Customers"));
        assert_eq!(segment_name("lapsed.csv.gz"), Some("lapsed"));
        assert_eq!(segment_name("tabs.tsv"), Some("tabs"));
        assert_eq!(segment_name("notes.txt"), None);
        assert_eq!(segment_name(".csv"), None);
        assert_eq!(segment_name(".hidden.csv"), None);
    }

    #[test]
    fn the_folder_lists_snapshots_only() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["b.csv", "a.csv.gz", "c.tsv", "d.txt"] {
            std::fs::write(dir.path().join(file), "email\n").unwrap();
        }
        let names: Vec<String> = snapshots(dir.path())
            .into_iter()
            .map(|s| s.segment)
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn a_file_already_exported_keeps_its_segment_name() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["vip-customers.csv.gz", "other.csv"] {
            std::fs::write(dir.path().join(file), "email\n").unwrap();
        }
        let saved: Destination = serde_json::from_value(serde_json::json!({
            "id": "demo", "display_name": "Demo", "autopilot_url": "http://127.0.0.1:1/v1",
            "account_name": null, "created_at": "2026-01-01T00:00:00Z",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
            "segments": [{"name": "VIP Customers",
                          "source": dir.path().join("vip-customers.csv.gz").display().to_string()}],
        }))
        .unwrap();
        let names: Vec<String> = snapshots_of(dir.path(), &saved)
            .into_iter()
            .map(|s| s.segment)
            .collect();
        assert_eq!(names, ["VIP Customers", "other"]);
    }
}
