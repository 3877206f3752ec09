//! Parquet parts, read with the arrow-rs `parquet` crate's column readers (no Arrow): the footer
//! first (`footer`), then row group by row group only the mapped columns (projection), each
//! column chunk fetched whole by one ranged read (neighbouring chunks less than 1 MiB apart in
//! one), checked page by page (`pages`), and decoded a batch of rows at a time into text
//! (`values`, by the rules of `kinds`), each row group on a thread of its own (`rows`). Memory
//! is bounded by the mapped columns of the row groups fetched ahead (see
//! [`crate::snapshot::fetch`]) and, per row group being decoded, one page per column.
//!
//! Snappy, gzip and zstd compression are read (what Spark, pyarrow, Snowflake, Redshift and
//! Athena write); LZ4, Brotli and LZO are refused with a message saying so. Limits: a footer of
//! at most [`MAX_FOOTER_BYTES`], a row group whose mapped columns hold at most
//! [`MAX_ROW_GROUP_BYTES`] (compressed or not), pages of at most [`MAX_PAGE_BYTES`].

mod contain;
mod footer;
mod kinds;
mod pages;
mod rows;
mod values;
pub mod write;

pub use footer::{column_names, open, ParquetFile, Projected};
pub use rows::{GroupRows, ParquetRows};

use super::budget::Held;
use super::sources::Part;
use super::{SnapshotError, SnapshotReader};
use bytes::Bytes;
use parquet::basic::Compression;
use parquet::file::reader::{ChunkReader, Length};
use std::sync::Arc;

/// The largest footer read.
pub const MAX_FOOTER_BYTES: u64 = 16 << 20;
/// The most bytes the mapped columns of one row group may hold, compressed or not.
pub const MAX_ROW_GROUP_BYTES: u64 = 512 << 20;
/// The most bytes one page may expand to.
pub const MAX_PAGE_BYTES: u64 = 64 << 20;
// The messages spell the limits out.
const _: () = assert!(
    MAX_FOOTER_BYTES == 16 * 1024 * 1024
        && MAX_ROW_GROUP_BYTES == 512 * 1024 * 1024
        && MAX_PAGE_BYTES == 64 * 1024 * 1024
);
/// Column chunks closer than this are fetched by one ranged read.
const COALESCE_BYTES: u64 = 1 << 20;

/// Whether bytes start like a Parquet file.
pub fn is_parquet(start: &[u8]) -> bool {
    start.starts_with(b"PAR1")
}

/// The mapped columns of one row group, fetched and checked.
pub struct RowGroup {
    pub index: usize,
    pub rows: u64,
    /// One chunk per projected column, in the file's projection order.
    chunks: Vec<Arc<ChunkBytes>>,
    /// Its share of the bytes fetched ahead, given back once it is parsed.
    held: Option<Held>,
}

impl RowGroup {
    /// The group, holding `held` until it is parsed.
    pub fn holding(self, held: Held) -> Self {
        Self {
            held: Some(held),
            ..self
        }
    }

    /// The bytes it holds.
    pub fn held(&self) -> u64 {
        self.chunks.iter().map(|c| c.bytes.len() as u64).sum()
    }
}

/// The compressed bytes the mapped columns of row group `index` take.
pub fn row_group_bytes(file: &ParquetFile, index: usize) -> u64 {
    let group = file.metadata.row_group(index);
    file.columns
        .iter()
        .map(|c| u64::try_from(group.column(c.leaf).compressed_size()).unwrap_or(0))
        .sum()
}

