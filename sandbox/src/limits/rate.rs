//! Request limits: a token bucket per API key (both APIs), and Ortto's limits per client address —
//! requests within sliding windows (2,000 per 10 s and 6,000 per 60 s by default) and the
//! bad-request ban (15 bad requests, or 15 bad-credential requests, within 15 s ban the address for
//! 15 s). State is kept per key and per address: the sandbox serves a handful of local clients, so
//! the maps stay small; each window holds at most its limit of instants.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

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

/// The instants of recent events within a sliding `window`, at most `limit` of them kept.
#[derive(Debug)]
pub struct SlidingWindow {
    limit: usize,
    window: Duration,
    events: VecDeque<Instant>,
}

impl SlidingWindow {
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            events: VecDeque::new(),
        }
    }

    fn forget_before(&mut self, now: Instant) {
        while self
            .events
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            self.events.pop_front();
        }
    }

    /// How long until the window has room for one more event (zero when it has room now).
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.forget_before(now);
        if self.events.len() < self.limit {
            return Duration::ZERO;
        }
        let oldest = self.events[self.events.len() - self.limit];
        (oldest + self.window).saturating_duration_since(now)
    }

    /// Records an event; how many the window holds now (never more than its limit: the oldest
    /// are forgotten first).
    pub fn record(&mut self, now: Instant) -> usize {
        self.forget_before(now);
        if self.events.len() == self.limit {
            self.events.pop_front();
        }
        self.events.push_back(now);
        self.events.len()
    }
}

/// Requests one address may make within a window: Ortto's "rate limits per IP address".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowRule {
    pub limit: usize,
    pub window_secs: u64,
}

/// Ortto's documented per-address limits: 2,000 requests per 10 s and 6,000 per 60 s.
pub const ORTTO_IP_RULES: [WindowRule; 2] = [
    WindowRule {
        limit: 2000,
        window_secs: 10,
    },
    WindowRule {
        limit: 6000,
        window_secs: 60,
    },
];

/// The windows of every address under `rules`.
#[derive(Debug, Default)]
pub struct AddressLimits {
    windows: HashMap<IpAddr, Vec<SlidingWindow>>,
}

impl AddressLimits {
    /// Records a request from `ip` if every window has room; otherwise how long until they have.
    pub fn admit(
        &mut self,
        ip: IpAddr,
        rules: &[WindowRule],
        now: Instant,
    ) -> Result<(), Duration> {
        let windows = self.windows.entry(ip).or_insert_with(|| {
            rules
                .iter()
                .map(|r| SlidingWindow::new(r.limit, Duration::from_secs(r.window_secs)))
                .collect()
        });
        let wait = windows.iter_mut().map(|w| w.wait(now)).max();
        match wait {
            Some(wait) if !wait.is_zero() => Err(wait),
            _ => {
                for window in windows {
                    window.record(now);
                }
                Ok(())
            }
        }
    }

    /// Forgets every address (the rules changed, or the sandbox was reset).
    pub fn clear(&mut self) {
        self.windows.clear();
    }
}

/// Which of the ban's two counts a refused request adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bad {
    /// A 4xx for the request itself (bad input, unknown endpoint, …).
    Request,
    /// A 401: a missing or wrong key.
    Credentials,
}

/// The bad-request ban: `threshold` bad requests of one kind within `window_secs` ban the address
/// for `ban_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BanRule {
    pub threshold: usize,
    pub window_secs: u64,
    pub ban_secs: u64,
}

impl Default for BanRule {
    /// Ortto's: 15 bad requests (or 15 bad-credential requests) in 15 s ban the address for 15 s.
    fn default() -> Self {
        Self {
            threshold: 15,
            window_secs: 15,
            ban_secs: 15,
        }
    }
}

#[derive(Debug)]
struct Record {
    requests: SlidingWindow,
    credentials: SlidingWindow,
    banned_until: Option<Instant>,
}

/// Bad requests and bans by address.
#[derive(Debug, Default)]
pub struct Bans {
    addresses: HashMap<IpAddr, Record>,
}

impl Bans {
    /// How much longer `ip` is banned, if it is.
    pub fn remaining(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let until = self.addresses.get(&ip)?.banned_until?;
        (until > now).then(|| until - now)
    }

