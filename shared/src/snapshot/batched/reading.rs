//! The threads of a reading. One opens the parts in order and hands a queue of batches for
//! each to the caller's thread, which handles the rows queue after queue. A part whose rows come
//! from a stream of its own (a CSV part) is parsed on a thread of its own, and so is each row
//! group of a Parquet file (split off the file in order, as they were fetched): while the rows
//! of one are handled the next are parsed too, so that with more than one core a folder of parts
//! (or a file of several row groups) is read faster than one stream of the same rows. What does
//! neither is parsed on the opening thread, one part after the other.
//!
//! Memory stays bounded: at most [`parsing_at_once`] queues are filled at once, and each holds
//! at most [`AHEAD_BYTES`] of batches — the first a reading starts, handled as soon as it is
//! filled, [`NEAR_BYTES`], so that a reading stopped by the handler (the profile limit, say) has
//! read at most that past the row that stopped it. Rows are numbered within their part as they are
//! parsed and within the segment as they are handled, once the parts before them have ended and
//! their last numbers are known.

use super::{Batch, Opener, PartInfo, PartRows, RowHandler, Stopped, BATCH_ROWS};
use crate::snapshot::budget::{Budget, Held};
use crate::snapshot::SnapshotError;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

/// Bytes of batches a queue filled while another is handled may hold (much of a typical
/// unload's part, so that it is parsed while the part before is handled).
pub const AHEAD_BYTES: u64 = 8 << 20;
/// Bytes of batches the first queue of a reading may hold: a few thousand rows. A few batches
/// would do for memory, but then the parser waits for nearly every batch handled and is woken
/// for each: a plan of 1M profiles from one CSV file took 1.4× as long with 128 KiB.
pub const NEAR_BYTES: u64 = 1 << 20;
/// Parts parsed at once, at most, whatever the cores.
const MOST_AT_ONCE: usize = 4;
/// Emptied batches kept to be filled again, at most.
const SPARE_BATCHES: usize = 64;

/// Parts parsed at once: one a core, keeping one for the handler, at least two.
pub(super) fn parsing_at_once() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    cores.saturating_sub(1).clamp(2, MOST_AT_ONCE)
}

/// What a part's reading hands the handler, in order.
enum Sent {
    /// Rows, holding their share of the part's budget until handled.
    Rows(Batch, Held),
    /// The queue's rows ended; when the part ended with them, its last row number (else its
    /// rows go on in the next queue).
    End(Option<u64>),
    /// It cannot be read further; the rows before the problem were sent.
    Failed(SnapshotError),
}

/// The handler's end of a part's queue; dropping it stops the part's reading.
struct Queue {
    rx: Receiver<Sent>,
    budget: Arc<Budget>,
}

impl Drop for Queue {
    fn drop(&mut self) {
        self.budget.close();
    }
}

/// The reading's end of a part's queue.
struct Feed {
    tx: Sender<Sent>,
    budget: Arc<Budget>,
}

impl Feed {
    fn new(limit: u64) -> (Self, Queue) {
        let (tx, rx) = channel();
        let budget = Budget::new(limit);
        let queue = Queue {
            rx,
            budget: budget.clone(),
        };
        (Self { tx, budget }, queue)
    }

    /// Sends `batch` once its bytes fit; `false` once the handler has stopped.
    fn rows(&self, batch: Batch) -> bool {
        let Some(held) = self.budget.acquire(batch.bytes()) else {
            return false;
        };
        self.tx.send(Sent::Rows(batch, held)).is_ok()
    }

    fn send(&self, sent: Sent) {
        // The handler may have stopped already: there is nobody to tell.
        let _ = self.tx.send(sent);
    }
}

/// Emptied batches, handed back by the handler to be filled again.
#[derive(Default)]
struct Spare(Mutex<Vec<Batch>>);

impl Spare {
    fn take(&self) -> Batch {
        let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut batch = spare.pop().unwrap_or_default();
        batch.clear();
        batch
    }

    fn give(&self, batch: Batch) {
        let mut spare = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if spare.len() < SPARE_BATCHES {
            spare.push(batch);
        }
    }
}

/// Calls `handler` with every part and every row, in order, on this thread, while `open`
/// opens the parts and their rows are parsed on others. Stops at the first error of either side;
/// every row before a problem is handled.
pub fn read_each<'a, H: RowHandler>(
    open: &mut Opener<'a>,
    handler: &mut H,
) -> Result<(), Stopped<H::Error>> {
    let spare = Spare::default();
    std::thread::scope(|scope| {
        let (queues, queued) = sync_channel::<Queue>(parsing_at_once() - 1);
        let mut starting = Starting {
            queues,
            spare: &spare,
            first: true,
        };
        scope.spawn(move || {
            for index in 0.. {
                let Some(opened) = open(index) else { break };
                if !starting.part(scope, opened) {
                    break;
                }
            }
        });
        // Every thread stops once the queues are dropped, and the scope waits for them.
        handle(queued, handler, &spare)
    })
}

