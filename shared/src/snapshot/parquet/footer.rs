//! A Parquet file's footer, read first (its last 64 KiB in one ranged read, more only when the
//! metadata is larger), and the projection of the mapped columns on its schema: each mapped
//! column found among the top-level columns by the data matching's rule (the exact name, else
//! ignoring case), plain (not nested, not repeated) and of a type a field can be filled from,
//! and of the same type as in the segment's first Parquet part.

use super::contain::contained;
use super::kinds::Kind;
use super::{Part, MAX_FOOTER_BYTES};
use crate::field_mapping::column_positions;
use crate::snapshot::{SnapshotError, SnapshotReader};
use parquet::file::metadata::{FooterTail, ParquetMetaData, ParquetMetaDataReader};
use parquet::schema::types::ColumnDescPtr;

/// The bytes read at first from a file's end: the footer of most files in one request.
const TAIL_BYTES: u64 = 64 * 1024;

/// One mapped column of a Parquet file.
#[derive(Debug, Clone)]
pub struct Projected {
    /// Its name in the file.
    pub name: String,
    /// Its leaf column.
    pub leaf: usize,
    pub kind: Kind,
    pub descr: ColumnDescPtr,
}

/// A Parquet part whose footer was read: its metadata and the columns read of it.
#[derive(Debug)]
pub struct ParquetFile {
    pub source: String,
    pub name: String,
    pub size: u64,
    pub metadata: ParquetMetaData,
    pub columns: Vec<Projected>,
}

impl ParquetFile {
    /// The header its rows are read with: the mapped columns' names, as the file spells them.
    pub fn header(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }
}

/// A message about the file `part`.
pub(super) fn damaged(part: &str, what: impl std::fmt::Display) -> SnapshotError {
    SnapshotError::invalid(format!(
        "the Parquet file {part} cannot be read: {what}. It is damaged or cut short: export it again"
    ))
}

/// Reads the footer of `part` and projects `wanted` on its schema; `first` is the segment's
/// first Parquet part, whose types every later part must share.
pub fn open(
    reader: &dyn SnapshotReader,
    part: &Part,
    wanted: &[String],
    first: Option<&ParquetFile>,
) -> Result<ParquetFile, SnapshotError> {
    let size = match part.size {
        Some(size) => size,
        None => match reader.stat(&part.source)? {
            crate::snapshot::Found::File { size: Some(size) } => size,
            _ => {
                return Err(SnapshotError::invalid(format!(
                    "the size of the Parquet file {} is unknown, and its footer is at its end: this storage cannot read Parquet",
                    part.source
                )))
            }
        },
    };
    let source = &part.source;
    if size < 12 {
        return Err(damaged(
            source,
            format!("it is {size} bytes long, shorter than any Parquet file"),
        ));
    }
    let tail_len = size.min(TAIL_BYTES);
    let tail = reader.read_range(source, size - tail_len, tail_len)?;
    let end: &[u8; 8] = tail[tail.len() - 8..]
        .try_into()
        .map_err(|_| damaged(source, "no footer"))?;
    let footer = FooterTail::try_new(end).map_err(|_| {
        damaged(source, "it does not end with the Parquet magic bytes PAR1 (not a Parquet file, or one cut short)")
    })?;
    if footer.is_encrypted_footer() {
        return Err(SnapshotError::invalid(format!(
            "the Parquet file {source} is encrypted, which is not read: export the segment without Parquet encryption"
        )));
    }
    let length = footer.metadata_length() as u64;
    if length > MAX_FOOTER_BYTES {
        return Err(damaged(
            source,
            format!("its footer claims {length} bytes, more than the 16 MB any export writes"),
        ));
    }
    if length + 8 > size - 4 {
        return Err(damaged(source, "its footer is longer than the file"));
    }
    let metadata_bytes = if length + 8 <= tail_len {
        tail.slice((tail.len() - 8 - length as usize)..tail.len() - 8)
    } else {
        reader.read_range(source, size - 8 - length, length)?
    };
    let metadata =
        contained(|| ParquetMetaDataReader::decode_metadata(&metadata_bytes)).map_err(|e| {
            damaged(
                source,
                format_args!("its footer is not valid metadata ({e})"),
            )
        })?;
    let columns = project(&metadata, wanted, &part.name, first)?;
    Ok(ParquetFile {
        source: source.clone(),
        name: part.name.clone(),
        size,
        metadata,
        columns,
    })
}

