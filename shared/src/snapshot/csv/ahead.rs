//! A gzip-compressed CSV part inflated on a thread of its own, a few blocks ahead of its parser,
//! so that decompression overlaps parsing (a folder of gzip parts otherwise reads slower than
//! the same rows as one plain file: one thread would inflate and parse in turn).
//!
//! At most [`BLOCKS`] blocks of [`BLOCK_BYTES`] wait for the parser, besides the one being
//! filled and the one being read; read blocks go back to be filled again, rather than each
//! block being fresh memory (a page fault every 4 KiB on first touch), and a new one is made
//! only when none has come back: a part takes under 2 MiB however large it expands. The
//! inflating thread stops at the end of the stream, at its first error (handed on in order,
//! unchanged, so that a part expanding past its limit is still told apart), or once the reader
//! is dropped. If no thread can be started, the part is inflated on the parser's thread as before.

use std::io::{self, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

/// Blocks inflated and waiting for the parser, at most.
const BLOCKS: usize = 4;
/// The size of one block.
const BLOCK_BYTES: usize = 256 * 1024;

/// `source` read on a thread of its own, [`BLOCKS`] blocks ahead.
pub fn read_ahead(source: Box<dyn Read + Send>) -> Box<dyn Read + Send> {
    let (tx, rx) = sync_channel(BLOCKS);
    let (back, returned) = channel();
    // The source moves into the thread only once it runs: a thread that cannot be started
    // drops its closure, and the source is read here instead.
    let slot = Arc::new(Mutex::new(Some(source)));
    let taken = slot.clone();
    let started = std::thread::Builder::new()
        .name("inflate".into())
        .spawn(move || {
            if let Some(source) = take(&taken) {
                inflate(source, &tx, &returned);
            }
        });
    match started.err().and_then(|_| take(&slot)) {
        Some(source) => source,
        // Started (or, never, gone with its closure: the reader then says it stopped early).
        None => Box::new(Ahead {
            blocks: rx,
            back,
            block: Vec::new(),
            at: 0,
            ended: false,
        }),
    }
}

fn take(slot: &Mutex<Option<Box<dyn Read + Send>>>) -> Option<Box<dyn Read + Send>> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// Reads `source` block by block into `tx` until its end (an empty block), its first error, or
/// the reader's going away; fills the blocks `returned` when there are.
fn inflate(
    mut source: Box<dyn Read + Send>,
    tx: &SyncSender<io::Result<Vec<u8>>>,
    returned: &Receiver<Vec<u8>>,
) {
    loop {
        let mut block = returned.try_recv().unwrap_or_default();
        block.resize(BLOCK_BYTES, 0);
        let mut filled = 0;
        let outcome = loop {
            match source.read(&mut block[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == block.len() {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        block.truncate(filled);
        let last = filled < BLOCK_BYTES || outcome.is_err();
        if filled > 0 && tx.send(Ok(block)).is_err() {
            return;
        }
        match outcome {
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
            Ok(()) if last => {
                let _ = tx.send(Ok(Vec::new()));
                return;
            }
            Ok(()) => {}
        }
    }
}

/// The parser's side: the blocks in order.
struct Ahead {
    blocks: Receiver<io::Result<Vec<u8>>>,
    /// Where read blocks go back to be filled again.
    back: Sender<Vec<u8>>,
    block: Vec<u8>,
    at: usize,
    /// The stream ended, or failed and said so once.
    ended: bool,
}

impl Read for Ahead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.block.len() {
            if self.ended {
                return Ok(0);
            }
            match self.blocks.recv() {
                Ok(Ok(block)) if block.is_empty() => self.ended = true,
                Ok(Ok(block)) => {
                    let read = std::mem::replace(&mut self.block, block);
                    self.at = 0;
                    if read.capacity() > 0 {
                        // The inflating thread may have ended: the block is then dropped here.
                        let _ = self.back.send(read);
                    }
                }
                Ok(Err(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                Err(_) => {
                    self.ended = true;
                    return Err(io::Error::other("the decompression stopped early"));
                }
            }
        }
        let n = buf.len().min(self.block.len() - self.at);
        buf[..n].copy_from_slice(&self.block[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `data` in steps of `step` bytes, then fails with `error` if given.
    struct Stepped {
        data: Vec<u8>,
        at: usize,
        step: usize,
        error: Option<io::Error>,
    }

    impl Read for Stepped {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return self.error.take().map_or(Ok(0), Err);
            }
            let n = buf.len().min(self.step).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn every_byte_arrives_in_order_whatever_the_sizes() {
        for len in [
            0,
            1,
            BLOCK_BYTES - 1,
            BLOCK_BYTES,
            BLOCK_BYTES + 1,
            3 * BLOCK_BYTES + 17,
        ] {
            for step in [1000, 65_536, BLOCK_BYTES * 2] {
                let source = Stepped {
                    data: data(len),
                    at: 0,
                    step,
                    error: None,
                };
                let mut read = Vec::new();
                read_ahead(Box::new(source)).read_to_end(&mut read).unwrap();
                assert_eq!(read, data(len), "{len} bytes in steps of {step}");
            }
        }
    }

    #[test]
    fn an_error_comes_after_the_bytes_before_it_unchanged() {
        let source = Stepped {
            data: data(BLOCK_BYTES + 10),
            at: 0,
            step: 4096,
            error: Some(io::Error::new(io::ErrorKind::InvalidData, "cut short")),
        };
        let mut ahead = read_ahead(Box::new(source));
        let mut read = Vec::new();
        let error = ahead.read_to_end(&mut read).unwrap_err();
        assert_eq!(read, data(BLOCK_BYTES + 10));
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(error.to_string(), "cut short");
        assert_eq!(ahead.read(&mut [0; 8]).unwrap(), 0);
    }

    #[test]
    fn the_thread_stops_when_the_reader_is_dropped() {
        // An endless source: the thread may only stop because nobody reads any more.
        struct Endless(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Read for Endless {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                buf.fill(b'x');
                Ok(buf.len())
            }
        }
        impl Drop for Endless {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut ahead = read_ahead(Box::new(Endless(dropped.clone())));
        ahead.read_exact(&mut [0; 10]).unwrap();
        drop(ahead);
        let waited = std::time::Instant::now();
        while !dropped.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(10),
                "the inflating thread outlived its reader"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}
