//! A guard between the decoded snapshot and the CSV parser. It follows the parser's quoting the way
//! csv-core does, counts physical lines, and stops the stream with an error where the parser would
//! silently go wrong or grow without bound:
//!
//! - a quote left open to the end of the file (the csv crate would read everything after it as one
//!   value, and the rest of the file would be lost without a word);
//! - a record larger than [`MAX_RECORD_BYTES`] or with more than [`MAX_COLUMNS`] columns (memory
//!   stays bounded whatever the input).
//!
//! Quoting as csv-core reads it (RFC 4180, doubled quotes as escapes): a quote opens a quoted
//! value only at the start of a field; inside one, `""` is a quote and a quote followed by anything
//! else closes it; a quote inside an unquoted value (`5'10"`) is an ordinary character.
//!
//! The bytes before a problem are handed on first, so the parser returns every complete row before
//! it and the error surfaces while the parser reads the row that has the problem.

use std::io::{self, Read};

/// The largest record (row) a snapshot may have, in bytes.
pub const MAX_RECORD_BYTES: usize = 1 << 20;
/// The most columns a record (row) may have.
pub const MAX_COLUMNS: usize = 10_000;
// The messages below spell the limits out.
const _: () = assert!(MAX_RECORD_BYTES == 1 << 20 && MAX_COLUMNS == 10_000);

/// What stopped the stream; carried inside the `io::Error` the parser passes on. Never holds a
/// value from the file (values are personal data), only where the problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// A quote opened on `line` and the file ended inside it.
    OpenQuote { line: u64 },
    /// The record that starts on `line` is larger than [`MAX_RECORD_BYTES`].
    TooLarge { line: u64 },
    /// The record that starts on `line` has more than [`MAX_COLUMNS`] columns.
    TooManyColumns { line: u64 },
}

impl Malformed {
    /// What to tell the user; `row` is the row the parser was reading (the header is row 1).
    pub fn explain(self, source: &str, row: u64) -> String {
        match self {
            Self::OpenQuote { line } => format!(
                "the snapshot {source} has a quote (\") opened on row {row} (line {line} of the file) that is never closed: everything after it would be read as one value. Fix the quoting at that row (a value holding a quote must be written \"\"like this\"\") and export again"
            ),
            Self::TooLarge { line } => format!(
                "the snapshot {source} cannot be read: row {row} (from line {line} of the file) is larger than 1 MB: a quote is probably left open at row {row}, or the file is not a CSV"
            ),
            Self::TooManyColumns { line } => format!(
                "the snapshot {source} cannot be read: row {row} (from line {line} of the file) has more than 10,000 columns, the most a snapshot may have: check that the file is a CSV and that its separator is a comma, a semicolon or a tab"
            ),
        }
    }

    /// The problem behind a parser error, if the guard stopped the stream.
    pub fn of(error: &csv::Error) -> Option<Self> {
        match error.kind() {
            csv::ErrorKind::Io(e) => e.get_ref()?.downcast_ref::<Self>().copied(),
            _ => None,
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::OpenQuote { line } => write!(f, "a quote opened on line {line} is never closed"),
            Self::TooLarge { line } => write!(f, "the row from line {line} is larger than 1 MB"),
            Self::TooManyColumns { line } => {
                write!(
                    f,
                    "the row from line {line} has more than {MAX_COLUMNS} columns"
                )
            }
        }
    }
}

impl std::error::Error for Malformed {}

/// Where csv-core's state machine is (the states that matter for quoting and record ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between records; line ends here are blank lines, which the parser skips.
    StartRecord,
    StartField,
    InField,
    InQuotes,
    /// A quote inside quotes: an escaped quote if another follows, else the end of the quoting.
    QuoteInQuotes,
}

/// The stream the CSV parser reads, checked as it passes.
pub struct Guarded<R> {
    inner: R,
    delimiter: u8,
    state: State,
    /// The physical line the next byte is on (lines end with LF, CRLF or a lone CR).
    line: u64,
    after_cr: bool,
    record_line: u64,
    record_bytes: usize,
    columns: usize,
    quote_line: u64,
    stopped: Option<Malformed>,
}

impl<R: Read> Guarded<R> {
    pub fn new(inner: R, delimiter: u8) -> Self {
        Self {
            inner,
            delimiter,
            state: State::StartRecord,
            line: 1,
            after_cr: false,
            record_line: 1,
            record_bytes: 0,
            columns: 0,
            quote_line: 1,
            stopped: None,
        }
    }