/// The mapped columns `wanted` of the file named `name`, checked.
fn project(
    metadata: &ParquetMetaData,
    wanted: &[String],
    name: &str,
    first: Option<&ParquetFile>,
) -> Result<Vec<Projected>, SnapshotError> {
    let schema = metadata.file_metadata().schema_descr();
    let fields = schema.root_schema().get_fields();
    let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    let mut columns: Vec<Projected> = Vec::new();
    for column in wanted {
        let field = match column_positions(&names, column)[..] {
            [field] => field,
            [] => return Err(no_column(name, column, &names)),
            _ => {
                return Err(SnapshotError::invalid(format!(
                    "the Parquet file {name} has several columns named '{}' (ignoring case): rename one so the data matching is unambiguous",
                    column.trim()
                )))
            }
        };
        let unreadable = |what: &str| {
            SnapshotError::invalid(format!(
                "the column '{}' of the Parquet file {name} holds {what}, which no field can be filled from: map a column of text, numbers, booleans, dates or timestamps",
                names[field]
            ))
        };
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&leaf| schema.get_column_root_idx(leaf) == field)
            .collect();
        let leaf = match leaves[..] {
            [leaf] if fields[field].is_primitive() => leaf,
            _ => return Err(unreadable("nested values (a struct, a list or a map)")),
        };
        let descr = schema.column(leaf);
        if descr.max_rep_level() > 0 {
            return Err(unreadable("a list of values"));
        }
        let kind = Kind::of(&descr).map_err(|what| unreadable(&what))?;
        if columns.iter().any(|c| c.leaf == leaf) {
            continue;
        }
        if let Some(first) = first {
            check_same(first, name, &names[field], descr.physical_type(), kind)?;
        }
        columns.push(Projected {
            name: names[field].clone(),
            leaf,
            kind,
            descr,
        });
    }
    Ok(columns)
}

/// The error for a mapped column the file does not have: its columns are named (a schema holds
/// no personal data).
fn no_column(name: &str, column: &str, names: &[String]) -> SnapshotError {
    let shown: Vec<&str> = names.iter().map(String::as_str).take(30).collect();
    SnapshotError::invalid(format!(
        "the Parquet file {name} has no column '{}': its columns are {}{}. Fix the data matching with `autopilot-export configure`, or export the segment with that column",
        column.trim(),
        shown.join(", "),
        if names.len() > shown.len() { ", …" } else { "" }
    ))
}

/// Refuses a column whose type differs from the same column's in the first part.
fn check_same(
    first: &ParquetFile,
    name: &str,
    column: &str,
    physical: parquet::basic::Type,
    kind: Kind,
) -> Result<(), SnapshotError> {
    let Some(before) = first
        .columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(column))
    else {
        return Ok(());
    };
    if before.kind == kind && before.descr.physical_type() == physical {
        return Ok(());
    }
    Err(SnapshotError::invalid(format!(
        "the parts of the segment differ: the column '{column}' is {} ({physical}) in {name} but {} ({}) in {}, the first part. The parts of one segment must share their schema: export the segment again",
        kind.describe(),
        before.kind.describe(),
        before.descr.physical_type(),
        first.name
    )))
}

/// The columns of a file's schema, for pickers (only the footer is read).
pub fn column_names(file: &ParquetFile) -> Vec<String> {
    let schema = file.metadata.file_metadata().schema_descr();
    schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect()
}
