//! Segment snapshots and the port they are read through. [`SnapshotReader`] opens a snapshot
//! where it lives (adapters: [`LocalFiles`] here, S3 in the `aws-adapters` crate); the `csv`
//! module reads CSV snapshots row by row.

pub mod csv;
mod error;
mod local_files;

pub use csv::{BorrowedRow, Row, SnapshotRows, Stopped};
pub use error::{io_kind, SnapshotError};
pub use local_files::LocalFiles;

use std::io::Read;

/// Opens a snapshot where it lives. Synchronous: snapshots are parsed on a blocking thread.
/// A read from the opened stream that fails is classified by [`io_kind`].
pub trait SnapshotReader: Send + Sync {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError>;
}
