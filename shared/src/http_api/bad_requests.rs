//! An API's ban on clients that send too many bad requests (Ortto: 15 bad requests — bad input
//! or bad credentials — within 15 seconds get the client's address banned for 15 seconds). A
//! client of such an API keeps under it: once the bad answers of the last window are one short
//! of the limit, every request waits until the oldest of them leaves the window. Isolating the
//! contacts of a refused batch, which draws 400s by design, then slows down instead of getting
//! the account's exports banned. Requests already in flight when the window fills can still be
//! answered badly: an implementation gives a limit below the API's own by as many as it keeps in
//! flight while isolating.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// At most `answers - 1` bad answers within any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadRequestLimit {
    pub answers: usize,
    pub window: Duration,
}

/// The bad answers of the last window.
#[derive(Debug)]
pub(super) struct BadAnswers {
    limit: BadRequestLimit,
    seen: Mutex<VecDeque<Instant>>,
}

impl BadAnswers {
    pub(super) fn new(limit: BadRequestLimit) -> Self {
        Self {
            limit,
            seen: Mutex::new(VecDeque::new()),
        }
    }

    /// How long a request must wait at `now` before it may go.
    pub(super) fn wait(&self, now: Instant) -> Duration {
        let mut seen = self.lock();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.limit.window)
        {
            seen.pop_front();
        }
        let allowed = self.limit.answers.saturating_sub(1);
        if seen.len() < allowed {
            return Duration::ZERO;
        }
        let oldest_that_counts = seen[seen.len() - allowed.max(1)];
        (oldest_that_counts + self.limit.window).saturating_duration_since(now)
    }

    /// A bad answer came at `now`.
    pub(super) fn record(&self, now: Instant) {
        self.lock().push_back(now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Instant>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_wait_while_the_window_holds_one_bad_answer_short_of_the_limit() {
        let bad = BadAnswers::new(BadRequestLimit {
            answers: 3,
            window: Duration::from_secs(10),
        });
        let start = Instant::now();
        assert_eq!(bad.wait(start), Duration::ZERO);
        bad.record(start);
        assert_eq!(bad.wait(start), Duration::ZERO, "one bad answer is fine");
        let later = start + Duration::from_secs(4);
        bad.record(later);
        // Two of three: the next could be the third, so wait until the first leaves the window.
        assert_eq!(bad.wait(later), Duration::from_secs(6));
        assert_eq!(bad.wait(start + Duration::from_secs(10)), Duration::ZERO);
        // Only the second is left: one more bad answer is allowed again.
        bad.record(start + Duration::from_secs(11));
        assert_eq!(
            bad.wait(start + Duration::from_secs(11)),
            Duration::from_secs(3)
        );
    }
}