    /// Follows one byte; a problem is reported at the byte that shows it.
    fn step(&mut self, b: u8) -> Result<(), Malformed> {
        let end_of_line = b == b'\r' || b == b'\n';
        if self.state == State::StartRecord && !end_of_line {
            self.state = State::StartField;
            self.record_line = self.line;
            self.record_bytes = 0;
            self.columns = 1;
        }
        let delimiter = b == self.delimiter;
        self.state = match self.state {
            State::StartRecord => State::StartRecord,
            State::InQuotes if b == b'"' => State::QuoteInQuotes,
            State::InQuotes => State::InQuotes,
            State::QuoteInQuotes if b == b'"' => State::InQuotes,
            State::StartField if b == b'"' => {
                self.quote_line = self.line;
                State::InQuotes
            }
            _ if delimiter => {
                self.columns += 1;
                if self.columns > MAX_COLUMNS {
                    return Err(Malformed::TooManyColumns {
                        line: self.record_line,
                    });
                }
                State::StartField
            }
            _ if end_of_line => State::StartRecord,
            _ => State::InField,
        };
        // Everything up to the line end that closes the record counts towards its size.
        if self.state != State::StartRecord {
            self.record_bytes += 1;
            if self.record_bytes > MAX_RECORD_BYTES {
                return Err(Malformed::TooLarge {
                    line: self.record_line,
                });
            }
        }
        if b == b'\r' || (b == b'\n' && !self.after_cr) {
            self.line += 1;
        }
        self.after_cr = b == b'\r';
        Ok(())
    }

    /// Follows `bytes`; on a problem, how many bytes came before the one that shows it. Runs of
    /// bytes that cannot open or close quoting or end a record are taken in one step (found with
    /// `memchr`): outside quotes such a run only adds its separators to the columns and its
    /// length to the record's size, inside quotes only its length. The state after it is the
    /// one [`Guarded::step`] on each byte leaves; near a limit each byte is stepped, so a problem
    /// is reported at the byte that shows it.
    fn follow(&mut self, bytes: &[u8]) -> Result<(), (usize, Malformed)> {
        let mut i = 0;
        while i < bytes.len() {
            let rest = &bytes[i..];
            let quoted = match self.state {
                State::InField | State::StartField => false,
                State::InQuotes => true,
                _ => {
                    self.step(bytes[i]).map_err(|problem| (i, problem))?;
                    i += 1;
                    continue;
                }
            };
            let run = memchr::memchr3(b'"', b'\r', b'\n', rest).unwrap_or(rest.len());
            if run == 0 {
                self.step(bytes[i]).map_err(|problem| (i, problem))?;
                i += 1;
                continue;
            }
            let part = &rest[..run];
            let separators = if quoted {
                0
            } else {
                part.iter().filter(|b| **b == self.delimiter).count()
            };
            if self.columns + separators > MAX_COLUMNS || self.record_bytes + run > MAX_RECORD_BYTES
            {
                for (k, b) in part.iter().enumerate() {
                    self.step(*b).map_err(|problem| (i + k, problem))?;
                }
            } else {
                self.columns += separators;
                self.record_bytes += run;
                self.after_cr = false;
                if !quoted {
                    self.state = if part[run - 1] == self.delimiter {
                        State::StartField
                    } else {
                        State::InField
                    };
                }
            }
            i += run;
        }
        Ok(())
    }

    fn stop(&mut self, problem: Malformed) -> io::Error {
        self.stopped = Some(problem);
        io::Error::new(io::ErrorKind::InvalidData, problem)
    }
}

