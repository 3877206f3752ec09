//! Retries: which answers are worth another attempt, and how long to wait before it.
//!
//! 429 waits for `Retry-After` when the server sent one, else for the body's
//! `error.try-in-seconds`, else backs off; 408, 5xx, lost connections and timeouts back off and
//! retry (every write is an idempotent upsert by email); 401 and other 4xx never retry. Attempts
//! are bounded by a count and by the total time spent; backoff is exponential with full jitter.

use super::error::ApiError;
use std::sync::Mutex;
use std::time::Duration;

/// What to do with an HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    Success,
    Throttled,
    Retry,
    Unauthorized,
    NotFound,
    /// 400 and 413: the request itself was refused; a bulk upsert splits it to find out why.
    BadRequest,
    Fatal,
}

/// Classifies an HTTP status code.
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Success,
        429 => StatusClass::Throttled,
        408 | 500..=599 => StatusClass::Retry,
        401 | 403 => StatusClass::Unauthorized,
        404 => StatusClass::NotFound,
        400 | 413 => StatusClass::BadRequest,
        _ => StatusClass::Fatal,
    }
}

/// The defaults of [`RetryPolicy::default`], defined with the client's other defaults.
pub use super::client::{DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BUDGET};

/// The first backoff ceiling.
const BASE_DELAY: Duration = Duration::from_millis(250);
/// The largest backoff ceiling: short enough that an export notices within seconds that the
/// API is back.
const MAX_DELAY: Duration = Duration::from_secs(15);

/// Bounds and timing of retries.
#[derive(Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// No retry starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// The first backoff ceiling; doubled per attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling (and the largest server-requested wait honoured).
    pub max_delay: Duration,
    rng: Mutex<fastrand::Rng>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_BUDGET)
    }
}

impl RetryPolicy {
    pub fn new(max_attempts: u32, max_elapsed: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            max_elapsed,
            base_delay: BASE_DELAY,
            max_delay: MAX_DELAY,
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }

    /// Fixes the random source of the jitter, for repeatable tests.
    pub fn with_seed(self, seed: u64) -> Self {
        Self {
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            ..self
        }
    }

    pub fn with_delays(self, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            base_delay,
            max_delay,
            ..self
        }
    }

    /// The wait before attempt `attempt + 1` after `err` ended attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32, err: &ApiError) -> Duration {
        if let Some(wait) = err.retry_after() {
            return wait.min(self.max_delay);
        }
        let exp = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let fraction = self.rng.lock().unwrap_or_else(|e| e.into_inner()).f64();
        // Full jitter, never quite zero so a retry storm cannot line up on one instant.
        ceiling.mul_f64(fraction.max(0.05))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table() {
        let table = [
            (200, StatusClass::Success),
            (204, StatusClass::Success),
            (400, StatusClass::BadRequest),
            (401, StatusClass::Unauthorized),
            (403, StatusClass::Unauthorized),
            (404, StatusClass::NotFound),
            (408, StatusClass::Retry),
            (409, StatusClass::Fatal),
            (413, StatusClass::BadRequest),
            (422, StatusClass::Fatal),
            (429, StatusClass::Throttled),
            (500, StatusClass::Retry),
            (502, StatusClass::Retry),
            (503, StatusClass::Retry),
            (301, StatusClass::Fatal),
        ];
        for (status, class) in table {
            assert_eq!(classify_status(status), class, "{status}");
        }
    }

    #[test]
    fn server_wait_wins_over_backoff() {
        let policy = RetryPolicy::default().with_seed(7);
        let err = ApiError::Throttled {
            api: "Testing",
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(policy.delay(1, &err), Duration::from_secs(3));
        let huge = ApiError::Throttled {
            api: "Testing",
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(policy.delay(1, &huge), policy.max_delay);
    }

    #[test]
    fn backoff_grows_with_jitter_under_the_cap() {
        let policy = RetryPolicy::default().with_seed(1);
        let err = ApiError::Timeout {
            api: "Testing",
            after: Duration::from_secs(1),
        };
        for attempt in 1..30 {
            let ceiling = policy
                .base_delay
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(policy.max_delay);
            let d = policy.delay(attempt, &err);
            assert!(
                d <= ceiling && d >= ceiling.mul_f64(0.05),
                "{attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn the_default_policy_rides_out_its_whole_budget() {
        // An outage longer than a minute must not end an export: the attempts a request is
        // allowed, at the waits between them, cover the whole retry budget.
        let policy = RetryPolicy::default().with_seed(5);
        let err = ApiError::Server {
            api: "Testing",
            status: 503,
            message: "down".into(),
        };
        let waited: Duration = (1..policy.max_attempts)
            .map(|attempt| policy.delay(attempt, &err))
            .sum();
        assert!(
            waited >= policy.max_elapsed,
            "{waited:?} of waits in {} attempts, for a budget of {:?}",
            policy.max_attempts,
            policy.max_elapsed
        );
        assert!(policy.max_elapsed >= Duration::from_secs(15 * 60));
        assert!(
            policy.max_delay <= Duration::from_secs(15),
            "back within seconds"
        );
    }

    #[test]
    fn seeded_jitter_repeats() {
        let err = ApiError::Transport {
            api: "Testing",
            text: "reset".into(),
        };
        let a: Vec<_> = {
            let p = RetryPolicy::default().with_seed(42);
            (1..6).map(|n| p.delay(n, &err)).collect()
        };
        let b: Vec<_> = {
            let p = RetryPolicy::default().with_seed(42);
            (1..6).map(|n| p.delay(n, &err)).collect()
        };
        assert_eq!(a, b);
    }
}
