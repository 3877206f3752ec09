//! What the pages read: destinations and exports through the application layer
//! ([`shared::app`]), and what only the console needs — the segments a snapshot folder (or a
//! stack's snapshot prefix) offers, files, folders of parts and data-lake entities, and their
//! column names.

use shared::destination::Destination;
use shared::snapshot::discover::{columns_of, discover};
use shared::Deps;

// Destinations and reports are the application layer's, as for every front door.
pub use shared::app::destinations::{list as destinations, set_export_user};
pub use shared::app::exports::{history, latest_report, rejected_csv};

/// A segment found where the snapshots are: a file, a folder of parts or a model's entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Its segment name: a file's name without its extensions (`VIP Customers.csv` is "VIP
    /// Customers"), a folder's name, an entity's name; or the name it was saved with.
    pub segment: String,
    /// Its source, as the segment is configured with it.
    pub path: String,
    /// What it is, for the picker ("CSV file", "folder of 8 parts", "entity of ci/model.json").
    pub what: String,
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

    /// Where the snapshots are, as a folder or prefix ending in `/`.
    fn root(&self) -> String {
        let place = self.describe();
        if place.ends_with('/') {
            place
        } else {
            format!("{place}/")
        }
    }

    /// The segments offered there (see [`shared::snapshot::discover`]), read through `deps`'s
    /// snapshot reader: one `destination` already exports keeps the segment name it was saved
    /// with (its Autopilot list). None when the place cannot be listed (the reason goes to the
    /// log).
    pub async fn of(&self, deps: &Deps, destination: &Destination) -> Vec<Snapshot> {
        let reader = deps.snapshots.clone();
        let root = self.root();
        let offered = tokio::task::spawn_blocking(move || discover(reader.as_ref(), &root)).await;
        let offered = match offered {
            Ok(Ok(offered)) => offered,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the snapshots cannot be listed");
                return Vec::new();
            }
            Err(_) => return Vec::new(),
        };
        let mut found: Vec<Snapshot> = offered
            .into_iter()
            .map(|o| Snapshot {
                segment: saved_name(destination, &o.source).unwrap_or(o.name),
                path: o.source,
                what: o.what,
            })
            .collect();
        found.sort_by(|a, b| a.segment.cmp(&b.segment));
        found
    }
}

/// The name `destination` saved the segment read from `source` with, if it exports it (a local
/// file by whatever path it was saved with).
fn saved_name(destination: &Destination, source: &str) -> Option<String> {
    let real = |path: &str| std::fs::canonicalize(path).unwrap_or_else(|_| path.into());
    let here = real(source.trim_end_matches('/'));
    destination
        .segments
        .iter()
        .find(|s| s.source == source || real(s.source.trim_end_matches('/')) == here)
        .map(|s| s.name.clone())
}

/// The column names of the snapshots (a header row, names given to headerless files, a Parquet
/// schema: only that much is read), in order of first appearance; a snapshot that cannot be
/// read is left out.
pub async fn columns(
    deps: &Deps,
    destination: &Destination,
    snapshots: &[Snapshot],
) -> Vec<String> {
    let reader = deps.snapshots.clone();
    let sources: Vec<(String, Option<Vec<String>>)> = snapshots
        .iter()
        .map(|s| {
            let saved = destination.segments.iter().find(|d| d.source == s.path);
            (s.path.clone(), saved.and_then(|d| d.columns.clone()))
        })
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut columns: Vec<String> = Vec::new();
        for (source, named) in sources {
            let Ok(header) = columns_of(reader.as_ref(), &source, named.as_deref()) else {
                continue;
            };
            for column in header {
                if !columns.contains(&column) {
                    columns.push(column);
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
    use shared::audience_api::{ApiFactory, ClientSettings};
    use std::sync::Arc;

    fn deps(dir: &std::path::Path) -> Deps {
        Deps {
            store: Arc::new(shared::store::LocalStore::new(dir.join("data"))),
            secrets: Arc::new(shared::secrets::FileSecrets::new(dir.join("data/secrets"))),
            snapshots: Arc::new(shared::snapshot::LocalFiles::excluding(&dir.join("data"))),
            apis: Arc::new(ApiFactory::new(ClientSettings::default())),
        }
    }

    #[tokio::test]
    async fn a_segment_already_exported_keeps_its_name_and_its_columns() {
        let dir = tempfile::tempdir().unwrap();
        for (file, text) in [
            ("vip-customers.csv.gz", "email\n"),
            ("other.csv", "email,tier\n"),
            ("unload/0000_part_00", "a@x.io,gold\n"),
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("data/secrets")).unwrap();
        std::fs::write(dir.path().join("data/secrets/x.key"), "k").unwrap();
        let unload = format!("{}/unload/", dir.path().display());
        let saved: Destination = serde_json::from_value(serde_json::json!({
            "id": "demo", "display_name": "Demo", "api_url": "http://127.0.0.1:1/v1",
            "account_name": null, "created_at": "2026-01-01T00:00:00Z",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
            "segments": [
                {"name": "VIP Customers",
                 "source": dir.path().join("vip-customers.csv.gz").display().to_string()},
                {"name": "Unloaded", "source": unload, "columns": ["email", "level"]}],
        }))
        .unwrap();
        let deps = deps(dir.path());
        let found = Segments::Folder(dir.path().to_path_buf())
            .of(&deps, &saved)
            .await;
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|s| (s.segment.as_str(), s.what.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("Unloaded", "folder of 1 part"),
                ("VIP Customers", "gzip CSV file"),
                ("other", "CSV file")
            ]
        );
        let columns = columns(&deps, &saved, &found).await;
        assert_eq!(columns, ["email", "level", "tier"]);
    }
}
