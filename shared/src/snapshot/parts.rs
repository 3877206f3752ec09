//! A segment's snapshot read whole: its source resolved into parts (`sources`), the parts
//! fetched ahead on one thread (`fetch`), parsed on others (CSV parts several at once, Parquet
//! files one after the other), and their rows handed to the caller's thread in the parts' order
//! (`batched`), numbered within the segment: the rows of the
//! first part keep their own numbers, each next part's follow the last number of the one before
//! ([`PartInfo::offset`]), so that a report can name a row by its part and its row there.

use super::batched::{self, Opened, PartInfo, PartRows, RowHandler, Stopped};
use super::budget::Budget;
use super::csv::{Layout, SnapshotRows};
use super::fetch::{self, Fetched};
use super::parquet::ParquetRows;
use super::sources::{self, Part};
use super::{SnapshotError, SnapshotReader};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// A segment's parts, ready to be read.
pub struct SegmentRows<'r> {
    reader: &'r dyn SnapshotReader,
    parts: Vec<Part>,
    wanted: Vec<String>,
}

impl<'r> SegmentRows<'r> {
    /// Resolves `source` into its parts (listing a folder, reading a model). `columns` names
    /// the columns of CSV parts without a header row; `wanted` are the columns the data
    /// matching reads (only those are read of Parquet parts).
    pub fn open(
        reader: &'r dyn SnapshotReader,
        source: &str,
        columns: Option<&[String]>,
        wanted: Vec<String>,
    ) -> Result<Self, SnapshotError> {
        Ok(Self {
            reader,
            parts: sources::resolve(reader, source, columns)?,
            wanted,
        })
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Reads its CSV parts as unquoted text whose values a backslash escapes (a warehouse's
    /// text unload; see [`crate::snapshot::csv::Layout::escapes`]).
    pub fn backslash_escaped(mut self) -> Self {
        for part in &mut self.parts {
            part.escapes = true;
        }
        self
    }

    /// Reads every part in order, calling `handler` with each part and each of its rows on this
    /// thread. Stops at the first error of either side; every row before a problem is handled.
    pub fn read_each<H: RowHandler>(self, handler: &mut H) -> Result<(), Stopped<H::Error>> {
        let (tx, rx) = sync_channel::<Fetched>(fetch::AHEAD);
        let budget = Budget::new(fetch::BUDGET_BYTES);
        let Self {
            reader,
            parts,
            wanted,
        } = self;
        std::thread::scope(|scope| {
            let fetching = budget.clone();
            let (parts, wanted) = (&parts, &wanted);
            scope.spawn(move || fetch::run(reader, parts, wanted, &tx, &fetching));
            let received = Arc::new(Mutex::new(rx));
            let mut open = opener(parts, received.clone());
            let read = batched::read_each(&mut open, handler);
            // The fetching stops: nobody takes what it fetches any more.
            drop(open);
            drop(received);
            budget.close();
            read
        })
    }
}

/// The next item from the fetching thread; its end means it stopped without saying why.
fn next(received: &Mutex<Receiver<Fetched>>) -> Result<Fetched, SnapshotError> {
    let rx = received.lock().unwrap_or_else(|e| e.into_inner());
    rx.recv()
        .map_err(|_| SnapshotError::transient("the reading of the snapshot stopped early"))
}

/// Opens part `index` from what the fetching thread handed on.
fn opener<'a>(
    parts: &'a [Part],
    received: Arc<Mutex<Receiver<Fetched>>>,
) -> impl FnMut(usize) -> Option<Opened<'a>> + Send + 'a {
    // The stored size of the parts after each one, when all of them are known: summed once,
    // from the last part back.
    let mut after = vec![None; parts.len()];
    let mut sum = Some(0u64);
    for (index, part) in parts.iter().enumerate().rev() {
        after[index] = sum;
        sum = sum
            .zip(part.size)
            .and_then(|(sum, size)| sum.checked_add(size));
    }
    move |index| {
        let part = parts.get(index)?;
        let info = |header: Vec<String>, rows: Option<u64>| PartInfo {
            index,
            name: part.name.clone(),
            source: part.source.clone(),
            header,
            offset: 0,
            only: parts.len() == 1,
            rows,
            size: part.size,
            after: after[index],
        };
        Some(match next(&received) {
            Ok(Fetched::Csv(stream)) => {
                let layout = Layout {
                    columns: part.columns.clone(),
                    delimiter: part.delimiter,
                    escapes: part.escapes,
                };
                SnapshotRows::open_with(&part.source, stream, &layout).map(|rows| {
                    let rows: Box<dyn PartRows + 'a> = Box::new(rows);
                    (info(rows.header().to_vec(), None), rows)
                })
            }
            Ok(Fetched::Parquet(file)) => {
                let count = u64::try_from(file.metadata.file_metadata().num_rows()).ok();
                let received = received.clone();
                let groups = move || match next(&received)? {
                    Fetched::RowGroup(group) => Ok(group),
                    Fetched::Failed(e) => Err(e),
                    _ => Err(SnapshotError::transient(
                        "the row groups of a Parquet file came out of order",
                    )),
                };
                let rows: Box<dyn PartRows + 'a> =
                    Box::new(ParquetRows::new(file, Box::new(groups)));
                Ok((info(rows.header().to_vec(), count), rows))
            }
            Ok(Fetched::Failed(e)) | Err(e) => Err(e),
            Ok(Fetched::RowGroup(_)) => Err(SnapshotError::transient(
                "a Parquet row group came before its file",
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::parquet::tests::Collected;
    use crate::snapshot::{Found, Listed, LocalFiles};
    use bytes::Bytes;
    use std::io::Read;

    /// A folder whose listing names a part that is gone by the time it is read.
    struct Vanishing;

    impl SnapshotReader for Vanishing {
        fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
            LocalFiles.open(source)
        }
        fn stat(&self, source: &str) -> Result<Found, SnapshotError> {
            LocalFiles.stat(source)
        }
        fn list(&self, prefix: &str) -> Result<Vec<Listed>, SnapshotError> {
            let mut listed = LocalFiles.list(prefix)?;
            listed.push(Listed {
                source: format!("{prefix}part-1.csv"),
                size: 20,
            });
            Ok(listed)
        }
        fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
            LocalFiles.read_range(source, start, len)
        }
    }

    #[test]
    fn a_part_gone_before_it_is_read_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("part-0.csv"), "email\na@x.io\nb@x.io\n").unwrap();
        let folder = format!("{}/", dir.path().display());
        let rows = SegmentRows::open(&Vanishing, &folder, None, vec!["email".into()]).unwrap();
        let mut seen = Collected::default();
        let Err(Stopped::Read(err)) = rows.read_each(&mut seen) else {
            panic!("read to the end");
        };
        assert_eq!(seen.rows.len(), 2, "the rows before it are handled");
        assert!(
            err.message().starts_with(&format!(
                "the part {folder}part-1.csv of the segment is gone: it was listed, then deleted or replaced before it was read"
            )),
            "{err}"
        );
    }

    /// Tells what each part's size, the size of the parts after it, and its bytes read.
    #[derive(Default)]
    struct Sizes(Vec<(Option<u64>, Option<u64>, Option<u64>)>);

    impl RowHandler for Sizes {
        type Error = ();
        fn part(&mut self, part: &PartInfo) -> Result<(), ()> {
            self.0.push((part.size, part.after, None));
            Ok(())
        }
        fn row(&mut self, _: u64, _: &[&str]) -> Result<(), ()> {
            Ok(())
        }
        fn rows(&mut self, rows: &batched::Rows<'_>) -> Result<(), ()> {
            if let Some(last) = self.0.last_mut() {
                last.2 = rows.read();
            }
            Ok(())
        }
    }

    #[test]
    fn each_part_says_its_size_the_size_of_the_rest_and_how_far_it_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let first = "email\na@x.io\nb@x.io\n";
        let second = "email\nc@x.io\n";
        std::fs::write(dir.path().join("part-0.csv"), first).unwrap();
        std::fs::write(dir.path().join("part-1.csv"), second).unwrap();
        let folder = format!("{}/", dir.path().display());
        let rows = SegmentRows::open(&LocalFiles, &folder, None, vec!["email".into()]).unwrap();
        let mut sizes = Sizes::default();
        rows.read_each(&mut sizes).unwrap();
        let (first, second) = (first.len() as u64, second.len() as u64);
        assert_eq!(
            sizes.0,
            [
                (Some(first), Some(second), Some(first)),
                (Some(second), Some(0), Some(second))
            ]
        );
    }
}
