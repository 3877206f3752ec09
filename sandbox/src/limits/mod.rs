//! What limits the sandbox's answers and what it counts: the rate limits (`rate`: a token bucket
//! per key; Ortto's per-address windows and bad-request ban), the injected faults (`faults`), the
//! counters, and the peak of accepted requests per second.

mod faults;
mod rate;

pub use faults::{Fault, FaultState, Faults};
pub use rate::{
    AddressLimits, Bad, BanRule, Bans, RateLimiter, SlidingWindow, WindowRule, ORTTO_IP_RULES,
};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What the sandbox has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counters {
    /// Requests to the API (Autopilot: under `/v1`; Ortto: any path but `/admin`), of any outcome.
    pub requests: u64,
    /// Requests that passed the rate limit.
    pub accepted: u64,
    /// Requests answered 429 by a limit or an injected burst (Ortto: the per-key rate, the
    /// per-address windows, the merge concurrency limit; not a ban, counted in `banned`).
    pub throttled: u64,
    /// Requests answered 400 or 401 for a missing or wrong key (Ortto: or a key of another region).
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
    /// Bulk upsert requests (Ortto: merge requests) that were applied.
    pub bulk_requests: u64,
    /// Contacts written by upserts (Ortto: people created or merged; written twice counts twice).
    pub contacts_written: u64,
    /// Distinct contacts (by email, any case) written by upserts.
    pub distinct_contacts_written: u64,
    /// The most upserts any one contact received.
    pub max_writes_per_contact: u64,
    /// Consent received; a good connector keeps this at 0. Autopilot: `unsubscribed` or `_NewEmail`
    /// fields. Ortto: `bol::p`, `bol::sp`, `bol::gdpr` and the context fields (`str::s-ctx`,
    /// `str::u-ctx`, `str::soi-ctx`, `str::soo-ctx`) in merges, and every call to
    /// `/v1/audience/subscribe`.
    pub consent_fields_received: u64,
    /// The most requests that passed the rate limit within any one second.
    pub peak_accepted_per_second: u64,
    /// Ortto: requests by endpoint (`/v1/person/merge`, …), region prefix left out, of any
    /// outcome; a path the API does not serve counts as `other`.
    pub by_endpoint: BTreeMap<String, u64>,
    /// Ortto: answers that count toward the bad-request ban (any 4xx but 429, 401 included).
    pub bad_requests: u64,
    /// Ortto: bans started by bad requests.
    pub bans: u64,
    /// Ortto: requests refused because their address was banned.
    pub banned: u64,
    /// Ortto: field values received as `null` or `""` in merges; a connector that leaves empty
    /// values out keeps this at 0.
    pub empty_values_received: u64,
}

/// Tracks the peak of accepted requests within any sliding one-second window.
#[derive(Debug)]
pub struct PeakWindow(SlidingWindow);

impl Default for PeakWindow {
    fn default() -> Self {
        Self(SlidingWindow::new(usize::MAX, Duration::from_secs(1)))
    }
}

impl PeakWindow {
    /// Records one accepted request; returns how many fell within the last second.
    pub fn record(&mut self, now: Instant) -> u64 {
        self.0.record(now) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_window_slides() {
        let mut peak = PeakWindow::default();
        let t0 = Instant::now();
        for i in 0..5 {
            peak.record(t0 + Duration::from_millis(i * 100));
        }
        assert_eq!(peak.record(t0 + Duration::from_millis(1050)), 5);
    }
}
