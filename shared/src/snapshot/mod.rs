//! Segment snapshots and the port they are read through. [`SnapshotReader`] opens, lists and
//! reads ranges of snapshots where they live (adapters: [`LocalFiles`] here, S3 in the
//! `aws-adapters` crate; both pass [`conformance::run`]). A segment's source — a file, a folder
//! of parts, a glob or a data-lake model — is resolved into the parts it names (`sources`,
//! `cdm`), and [`SegmentRows`] reads them in turn: fetched ahead (`fetch`), parsed (`csv`,
//! `parquet`) and handed to the caller a batch of rows at a time (`batched`).

pub mod batched;
mod budget;
pub mod cdm;
pub mod conformance;
pub mod csv;
pub mod discover;
mod error;
pub mod fetch;
mod local_files;
pub mod parquet;
mod parts;
pub mod sources;

pub use batched::{PartInfo, RowHandler, Rows, Stopped};
pub use csv::{BorrowedRow, Row, SnapshotRows};
pub use error::{io_kind, SnapshotError};
pub use local_files::{Excluding, LocalFiles};
pub use parts::SegmentRows;

use bytes::Bytes;
use std::io::Read;

/// The most objects one listing returns: a segment is one unload's folder, not a whole bucket.
pub const MAX_LISTED: usize = 100_000;
// The message below spells the limit out.
const _: () = assert!(MAX_LISTED == 100_000);

/// One object found by [`SnapshotReader::list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Where it is, in the form the reader opens (`/path/file` or `s3://bucket/key`).
    pub source: String,
    pub size: u64,
}

/// What a source names, from [`SnapshotReader::stat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// An object; its size when the reader knows it.
    File {
        size: Option<u64>,
    },
    /// A folder, or a prefix with objects under `source/`.
    Folder,
    Missing,
}

/// Reads snapshots where they live. Synchronous: snapshots are parsed on a blocking thread.
/// A read from an opened stream that fails is classified by [`io_kind`]; every other failure
/// is a [`SnapshotError`] of its kind (a missing object is fatal, a lost connection transient).
pub trait SnapshotReader: Send + Sync {
    /// The object at `source`, as a stream.
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError>;

    /// Whether `source` is an object, a folder or nothing. Readers that cannot tell say it is
    /// an object of unknown size, and [`Self::open`] decides.
    fn stat(&self, _source: &str) -> Result<Found, SnapshotError> {
        Ok(Found::File { size: None })
    }

    /// Every object whose source starts with `prefix` (everything below a folder, at any
    /// depth), sorted by source; at most [`MAX_LISTED`], more is an error.
    fn list(&self, prefix: &str) -> Result<Vec<Listed>, SnapshotError> {
        Err(SnapshotError::invalid(format!(
            "{prefix} cannot be listed here: point the segment at one file"
        )))
    }

    /// `len` bytes of the object at `source` from byte `start`; an object that ends before is
    /// an error. Readers without ranged reads skip to `start` in the stream.
    fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
        let mut stream = self.open(source)?;
        let cut = |e: std::io::Error| {
            SnapshotError::io(format!("the snapshot {source} cannot be read: {e}"), &e)
        };
        std::io::copy(&mut (&mut stream).take(start), &mut std::io::sink()).map_err(cut)?;
        let mut bytes = Vec::new();
        stream.take(len).read_to_end(&mut bytes).map_err(cut)?;
        if (bytes.len() as u64) < len {
            return Err(ended_early(source, start, len));
        }
        Ok(bytes.into())
    }
}

/// A ranged read past the end of the object: it is shorter than the reader was told.
pub fn ended_early(source: &str, start: u64, len: u64) -> SnapshotError {
    SnapshotError::invalid(format!(
        "the snapshot {source} ends before byte {}: it is shorter than it was (cut short, or replaced while it was read)",
        start + len
    ))
}

/// The error for a listing of more than [`MAX_LISTED`] objects.
pub fn too_many_listed(prefix: &str) -> SnapshotError {
    SnapshotError::invalid(format!(
        "there are more than 100,000 objects under {prefix}, the most one segment reads: point the segment at the folder of one unload"
    ))
}
