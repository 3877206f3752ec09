//! Segment snapshots: CSV with a header row, optionally gzip-compressed (recognised by its magic
//! bytes, whatever the file is called), UTF-8 with or without a BOM, CRLF or LF line ends, RFC 4180
//! quoting; separated by commas, or by semicolons or tabs when the header line has no comma. Text
//! with a UTF-16 BOM (a spreadsheet's "Unicode text") is transcoded as it streams; other text that
//! is not UTF-8 is read as Windows-1252, what older spreadsheet exports write.
//! Read as a stream, one row at a time, never whole; a quote left open to the end of the file, a
//! row over 1 MB or over 10,000 columns stops the reading with an error naming the row (see
//! the `guard` module), so a malformed file is never read as a shorter one. A compressed snapshot
//! that expands more than 200 times past 100 MB stops the reading too (the `expansion` module).

mod error;
mod expansion;
mod guard;
mod local_files;

pub use error::{io_kind, SnapshotError};

use expansion::TooExpanded;
use guard::{Guarded, Malformed};
pub use local_files::LocalFiles;
use std::io::{BufRead, BufReader, Read};

/// Opens a snapshot where it lives. Synchronous: snapshots are parsed on a blocking thread.
/// A read from the opened stream that fails is classified by [`io_kind`].
pub trait SnapshotReader: Send + Sync {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError>;
}

/// A field as text: UTF-8 when it is, else Windows-1252 (which every byte sequence decodes as).
fn text(field: &[u8]) -> String {
    match std::str::from_utf8(field) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(field)
            .0
            .into_owned(),
    }
}

/// The delimiter of a snapshot, from its header line: a comma, unless the header has none and has
/// semicolons or tabs (spreadsheet exports in many locales).
fn delimiter(start: &[u8]) -> u8 {
    // Separators inside a quoted column name ("Name, full") do not count.
    let mut quoted = false;
    let mut line = Vec::new();
    for &b in start {
        if b == b'"' {
            quoted = !quoted;
        } else if b == b'\n' && !quoted {
            break;
        } else if !quoted {
            line.push(b);
        }
    }
    let count = |d: u8| line.iter().filter(|b| **b == d).count();
    if count(b',') > 0 {
        b','
    } else if count(b';') >= count(b'\t') && count(b';') > 0 {
        b';'
    } else if count(b'\t') > 0 {
        b'\t'
    } else {
        b','
    }
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
    number: u64,
}

