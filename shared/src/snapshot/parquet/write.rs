//! Writing simple Parquet files — flat, nullable columns of text, integers, decimals, dates,
//! timestamps, booleans and doubles, Snappy-compressed by default — as `autopilot-export demo
//! --format parquet`, the benchmarks and the tests make their segments. Cells are given as text
//! and converted to their column's type (an empty cell is a null); rows are buffered one row
//! group at a time.

use bytes::Bytes;
use chrono::{DateTime, NaiveDate};
pub use parquet::basic::Compression;
use parquet::basic::{LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::Write;
use std::sync::Arc;

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Int32,
    Int64,
    /// An `int64` decimal with this many digits after the point.
    Decimal {
        precision: i32,
        scale: i32,
    },
    /// `YYYY-MM-DD`, stored as days.
    Date,
    /// RFC 3339, stored as microseconds in UTC.
    Timestamp,
    Bool,
    Double,
}

/// A Parquet file being written.
pub struct Writer<W: Write + Send> {
    inner: SerializedFileWriter<W>,
    types: Vec<ColumnType>,
    rows: Vec<Vec<String>>,
    group_rows: usize,
}

/// Why a file could not be written.
pub type WriteError = Box<dyn std::error::Error + Send + Sync>;

impl<W: Write + Send> Writer<W> {
    /// A file of `columns` (name and type) into `out`, with row groups of `group_rows` rows,
    /// compressed with `compression` (Snappy as pyarrow and Spark write, or another).
    pub fn new(
        out: W,
        columns: &[(&str, ColumnType)],
        group_rows: usize,
        compression: Compression,
    ) -> Result<Self, WriteError> {
        let mut fields = Vec::new();
        for (name, kind) in columns {
            fields.push(Arc::new(field(name, *kind)?));
        }
        let schema = Type::group_type_builder("segment")
            .with_fields(fields)
            .build()?;
        let properties = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(Some(group_rows.max(1)))
            .build();
        Ok(Self {
            inner: SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))?,
            types: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
            group_rows: group_rows.max(1),
        })
    }

    /// Adds a row: one cell per column, as text.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<(), WriteError> {
        if cells.len() != self.types.len() {
            return Err(format!(
                "a row of {} cells for {} columns",
                cells.len(),
                self.types.len()
            )
            .into());
        }
        self.rows
            .push(cells.iter().map(|c| c.as_ref().to_string()).collect());
        if self.rows.len() == self.group_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group.
    fn flush(&mut self) -> Result<(), WriteError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let mut group = self.inner.next_row_group()?;
        let mut index = 0;
        while let Some(mut column) = group.next_column()? {
            let kind = self.types[index];
            let cells: Vec<&str> = rows.iter().map(|r| r[index].as_str()).collect();
            write_column(column.untyped(), kind, &cells)?;
            column.close()?;
            index += 1;
        }
        group.close()?;
        Ok(())
    }

    /// Writes the last row group and the footer.
    pub fn finish(mut self) -> Result<(), WriteError> {
        self.flush()?;
        self.inner.close()?;
        Ok(())
    }
}

fn field(name: &str, kind: ColumnType) -> Result<Type, WriteError> {
    let (physical, logical) = match kind {
        ColumnType::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        ColumnType::Int32 => (Physical::INT32, None),
        ColumnType::Int64 => (Physical::INT64, None),
        ColumnType::Decimal { precision, scale } => (
            Physical::INT64,
            Some(LogicalType::decimal(scale, precision)),
        ),
        ColumnType::Date => (Physical::INT32, Some(LogicalType::Date)),
        ColumnType::Timestamp => (
            Physical::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
        ),
        ColumnType::Bool => (Physical::BOOLEAN, None),
        ColumnType::Double => (Physical::DOUBLE, None),
    };
    let mut builder = Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical);
    if let ColumnType::Decimal { precision, scale } = kind {
        builder = builder.with_precision(precision).with_scale(scale);
    }
    Ok(builder.build()?)
}

/// Writes `cells` (empty ones as nulls) into a column of `kind`.
fn write_column(
    writer: &mut ColumnWriter<'_>,
    kind: ColumnType,
    cells: &[&str],
) -> Result<(), WriteError> {
    let defs: Vec<i16> = cells.iter().map(|c| i16::from(!c.is_empty())).collect();
    let present = cells.iter().filter(|c| !c.is_empty());
    let bad = |cell: &str| -> WriteError { format!("'{cell}' is not a {kind:?}").into() };
    match (writer, kind) {
        (ColumnWriter::ByteArrayColumnWriter(w), ColumnType::Text) => {
            let values: Vec<ByteArray> = present
                .map(|c| ByteArray::from(Bytes::copy_from_slice(c.as_bytes())))
                .collect();
            w.write_batch(&values, Some(&defs), None)?;
        }
        (ColumnWriter::Int32ColumnWriter(w), ColumnType::Int32 | ColumnType::Date) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let values = present
                .map(|c| match kind {
                    ColumnType::Date => NaiveDate::parse_from_str(c, "%Y-%m-%d")
                        .map(|d| (d - epoch).num_days() as i32)
                        .map_err(|_| bad(c)),
                    _ => c.parse::<i32>().map_err(|_| bad(c)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            w.write_batch(&values, Some(&defs), None)?;
        }
        (ColumnWriter::Int64ColumnWriter(w), _) => {
            let values = present
                .map(|c| match kind {
                    ColumnType::Timestamp => DateTime::parse_from_rfc3339(c)
                        .map(|t| t.timestamp_micros())
                        .map_err(|_| bad(c)),
                    ColumnType::Decimal { scale, .. } => unscaled(c, scale).ok_or_else(|| bad(c)),
                    _ => c.parse::<i64>().map_err(|_| bad(c)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            w.write_batch(&values, Some(&defs), None)?;
        }
        (ColumnWriter::BoolColumnWriter(w), ColumnType::Bool) => {
            let values = present
                .map(|c| c.parse::<bool>().map_err(|_| bad(c)))
                .collect::<Result<Vec<_>, _>>()?;
            w.write_batch(&values, Some(&defs), None)?;
        }
        (ColumnWriter::DoubleColumnWriter(w), ColumnType::Double) => {
            let values = present
                .map(|c| c.parse::<f64>().map_err(|_| bad(c)))
                .collect::<Result<Vec<_>, _>>()?;
            w.write_batch(&values, Some(&defs), None)?;
        }
        _ => return Err(format!("no writer for {kind:?}").into()),
    }
    Ok(())
}

/// `12.5` at scale 2 as 1250; `None` when it has more digits after the point than the scale.
fn unscaled(text: &str, scale: i32) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let scale = usize::try_from(scale).ok()?;
    if fraction.len() > scale || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{whole}{fraction:0<scale$}");
    digits.parse().ok()
}
