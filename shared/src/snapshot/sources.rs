//! What a segment's source names, resolved into the parts read in turn:
//!
//! - a file (`/data/vip.csv`, `s3://bucket/vip.parquet`): one part;
//! - a folder or prefix (`s3://bucket/unload/vip/`, or a local folder named without the `/`):
//!   every data file under it at any depth, in name order;
//! - a glob (`s3://bucket/unload/vip/part-*.parquet`): the data files of its folder that match,
//!   `*` and `?` never crossing a `/`;
//! - a Common Data Model entity (`…/model.json#Entity`, `…/x.manifest.cdm.json#Entity`): the
//!   partitions the model lists for it (the `cdm` module).
//!
//! Data files are what a warehouse or Spark unload leaves besides its bookkeeping: names whose
//! part below the folder starts with `_` or `.` (`_SUCCESS`, `_committed_*`, `.part-0.crc`,
//! `_delta_log/`), `*.crc`, `*.json` and `manifest` files, and empty files are skipped. A part is
//! Parquet or CSV by its name (`.parquet`), else by its first bytes when it is read; one segment
//! is read in one format, and parts that mix them are refused. At most [`MAX_PARTS`] parts.

use super::{cdm, Found, SnapshotError, SnapshotReader};
use std::sync::Arc;

/// The most data files one segment reads.
pub const MAX_PARTS: usize = 10_000;
// The message below spells the limit out.
const _: () = assert!(MAX_PARTS == 10_000);

/// How a part is written, as far as its name (or its model) says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Csv,
    Parquet,
    /// No telling from the name (`0000_part_00`): its first bytes decide.
    Unknown,
}

/// One file of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where it is, as the reader opens it.
    pub source: String,
    /// How reports name it: its path below the segment's folder (or the model's), or its file
    /// name.
    pub name: String,
    pub size: Option<u64>,
    pub kind: Kind,
    /// The names of its columns when it is CSV without a header row (from `--columns` or the
    /// model).
    pub columns: Option<Arc<[String]>>,
    /// Its separator, when the model says.
    pub delimiter: Option<u8>,
    /// Whether it is CSV whose values are unquoted, a backslash escaping what would split them
    /// (see [`crate::snapshot::csv::Layout::escapes`]).
    pub escapes: bool,
}

