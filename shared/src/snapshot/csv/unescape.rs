//! Backslash-escaped text, read as the CSV it stands for. Warehouses that unload without
//! quoting escape what would split a value instead: PostgreSQL's `COPY … TO` in text format,
//! MySQL's `SELECT … INTO OUTFILE`, Snowflake's `COPY INTO @stage` without
//! `FIELD_OPTIONALLY_ENCLOSED_BY` (its `ESCAPE_UNENCLOSED_FIELD` is a backslash) and Redshift's
//! `UNLOAD … ESCAPE` write `Acme\, Inc.` for a value holding the separator, `\\` for a backslash,
//! and a newline either as `\n` or as a backslash before the newline itself.
//!
//! [`Unescaped`] turns such a stream into RFC 4180 CSV as it is read, each value quoted: `\n`,
//! `\t`, `\r`, `\b`, `\f` and `\v` are the control characters they name, a backslash before any
//! other character is that character (the separator, a newline, a quote, a backslash), and
//! `\N` (SQL NULL) is kept as it is, for the CSV reader to read as an empty cell. An unescaped
//! quote is a character of the value. Empty lines stay empty (and are skipped); a line may end
//! in CRLF. Memory is bounded by one block of input and the few bytes each may become.

use std::io::{BufRead, Read};

/// Bytes of input turned into CSV at once.
const BLOCK: usize = 64 * 1024;

/// A backslash-escaped text stream read as quoted CSV.
pub struct Unescaped<R> {
    inner: R,
    separator: u8,
    /// CSV not handed out yet, from `at`.
    out: Vec<u8>,
    at: usize,
    /// The last byte read was an escaping backslash.
    escaping: bool,
    /// The last byte read was a carriage return not handed on yet (it may end the line).
    cr: bool,
    /// A value is open (its quote written).
    open: bool,
    /// The line has begun (a value or a separator was read on it).
    begun: bool,
    ended: bool,
}

impl<R: BufRead> Unescaped<R> {
    pub fn new(inner: R, separator: u8) -> Self {
        Self {
            inner,
            separator,
            out: Vec::new(),
            at: 0,
            escaping: false,
            cr: false,
            open: false,
            begun: false,
            ended: false,
        }
    }

    /// Opens the value if it is not (a value begins at its first character).
    fn open(&mut self) {
        if !self.open {
            self.out.push(b'"');
            self.open = true;
            self.begun = true;
        }
    }

    /// A character of a value.
    fn value(&mut self, b: u8) {
        self.open();
        if b == b'"' {
            self.out.push(b'"');
        }
        self.out.push(b);
    }

    /// Ends the value being read (an empty one if none was opened).
    fn close(&mut self) {
        self.open();
        self.out.push(b'"');
        self.open = false;
    }

    /// Ends the line: its last value, then the newline (an empty line stays empty).
    fn end_line(&mut self) {
        if self.begun {
            self.close();
        }
        self.out.push(b'\n');
        self.begun = false;
    }

    fn take(&mut self, b: u8) {
        if std::mem::take(&mut self.cr) {
            if b == b'\n' {
                self.end_line();
                return;
            }
            self.value(b'\r');
        }
        if std::mem::take(&mut self.escaping) {
            let meant = match b {
                b'n' => b'\n',
                b't' => b'\t',
                b'r' => b'\r',
                b'b' => 0x08,
                b'f' => 0x0c,
                b'v' => 0x0b,
                b'N' => {
                    // SQL NULL: the CSV reader reads a cell of exactly `\N` as empty.
                    self.value(b'\\');
                    b'N'
                }
                other => other,
            };
            self.value(meant);
            return;
        }
        match b {
            b'\\' => {
                self.open();
                self.escaping = true;
            }
            b'\r' => self.cr = true,
            b'\n' => self.end_line(),
            b if b == self.separator => {
                self.close();
                self.out.push(b);
                self.begun = true;
            }
            b => self.value(b),
        }
    }

    /// Turns the next block of input into CSV; `false` once the input has ended.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.out.clear();
        self.at = 0;
        if self.ended {
            return Ok(false);
        }
        let block = self.inner.fill_buf()?;
        if block.is_empty() {
            self.ended = true;
            if std::mem::take(&mut self.escaping) {
                // A backslash at the very end escapes nothing: it is itself.
                self.value(b'\\');
            }
            if std::mem::take(&mut self.cr) || self.begun {
                self.end_line();
            }
            return Ok(!self.out.is_empty());
        }
        let block = block[..block.len().min(BLOCK)].to_vec();
        for &b in &block {
            self.take(b);
        }
        self.inner.consume(block.len());
        Ok(true)
    }
}

impl<R: BufRead> Read for Unescaped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::Unescaped;
    use std::io::Read;

    fn csv(text: &str, separator: u8) -> String {
        let mut out = String::new();
        // A small buffer: escapes and line ends split across blocks read the same.
        let inner = std::io::BufReader::with_capacity(3, text.as_bytes());
        Unescaped::new(inner, separator)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    /// The fields of each row, as the crate's CSV reader reads the output.
    fn rows(text: &str, separator: u8) -> Vec<Vec<String>> {
        let converted = csv(text, separator);
        csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(separator)
            .from_reader(converted.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn escaped_separators_newlines_and_backslashes_are_characters_of_the_value() {
        let text =
            "email,company,note\na@x.io,Acme\\, Inc.,two\\nlines\nb@x.io,C:\\\\temp,\"quoted\"\n";
        assert_eq!(
            rows(text, b','),
            [
                vec!["email", "company", "note"],
                vec!["a@x.io", "Acme, Inc.", "two\nlines"],
                vec!["b@x.io", "C:\\temp", "\"quoted\""],
            ]
        );
    }

    #[test]
    fn a_backslash_before_a_newline_or_a_tab_keeps_it_in_the_value() {
        // MySQL's INTO OUTFILE: tabs between values, the character itself after the backslash.
        let text = "a@x.io\tline one\\\nline two\tx\\\ty\r\nb@x.io\t\\N\t\\t\n";
        assert_eq!(
            rows(text, b'\t'),
            [
                vec!["a@x.io", "line one\nline two", "x\ty"],
                vec!["b@x.io", "\\N", "\t"],
            ]
        );
    }

    #[test]
    fn empty_values_lines_and_a_trailing_backslash_are_read_as_written() {
        let text = "a@x.io||\n\nb@x.io|\\|\r|end\\";
        assert_eq!(
            rows(text, b'|'),
            [vec!["a@x.io", "", ""], vec!["b@x.io", "|\r", "end\\"]]
        );
        assert_eq!(csv("", b','), "");
        assert_eq!(csv("\n\n", b','), "\n\n");
    }
}
