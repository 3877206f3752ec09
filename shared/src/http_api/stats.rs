//! Counters of what a client did, for progress output and benchmarks.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of what the client did, for progress output and benchmarks.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// HTTP attempts made.
    pub requests: AtomicU64,
    /// Attempts answered 429.
    pub throttled: AtomicU64,
    /// Attempts that were retried for any reason.
    pub retries: AtomicU64,
    /// Bulk requests that were split to isolate rejected contacts.
    pub splits: AtomicU64,
}

/// Snapshot of [`ClientStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    pub requests: u64,
    pub throttled: u64,
    pub retries: u64,
    pub splits: u64,
}

impl ClientStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            splits: self.splits.load(Ordering::Relaxed),
        }
    }
}
