//! Reading a snapshot on a thread of its own while the caller's thread handles the rows: the
//! parsing (decompression, decoding, the guard, csv) and the handling of rows then use two cores.
//! Rows travel in small batches — their text copied into one buffer, batches handed back to be
//! filled again — so at most [`BATCHES_AHEAD`] batches of [`BATCH_ROWS`] rows are read ahead of
//! the row being handled: memory stays bounded, and a reading stopped by the handler (the profile
//! limit, say) has read little past the row that stopped it.

use super::{SnapshotError, SnapshotRows};
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

/// Rows in one batch (about 30 KB of text for typical rows).
pub const BATCH_ROWS: usize = 256;
/// Full batches waiting for the handler at most.
pub const BATCHES_AHEAD: usize = 2;

/// Why [`SnapshotRows::read_each`] stopped early.
#[derive(Debug)]
pub enum Stopped<E> {
    /// The snapshot could not be read further; every row before the problem was handled.
    Read(SnapshotError),
    /// The handler returned an error.
    By(E),
}

/// Rows as one text buffer: each field ends at an offset of `ends`, each row at an index of it.
#[derive(Default)]
struct Batch {
    text: String,
    ends: Vec<usize>,
    /// Row number and the index in `ends` after its last field.
    rows: Vec<(u64, usize)>,
}

impl Batch {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.rows.clear();
    }
}

impl SnapshotRows {
    /// Calls `each` with every row's number and fields, in order, on this thread, while the rows
    /// are read on another. Stops at the first error of either side.
    pub fn read_each<E: Send>(
        self,
        mut each: impl FnMut(u64, &[&str]) -> Result<(), E>,
    ) -> Result<(), Stopped<E>> {
        std::thread::scope(|scope| {
            let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES_AHEAD);
            let (empty_tx, empty_rx) = channel::<Batch>();
            let reader = scope.spawn(move || fill(self, &full_tx, &empty_rx));
            let handled = handle(&full_rx, &empty_tx, &mut each);
            // The reader stops at its next batch once nobody takes them.
            drop(full_rx);
            let read = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            handled.map_err(Stopped::By)?;
            read.map_err(Stopped::Read)
        })
    }
}

/// Hands every row of every batch to `each`, and the batch back to be filled again.
fn handle<E>(
    full: &Receiver<Batch>,
    empty: &std::sync::mpsc::Sender<Batch>,
    each: &mut impl FnMut(u64, &[&str]) -> Result<(), E>,
) -> Result<(), E> {
    while let Ok(batch) = full.recv() {
        let mut fields: Vec<&str> = Vec::new();
        let mut start = 0;
        let mut from = 0;
        for &(number, end) in &batch.rows {
            fields.clear();
            for &until in &batch.ends[start..end] {
                fields.push(&batch.text[from..until]);
                from = until;
            }
            start = end;
            each(number, &fields)?;
        }
        drop(fields);
        // The reader may be gone already (it stopped at a problem): the batch is then dropped.
        let _ = empty.send(batch);
    }
    Ok(())
}

/// Reads rows into batches until the snapshot ends, it cannot be read, or nobody takes batches.
/// The rows before a problem are handed on before it is returned.
fn fill(
    mut rows: SnapshotRows,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<(), SnapshotError> {
    loop {
        let mut batch = empty.try_recv().unwrap_or_default();
        batch.clear();
        let mut problem = None;
        while batch.rows.len() < BATCH_ROWS {
            match rows.next_borrowed() {
                Ok(Some(row)) => {
                    for field in &row.fields {
                        batch.text.push_str(field);
                        batch.ends.push(batch.text.len());
                    }
                    batch.rows.push((row.number, batch.ends.len()));
                }
                Ok(None) => break,
                Err(e) => {
                    problem = Some(e);
                    break;
                }
            }
        }
        let last = problem.is_some() || batch.rows.len() < BATCH_ROWS;
        if !batch.rows.is_empty() && full.send(batch).is_err() {
            return Ok(());
        }
        if let Some(problem) = problem {
            return Err(problem);
        }
        if last {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> SnapshotRows {
        SnapshotRows::open("test.csv", Box::new(std::io::Cursor::new(text.to_string()))).unwrap()
    }

    #[test]
    fn every_row_arrives_in_order_with_its_fields() {
        let mut text = String::from("a,b,c\n");
        for i in 0..(BATCH_ROWS * 3 + 7) {
            text.push_str(&format!("{i},,\"x,{i}\"\n"));
        }
        let mut seen = Vec::new();
        rows(&text)
            .read_each(|number, fields| {
                seen.push((number, fields.join("|")));
                Ok::<(), ()>(())
            })
            .unwrap();
        assert_eq!(seen.len(), BATCH_ROWS * 3 + 7);
        for (i, (number, fields)) in seen.iter().enumerate() {
            assert_eq!(*number, i as u64 + 2);
            assert_eq!(fields, &format!("{i}||x,{i}"));
        }
    }

    #[test]
    fn the_handler_stops_the_reading_and_rows_before_a_problem_are_handled() {
        let mut text = String::from("a\n");
        for i in 0..5000 {
            text.push_str(&format!("{i}\n"));
        }
        let mut handled = 0;
        let stopped = rows(&text).read_each(|number, _| {
            handled += 1;
            if number == 1000 {
                Err("enough")
            } else {
                Ok(())
            }
        });
        assert!(matches!(stopped, Err(Stopped::By("enough"))));
        assert_eq!(handled, 999);

        let broken = format!("a\n{}\"open\n", "1\n".repeat(600));
        let mut handled = 0;
        let stopped = rows(&broken).read_each(|_, _| {
            handled += 1;
            Ok::<(), ()>(())
        });
        assert!(matches!(stopped, Err(Stopped::Read(_))), "{stopped:?}");
        assert_eq!(handled, 600);
    }
}