impl SnapshotRows {
    /// Reads the header; an empty snapshot or an unreadable header is an error.
    pub fn open(source: &str, input: Box<dyn Read + Send>) -> Result<Self, SnapshotError> {
        let (counted, compressed) = expansion::Counted::new(input);
        let mut buffered = BufReader::with_capacity(256 * 1024, counted);
        let magic = buffered.fill_buf().map_err(|e| {
            SnapshotError::io(format!("the snapshot {source} cannot be read: {e}"), &e)
        })?;
        let decompressed: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
            let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
            Box::new(expansion::Bounded::new(decoder, compressed))
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
        let delimiter = delimiter(&start);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(256 * 1024)
            .from_reader(Guarded::new(
                Box::new(std::io::Cursor::new(start).chain(decoded)) as Box<dyn Read + Send>,
                delimiter,
            ));
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| unreadable(source, 1, &e))?;
        if !has_header {
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
        // No column name holds a control character: a file whose first line does is binary
        // data (or UTF-16 without a byte-order mark), not a CSV whose rows could be trusted.
        let control = |c: char| c.is_control() && !matches!(c, '\t' | '\r' | '\n');
        if header.iter().any(|name| name.chars().any(control)) {
            return Err(SnapshotError::invalid(format!(
                "the snapshot {source} is not a CSV text file: its first row holds control characters (such as NUL) that no column name has — binary data, or UTF-16 text without a byte-order mark. Export the segment as CSV (UTF-8) and try again"
            )));
        }
        Ok(Self {
            source: source.to_string(),
            reader,
            header,
            record,
            number: 1,
        })
    }

    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The next data row; `Err` only when the snapshot itself cannot be read further.
    pub fn next_row(&mut self) -> Result<Option<Row>, SnapshotError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| unreadable(&self.source, self.number + 1, &e))?;
            if !more {
                return Ok(None);
            }
            // A line of only spaces is not a row anybody meant to export (empty lines never reach here).
            if self.record.len() == 1 && self.record[0].iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.number += 1;
            let fields = self.record.iter().map(text).collect();
            return Ok(Some(Row {
                number: self.number,
                fields,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn rows(bytes: Vec<u8>) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
        let mut snapshot =
            SnapshotRows::open("test.csv", Box::new(std::io::Cursor::new(bytes))).unwrap();
        let header = snapshot.header().to_vec();
        let mut out = Vec::new();
        while let Some(row) = snapshot.next_row().unwrap() {
            out.push((row.number, row.fields));
        }
        (header, out)
    }

    #[test]
    fn bom_crlf_quotes_and_blank_lines() {
        let text = "\u{feff}email,name\r\n\"a@x.io\",\"Lee, Ann\"\r\n\r\nb@x.io,\"two\nlines \"\"quoted\"\"\"\r\n";
        let (header, rows) = rows(text.as_bytes().to_vec());
        assert_eq!(header, ["email", "name"]);
        assert_eq!(rows[0], (2, vec!["a@x.io".into(), "Lee, Ann".into()]));
        assert_eq!(
            rows[1],
            (3, vec!["b@x.io".into(), "two\nlines \"quoted\"".into()])
        );
    }

    #[test]
    fn semicolons_and_tabs_are_recognised_from_the_header() {
        let (header, rows) = rows(b"email;name\na@x.io;Lee, Ann\n".to_vec());
        assert_eq!(header, ["email", "name"]);
        assert_eq!(rows[0].1, ["a@x.io", "Lee, Ann"]);
        let (header, _) = rows_of(b"email\tname\n");
        assert_eq!(header, ["email", "name"]);
        let (header, _) = rows_of(b"email\n");
        assert_eq!(header, ["email"]);
        let (header, rows) = rows_of(b"\"Name, full\";email\n\"Lee, Ann\";a@x.io\n");
        assert_eq!(header, ["Name, full", "email"]);
        assert_eq!(rows[0].1, ["Lee, Ann", "a@x.io"]);
    }

    fn rows_of(bytes: &[u8]) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
        rows(bytes.to_vec())
    }

    #[test]
    fn gzip_is_recognised_by_its_bytes() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"email\na@x.io\n").unwrap();
        let (header, rows) = rows(gz.finish().unwrap());
        assert_eq!(header, ["email"]);
        assert_eq!(rows.len(), 1);
    }

    #[test]
    fn empty_snapshot_and_windows_1252() {
        let err = SnapshotRows::open("e.csv", Box::new(std::io::Cursor::new(Vec::new())))
            .err()
            .unwrap();
        assert!(err.message().contains("is empty"), "{err}");
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
        // "Müller" and "Prénom" as an old spreadsheet writes them.
        let (header, rows) = rows(b"email,Pr\xe9nom\nm@x.io,M\xfcller\n".to_vec());
        assert_eq!(header, ["email", "Prénom"]);
        assert_eq!(rows[0].1, ["m@x.io", "Müller"]);
        let corrupt = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3];
        let err = SnapshotRows::open("c.csv.gz", Box::new(std::io::Cursor::new(corrupt)))
            .err()
            .unwrap();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput, "{err}");
    }

    #[test]
    fn utf16_with_a_bom_is_transcoded() {
        let text = "\u{feff}email\tname\r\nz@x.io\tZoë Ünal\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for bytes in [le, be] {
            let (header, rows) = rows(bytes);
            assert_eq!(header, ["email", "name"]);
            assert_eq!(rows, [(2, vec!["z@x.io".to_string(), "Zoë Ünal".into()])]);
        }
    }

    /// Reads every row, or the error that stopped the reading.
    fn read_all(bytes: Vec<u8>) -> Result<usize, String> {
        let fatal = |e: SnapshotError| {
            assert_eq!(e.kind(), crate::error::ErrorKind::InvalidInput, "{e}");
            e.to_string()
        };
        let mut snapshot =
            SnapshotRows::open("s.csv", Box::new(std::io::Cursor::new(bytes))).map_err(fatal)?;
        let mut n = 0;
        while snapshot.next_row().map_err(fatal)?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn binary_data_is_not_read_as_a_header() {
        let mut garbage = vec![0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, b',', 0x1b, b'['];
        garbage.extend(b"\nemail\na@x.io\n");
        let utf16_without_bom: Vec<u8> = "email,name\na@x.io,A\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for bytes in [garbage, utf16_without_bom] {
            let err = SnapshotRows::open("g.csv", Box::new(std::io::Cursor::new(bytes)))
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.starts_with("the snapshot g.csv is not a CSV text file: its first row holds control characters"),
                "{err}"
            );
        }
        // Tabs and line breaks inside quoted names are text.
        let (header, _) = rows(b"\"e\tmail\",\"first\nname\"\n".to_vec());
        assert_eq!(header, ["e\tmail", "first\nname"]);
    }

    #[test]
    fn a_gzip_bomb_is_refused_naming_the_file_and_the_limit() {
        // A thousand rows, then 120 MB of line ends: about 120 KB compressed. The rows before
        // the bound are read; the reading stops soon after 100 MB.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(b"email\n").unwrap();
        gz.write_all(&b"a@x.io\n".repeat(1000)).unwrap();
        let block = vec![b'\n'; 1 << 20];
        for _ in 0..120 {
            gz.write_all(&block).unwrap();
        }
        let bomb = gz.finish().unwrap();
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let mut snapshot =
            SnapshotRows::open("bomb.csv.gz", Box::new(std::io::Cursor::new(bomb))).unwrap();
        let mut rows = 0u64;
        let err = loop {
            match snapshot.next_row() {
                Ok(Some(_)) => rows += 1,
                Ok(None) => panic!("read to the end: {rows} rows"),
                Err(e) => break e.to_string(),
            }
        };
        assert_eq!(rows, 1000);
        assert!(
            err.starts_with("the snapshot bomb.csv.gz cannot be read: it is compressed and expands more than 200 times over 100 MB"),
            "{err}"
        );
    }

    #[test]
    fn a_quote_left_open_is_an_error_naming_its_row() {
        let mut text = String::from("email,name\n");
        for i in 2..=10_000 {
            let name = if i == 11 { "\"Ann" } else { "Ann" };
            text.push_str(&format!("p{i}@x.io,{name}\n"));
        }
        let err = read_all(text.into_bytes()).unwrap_err();
        assert!(
            err.contains("s.csv") && err.contains("opened on row 11 (line 11 of the file)"),
            "{err}"
        );
        assert!(!err.contains("Ann") && !err.contains("p11@"), "{err}");
    }

    #[test]
    fn malformed_rows_are_named_after_the_rows_before_them_are_read() {
        // A blank and a space-only line are not rows: the big one is row 4, on line 6.
        let mut text = b"email,note\na@x.io,5'10\"\n\n   \nb@x.io,x\nc@x.io,".to_vec();
        text.extend(std::iter::repeat_n(b'y', guard::MAX_RECORD_BYTES));
        text.extend(b"\nd@x.io,z\n");
        let mut snapshot =
            SnapshotRows::open("big.csv", Box::new(std::io::Cursor::new(text))).unwrap();
        let first = snapshot.next_row().unwrap().unwrap();
        assert_eq!((first.number, first.fields[1].as_str()), (2, "5'10\""));
        assert_eq!(snapshot.next_row().unwrap().unwrap().number, 3);
        let err = snapshot.next_row().unwrap_err().to_string();
        assert!(
            err.contains("big.csv")
                && err.contains("row 4 (from line 6 of the file) is larger than 1 MB"),
            "{err}"
        );
        assert!(!err.contains("c@x.io") && !err.contains("yyy"), "{err}");
    }

    #[test]
    fn the_header_is_held_to_the_same_limits() {
        let wide = format!("{}\na@x.io\n", "c,".repeat(guard::MAX_COLUMNS));
        let err = read_all(wide.into_bytes()).unwrap_err();
        assert!(
            err.contains("row 1") && err.contains("more than 10,000 columns"),
            "{err}"
        );
        let err = read_all(b"\"email,name\na@x.io,Ann\n".to_vec()).unwrap_err();
        assert!(
            err.contains("opened on row 1 (line 1 of the file)"),
            "{err}"
        );
        // Compressed and UTF-16 snapshots are checked as the text they hold.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"email\n\na@x.io\n\"b@x.io\nc@x.io\n")
            .unwrap();
        let err = read_all(gz.finish().unwrap()).unwrap_err();
        assert!(
            err.contains("opened on row 3 (line 4 of the file)"),
            "{err}"
        );
        let text = "\u{feff}email\tname\r\nz@x.io\t\"Zo\r\ny@x.io\tY\r\n";
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let err = read_all(utf16).unwrap_err();
        assert!(
            err.contains("opened on row 2 (line 2 of the file)"),
            "{err}"
        );
    }
}
