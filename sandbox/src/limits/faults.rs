//! Injected faults: 500s, dropped connections, slow answers, bursts of 429s and an outage, each
//! drawn independently per request to the API (never to `/admin`), from a seed for repeatable runs.

use serde::{Deserialize, Serialize};
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

#[cfg(test)]
mod tests {
    use super::*;

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
