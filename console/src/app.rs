//! What the pages read: destinations and exports through the application layer
//! ([`shared::app`]), and what only the console needs — the segments (a snapshot folder's files,
//! or a stack's snapshot objects) and their header rows.

use shared::destination::Destination;
use shared::snapshot::SnapshotRows;
use shared::Deps;
use std::path::Path;

// Destinations and reports are the application layer's, as for every front door.
pub use shared::app::destinations::{list as destinations, set_export_user};
pub use shared::app::exports::{history, latest_report, rejected_csv};

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

/// Where the console finds segment snapshots.
#[derive(Clone)]
pub enum Segments {
    /// A folder of this machine.
    Folder(std::path::PathBuf),
    /// The snapshot objects of a deployed stack.
    #[cfg(feature = "aws")]
    S3(crate::aws::SnapshotPlace),
}

impl Segments {
    /// The folder or `s3://` location, as the matching page names it.
    pub fn describe(&self) -> String {
        match self {
            Segments::Folder(dir) => dir.display().to_string(),
            #[cfg(feature = "aws")]
            Segments::S3(place) => place.describe(),
        }
    }

    /// The snapshots as segments of `destination`: one it already exports keeps the segment name
    /// it was saved with (its Autopilot list), the others are named after their files.
    pub async fn of(&self, destination: &Destination) -> Vec<Snapshot> {
        match self {
            Segments::Folder(dir) => snapshots_of(dir, destination),
            #[cfg(feature = "aws")]
            Segments::S3(place) => {
                let mut found = place.list().await;
                for snapshot in &mut found {
                    let saved = destination.segments.iter();
                    if let Some(saved) = saved.clone().find(|s| s.source == snapshot.path) {
                        snapshot.segment = saved.name.clone();
                    }
                }
                found.sort_by(|a, b| a.segment.cmp(&b.segment));
                found
            }
        }
    }
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
