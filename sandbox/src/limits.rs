//! The sandbox's rate limit (a token bucket per API key), its fault injection and its counters.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Faults to inject, each drawn independently per request to `/v1`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Probability of answering 500 without doing anything.
    pub error_rate: f64,
    /// Probability of closing the connection without an answer, before doing anything.
    pub drop_rate: f64,
    /// Probability of doing the work, then answering only after `slow_ms`.
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Probability that a request starts a burst of 429s lasting `throttle_burst_ms`.
    pub throttle_burst_rate: f64,
    pub throttle_burst_ms: u64,
    /// An outage (503 to everything) starting this long after the faults were set…
    pub outage_after_ms: Option<u64>,
    /// …and lasting this long.
    pub outage_ms: u64,
    /// Seed for the fault draws, for repeatable runs.
    pub seed: Option<u64>,
}

/// What the fault draw decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Outage,
    Error,
    Drop,
    ThrottleBurst,
    Slow(Duration),
}

#[derive(Debug)]
pub struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
    set_at: Instant,
    burst_until: Option<Instant>,
}

impl FaultState {
    pub fn new(faults: Faults) -> Self {
        let rng = faults
            .seed
            .map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed);
        Self {
            faults,
            rng,
            set_at: Instant::now(),
            burst_until: None,
        }
    }

    pub fn draw(&mut self, now: Instant) -> Fault {
        let f = &self.faults;
        if let Some(after) = f.outage_after_ms {
            let start = self.set_at + Duration::from_millis(after);
            if now >= start && now < start + Duration::from_millis(f.outage_ms) {
                return Fault::Outage;
            }
        }
        if self.burst_until.is_some_and(|until| now < until) {
            return Fault::ThrottleBurst;
        }
        if self.rng.f64() < f.throttle_burst_rate {
            self.burst_until = Some(now + Duration::from_millis(f.throttle_burst_ms));
            return Fault::ThrottleBurst;
        }
        if self.rng.f64() < f.drop_rate {
            return Fault::Drop;
        }
        if self.rng.f64() < f.error_rate {
            return Fault::Error;
        }
        if self.rng.f64() < f.slow_rate {
            return Fault::Slow(Duration::from_millis(f.slow_ms));
        }
        Fault::None
    }
}

/// Per-key token buckets: `rate` tokens a second, at most `burst` banked.
#[derive(Debug)]
pub struct RateLimiter {
    pub rate: Option<f64>,
    pub burst: f64,
    buckets: HashMap<String, (f64, Instant)>,
}

impl RateLimiter {
    /// `rate` of `None` (or 0) means no limit; `burst` defaults to one second's worth.
    pub fn new(rate: Option<f64>, burst: Option<f64>) -> Self {
        let rate = rate.filter(|r| *r > 0.0 && r.is_finite());
        let burst = burst.or(rate).unwrap_or(1.0).max(1.0);
        Self {
            rate,
            burst,
            buckets: HashMap::new(),
        }
    }

    /// Takes a token for `key`, or says how long until one is there.
    pub fn take(&mut self, key: &str, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let burst = self.burst;
        let (tokens, last) = self.buckets.entry(key.to_string()).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - *tokens) / rate))
        }
    }
}

/// What the sandbox has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Requests to `/v1`, of any outcome.
    pub requests: u64,
    /// Requests that passed the rate limit.
    pub accepted: u64,
    /// Requests answered 429 (rate limit and injected bursts).
    pub throttled: u64,
    /// Requests answered 400 or 401 for a missing or wrong key.
    pub unauthorized: u64,
    /// Requests refused with another 4xx.
    pub rejected: u64,
    /// Injected 500s and outage 503s.
    pub server_errors: u64,
    pub dropped: u64,
    /// Answers held back by an injected slow fault (any call, the work done before the wait).
    pub slow: u64,
    /// Bulk upserts that were applied and then answered late: the only requests whose repeat by
    /// a client that gave up waiting writes contacts a second time (500s and drops do no work).
    pub slow_bulk_writes: u64,
    /// Bulk upsert requests that were applied.
    pub bulk_requests: u64,
    /// Contacts written by upserts (a contact written twice counts twice).
    pub contacts_written: u64,
    /// Distinct contacts (by email, any case) written by upserts.
    pub distinct_contacts_written: u64,
    /// The most upserts any one contact received.
    pub max_writes_per_contact: u64,
    /// `unsubscribed` or `_NewEmail` fields received; a good connector keeps this at 0.
    pub consent_fields_received: u64,
    /// The most requests that passed the rate limit within any one second.
    pub peak_accepted_per_second: u64,
}

/// Tracks the peak of accepted requests within any sliding one-second window.
#[derive(Debug, Default)]
pub struct PeakWindow {
    recent: VecDeque<Instant>,
}

impl PeakWindow {
    /// Records one accepted request; returns how many fell within the last second.
    pub fn record(&mut self, now: Instant) -> u64 {
        while self
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        self.recent.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_rate() {
        let mut limiter = RateLimiter::new(Some(10.0), None);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.take("k", t0).is_ok());
        }
        let wait = limiter.take("k", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6);
        assert!(limiter.take("k", t0 + Duration::from_millis(100)).is_ok());
        assert!(limiter.take("other", t0).is_ok());
        assert!(RateLimiter::new(None, None).take("k", t0).is_ok());
    }

    #[test]
    fn peak_window_slides() {
        let mut peak = PeakWindow::default();
        let t0 = Instant::now();
        for i in 0..5 {
            peak.record(t0 + Duration::from_millis(i * 100));
        }
        assert_eq!(peak.record(t0 + Duration::from_millis(1050)), 5);
    }

    #[test]
    fn outage_window() {
        let mut state = FaultState::new(Faults {
            outage_after_ms: Some(0),
            outage_ms: 1000,
            ..Faults::default()
        });
        let now = Instant::now();
        assert_eq!(state.draw(now), Fault::Outage);
        assert_eq!(state.draw(now + Duration::from_secs(2)), Fault::None);
    }
}
