//! CSV snapshots: a header row (or column names given apart), optionally gzip-compressed
//! (recognised by its magic bytes, whatever the file is called), UTF-8 with or without a BOM, CRLF
//! or LF line ends, RFC 4180 quoting; separated by commas, or by semicolons, tabs or pipes when
//! the first line has no comma (see [`delimiter`]). Text with a UTF-16 BOM (a spreadsheet's
//! "Unicode text") is transcoded as it streams; other text that is not UTF-8 is read as
//! Windows-1252, what older spreadsheet exports write. A cell of exactly `\N` (SQL NULL in
//! warehouse text unloads) is read as empty. Unquoted text whose values a backslash escapes is
//! read when its layout says so ([`Layout::escapes`], the `unescape` module).
//! Read as a stream, one row at a time, never whole; a quote left open to the end of the file, a
//! row over 1 MB or over 10,000 columns stops the reading with an error naming the row (see
//! the `guard` module), so a malformed file is never read as a shorter one. A compressed snapshot
//! that expands more than 200 times past 100 MB stops the reading too (the `expansion` module);
//! it is inflated on a thread of its own, a few blocks ahead of the parser (the `ahead` module).

mod ahead;
mod expansion;
mod guard;
mod unescape;

use super::batched::{Batch, PartRows, BATCH_BYTES};
use super::SnapshotError;
use expansion::TooExpanded;
use guard::{Guarded, Malformed};
use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A field as text: UTF-8 when it is, else Windows-1252 (which every byte sequence decodes as).
fn text(field: &[u8]) -> String {
    borrowed_text(field).into_owned()
}

/// A cell as the rows give it: [`borrowed_text`], except that a cell of exactly `\N` is empty.
/// `\N` is how SQL NULL is written by PostgreSQL's `COPY` in text format, MySQL's
/// `SELECT … INTO OUTFILE`, Hive and Athena text tables and Snowflake's `NULL_IF` default: read
/// as text it would be sent as a first name, or refuse the row for a typed custom field.
fn cell(field: &[u8]) -> Cow<'_, str> {
    if field == br"\N" {
        return Cow::Borrowed("");
    }
    borrowed_text(field)
}

/// [`text`] without a copy when the field is UTF-8 already (nearly always).
pub(crate) fn borrowed_text(field: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(field) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(field)
                .0
        }
    }
}

/// The delimiter of a snapshot, from its first line. When the file's columns are known (a
/// headerless file), the first of comma, semicolon, tab and pipe that splits the line into that
/// many fields: a Redshift `UNLOAD` without `CSV` separates unquoted fields with pipes, and its
/// values may hold commas. Else a comma, unless the line has none and has semicolons or tabs
/// (spreadsheet exports in many locales) or pipes, the most frequent of them. In backslash-escaped
/// text (`escapes`) an escaped character is not a separator, and quotes are characters.
fn delimiter(start: &[u8], columns: Option<usize>, escapes: bool) -> u8 {
    // Separators inside a quoted column name ("Name, full") do not count.
    let mut quoted = false;
    let mut escaped = false;
    let mut line = Vec::new();
    for &b in start {
        if std::mem::take(&mut escaped) {
            continue;
        }
        if escapes && b == b'\\' {
            escaped = true;
        } else if b == b'"' && !escapes {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            break;
        } else if !quoted {
            line.push(b);
        }
    }
    let count = |d: u8| line.iter().filter(|b| **b == d).count();
    let candidates = [b',', b';', b'\t', b'|'];
    if let Some(d) = columns.and_then(|n| candidates.into_iter().find(|&d| count(d) + 1 == n)) {
        return d;
    }
    if count(b',') > 0 {
        return b',';
    }
    let (mut best, mut most) = (b',', 0);
    // On a tie the first wins.
    for other in candidates.into_iter().skip(1) {
        if count(other) > most {
            (best, most) = (other, count(other));
        }
    }
    best
}

