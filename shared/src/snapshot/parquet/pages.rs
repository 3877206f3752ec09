//! A guard over a column chunk's pages before the Parquet decoder sees them. The decoder sizes
//! a page's buffer by the size its header claims, and decompresses a gzip page whatever it
//! expands to: a damaged or hostile file could make either take gigabytes. So each page header
//! is read here (the Thrift compact encoding, of which only the sizes are kept: the parquet
//! crate keeps its page header type to itself), and a page that claims more than
//! [`MAX_PAGE_BYTES`], pages that claim more than the chunk holds, or a gzip page that expands
//! past what its header claims stop the reading with an error naming the column.

use super::MAX_PAGE_BYTES;
use parquet::basic::Compression;
use std::io::Read;

/// What was wrong with a column chunk's pages.
pub type Problem = String;

/// Checks the pages of a column chunk (`bytes`, compressed with `codec`); returns the bytes
/// they decompress to in all.
pub fn check(bytes: &[u8], codec: Compression) -> Result<u64, Problem> {
    let mut at = 0;
    let mut total = 0u64;
    while at < bytes.len() {
        let mut input = Compact {
            bytes: &bytes[at..],
            at: 0,
        };
        let header = input.page_header()?;
        let (Ok(uncompressed), Ok(compressed)) = (
            usize::try_from(header.uncompressed),
            usize::try_from(header.compressed),
        ) else {
            return Err("a page header with a negative size".into());
        };
        if uncompressed as u64 > MAX_PAGE_BYTES {
            return Err(format!(
                "a page that expands to {} MB, more than the 64 MB a page may",
                uncompressed >> 20
            ));
        }
        let start = at + input.at;
        let end = start
            .checked_add(compressed)
            .filter(|end| *end <= bytes.len())
            .ok_or("a page longer than its column chunk")?;
        if matches!(codec, Compression::GZIP(_)) && !header.v2_uncompressed {
            bounded_gunzip(&bytes[start..end], uncompressed)?;
        }
        total += uncompressed as u64;
        at = end;
    }
    Ok(total)
}

/// Decompresses a gzip page no further than one byte past what its header claims.
fn bounded_gunzip(page: &[u8], claimed: usize) -> Result<(), Problem> {
    let mut decoder = flate2::read::MultiGzDecoder::new(page).take(claimed as u64 + 1);
    let read = std::io::copy(&mut decoder, &mut std::io::sink())
        .map_err(|e| format!("a gzip page that does not decompress ({e})"))?;
    if read > claimed as u64 {
        return Err("a gzip page that expands past the size its header claims".into());
    }
    Ok(())
}

/// The sizes of a page header.
#[derive(Debug, Default, PartialEq, Eq)]
struct Header {
    uncompressed: i32,
    compressed: i32,
    /// A data page v2 marked as not compressed (`is_compressed = false`).
    v2_uncompressed: bool,
}

/// Reads the Thrift compact protocol, as much of it as page headers use.
struct Compact<'a> {
    bytes: &'a [u8],
    at: usize,
}

const STOP: u8 = 0;
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;
/// Deeper nesting than any page header has.
const MAX_DEPTH: u32 = 16;

impl Compact<'_> {
    fn byte(&mut self) -> Result<u8, Problem> {
        let b = *self.bytes.get(self.at).ok_or("a page header cut short")?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Problem> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift.min(63);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a page header with a malformed number".into())
    }

    fn zigzag(&mut self) -> Result<i64, Problem> {
        let n = self.varint()?;
        Ok((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn i32(&mut self) -> Result<i32, Problem> {
        i32::try_from(self.zigzag()?).map_err(|_| "a page header number out of range".into())
    }

    fn skip_bytes(&mut self, n: u64) -> Result<(), Problem> {
        let n = usize::try_from(n).map_err(|_| "a page header cut short")?;
        self.at = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or("a page header cut short")?;
        Ok(())
    }

    /// Refuses a list or map that claims more elements than bytes are left: every element takes
    /// at least one byte, so a larger count is damage (and would loop for as long as it says).
    fn fits(&self, elements: u64) -> Result<(), Problem> {
        let left = self.bytes.len().saturating_sub(self.at) as u64;
        if elements > left {
            return Err("a page header with a list longer than the page".into());
        }
        Ok(())
    }

    /// Skips one element of a list or map, where a boolean takes a byte of its own.
    fn skip_element(&mut self, kind: u8, depth: u32) -> Result<(), Problem> {
        match kind {
            TRUE | FALSE => self.skip_bytes(1),
            _ => self.skip(kind, depth),
        }
    }

    /// The type and id of the next field of a struct, `None` at its end.
    fn field(&mut self, last: &mut i16) -> Result<Option<(u8, i16)>, Problem> {
        let b = self.byte()?;
        let kind = b & 0x0f;
        if kind == STOP {
            return Ok(None);
        }
        let delta = i16::from(b >> 4);
        *last = if delta == 0 {
            i16::try_from(self.zigzag()?).map_err(|_| "a page header field id out of range")?
        } else {
            last.saturating_add(delta)
        };
        Ok(Some((kind, *last)))
    }

    fn skip(&mut self, kind: u8, depth: u32) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err("a page header nested too deep".into());
        }
        match kind {
            TRUE | FALSE => Ok(()),
            BYTE => self.skip_bytes(1),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.skip_bytes(8),
            BINARY => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            LIST | SET => {
                let b = self.byte()?;
                let size = match b >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                let element = b & 0x0f;
                self.fits(size)?;
                for _ in 0..size {
                    self.skip_element(element, depth + 1)?;
                }
                Ok(())
            }
            MAP => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                let kinds = self.byte()?;
                self.fits(size)?;
                for _ in 0..size {
                    self.skip_element(kinds >> 4, depth + 1)?;
                    self.skip_element(kinds & 0x0f, depth + 1)?;
                }
                Ok(())
            }
            STRUCT => {
                let mut last = 0;
                while let Some((kind, _)) = self.field(&mut last)? {
                    self.skip(kind, depth + 1)?;
                }
                Ok(())
            }
            _ => Err("a page header of unknown encoding".into()),
        }
    }

    /// A `PageHeader`: its sizes (fields 2 and 3), and field 8's `is_compressed` (field 7 of
    /// a data page v2 header); everything else skipped.
    fn page_header(&mut self) -> Result<Header, Problem> {
        let mut header = Header::default();
        let (mut sizes, mut last) = (0, 0);
        while let Some((kind, id)) = self.field(&mut last)? {
            match (id, kind) {
                (2, I32) => (header.uncompressed, sizes) = (self.i32()?, sizes | 1),
                (3, I32) => (header.compressed, sizes) = (self.i32()?, sizes | 2),
                (8, STRUCT) => {
                    let mut inner = 0;
                    while let Some((kind, id)) = self.field(&mut inner)? {
                        match (id, kind) {
                            (7, FALSE) => header.v2_uncompressed = true,
                            _ => self.skip(kind, 1)?,
                        }
                    }
                }
                _ => self.skip(kind, 0)?,
            }
        }
        if sizes != 3 {
            return Err("a page header without its sizes".into());
        }
        Ok(header)
    }
}

#[cfg(test)]
mod tests;