/// Fetches the mapped columns of row group `index` of `file` and checks their pages.
pub fn fetch_row_group(
    reader: &dyn SnapshotReader,
    file: &ParquetFile,
    index: usize,
) -> Result<RowGroup, SnapshotError> {
    let group = file.metadata.row_group(index);
    let name = &file.source;
    let rows = u64::try_from(group.num_rows())
        .map_err(|_| footer::damaged(name, "a row group of negative length"))?;
    let mut ranges = Vec::with_capacity(file.columns.len());
    let (mut compressed, mut uncompressed) = (0u64, 0u64);
    for column in &file.columns {
        let chunk = group.column(column.leaf);
        let start = chunk
            .dictionary_page_offset()
            .unwrap_or(chunk.data_page_offset());
        let (Ok(start), Ok(len), Ok(plain)) = (
            u64::try_from(start),
            u64::try_from(chunk.compressed_size()),
            u64::try_from(chunk.uncompressed_size()),
        ) else {
            return Err(footer::damaged(
                name,
                format_args!("the column '{}' has a negative offset or size", column.name),
            ));
        };
        if start.checked_add(len).is_none_or(|end| end > file.size) {
            return Err(footer::damaged(
                name,
                format_args!("the column '{}' lies past the end of the file", column.name),
            ));
        }
        if matches!(
            chunk.compression(),
            Compression::LZ4 | Compression::LZ4_RAW | Compression::BROTLI(_) | Compression::LZO
        ) {
            return Err(SnapshotError::invalid(format!(
                "the Parquet file {name} is compressed with {:?}, which is not read: write it with Snappy, gzip or zstd (the default of Spark, pyarrow and the warehouses)",
                chunk.compression()
            )));
        }
        compressed += len;
        uncompressed += plain;
        ranges.push((start, len));
    }
    if compressed.max(uncompressed) > MAX_ROW_GROUP_BYTES {
        return Err(SnapshotError::invalid(format!(
            "the Parquet file {name} has a row group (number {}) whose mapped columns take {} MB, more than the 512 MB one row group may: write it with smaller row groups (pyarrow's row_group_size, Spark's parquet.block.size)",
            index + 1,
            compressed.max(uncompressed) >> 20
        )));
    }
    let fetched = fetch_ranges(reader, name, &ranges)?;
    let mut chunks = Vec::with_capacity(fetched.len());
    for (column, bytes) in file.columns.iter().zip(fetched) {
        let codec = group.column(column.leaf).compression();
        pages::check(&bytes.bytes, codec).map_err(|problem| {
            footer::damaged(
                name,
                format_args!("the column '{}' has {problem}", column.name),
            )
        })?;
        chunks.push(Arc::new(bytes));
    }
    Ok(RowGroup {
        index,
        rows,
        chunks,
        held: None,
    })
}

/// Reads `ranges` of `source`, those less than [`COALESCE_BYTES`] apart in one read each.
fn fetch_ranges(
    reader: &dyn SnapshotReader,
    source: &str,
    ranges: &[(u64, u64)],
) -> Result<Vec<ChunkBytes>, SnapshotError> {
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| ranges[i].0);
    let mut out: Vec<Option<ChunkBytes>> = vec![None; ranges.len()];
    let mut i = 0;
    while i < order.len() {
        let (start, mut end) = (ranges[order[i]].0, ranges[order[i]].0 + ranges[order[i]].1);
        let mut j = i + 1;
        while j < order.len() && ranges[order[j]].0 <= end + COALESCE_BYTES {
            end = end.max(ranges[order[j]].0 + ranges[order[j]].1);
            j += 1;
        }
        let bytes = reader.read_range(source, start, end - start)?;
        for &k in &order[i..j] {
            let (s, len) = ranges[k];
            let from = (s - start) as usize;
            out[k] = Some(ChunkBytes {
                base: s,
                bytes: bytes.slice(from..from + len as usize),
            });
        }
        i = j;
    }
    Ok(out.into_iter().flatten().collect())
}

/// A column chunk in memory, at its place in the file.
#[derive(Clone)]
pub struct ChunkBytes {
    base: u64,
    bytes: Bytes,
}

impl Length for ChunkBytes {
    fn len(&self) -> u64 {
        self.base + self.bytes.len() as u64
    }
}

impl ChunkReader for ChunkBytes {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use bytes::Buf;
        let rest = Length::len(self).saturating_sub(start) as usize;
        Ok(self.get_bytes(start, rest)?.reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let from = start.checked_sub(self.base).map(|f| f as usize);
        match from {
            Some(from)
                if from
                    .checked_add(length)
                    .is_some_and(|end| end <= self.bytes.len()) =>
            {
                Ok(self.bytes.slice(from..from + length))
            }
            _ => Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at {start} lie outside the column chunk"
            ))),
        }
    }
}

/// Opens a Parquet part for a picker or a check: its footer only.
pub fn footer_of(reader: &dyn SnapshotReader, part: &Part) -> Result<ParquetFile, SnapshotError> {
    open(reader, part, &[], None)
}

#[cfg(test)]
pub(crate) mod tests;
