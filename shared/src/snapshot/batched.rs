//! Reading a segment's parts on threads of their own while the caller's thread handles the
//! rows ([`read_each`], in [`reading`]): the parsing (decompression, decoding, the guard, csv;
//! Parquet pages) and the handling of rows use separate cores. Rows travel in batches of
//! [`BATCH_ROWS`] — their text copied into one buffer, batches handed back to be filled again.
//! A batch holds the rows of one part; the first batch of a part says so first.

use super::SnapshotError;
use std::sync::Arc;

pub(super) mod reading;

pub use reading::read_each;

/// Rows in one batch (about 30 KB of text for typical rows).
pub const BATCH_ROWS: usize = 256;
/// Text a CSV part's batch ends at, whatever its rows: rows of a wide or hostile file (up to
/// 1 MB each) fill batches of a few rows rather than of hundreds of megabytes.
pub const BATCH_BYTES: usize = 1 << 20;

/// Why a reading stopped early.
#[derive(Debug)]
pub enum Stopped<E> {
    /// The snapshot could not be read further; every row before the problem was handled.
    Read(SnapshotError),
    /// The handler returned an error.
    By(E),
}

/// One part as the handler sees it, before its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// Its place among the segment's parts, from 0.
    pub index: usize,
    /// How reports name it (see [`super::sources::Part::name`]).
    pub name: String,
    pub source: String,
    /// Its column names, in the order of each row's fields: a CSV file's header row (or the
    /// names it was given), a Parquet file's columns read (the mapped ones).
    pub header: Vec<String>,
    /// Added to the part's own row numbers to number its rows within the segment: 0 for the
    /// first part, and past the last row number of the part before for each next one.
    pub offset: u64,
    /// Whether it is the segment's only part (a plain file).
    pub only: bool,
    /// How many rows it holds, when its format says so before they are read (a Parquet
    /// footer); a handler may size its tables by it, never beyond its own limits.
    pub rows: Option<u64>,
    /// Its size as stored (compressed, when it is), when the listing or the store said.
    pub size: Option<u64>,
    /// The stored size of the segment's parts after it, when every one of them is known. With
    /// [`Rows::read`], a handler can tell how many rows are still to come before they are read.
    pub after: Option<u64>,
}

/// What a reading hands its rows to, on the caller's thread.
pub trait RowHandler {
    type Error: Send;
    /// A part begins: its rows follow.
    fn part(&mut self, part: &PartInfo) -> Result<(), Self::Error>;
    /// A row: its number within the segment and its fields, in the order of the part's header.
    fn row(&mut self, number: u64, fields: &[&str]) -> Result<(), Self::Error>;
    /// A batch of the rows of the part begun last, in order: by default each handed to
    /// [`Self::row`]. A handler may look over the whole batch first — to have what its rows will
    /// look up in large tables brought from memory together, not one row after the other.
    fn rows(&mut self, rows: &Rows<'_>) -> Result<(), Self::Error> {
        rows.each(|number, fields| self.row(number, fields))
    }
}

/// The rows of one batch as a handler sees them, numbered within the segment.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    batch: &'a Batch,
    /// Added to each row's number within its part.
    offset: u64,
}

impl<'a> Rows<'a> {
    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.batch.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.batch.rows.is_empty()
    }

    /// The bytes of their part as stored (compressed, when it is) read by the time these rows
    /// were parsed, when the part is read as one stream: a little more than they and the rows
    /// before them took, the rest waiting in the reading's buffers.
    pub fn read(&self) -> Option<u64> {
        self.batch.read
    }

    /// The field at `column` of the `i`-th row; empty when the row has fewer fields.
    pub fn field(&self, i: usize, column: usize) -> &'a str {
        let batch = self.batch;
        let start = i.checked_sub(1).map_or(0, |before| batch.rows[before].1);
        let end = batch.rows.get(i).map_or(start, |row| row.1);
        let at = start + column;
        if at >= end {
            return "";
        }
        let from = at.checked_sub(1).map_or(0, |before| batch.ends[before]);
        &batch.text[from..batch.ends[at]]
    }

    /// Calls `f` with each row's number and fields, in order, up to its first error.
    pub fn each<E>(&self, mut f: impl FnMut(u64, &[&'a str]) -> Result<(), E>) -> Result<(), E> {
        let split = self.split();
        for i in 0..split.len() {
            let (number, fields) = split.row(i);
            f(number, fields)?;
        }
        Ok(())
    }

    /// Every row's fields, cut out of the batch's text once, for passes over them.
    pub fn split(&self) -> Split<'a> {
        let batch = self.batch;
        let mut fields = Vec::with_capacity(batch.ends.len());
        let mut from = 0;
        for &until in &batch.ends {
            fields.push(&batch.text[from..until]);
            from = until;
        }
        Split {
            rows: *self,
            fields,
        }
    }
}

