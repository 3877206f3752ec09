//! A bound on how far a compressed snapshot may expand. A gzip of 1 GB of one repeated byte is
//! about 1 MB: read whole it costs a minute of work (and, past the parser's own limits, memory)
//! for what is no snapshot anyone exported. Ordinary CSV compresses 3 to 20 times; the reading
//! stops when the text handed out exceeds [`MAX_RATIO`] times the compressed bytes read so far
//! and [`MIN_BYTES`] in all, so small files of any ratio still pass.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The most a compressed snapshot may expand, text out per compressed byte in.
pub const MAX_RATIO: u64 = 200;
/// Text below this size is never refused for its ratio.
pub const MIN_BYTES: u64 = 100 * 1000 * 1000;
// The message below spells the limits out.
const _: () = assert!(MAX_RATIO == 200 && MIN_BYTES == 100_000_000);

/// What stopped the reading; carried inside the `io::Error` the parser passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooExpanded {
    /// Compressed bytes read when the reading stopped.
    pub compressed: u64,
    /// Text handed out by then.
    pub expanded: u64,
}

impl TooExpanded {
    pub fn explain(self, source: &str) -> String {
        format!(
            "the snapshot {source} cannot be read: it is compressed and expands more than 200 times over 100 MB (to {} MB from the first {} KB), the most a snapshot may: it is probably not a snapshot (a decompression bomb). If it is a real snapshot, store it uncompressed",
            self.expanded / 1_000_000,
            self.compressed.div_ceil(1000)
        )
    }

    /// The problem behind an I/O error, if this bound stopped the reading.
    pub fn of(error: &io::Error) -> Option<Self> {
        error.get_ref()?.downcast_ref::<Self>().copied()
    }
}

impl std::fmt::Display for TooExpanded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the compressed text expands more than {MAX_RATIO} times over {MIN_BYTES} bytes"
        )
    }
}

impl std::error::Error for TooExpanded {}

/// Counts the bytes read from the compressed source.
pub struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    /// The reader and a handle on its count.
    pub fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Self {
                inner,
                count: count.clone(),
            },
            count,
        )
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The decompressed text, checked against the compressed bytes read so far.
pub struct Bounded<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    expanded: u64,
    stopped: Option<TooExpanded>,
}

impl<R: Read> Bounded<R> {
    pub fn new(inner: R, compressed: Arc<AtomicU64>) -> Self {
        Self {
            inner,
            compressed,
            expanded: 0,
            stopped: None,
        }
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(problem) = self.stopped {
            return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
        }
        let n = self.inner.read(buf)?;
        self.expanded += n as u64;
        let compressed = self.compressed.load(Ordering::Relaxed);
        if self.expanded > MIN_BYTES && self.expanded > compressed.saturating_mul(MAX_RATIO) {
            let problem = TooExpanded {
                compressed,
                expanded: self.expanded,
            };
            self.stopped = Some(problem);
            return Err(io::Error::new(io::ErrorKind::InvalidData, problem));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(parts: &[(&[u8], usize)]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        for (bytes, times) in parts {
            for _ in 0..*times {
                gz.write_all(bytes).unwrap();
            }
        }
        gz.finish().unwrap()
    }

    fn read_through(compressed: Vec<u8>) -> io::Result<u64> {
        let (counted, count) = Counted::new(std::io::Cursor::new(compressed));
        let decoder = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(counted));
        let mut bounded = Bounded::new(decoder, count);
        io::copy(&mut bounded, &mut io::sink())
    }

    #[test]
    fn a_bomb_stops_just_past_the_floor_and_ordinary_text_passes() {
        // 120 MB of blank lines, about 120 KB compressed: 1,000 times.
        let bomb = gzip(&[(&[b'\n'; 1 << 20], 120)]);
        assert!(bomb.len() < 200_000, "{}", bomb.len());
        let err = read_through(bomb).unwrap_err();
        let problem = TooExpanded::of(&err).expect("stopped by the bound");
        assert!(problem.expanded > MIN_BYTES && problem.expanded < MIN_BYTES + (1 << 20));
        let text = problem.explain("s.csv.gz");
        assert!(
            text.contains("s.csv.gz")
                && text.contains("more than 200 times over 100 MB")
                && text.contains("decompression bomb"),
            "{text}"
        );
        // Under the floor, any ratio passes.
        let small = gzip(&[(&[0u8; 1 << 20], 90)]);
        assert_eq!(read_through(small).unwrap(), 90 << 20);
    }

    #[test]
    fn large_text_passes_under_the_ratio() {
        let read = |size: u64, compressed: u64| {
            let count = Arc::new(AtomicU64::new(compressed));
            let mut bounded = Bounded::new(io::repeat(b'x').take(size), count);
            io::copy(&mut bounded, &mut io::sink())
        };
        assert_eq!(read(300_000_000, 1_500_001).unwrap(), 300_000_000);
        let err = read(300_000_000, 1_400_000).unwrap_err();
        assert_eq!(TooExpanded::of(&err).unwrap().compressed, 1_400_000);
    }
}