    /// Records a bad request from `ip`; whether it starts a ban (its windows then start afresh).
    pub fn record(&mut self, ip: IpAddr, bad: Bad, rule: &BanRule, now: Instant) -> bool {
        let window = Duration::from_secs(rule.window_secs);
        let record = self.addresses.entry(ip).or_insert_with(|| Record {
            requests: SlidingWindow::new(rule.threshold, window),
            credentials: SlidingWindow::new(rule.threshold, window),
            banned_until: None,
        });
        let counted = match bad {
            Bad::Request => record.requests.record(now),
            Bad::Credentials => record.credentials.record(now),
        };
        if counted < rule.threshold.max(1) {
            return false;
        }
        record.banned_until = Some(now + Duration::from_secs(rule.ban_secs));
        record.requests = SlidingWindow::new(rule.threshold, window);
        record.credentials = SlidingWindow::new(rule.threshold, window);
        true
    }

    /// Forgets every address (the rule changed, or the sandbox was reset).
    pub fn clear(&mut self) {
        self.addresses.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn bucket_allows_burst_then_rate() {
        let mut limiter = RateLimiter::new(Some(10.0), None);
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.take("k", t0).is_ok());
        }
        let wait = limiter.take("k", t0).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6);
        assert!(limiter.take("k", t0 + ms(100)).is_ok());
        assert!(limiter.take("other", t0).is_ok());
        assert!(RateLimiter::new(None, None).take("k", t0).is_ok());
    }

    #[test]
    fn a_window_counts_what_fell_within_it_and_says_when_room_returns() {
        let mut window = SlidingWindow::new(3, ms(1000));
        let t0 = Instant::now();
        assert_eq!(window.record(t0), 1);
        assert_eq!(window.record(t0 + ms(400)), 2);
        assert_eq!(window.wait(t0 + ms(500)), Duration::ZERO);
        assert_eq!(window.record(t0 + ms(500)), 3);
        assert_eq!(window.wait(t0 + ms(600)), ms(400), "until the first leaves");
        assert_eq!(window.record(t0 + ms(1000)), 3, "the first has left");
        assert_eq!(window.record(t0 + ms(1001)), 3, "never more than the limit");
    }

    #[test]
    fn an_address_gets_as_many_requests_as_its_tightest_window_allows() {
        let rules = [
            WindowRule {
                limit: 2,
                window_secs: 1,
            },
            WindowRule {
                limit: 3,
                window_secs: 10,
            },
        ];
        let mut limits = AddressLimits::default();
        let t0 = Instant::now();
        assert!(limits.admit(LOCAL, &rules, t0).is_ok());
        assert!(limits.admit(LOCAL, &rules, t0).is_ok());
        assert_eq!(limits.admit(LOCAL, &rules, t0 + ms(500)), Err(ms(500)));
        assert!(limits.admit(OTHER, &rules, t0).is_ok(), "per address");
        assert!(limits.admit(LOCAL, &rules, t0 + ms(1000)).is_ok());
        let wait = limits.admit(LOCAL, &rules, t0 + ms(2000)).unwrap_err();
        assert_eq!(wait, ms(8000), "the ten-second window is full");
    }

    #[test]
    fn the_fifteenth_bad_request_bans_the_address_for_fifteen_seconds() {
        let rule = BanRule::default();
        let mut bans = Bans::default();
        let t0 = Instant::now();
        for i in 0..14 {
            assert!(!bans.record(LOCAL, Bad::Request, &rule, t0 + ms(i * 100)));
        }
        assert!(
            !bans.record(LOCAL, Bad::Credentials, &rule, t0),
            "counted apart"
        );
        assert_eq!(bans.remaining(LOCAL, t0 + ms(1400)), None);
        assert!(bans.record(LOCAL, Bad::Request, &rule, t0 + ms(1400)));
        assert_eq!(bans.remaining(LOCAL, t0 + ms(1400)), Some(ms(15_000)));
        assert_eq!(bans.remaining(OTHER, t0 + ms(1400)), None);
        assert_eq!(bans.remaining(LOCAL, t0 + ms(16_400)), None, "over");
        assert!(
            !bans.record(LOCAL, Bad::Request, &rule, t0 + ms(16_400)),
            "the count starts afresh after a ban"
        );
    }

    #[test]
    fn bad_requests_spread_wider_than_the_window_never_ban() {
        let rule = BanRule::default();
        let mut bans = Bans::default();
        let t0 = Instant::now();
        for i in 0..100 {
            assert!(!bans.record(LOCAL, Bad::Credentials, &rule, t0 + ms(i * 1100)));
        }
    }
}