/// The rows of a batch with their fields cut out ([`Rows::split`]).
pub struct Split<'a> {
    rows: Rows<'a>,
    /// Every field of every row, in order.
    fields: Vec<&'a str>,
}

impl<'a> Split<'a> {
    /// How many rows there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The number and fields of the `i`-th row (of [`Self::len`]).
    pub fn row(&self, i: usize) -> (u64, &[&'a str]) {
        let rows = &self.rows.batch.rows;
        let start = i.checked_sub(1).map_or(0, |before| rows[before].1);
        let (number, end) = rows[i];
        (number + self.rows.offset, &self.fields[start..end])
    }
}

/// Rows as one text buffer: each field ends at an offset of `ends`, each row at an index of it.
#[derive(Default)]
pub struct Batch {
    text: String,
    ends: Vec<usize>,
    /// Row number and the index in `ends` after its last field.
    rows: Vec<(u64, usize)>,
    /// The part these rows are of, on its first batch.
    part: Option<Arc<PartInfo>>,
    /// See [`Rows::read`].
    read: Option<u64>,
}

impl Batch {
    /// Empties it, to be filled again.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.rows.clear();
        self.part = None;
        self.read = None;
    }

    /// Bytes of text in the batch.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Its rows, numbered within their part.
    pub fn rows(&self) -> Rows<'_> {
        self.numbered(0)
    }

    /// Its rows, `offset` added to each number (numbered within the segment).
    fn numbered(&self, offset: u64) -> Rows<'_> {
        Rows {
            batch: self,
            offset,
        }
    }

    /// Appends a field.
    pub fn push_field(&mut self, text: &str) {
        self.text.push_str(text);
        self.ends.push(self.text.len());
    }

    /// Appends fields written together: `text`, each field ending at an offset of `ends`
    /// within it, in order.
    pub fn push_fields(&mut self, text: &str, ends: impl IntoIterator<Item = usize>) {
        let base = self.text.len();
        self.text.push_str(text);
        self.ends.extend(ends.into_iter().map(|end| base + end));
    }

    /// The buffer the next field is written into; [`Self::end_field`] ends it.
    pub fn text(&mut self) -> &mut String {
        &mut self.text
    }

    pub fn end_field(&mut self) {
        self.ends.push(self.text.len());
    }

    /// Says how many bytes of the part as stored were read once its rows were parsed.
    pub fn set_read(&mut self, bytes: u64) {
        self.read = Some(bytes);
    }

    /// Ends a row numbered `number` after the fields pushed since the last.
    pub fn end_row(&mut self, number: u64) {
        self.rows.push((number, self.ends.len()));
    }

    /// Bytes it holds, about.
    fn bytes(&self) -> u64 {
        let words = self.ends.capacity() + 2 * self.rows.capacity();
        (self.text.capacity() + words * std::mem::size_of::<usize>()) as u64
    }
}

/// The rows of one part, produced on the reading thread.
pub trait PartRows: Send {
    /// The part's column names.
    fn header(&self) -> &[String];
    /// Appends rows to `batch` until it holds `max` (or, a CSV part, [`BATCH_BYTES`] of text) or
    /// the part ends; `false` once it has ended.
    /// Rows are numbered within the part.
    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, SnapshotError>;
    /// The part's last row number, once it has ended (the header of a CSV file counts).
    fn last_number(&self) -> u64;
    /// Whether the next part may be opened and read while this one is: true when its rows come
    /// from its own stream, false when they come through the order the parts are fetched in
    /// (a Parquet file's row groups).
    fn alongside(&self) -> bool {
        false
    }
    /// The next piece of the part that can be read on its own, alongside others (a Parquet
    /// file's next row group, its rows numbered within the part); `None` when the part does
    /// not split, or nothing is left to split off. A part that splits is read only through its
    /// pieces, and its last number counts them all.
    fn split(&mut self) -> Option<Result<Box<dyn PartRows>, SnapshotError>> {
        None
    }
}

/// A part opened: what the handler is told of it, and its rows.
pub type Opened<'a> = Result<(PartInfo, Box<dyn PartRows + 'a>), SnapshotError>;

/// Opens each part in turn, on the reading thread; `None` when there are no more.
pub type Opener<'a> = dyn FnMut(usize) -> Option<Opened<'a>> + Send + 'a;

#[cfg(test)]
mod tests;