/// The opening thread's side: queues handed to the handler as their parsing starts.
struct Starting<'s> {
    queues: SyncSender<Queue>,
    spare: &'s Spare,
    /// Whether no queue was started yet.
    first: bool,
}

impl<'s> Starting<'s> {
    /// A queue the handler takes after those before; `None` once the handler has stopped.
    fn queue(&mut self) -> Option<Feed> {
        let limit = if self.first { NEAR_BYTES } else { AHEAD_BYTES };
        self.first = false;
        let (feed, queue) = Feed::new(limit);
        self.queues.send(queue).ok().map(|()| feed)
    }

    /// Reads an opened part: on a thread of its own when it may be read alongside others, on
    /// a thread a piece when it splits, else here, to its end. `false` when the reading stops
    /// there (the part could not be opened or read, or the handler has stopped).
    fn part<'scope, 'a: 'scope>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        opened: super::Opened<'a>,
    ) -> bool
    where
        's: 'scope,
    {
        let spare = self.spare;
        let (info, mut rows) = match opened {
            Ok(opened) => opened,
            Err(e) => return self.failed(e),
        };
        if rows.alongside() {
            let Some(feed) = self.queue() else {
                return false;
            };
            scope.spawn(move || parse(rows.as_mut(), Some(info), &feed, spare, true));
            return true;
        }
        let mut info = Some(info);
        while let Some(piece) = rows.split() {
            let mut piece = match piece {
                Ok(piece) => piece,
                Err(e) => return self.failed(e),
            };
            let Some(feed) = self.queue() else {
                return false;
            };
            let info = info.take();
            scope.spawn(move || parse(piece.as_mut(), info, &feed, spare, false));
        }
        let Some(feed) = self.queue() else {
            return false;
        };
        if info.is_none() {
            // It split: its pieces are read; the part ends after the last.
            feed.send(Sent::End(Some(rows.last_number())));
            return true;
        }
        parse(rows.as_mut(), info, &feed, spare, true)
    }

    /// A queue that says only `e`: the reading stops there.
    fn failed(&mut self, e: SnapshotError) -> bool {
        if let Some(feed) = self.queue() {
            feed.send(Sent::Failed(e));
        }
        false
    }
}

/// Parses `rows` into batches sent to `feed` until they end, cannot be read further, or the
/// handler stops; `true` when they ended. `info` goes first when the part starts here; `last`
/// says the part ends with these rows.
fn parse(
    rows: &mut dyn PartRows,
    info: Option<PartInfo>,
    feed: &Feed,
    spare: &Spare,
    last: bool,
) -> bool {
    let mut part = info.map(Arc::new);
    loop {
        let mut batch = spare.take();
        batch.part = part.take();
        let filled = rows.fill(&mut batch, BATCH_ROWS);
        if (!batch.is_empty() || batch.part.is_some()) && !feed.rows(batch) {
            return false;
        }
        match filled {
            Ok(true) => {}
            Ok(false) => {
                feed.send(Sent::End(last.then(|| rows.last_number())));
                return true;
            }
            Err(e) => {
                feed.send(Sent::Failed(e));
                return false;
            }
        }
    }
}

/// Hands every part and row to `handler`, numbering the rows within the segment.
fn handle<H: RowHandler>(
    parts: Receiver<Queue>,
    handler: &mut H,
    spare: &Spare,
) -> Result<(), Stopped<H::Error>> {
    let mut offset = 0;
    for queue in parts {
        loop {
            // A part's reading ends with `End` or `Failed`, unless its thread panicked: the
            // scope then passes the panic on.
            let Ok(sent) = queue.rx.recv() else {
                return Ok(());
            };
            let (batch, held) = match sent {
                Sent::Rows(batch, held) => (batch, held),
                Sent::End(last) => {
                    offset += last.unwrap_or(0);
                    break;
                }
                Sent::Failed(e) => return Err(Stopped::Read(e)),
            };
            if let Some(part) = &batch.part {
                let mut part = PartInfo::clone(part);
                part.offset = offset;
                handler.part(&part).map_err(Stopped::By)?;
            }
            handler.rows(&batch.numbered(offset)).map_err(Stopped::By)?;
            drop(held);
            spare.give(batch);
        }
    }
    Ok(())
}
