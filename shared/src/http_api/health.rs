//! What a client has seen of its API lately:
//! - how long answers take, so that a request whose answer hangs is given up on (and repeated)
//!   after a few times the usual answer time instead of after the longest timeout — a floor keeps
//!   a fast run from cutting off ordinary slow answers, and each timeout of the same request
//!   doubles its next wait, so a server that is slow for everyone is still waited for;
//! - whether the API is failing to answer right now (5xx, lost connections, timeouts), and since
//!   when, so progress output can say the export is waiting and for how long; and the moment it
//!   answers again, so requests backing off after an outage all go at once instead of each
//!   sleeping out its own backoff.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Answer times kept for the estimate.
const WINDOW: usize = 64;
/// Answers needed before the estimate replaces the longest timeout.
const MIN_SAMPLES: usize = 8;
/// A request is given up on after this many times the 90th percentile answer time.
const SLACK: u32 = 4;

/// The API has not answered properly since `since`; the last problem was `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trouble {
    pub since: Instant,
    /// The error class of the last failed attempt ("Transient" for 5xx, drops and timeouts).
    pub reason: &'static str,
}

#[derive(Debug)]
pub struct Observed {
    min_timeout: Duration,
    max_timeout: Duration,
    state: Mutex<State>,
    recovered: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct State {
    latencies: VecDeque<Duration>,
    trouble: Option<Trouble>,
}

impl Observed {
    /// Timeouts between `min_timeout` (capped at `max_timeout`) and `max_timeout`.
    pub fn new(min_timeout: Duration, max_timeout: Duration) -> Self {
        Self {
            min_timeout: min_timeout.min(max_timeout),
            max_timeout,
            state: Mutex::new(State::default()),
            recovered: tokio::sync::Notify::new(),
        }
    }

    /// Completes when the API next answers after trouble (wakes only futures made before it).
    pub fn recovered(&self) -> tokio::sync::futures::Notified<'_> {
        self.recovered.notified()
    }

    /// How long to wait for the answer to a request that has already timed out `timeouts` times.
    pub fn timeout(&self, timeouts: u32) -> Duration {
        let base = {
            let state = self.lock();
            if state.latencies.len() < MIN_SAMPLES {
                self.max_timeout
            } else {
                let mut sorted: Vec<Duration> = state.latencies.iter().copied().collect();
                sorted.sort_unstable();
                let p90 = sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)];
                p90.saturating_mul(SLACK)
                    .clamp(self.min_timeout, self.max_timeout)
            }
        };
        base.saturating_mul(1 << timeouts.min(10))
            .min(self.max_timeout)
    }

    /// An answer came back (whatever its status, but for server errors) after `latency`.
    pub fn on_answer(&self, latency: Duration) {
        let mut state = self.lock();
        if state.latencies.len() == WINDOW {
            state.latencies.pop_front();
        }
        state.latencies.push_back(latency);
        if state.trouble.take().is_some() {
            self.recovered.notify_waiters();
        }
    }

    /// An attempt failed for a reason that is the API's, not the request's.
    pub fn on_trouble(&self, reason: &'static str) {
        let mut state = self.lock();
        let since = state.trouble.map_or_else(Instant::now, |t| t.since);
        state.trouble = Some(Trouble { since, reason });
    }

    /// Whether the API is failing to answer now, and since when.
    pub fn trouble(&self) -> Option<Trouble> {
        self.lock().trouble
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_follows_answer_times_between_floor_and_ceiling() {
        let observed = Observed::new(Duration::from_secs(5), Duration::from_secs(30));
        assert_eq!(
            observed.timeout(0),
            Duration::from_secs(30),
            "no answers yet"
        );
        for _ in 0..20 {
            observed.on_answer(Duration::from_millis(100));
        }
        assert_eq!(observed.timeout(0), Duration::from_secs(5), "floor");
        assert_eq!(observed.timeout(1), Duration::from_secs(10), "doubled");
        assert_eq!(observed.timeout(5), Duration::from_secs(30), "ceiling");
        for _ in 0..64 {
            observed.on_answer(Duration::from_secs(3));
        }
        assert_eq!(observed.timeout(0), Duration::from_secs(12));
    }

    #[test]
    fn trouble_keeps_its_start_until_an_answer() {
        let observed = Observed::new(Duration::from_secs(1), Duration::from_secs(2));
        assert!(observed.trouble().is_none());
        observed.on_trouble("Transient");
        let first = observed.trouble().unwrap();
        observed.on_trouble("Transient");
        assert_eq!(observed.trouble().unwrap().since, first.since);
        observed.on_answer(Duration::from_millis(5));
        assert!(observed.trouble().is_none());
    }
}
