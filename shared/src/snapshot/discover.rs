//! What a place holding snapshots offers as segments, for a picker: the snapshot files directly
//! in it (CSV, gzip CSV, TSV, Parquet; each named after its file), the folders of unload parts
//! in it (named after the folder), and the entities of the data-lake models in it or in a
//! folder of it (named after the entity). A folder holding a model is offered through its
//! entities, not as a folder of parts. Only listings and models are read, never a data file;
//! [`columns_of`] reads a segment's column names (a header row, a Parquet footer).

use super::csv::{Layout, SnapshotRows};
use super::sources::{is_data_file, Kind, MAX_PARTS};
use super::{cdm, SnapshotError, SnapshotReader};
use std::collections::BTreeMap;
use std::io::Read;

/// A segment a place offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offered {
    /// Its name, which becomes its list's.
    pub name: String,
    /// Its source, as a segment is configured with it.
    pub source: String,
    /// What it is, for the user: "CSV file", "folder of 8 parts", "entity of ci/model.json".
    pub what: String,
}

/// The segment name of a snapshot file directly in a place and what it is, or `None` when the
/// file is not a snapshot.
pub fn file_segment(file: &str) -> Option<(&str, &'static str)> {
    [
        (".csv.gz", "gzip CSV file"),
        (".csv", "CSV file"),
        (".tsv", "TSV file"),
        (".parquet", "Parquet file"),
    ]
    .iter()
    .find_map(|(ext, what)| file.strip_suffix(ext).map(|name| (name, *what)))
    .filter(|(name, _)| !name.trim().is_empty() && !name.starts_with(['.', '_']))
}

/// The segments offered under `root` (a folder or prefix ending in `/`), by name.
pub fn discover(reader: &dyn SnapshotReader, root: &str) -> Result<Vec<Offered>, SnapshotError> {
    let mut offered = Vec::new();
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    let mut models: Vec<(String, String)> = Vec::new();
    for object in reader.list(root)? {
        let relative = &object.source[root.len()..];
        let depth = relative.matches('/').count();
        if cdm::is_model(relative) && depth <= 1 {
            models.push((object.source.clone(), relative.to_string()));
        } else if depth == 0 {
            if let Some((name, what)) = file_segment(relative).filter(|_| object.size > 0) {
                offered.push(Offered {
                    name: name.to_string(),
                    source: object.source.clone(),
                    what: what.to_string(),
                });
            }
        } else if let Some((folder, below)) = relative.split_once('/') {
            if !folder.starts_with(['.', '_']) && is_data_file(below, object.size) {
                *parts.entry(folder.to_string()).or_default() += 1;
            }
        }
    }
    for (source, relative) in &models {
        // A model that cannot be read is left out: the picker offers what it can.
        let Ok(entities) = cdm::entities(reader, source) else {
            continue;
        };
        if let Some((folder, _)) = relative.split_once('/') {
            parts.remove(folder);
        }
        for entity in entities.into_iter().filter(|e| !e.trim().is_empty()) {
            offered.push(Offered {
                source: format!("{source}#{entity}"),
                name: entity,
                what: format!("entity of {relative}"),
            });
        }
    }
    for (folder, count) in parts {
        offered.push(Offered {
            source: format!("{root}{folder}/"),
            what: match count {
                1 => "folder of 1 part".to_string(),
                n if n > MAX_PARTS => format!("folder of more than {MAX_PARTS} parts"),
                n => format!("folder of {n} parts"),
            },
            name: folder,
        });
    }
    offered.sort_by(|a, b| a.name.cmp(&b.name).then(a.source.cmp(&b.source)));
    Ok(offered)
}

/// The column names `source` offers, for a picker: its first part's header row, or the names
/// it is given (`columns`, a model's attributes), or its Parquet schema. Only that much is read.
pub fn columns_of(
    reader: &dyn SnapshotReader,
    source: &str,
    columns: Option<&[String]>,
) -> Result<Vec<String>, SnapshotError> {
    let parts = super::sources::resolve(reader, source, columns)?;
    let Some(first) = parts.first() else {
        return Ok(Vec::new());
    };
    if let Some(columns) = &first.columns {
        return Ok(columns.to_vec());
    }
    let parquet =
        || super::parquet::footer_of(reader, first).map(|f| super::parquet::column_names(&f));
    if first.kind == Kind::Parquet {
        return parquet();
    }
    let mut stream = reader.open(&first.source)?;
    let mut start = [0u8; 4];
    let got = stream.read(&mut start).unwrap_or(0);
    if super::parquet::is_parquet(&start[..got]) {
        return parquet();
    }
    let layout = Layout {
        columns: None,
        delimiter: first.delimiter,
        ..Layout::default()
    };
    let input = Box::new(std::io::Cursor::new(start[..got].to_vec()).chain(stream));
    Ok(SnapshotRows::open_with(&first.source, input, &layout)?
        .header()
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::LocalFiles;

    #[test]
    fn files_folders_and_model_entities_are_offered() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("VIP Customers.csv", "email\n"),
            ("lapsed.csv.gz", "x"),
            ("wide.parquet", "PAR1"),
            ("notes.txt", "x"),
            (".hidden.csv", "email\n"),
            ("empty.csv", ""),
            ("unload/0000_part_00", "a@x.io\n"),
            ("unload/0001_part_00", "b@x.io\n"),
            ("unload/_SUCCESS", ""),
            ("_temporary/part-0.csv", "x"),
            (
                "ci/model.json",
                r#"{"entities": [{"name": "VipCustomers"}, {"name": "Lapsed"}]}"#,
            ),
            ("ci/VipCustomers/part-0.csv", "a@x.io\n"),
            ("broken/model.json", "not json"),
        ];
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let root = format!("{}/", dir.path().display());
        let offered = discover(&LocalFiles, &root).unwrap();
        let seen: Vec<(&str, &str, &str)> = offered
            .iter()
            .map(|o| (o.name.as_str(), &o.source[root.len()..], o.what.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("Lapsed", "ci/model.json#Lapsed", "entity of ci/model.json"),
                ("VIP Customers", "VIP Customers.csv", "CSV file"),
                (
                    "VipCustomers",
                    "ci/model.json#VipCustomers",
                    "entity of ci/model.json"
                ),
                ("lapsed", "lapsed.csv.gz", "gzip CSV file"),
                ("unload", "unload/", "folder of 2 parts"),
                ("wide", "wide.parquet", "Parquet file"),
            ]
        );
        let columns = |source: &str| columns_of(&LocalFiles, &format!("{root}{source}"), None);
        assert_eq!(columns("VIP Customers.csv").unwrap(), ["email"]);
        let named = ["email".to_string(), "first".into()];
        let headerless = columns_of(&LocalFiles, &format!("{root}unload/"), Some(&named));
        assert_eq!(headerless.unwrap(), named);
        assert!(columns("wide.parquet").is_err());
    }
}
