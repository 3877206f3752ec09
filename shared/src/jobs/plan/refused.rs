//! Rows refused before sending. Their counts are exact and live in the plan; the rows themselves
//! leave memory as the scan finds them: they are stored in parts of about 1 MB
//! (`exports/{destination}/{export}/invalid/{n:06}.jsonl`, one [`InvalidRow`] per line, in segment
//! and row order), which finalize copies into `rejected.csv`. The scan keeps only the first row of
//! each reason per segment, for its messages. A cell copied from the snapshot is cut to
//! [`MAX_CELL_CHARS`], and an export lists at most [`MAX_REFUSED_BYTES`] of refused rows: a
//! snapshot with more stops the export (a dry run still counts them all).

use super::types::InvalidRow;
use crate::destination::keys;
use crate::jobs::JobError;
use crate::store::ObjectStore;

/// The most characters of a snapshot's cell copied into a refused row.
pub const MAX_CELL_CHARS: usize = 200;
/// The most refused rows one export lists, in bytes of their parts (`rejected.csv` is about as
/// large): some 1.5 million rows of a short email and a reason.
pub const MAX_REFUSED_BYTES: u64 = 64 * 1024 * 1024;
// The message below spells the limit out.
const _: () = assert!(MAX_REFUSED_BYTES == 64 << 20);
/// A part is stored once it holds this many bytes.
const PART_BYTES: usize = 1 << 20;

/// Where the parts of an export's refused rows are.
pub fn parts_prefix(destination: &str, export: &str) -> String {
    keys::invalid_dir(destination, export)
}

/// The key of one part; the plan records how many there are ([`super::Plan::refused_parts`]).
pub fn part_key(destination: &str, export: &str, part: u32) -> String {
    format!("{}{part:06}.jsonl", parts_prefix(destination, export))
}

/// `text` cut to `max` characters, with "…" when it was longer.
pub fn cap(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// The refused rows of one segment's scan, on their way to the store.
pub(super) struct Refused {
    /// Whether rows are stored (not on a dry run's scan, nor on a second scan of a segment).
    record: bool,
    part: Vec<u8>,
    /// The first refused row of each reason.
    pub(super) examples: Vec<InvalidRow>,
}

impl Refused {
    pub(super) fn new(record: bool) -> Self {
        Self {
            record,
            part: Vec::new(),
            examples: Vec::new(),
        }
    }

    /// Takes a refused row; returns a full part to store, and the part's share of the bytes.
    pub(super) fn add(&mut self, row: InvalidRow, code: &str) -> (Option<Vec<u8>>, u64) {
        let line = if self.record {
            let mut line = serde_json::to_vec(&row).unwrap_or_default();
            line.push(b'\n');
            line
        } else {
            Vec::new()
        };
        let reason = |r: &InvalidRow| r.reason.split(':').next() == Some(code);
        if !self.examples.iter().any(reason) {
            self.examples.push(row);
        }
        let bytes = line.len() as u64;
        self.part.extend(line);
        if self.part.len() >= PART_BYTES {
            return (Some(std::mem::take(&mut self.part)), bytes);
        }
        (None, bytes)
    }

    /// The last part, if it holds anything.
    pub(super) fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.part.is_empty()).then(|| std::mem::take(&mut self.part))
    }
}

/// The error when refused rows pass [`MAX_REFUSED_BYTES`] at `row` of `source`.
pub(super) fn too_many(source: &str, row: u64, refused: u64) -> String {
    format!(
        "the snapshot {source} has more refused rows than one export lists: by row {row}, {refused} rows were refused and their list passed 64 MB, the most rejected.csv holds. Nothing was sent. Check the data matching and the file; a dry run (`export --dry-run`) counts the refused rows by reason without this limit"
    )
}

/// The refused rows of an export's plan (its first `parts` parts), in segment and row order;
/// `each` is called per part, so one part at a time is in memory.
pub async fn read_parts(
    store: &dyn ObjectStore,
    destination: &str,
    export: &str,
    parts: u32,
    mut each: impl FnMut(Vec<InvalidRow>) -> Result<(), JobError>,
) -> Result<(), JobError> {
    for part in 0..parts {
        let key = part_key(destination, export, part);
        let bytes = store.get(&key).await?;
        let rows = bytes
            .split(|b| *b == b'\n')
            .filter(|line| !line.is_empty())
            .map(serde_json::from_slice)
            .collect::<Result<Vec<InvalidRow>, _>>()
            .map_err(|e| crate::store::StoreError::Io {
                key: key.clone(),
                source: Box::new(e),
            })?;
        each(rows)?;
    }
    Ok(())
}