impl<R: Read> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(problem) = self.stopped {
            return Err(self.stop(problem));
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.state == State::InQuotes {
                let line = self.quote_line;
                return Err(self.stop(Malformed::OpenQuote { line }));
            }
            return Ok(0);
        }
        match self.follow(&buf[..n]) {
            Ok(()) => Ok(n),
            Err((0, problem)) => Err(self.stop(problem)),
            Err((i, problem)) => {
                // Hand on what came before; the next read reports the problem.
                self.stopped = Some(problem);
                Ok(i)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` through the guard in blocks of `block` bytes: the records csv parses (as
    /// field counts) and the problem that stopped it, if any.
    fn parse(input: &[u8], block: usize) -> (Vec<usize>, Option<Malformed>) {
        struct Blocks<'a>(&'a [u8], usize);
        impl Read for Blocks<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Guarded::new(Blocks(input, block), b','));
        let mut record = csv::ByteRecord::new();
        let mut records = Vec::new();
        loop {
            match reader.read_byte_record(&mut record) {
                Ok(true) => records.push(record.len()),
                Ok(false) => return (records, None),
                Err(e) => return (records, Malformed::of(&e)),
            }
        }
    }

    #[test]
    fn quoting_follows_csv_core() {
        let fine: [&[u8]; 8] = [
            b"a,b\n1,2\n",
            b"a,\"b \"\"c\"\"\"\r\n\"x\ny\",z",
            b"height\n5'10\"\n6'1\"\n",
            b"a\n\"closed\"\n",
            b"a\n\"closed\"tail,\"x\"\n",
            b"a,b\nx\"y,\"z\"\"\"\n",
            b"\r\n\n\na\r\r\n",
            b"a\n\"\"",
        ];
        for input in fine {
            for block in [1, 2, 3, 1000] {
                let (_, problem) = parse(input, block);
                assert_eq!(problem, None, "{:?}", String::from_utf8_lossy(input));
            }
        }
        let open: [(&[u8], u64); 4] = [
            (b"a,b\n1,\"2\n3,4\n", 2),
            (b"a\n\"x\"\"\n", 2),
            (b"a\r\n\r\nb\r\n\"x\r\ny", 4),
            (b"\"a,b\n1,2\n", 1),
        ];
        for (input, line) in open {
            for block in [1, 2, 1000] {
                let (_, problem) = parse(input, block);
                assert_eq!(problem, Some(Malformed::OpenQuote { line }), "{input:?}");
            }
        }
    }

    #[test]
    fn rows_before_a_problem_are_parsed_first() {
        let mut input = b"a,b\n1,2\n3,4\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        for block in [7, 64 * 1024, 4 << 20] {
            let (records, problem) = parse(&input, block);
            assert_eq!(records, [2, 2, 2], "block {block}");
            assert_eq!(problem, Some(Malformed::TooLarge { line: 4 }));
        }
    }

    #[test]
    fn record_size_and_columns_are_capped() {
        let mut wide = b"a\n".to_vec();
        wide.extend(std::iter::repeat_n(b',', MAX_COLUMNS - 1));
        wide.push(b'\n');
        assert_eq!(parse(&wide, 4096), (vec![1, MAX_COLUMNS], None));
        wide.pop();
        wide.extend(b",\n");
        let (records, problem) = parse(&wide, 4096);
        assert_eq!(records, [1]);
        assert_eq!(problem, Some(Malformed::TooManyColumns { line: 2 }));

        let mut big = b"a\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES));
        big.extend(b"\nb\n");
        assert_eq!(parse(&big, 4096).1, None);
        let mut quoted = b"a\n\"".to_vec();
        quoted.extend(std::iter::repeat_n(b'\n', MAX_RECORD_BYTES));
        let (records, problem) = parse(&quoted, 4096);
        assert_eq!(records, [1]);
        assert_eq!(problem, Some(Malformed::TooLarge { line: 2 }));
    }

    /// Where a guard stands: what `follow` must leave as `step` on each byte would.
    fn position(g: &Guarded<&[u8]>) -> (State, u64, bool, u64, usize, usize, u64) {
        let quote = g.quote_line;
        (
            g.state,
            g.line,
            g.after_cr,
            g.record_line,
            g.record_bytes,
            g.columns,
            quote,
        )
    }

    #[test]
    fn skipping_runs_ends_where_stepping_each_byte_does() {
        let alphabet = b"ab,,\"\r\n;xyz";
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for case in 0..3000 {
            let len = 1 + case % 97;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    alphabet[(seed % alphabet.len() as u64) as usize]
                })
                .collect();
            let (mut fast, mut slow) = (Guarded::new(&[][..], b','), Guarded::new(&[][..], b','));
            let stepped = input
                .iter()
                .enumerate()
                .try_for_each(|(i, b)| slow.step(*b).map_err(|p| (i, p)));
            assert_eq!(fast.follow(&input), stepped, "{input:?}");
            assert_eq!(position(&fast), position(&slow), "{input:?}");
        }
    }
}