/// The first line of `input` (at most 64 KiB of it), read ahead to choose the delimiter: a
/// decoder may hand out fewer bytes than a line in one read.
fn first_line(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut start = Vec::new();
    let mut block = [0u8; 8192];
    while start.len() < 64 * 1024 && !start.contains(&b'\n') {
        match input.read(&mut block) {
            Ok(0) => break,
            Ok(n) => start.extend_from_slice(&block[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(start)
}

/// One data row: its number (the header is row 1; blank lines are skipped and not counted) and
/// its fields.
#[derive(Debug)]
pub struct Row {
    pub number: u64,
    pub fields: Vec<String>,
}

/// A data row borrowed from the reader until the next one is read: no text is copied unless a
/// field had to be decoded.
#[derive(Debug)]
pub struct BorrowedRow<'a> {
    pub number: u64,
    pub fields: Vec<Cow<'a, str>>,
}

/// Why the parser stopped at `row` (the row it was reading), for the user: a malformed or
/// over-expanding snapshot is fatal, a failed read is of the kind its cause is.
fn unreadable(source: &str, row: u64, error: &csv::Error) -> SnapshotError {
    if let csv::ErrorKind::Io(e) = error.kind() {
        if let Some(problem) = TooExpanded::of(e) {
            return problem.explain(source).into();
        }
    }
    let message = match Malformed::of(error) {
        Some(problem) => return problem.explain(source, row).into(),
        None if row <= 1 => format!("the snapshot {source} cannot be read: {error}"),
        None => format!(
            "the snapshot {source} cannot be read past row {}: {error}",
            row - 1
        ),
    };
    match error.kind() {
        csv::ErrorKind::Io(e) => SnapshotError::io(message, e),
        _ => SnapshotError::invalid(message),
    }
}

/// A snapshot being read row by row.
pub struct SnapshotRows {
    source: String,
    reader: csv::Reader<Guarded<Box<dyn Read + Send>>>,
    header: Vec<String>,
    record: csv::ByteRecord,
    /// The record holds the first data row of a file without a header row, not handed out yet.
    pending: bool,
    number: u64,
    /// The bytes of the file as stored read so far (see [`super::Rows::read`]).
    stored: Arc<AtomicU64>,
}

/// How a CSV file is laid out beyond what its bytes say.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The names of its columns when it has no header row: its first line is then row 1.
    pub columns: Option<std::sync::Arc<[String]>>,
    /// Its separator, when known (else read from the first line).
    pub delimiter: Option<u8>,
    /// Its values are unquoted, a backslash escaping what would split them (see the
    /// `unescape` module).
    pub escapes: bool,
}

/// Compressions other than gzip, by their magic bytes: named, so that the error says what to do.
const OTHER_COMPRESSIONS: [(&[u8], &str); 5] = [
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
    (b"BZh", "bzip2"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz"),
    (&[0x04, 0x22, 0x4d, 0x18], "LZ4"),
    (
        &[0xff, 0x06, 0, 0, b's', b'N', b'a', b'P', b'p', b'Y'],
        "Snappy",
    ),
];

impl SnapshotRows {
    /// Reads the header; an empty snapshot or an unreadable header is an error.
    pub fn open(source: &str, input: Box<dyn Read + Send>) -> Result<Self, SnapshotError> {
        Self::open_with(source, input, &Layout::default())
    }

    /// Opens a CSV file laid out as `layout` says: with a header row (an empty file is then an
    /// error), or with the columns it names (an empty file has no rows).
    pub fn open_with(
        source: &str,
        input: Box<dyn Read + Send>,
        layout: &Layout,
    ) -> Result<Self, SnapshotError> {
        let (counted, compressed) = expansion::Counted::new(input);
        let stored = compressed.clone();
        let mut buffered = BufReader::with_capacity(256 * 1024, counted);
        let magic = buffered.fill_buf().map_err(|e| {
            SnapshotError::io(format!("the snapshot {source} cannot be read: {e}"), &e)
        })?;
        if let Some((_, name)) = OTHER_COMPRESSIONS
            .iter()
            .find(|(m, _)| magic.starts_with(m))
        {
            return Err(SnapshotError::invalid(format!(
                "the snapshot {source} is compressed with {name}, which is not read: store it uncompressed or gzip-compressed (unload with GZIP), or as Parquet"
            )));
        }
        let decompressed: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
            let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
            ahead::read_ahead(Box::new(expansion::Bounded::new(decoder, compressed)))
        } else {
            Box::new(buffered)
        };
        // A UTF-16 BOM turns on transcoding to UTF-8; without one the bytes pass through as they
        // are (UTF-8 passes untouched too, so a stray Windows-1252 byte is still read per field).
        let mut decoded = encoding_rs_io::DecodeReaderBytesBuilder::new()
            .bom_sniffing(true)
            .strip_bom(true)
            .utf8_passthru(true)
            .build(decompressed);
        let start = first_line(&mut decoded).map_err(|e| match TooExpanded::of(&e) {
            Some(problem) => SnapshotError::invalid(problem.explain(source)),
            None => SnapshotError::io(format!("the snapshot {source} cannot be read: {e}"), &e),
        })?;
        let columns = layout.columns.as_ref().map(|c| c.len());
        let delimiter = layout
            .delimiter
            .unwrap_or_else(|| delimiter(&start, columns, layout.escapes));
        let mut stream: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(start).chain(decoded));
        if layout.escapes {
            stream = Box::new(unescape::Unescaped::new(
                BufReader::with_capacity(64 * 1024, stream),
                delimiter,
            ));
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(Guarded::new(stream, delimiter));
        let mut record = csv::ByteRecord::new();
        let any = reader
            .read_byte_record(&mut record)
            .map_err(|e| unreadable(source, 1, &e))?;
        // No column name holds a control character, nor does the first row of a text file: a
        // file whose first line does is binary data (or UTF-16 without a byte-order mark), not a
        // CSV whose rows could be trusted.
        let control = |c: char| c.is_control() && !matches!(c, '\t' | '\r' | '\n');
        if any && record.iter().any(|field| text(field).chars().any(control)) {
            return Err(SnapshotError::invalid(format!(
                "the snapshot {source} is not a CSV text file: its first row holds control characters (such as NUL) that no column name has — binary data, or UTF-16 text without a byte-order mark. Export the segment as CSV (UTF-8) and try again"
            )));
        }
        if let Some(columns) = &layout.columns {
            return Ok(Self {
                source: source.to_string(),
                reader,
                header: columns.to_vec(),
                record,
                pending: any,
                number: 0,
                stored,
            });
        }
        if !any {
            return Err(SnapshotError::invalid(format!(
                "the snapshot {source} is empty: a snapshot needs a header row naming its columns"
            )));
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
            let name = text(field);
            let name = if i == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                &name
            };
            header.push(name.trim().to_string());
        }
        Ok(Self {
            source: source.to_string(),
            reader,
            header,
            record,
            pending: false,
            number: 1,
            stored,
        })
    }

    /// The number of the last row read (the header is row 1 of a file that has one).
    pub fn last_number(&self) -> u64 {
        self.number
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next data row; `Err` only when the snapshot itself cannot be read further.
    pub fn next_row(&mut self) -> Result<Option<Row>, SnapshotError> {
        Ok(self.next_borrowed()?.map(|row| Row {
            number: row.number,
            fields: row.fields.into_iter().map(Cow::into_owned).collect(),
        }))
    }

    /// [`Self::next_row`], its fields borrowed from the reader's buffer.
    pub fn next_borrowed(&mut self) -> Result<Option<BorrowedRow<'_>>, SnapshotError> {
        if !self.next_record()? {
            return Ok(None);
        }
        Ok(Some(BorrowedRow {
            number: self.number,
            fields: self.record.iter().map(cell).collect(),
        }))
    }

    /// Reads the next data row into the record; `false` at the end.
    fn next_record(&mut self) -> Result<bool, SnapshotError> {
        loop {
            let more = std::mem::take(&mut self.pending)
                || self
                    .reader
                    .read_byte_record(&mut self.record)
                    .map_err(|e| unreadable(&self.source, self.number + 1, &e))?;
            if !more {
                return Ok(false);
            }
            // A line of only spaces is not a row anybody meant to export (empty lines never reach here).
            if self.record.len() == 1 && self.record[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.number += 1;
            return Ok(true);
        }
    }
}

/// Appends the fields of `record` to `batch`, each as [`cell`] reads it: the record's text at
/// once when it is UTF-8 whose fields end on character boundaries and none is `\N` (nearly
/// always), else field by field.
fn push_record(record: &csv::ByteRecord, batch: &mut Batch) {
    let all = record.as_slice();
    if let Ok(text) = std::str::from_utf8(all) {
        let plain = (0..record.len()).all(|i| {
            record
                .range(i)
                .is_some_and(|r| text.is_char_boundary(r.end) && &all[r] != br"\N")
        });
        if plain {
            let ends = (0..record.len()).filter_map(|i| record.range(i).map(|r| r.end));
            batch.push_fields(text, ends);
            return;
        }
    }
    for field in record {
        batch.push_field(&cell(field));
    }
}

impl PartRows for SnapshotRows {
    fn header(&self) -> &[String] {
        &self.header
    }

    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, SnapshotError> {
        let mut more = true;
        for _ in 0..max {
            more = self.next_record()?;
            if !more {
                break;
            }
            push_record(&self.record, batch);
            batch.end_row(self.number);
            if batch.text_len() >= BATCH_BYTES {
                break;
            }
        }
        batch.set_read(self.stored.load(Ordering::Relaxed));
        Ok(more)
    }

    fn last_number(&self) -> u64 {
        self.number
    }

    /// A CSV part's bytes come from its own stream.
    fn alongside(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests;
