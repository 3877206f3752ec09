//! The rows of a Parquet part, decoded a batch at a time: row group after row group on one
//! thread ([`ParquetRows`] as [`PartRows::fill`] reads it), or each row group on its own
//! ([`GroupRows`], split off by [`PartRows::split`]) so that a reading can decode several at
//! once. Either way a row is numbered within its file by the rows of the groups before it.

use super::footer::{self, ParquetFile};
use super::values::Cursor;
use super::{contain, RowGroup};
use crate::snapshot::batched::{Batch, PartRows};
use crate::snapshot::budget::Held;
use crate::snapshot::SnapshotError;
use parquet::column::page::PageReader;
use parquet::file::serialized_reader::SerializedPageReader;
use std::sync::Arc;

/// The rows of a Parquet part: its row groups, taken from `next` as they were fetched.
pub struct ParquetRows<'a> {
    file: Arc<ParquetFile>,
    header: Vec<String>,
    next: Box<dyn FnMut() -> Result<RowGroup, SnapshotError> + Send + 'a>,
    groups_left: usize,
    /// The row group being read.
    current: Option<GroupRows>,
    /// Rows read, or split off, so far.
    number: u64,
}

impl<'a> ParquetRows<'a> {
    pub fn new(
        file: Arc<ParquetFile>,
        next: Box<dyn FnMut() -> Result<RowGroup, SnapshotError> + Send + 'a>,
    ) -> Self {
        Self {
            header: file.header(),
            groups_left: file.metadata.num_row_groups(),
            file,
            next,
            current: None,
            number: 0,
        }
    }

    /// The next row group, its rows numbered on from `self.number`; `None` after the last.
    fn next_group(&mut self) -> Option<Result<GroupRows, SnapshotError>> {
        if self.groups_left == 0 {
            return None;
        }
        self.groups_left -= 1;
        let group = (self.next)().and_then(|group| {
            let (file, header) = (self.file.clone(), self.header.clone());
            GroupRows::open(file, header, group, self.number)
        });
        if let Ok(group) = &group {
            self.number += group.left;
        }
        Some(group)
    }
}

impl PartRows for ParquetRows<'_> {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, SnapshotError> {
        let mut filled = 0;
        while filled < max {
            match &mut self.current {
                Some(group) if group.left > 0 => filled += group.fill_some(batch, max - filled)?,
                _ => {
                    // The last row group's buffers go before the next is taken.
                    self.current = None;
                    match self.next_group() {
                        Some(group) => self.current = Some(group?),
                        None => return Ok(false),
                    }
                }
            }
        }
        Ok(true)
    }

    fn last_number(&self) -> u64 {
        self.number
    }

    fn split(&mut self) -> Option<Result<Box<dyn PartRows>, SnapshotError>> {
        if self.current.is_some() {
            return None;
        }
        let group = self.next_group()?;
        Some(group.map(|group| Box::new(group) as Box<dyn PartRows>))
    }
}

/// The rows of one fetched row group.
pub struct GroupRows {
    file: Arc<ParquetFile>,
    header: Vec<String>,
    cursors: Vec<Cursor>,
    /// Rows not read yet.
    left: u64,
    /// The number of the last row read.
    number: u64,
    /// Its share of the bytes fetched ahead, given back once it is read.
    _held: Option<Held>,
}

impl GroupRows {
    /// The rows of `group`, numbered on from `before`.
    fn open(
        file: Arc<ParquetFile>,
        header: Vec<String>,
        mut group: RowGroup,
        before: u64,
    ) -> Result<Self, SnapshotError> {
        let metadata = file.metadata.row_group(group.index);
        let rows = usize::try_from(group.rows).unwrap_or(usize::MAX);
        let mut cursors = Vec::with_capacity(file.columns.len());
        for (column, chunk) in file.columns.iter().zip(std::mem::take(&mut group.chunks)) {
            let meta = metadata.column(column.leaf);
            let pages = contain::contained(|| SerializedPageReader::new(chunk, meta, rows, None))
                .map_err(|e| {
                footer::damaged(
                    &file.source,
                    format_args!("the column '{}' ({e})", column.name),
                )
            })?;
            let pages: Box<dyn PageReader> = Box::new(pages);
            cursors.push(Cursor::new(column.descr.clone(), column.kind, pages));
        }
        Ok(Self {
            cursors,
            left: group.rows,
            number: before,
            _held: group.held.take(),
            file,
            header,
        })
    }

    fn damaged(&self, column: usize, what: impl std::fmt::Display) -> SnapshotError {
        let column = &self.header[column];
        footer::damaged(
            &self.file.source,
            format_args!("the column '{column}' {what}"),
        )
    }

    /// Appends up to `max` of its rows to `batch`; how many it appended.
    fn fill_some(&mut self, batch: &mut Batch, max: usize) -> Result<usize, SnapshotError> {
        let n = max.min(usize::try_from(self.left).unwrap_or(usize::MAX));
        for i in 0..self.cursors.len() {
            let read = self.cursors[i].load(n);
            match read {
                Ok(read) if read == n => {}
                Ok(_) => return Err(self.damaged(i, "holds fewer rows than its row group")),
                Err(e) => return Err(self.damaged(i, format_args!("({e})"))),
            }
        }
        for _ in 0..n {
            for i in 0..self.cursors.len() {
                if let Err(what) = self.cursors[i].write_next(batch.text()) {
                    return Err(self.damaged(i, format_args!("holds {what}")));
                }
                batch.end_field();
            }
            self.number += 1;
            batch.end_row(self.number);
        }
        self.left -= n as u64;
        Ok(n)
    }
}

impl PartRows for GroupRows {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, SnapshotError> {
        self.fill_some(batch, max)?;
        Ok(self.left > 0)
    }

    fn last_number(&self) -> u64 {
        self.number
    }
}