/// What a source names, by its form alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form<'a> {
    /// A data-lake model and one of its entities.
    Model { model: &'a str, entity: &'a str },
    /// Ends in `/`.
    Folder(&'a str),
    /// Has `*`, `?` or `[`.
    Glob(&'a str),
    /// A file, or a folder named without its `/` (the reader tells).
    Plain(&'a str),
}

/// Whether `source` names a data-lake model's entity, which says itself how its files are
/// written (their columns, separator and quoting).
pub fn names_model(source: &str) -> bool {
    matches!(form(source), Form::Model { .. })
}

/// The form of `source`.
pub fn form(source: &str) -> Form<'_> {
    if let Some((model, entity)) = source.rsplit_once('#') {
        if cdm::is_model(model) {
            return Form::Model { model, entity };
        }
    }
    if source.ends_with('/') {
        Form::Folder(source)
    } else if source.contains(['*', '?', '[']) {
        Form::Glob(source)
    } else {
        Form::Plain(source)
    }
}

/// Checks the form of a segment's source when it is configured: a model needs an entity.
pub fn check_form(source: &str) -> Result<(), String> {
    match form(source) {
        Form::Model { model, entity } if entity.trim().is_empty() => Err(format!(
            "the segment source {source} names a model but no entity: add it after #, as in {model}#VipCustomers"
        )),
        Form::Glob(glob) => glob::Pattern::new(glob).map(drop).map_err(|e| {
            format!("the segment source {source} is not a valid glob: {e}")
        }),
        _ => Ok(()),
    }
}

/// The parts of `source`, in the order they are read. `columns` names the columns of CSV
/// parts without a header row (a model names its own).
pub fn resolve(
    reader: &dyn SnapshotReader,
    source: &str,
    columns: Option<&[String]>,
) -> Result<Vec<Part>, SnapshotError> {
    let columns: Option<Arc<[String]>> = columns.map(Arc::from);
    let parts = match form(source) {
        Form::Model { model, entity } => cdm::partitions(reader, model, entity)?,
        Form::Folder(folder) => folder_parts(reader, folder, &columns)?,
        Form::Glob(glob) => match reader.stat(glob)? {
            Found::File { size } => vec![file_part(glob, size, &columns)],
            _ => glob_parts(reader, glob, &columns)?,
        },
        Form::Plain(plain) => match reader.stat(plain)? {
            Found::Folder => folder_parts(reader, &format!("{plain}/"), &columns)?,
            Found::File { size } => vec![file_part(plain, size, &columns)],
            // The reader's own words for a missing file.
            Found::Missing => {
                reader.open(plain)?;
                return Err(SnapshotError::invalid(format!(
                    "the snapshot {plain} does not exist: check the path, or configure the segment again"
                )));
            }
        },
    };
    one_format(source, &parts)?;
    Ok(parts)
}

fn file_part(source: &str, size: Option<u64>, columns: &Option<Arc<[String]>>) -> Part {
    Part {
        source: source.to_string(),
        name: source.rsplit('/').next().unwrap_or(source).to_string(),
        size,
        kind: kind_of(source),
        columns: columns.clone(),
        delimiter: None,
        escapes: false,
    }
}

/// The data files under `folder` (ending in `/`), named below it.
fn folder_parts(
    reader: &dyn SnapshotReader,
    folder: &str,
    columns: &Option<Arc<[String]>>,
) -> Result<Vec<Part>, SnapshotError> {
    listed_parts(reader, folder, folder, &|_| true, columns)
}

/// The data files that match `glob`, named below the folder its pattern starts in.
fn glob_parts(
    reader: &dyn SnapshotReader,
    glob: &str,
    columns: &Option<Arc<[String]>>,
) -> Result<Vec<Part>, SnapshotError> {
    let pattern = glob::Pattern::new(glob)
        .map_err(|e| SnapshotError::invalid(format!("{glob} is not a valid glob: {e}")))?;
    let wild = glob.find(['*', '?', '[']).unwrap_or(glob.len());
    let folder = &glob[..glob[..wild].rfind('/').map_or(0, |i| i + 1)];
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    let matches = |source: &str| pattern.matches_with(source, options);
    listed_parts(reader, folder, glob, &matches, columns)
}

/// The data files listed under `folder` that `keep` keeps; `described` is what the user named.
fn listed_parts(
    reader: &dyn SnapshotReader,
    folder: &str,
    described: &str,
    keep: &dyn Fn(&str) -> bool,
    columns: &Option<Arc<[String]>>,
) -> Result<Vec<Part>, SnapshotError> {
    let listed = reader.list(folder)?;
    let objects = listed.len();
    let mut parts = Vec::new();
    for object in listed {
        let name = object.source[folder.len()..].to_string();
        if !keep(&object.source) || !is_data_file(&name, object.size) {
            continue;
        }
        if parts.len() == MAX_PARTS {
            return Err(SnapshotError::invalid(format!(
                "{described} holds more than 10,000 data files, the most one segment reads: point the segment at the folder of one unload"
            )));
        }
        parts.push(Part {
            kind: kind_of(&name),
            source: object.source,
            name,
            size: Some(object.size),
            columns: columns.clone(),
            delimiter: None,
            escapes: false,
        });
    }
    if parts.is_empty() {
        return Err(SnapshotError::invalid(format!(
            "{described} holds no data file to read ({objects} object{} under {folder}, none of them a CSV or Parquet part: _SUCCESS, .crc, _committed_ files, manifests and empty files are skipped). Check the path, or wait until the unload has finished",
            if objects == 1 { "" } else { "s" }
        )));
    }
    Ok(parts)
}

/// Whether a listed object (named below the segment's folder) is data rather than an unload's
/// bookkeeping.
pub fn is_data_file(name: &str, size: u64) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    size > 0
        && !name.split('/').any(|p| p.starts_with(['_', '.']))
        && !file.ends_with(".crc")
        && !file.ends_with(".json")
        && file != "manifest"
        && !file.ends_with(".manifest")
}

/// A part's format by its name.
pub fn kind_of(name: &str) -> Kind {
    let file = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    if [".parquet", ".parq", ".pq"]
        .iter()
        .any(|e| file.ends_with(e))
    {
        Kind::Parquet
    } else if [".csv", ".tsv", ".txt", ".gz"]
        .iter()
        .any(|e| file.ends_with(e))
        || file.contains(".csv.")
    {
        Kind::Csv
    } else {
        Kind::Unknown
    }
}

/// Refuses parts whose names say they mix CSV and Parquet.
fn one_format(source: &str, parts: &[Part]) -> Result<(), SnapshotError> {
    let first = |kind| parts.iter().find(|p| p.kind == kind);
    match (first(Kind::Csv), first(Kind::Parquet)) {
        (Some(csv), Some(parquet)) => Err(mixed(source, &csv.name, &parquet.name)),
        _ => Ok(()),
    }
}

/// The error for a segment whose parts mix CSV (`csv`) and Parquet (`parquet`).
pub fn mixed(source: &str, csv: &str, parquet: &str) -> SnapshotError {
    SnapshotError::invalid(format!(
        "the parts of {source} mix CSV ({csv}) and Parquet ({parquet}): a segment is read in one format. Point it at the files of one format (a glob such as …/*.parquet), or unload the segment again"
    ))
}

#[cfg(test)]
mod tests;
