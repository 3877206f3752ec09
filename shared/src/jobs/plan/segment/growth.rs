//! How many more rows a segment holds, told before they are read, so that its tables of
//! profiles are sized once instead of grown by doubling: each doubling moves every key hash
//! already held into a table twice the size, one cache miss a key, while the rows wait. On a
//! plan of a million profiles from gzip CSV parts those moves took a fifth of the handling.
//!
//! Told once a segment, from the rows handled against the stored bytes they came from: at the
//! start of a part, once a whole part before it was handled (close to exact for an unload's
//! parts, written alike); or within the first part, once [`SAMPLE_BYTES`] of it were read (its
//! buffers read ahead of its rows by much less than that). A part whose size is unknown, or one
//! read other than as a stream (a Parquet file, whose footer says its rows), tells nothing.

/// Stored bytes of a part read before its rows so far tell how many it holds.
pub(super) const SAMPLE_BYTES: u64 = 4 << 20;

/// What the rows handled so far say of the segment's size.
#[derive(Debug)]
pub(super) struct Growth {
    /// Stored bytes and rows of the parts handled whole; `None` once one was of unknown size.
    done: Option<(u64, u64)>,
    /// The part being handled: its stored size and that of the parts after it, when known.
    part: Option<(u64, u64)>,
    /// Rows of the part being handled so far.
    rows: u64,
    /// Whether the rows to come were told already.
    told: bool,
}

impl Growth {
    pub(super) fn new() -> Self {
        Self {
            done: Some((0, 0)),
            part: None,
            rows: 0,
            told: false,
        }
    }

    /// A part begins, `size` bytes as stored, `after` the stored bytes of the parts after it:
    /// the rows still to come in the segment, when the parts handled whole say.
    pub(super) fn part(&mut self, size: Option<u64>, after: Option<u64>) -> Option<u64> {
        let ended = self.part.take();
        self.done = match (self.done, ended) {
            (Some((bytes, rows)), Some((size, _))) => {
                Some((bytes.saturating_add(size), rows + self.rows))
            }
            (done, None) if self.rows == 0 => done,
            _ => None,
        };
        self.rows = 0;
        self.part = size.zip(after);
        let (bytes, rows) = self.done.filter(|&(bytes, _)| bytes > 0)?;
        let (size, after) = self.part?;
        self.tell(rows, bytes, size.saturating_add(after), 0)
    }

    /// `count` more rows of the part were handled, `read` bytes of it as stored read by then:
    /// the rows still to come in the segment, when the part was read far enough to say.
    pub(super) fn rows(&mut self, count: u64, read: Option<u64>) -> Option<u64> {
        self.rows += count;
        let read = read.filter(|&read| read >= SAMPLE_BYTES)?;
        let (size, after) = self.part?;
        self.tell(self.rows, read, size.saturating_add(after), self.rows)
    }

    /// Tells once the rows still to come when `rows` came of `bytes`, of `total` bytes all
    /// told, `handled` of those rows handled already.
    fn tell(&mut self, rows: u64, bytes: u64, total: u64, handled: u64) -> Option<u64> {
        if self.told || bytes == 0 {
            return None;
        }
        self.told = true;
        let expected = u128::from(rows) * u128::from(total) / u128::from(bytes);
        let expected = u64::try_from(expected).unwrap_or(u64::MAX);
        Some(expected.saturating_sub(handled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_handled_whole_tell_the_rows_of_the_rest() {
        let mut growth = Growth::new();
        assert_eq!(
            growth.part(Some(1_000), Some(7_000)),
            None,
            "nothing handled yet"
        );
        assert_eq!(growth.rows(256, Some(600)), None, "too little read to say");
        assert_eq!(growth.rows(44, Some(1_000)), None);
        // 300 rows of 1,000 bytes: the 7,000 bytes left hold 2,100 rows.
        assert_eq!(growth.part(Some(1_000), Some(6_000)), Some(2_100));
        assert_eq!(growth.part(Some(1_000), Some(5_000)), None, "told once");
    }

    #[test]
    fn a_long_first_part_tells_once_read_far_enough() {
        let mut growth = Growth::new();
        assert_eq!(growth.part(Some(4 * SAMPLE_BYTES), Some(0)), None);
        assert_eq!(growth.rows(1_000, Some(SAMPLE_BYTES - 1)), None);
        // 2,000 rows of the first quarter: 6,000 to come.
        assert_eq!(growth.rows(1_000, Some(SAMPLE_BYTES)), Some(6_000));
        assert_eq!(
            growth.rows(1_000, Some(2 * SAMPLE_BYTES)),
            None,
            "told once"
        );
    }

    #[test]
    fn unknown_sizes_tell_nothing() {
        let mut growth = Growth::new();
        assert_eq!(growth.part(None, Some(1_000)), None);
        assert_eq!(growth.rows(500, Some(2 * SAMPLE_BYTES)), None);
        assert_eq!(
            growth.part(Some(1_000), Some(0)),
            None,
            "a part before is unknown"
        );
        assert_eq!(
            growth.rows(500, None),
            None,
            "a Parquet part's rows say no bytes"
        );
        let mut growth = Growth::new();
        assert_eq!(growth.part(Some(1_000), None), None);
        assert_eq!(
            growth.rows(500, Some(SAMPLE_BYTES)),
            None,
            "the parts after are unknown"
        );
    }
}
