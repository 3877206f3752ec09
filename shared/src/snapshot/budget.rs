//! A count of bytes held by what one side of a reading has made and the other has not used yet,
//! against a limit: the maker waits while more would pass it, the user gives its share back by
//! dropping it. One item larger than the limit still goes through, alone, so that nothing waits
//! for ever; either side closing it wakes the maker, which then stops.

use std::sync::{Arc, Condvar, Mutex};

/// Bytes held, against a limit.
pub struct Budget {
    limit: u64,
    /// Bytes held, and whether it is closed.
    state: Mutex<(u64, bool)>,
    changed: Condvar,
}

/// A share of a [`Budget`], given back when dropped.
pub struct Held {
    budget: Arc<Budget>,
    bytes: u64,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut state = self.budget.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= self.bytes;
        self.budget.changed.notify_all();
    }
}

impl Budget {
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(Self {
            limit,
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        })
    }

    /// Waits until `bytes` fit (or nothing is held); `None` once it is closed.
    pub fn acquire(self: &Arc<Self>, bytes: u64) -> Option<Held> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while !state.1 && state.0 > 0 && state.0 + bytes > self.limit {
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        if state.1 {
            return None;
        }
        state.0 += bytes;
        Some(Held {
            budget: self.clone(),
            bytes,
        })
    }

    /// Nobody uses what is made any more: the maker stops at its next wait.
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.1 = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maker_waits_for_room_and_stops_once_closed() {
        let budget = Budget::new(100);
        let first = budget.acquire(60).unwrap();
        // Larger than the limit, but alone: it goes through once the first is given back.
        let waiting = {
            let budget = budget.clone();
            std::thread::spawn(move || budget.acquire(500).map(|held| held.bytes))
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!waiting.is_finished());
        drop(first);
        assert_eq!(waiting.join().unwrap(), Some(500));

        let held = budget.acquire(90).unwrap();
        let stopped = {
            let budget = budget.clone();
            std::thread::spawn(move || budget.acquire(20).is_none())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        budget.close();
        assert!(stopped.join().unwrap());
        drop(held);
    }
}
