//! Fetching a segment's parts ahead of the parser, on a thread of its own, so that storage
//! latency (an S3 request per part, per Parquet footer, per row group) overlaps the parsing:
//! CSV parts are opened ahead (their bytes stream as they are parsed), Parquet parts have their
//! footer read and their row groups' mapped columns fetched ahead.
//!
//! What is fetched ahead is bounded twice: at most [`AHEAD`] items wait for the parser, and
//! the row groups fetched and not yet parsed hold at most [`BUDGET_BYTES`] (one row group
//! larger than that is still fetched, alone). The parts' formats are checked here, in order:
//! one whose bytes say Parquet among CSV ones (or the other way) stops the reading, as does a
//! part that was listed and is gone.

use super::budget::Budget;
use super::parquet::{self, ParquetFile, RowGroup};
use super::sources::{mixed, Kind, Part};
use super::{SnapshotError, SnapshotReader};
use std::io::Read;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

/// Items fetched and waiting for the parser, at most.
pub const AHEAD: usize = 2;
/// Bytes of row groups fetched ahead of the parser, at most.
pub const BUDGET_BYTES: u64 = 64 << 20;

/// What the fetching thread hands the parser, in the parts' order.
pub enum Fetched {
    /// A CSV part, opened.
    Csv(Box<dyn Read + Send>),
    /// A Parquet part's footer; its row groups follow.
    Parquet(Arc<ParquetFile>),
    /// A row group of the Parquet part before, holding its share of the budget.
    RowGroup(RowGroup),
    /// The part could not be fetched: the reading stops there.
    Failed(SnapshotError),
}

/// Fetches `parts` in order into `out` until they end, one fails, or the parser stops.
/// `wanted` are the mapped columns (what is read of Parquet parts).
pub fn run(
    reader: &dyn SnapshotReader,
    parts: &[Part],
    wanted: &[String],
    out: &SyncSender<Fetched>,
    budget: &Arc<Budget>,
) {
    let mut first: Option<(Kind, &Part)> = None;
    let mut first_parquet: Option<Arc<ParquetFile>> = None;
    let only = parts.len() == 1;
    for part in parts {
        let fetched = open(reader, part, only).and_then(|opened| {
            let kind = match opened {
                Opened::Csv(_) => Kind::Csv,
                Opened::Parquet => Kind::Parquet,
            };
            match first {
                Some((k, before)) if k != kind => {
                    let (csv, pq) = if k == Kind::Csv {
                        (before, part)
                    } else {
                        (part, before)
                    };
                    Err(mixed(&segment_of(parts), &csv.name, &pq.name))
                }
                None => {
                    first = Some((kind, part));
                    Ok(opened)
                }
                _ => Ok(opened),
            }
        });
        let opened = match fetched {
            Ok(opened) => opened,
            Err(e) => {
                let _ = out.send(Fetched::Failed(e));
                return;
            }
        };
        let sent = match opened {
            Opened::Csv(stream) => out.send(Fetched::Csv(stream)).is_ok(),
            Opened::Parquet => {
                match parquet::open(reader, part, wanted, first_parquet.as_deref()) {
                    Ok(file) => {
                        let file = Arc::new(file);
                        first_parquet.get_or_insert_with(|| file.clone());
                        out.send(Fetched::Parquet(file.clone())).is_ok()
                            && row_groups(reader, &file, out, budget)
                    }
                    Err(e) => {
                        let _ = out.send(Fetched::Failed(gone(e, part, only)));
                        false
                    }
                }
            }
        };
        if !sent {
            return;
        }
    }
}

/// Fetches every row group of `file` into `out`; `false` when the reading stops.
fn row_groups(
    reader: &dyn SnapshotReader,
    file: &ParquetFile,
    out: &SyncSender<Fetched>,
    budget: &Arc<Budget>,
) -> bool {
    for index in 0..file.metadata.num_row_groups() {
        let Some(held) = budget.acquire(parquet::row_group_bytes(file, index)) else {
            return false;
        };
        let item = match parquet::fetch_row_group(reader, file, index) {
            Ok(group) => Fetched::RowGroup(group.holding(held)),
            Err(e) => {
                let _ = out.send(Fetched::Failed(e));
                return false;
            }
        };
        if out.send(item).is_err() {
            return false;
        }
    }
    true
}

/// A part opened as far as its format.
enum Opened {
    Csv(Box<dyn Read + Send>),
    Parquet,
}

/// Opens a part: Parquet by its name, else by its first bytes.
fn open(reader: &dyn SnapshotReader, part: &Part, only: bool) -> Result<Opened, SnapshotError> {
    if part.kind == Kind::Parquet {
        return Ok(Opened::Parquet);
    }
    let mut stream = reader.open(&part.source).map_err(|e| gone(e, part, only))?;
    let mut start = [0u8; 4];
    let mut got = 0;
    while got < start.len() {
        match stream.read(&mut start[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(SnapshotError::io(
                    format!("the snapshot {} cannot be read: {e}", part.source),
                    &e,
                ))
            }
        }
    }
    if parquet::is_parquet(&start[..got]) {
        return Ok(Opened::Parquet);
    }
    let start = start[..got].to_vec();
    Ok(Opened::Csv(Box::new(
        std::io::Cursor::new(start).chain(stream),
    )))
}

/// A missing part of several was listed a moment ago: it went while the segment was read.
fn gone(e: SnapshotError, part: &Part, only: bool) -> SnapshotError {
    if !e.is_missing() || only {
        return e;
    }
    SnapshotError::invalid(format!(
        "the part {} of the segment is gone: it was listed, then deleted or replaced before it was read (an unload still running?). Run the export again once the unload has finished",
        part.source
    ))
}

/// How a message names the segment of `parts`: the folder of the first part.
fn segment_of(parts: &[Part]) -> String {
    let first = parts.first().map_or("", |p| p.source.as_str());
    let name = parts.first().map_or("", |p| p.name.as_str());
    first.strip_suffix(name).unwrap_or(first).to_string()
}
