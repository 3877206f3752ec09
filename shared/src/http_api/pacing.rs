//! Pacing: one adaptive rate limiter shared by every request a process sends to one destination.
//!
//! Request *starts* are spaced evenly at the current rate (a token bucket of depth one, so nothing
//! bursts); how many requests are in flight at once is up to the callers, so an answer that hangs
//! costs one caller, not a share of the rate. Waiters are admitted one at a time in arrival order
//! and no slot is booked ahead, so a rate cut or a pause applies to every request not yet started.
//! The rate adapts to what the server allows:
//! - a 429 for a request paced at the current rate cuts the rate by 30% (multiplicative decrease)
//!   and remembers the rate that drew it as the *ceiling*; throttles of requests paced at an older,
//!   higher rate were already answered by that cut and are ignored;
//! - each success moves the rate 5% of the way back towards 97% of the ceiling (or the configured
//!   rate when nothing was throttled yet), so recovery is quick but stays below the rate that drew
//!   the throttle;
//! - after a quiet minute the ceiling is raised by 5%, so a limit that was lifted is found again.
//!
//! A configuration that is too optimistic therefore converges to just under the server's limit
//! instead of storming it. `governor` is not used because its quota is fixed at construction, and
//! the rate here changes with every answer.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

const DECREASE: f64 = 0.7;
const HEADROOM: f64 = 0.97;
const RECOVERY: f64 = 0.05;
const PROBE_AFTER: Duration = Duration::from_secs(60);
const PROBE_STEP: f64 = 1.05;
/// Slots a late sender may make up at once.
const CATCH_UP: u32 = 4;

/// Proof that a request was admitted, and at which rate.
#[derive(Debug, Clone, Copy)]
pub struct Permit {
    rate: f64,
}

#[derive(Debug)]
struct State {
    rate: f64,
    ceiling: Option<f64>,
    /// When the last request was let through.
    last_start: Option<Instant>,
    paused_until: Option<Instant>,
    last_throttle: Option<Instant>,
}

/// An adaptive rate limiter; share it (in an `Arc`) between all senders to one destination.
#[derive(Debug)]
pub struct AdaptivePacer {
    max_rate: f64,
    min_rate: f64,
    state: Mutex<State>,
    /// Held by the one waiter whose turn is next, so waiters start in arrival order.
    turn: tokio::sync::Mutex<()>,
}

impl AdaptivePacer {
    /// A pacer starting at `requests_per_second`, never going faster.
    pub fn new(requests_per_second: f64) -> Self {
        let max_rate = if requests_per_second.is_finite() && requests_per_second > 0.0 {
            requests_per_second
        } else {
            1.0
        };
        Self {
            max_rate,
            min_rate: (max_rate / 50.0).clamp(0.05, 1.0),
            state: Mutex::new(State {
                rate: max_rate,
                ceiling: None,
                last_start: None,
                paused_until: None,
                last_throttle: None,
            }),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    /// Waits for the next free slot at the current rate. The slot is worked out again after each
    /// wait, so a pause or a slower rate decided meanwhile is honoured.
    pub async fn acquire(&self) -> Permit {
        let _turn = self.turn.lock().await;
        loop {
            let due = {
                let mut state = self.lock();
                let now = Instant::now();
                let interval = Duration::from_secs_f64(1.0 / state.rate);
                let spaced = state.last_start.map_or(now, |last| last + interval);
                let due = spaced.max(state.paused_until.unwrap_or(spaced));
                if due <= now {
                    // Counted from the slot, not from the (late) wake-up, so timer granularity
                    // and a busy machine do not slow the rate down; a sender late by more than a
                    // few slots (or idle) catches up at most that many, never bursts more.
                    let catch_up = now.checked_sub(interval * CATCH_UP).unwrap_or(due);
                    state.last_start = Some(due.max(catch_up));
                    return Permit { rate: state.rate };
                }
                due
            };
            tokio::time::sleep_until(due).await;
        }
    }

    /// Records a request the server accepted.
    pub fn on_success(&self, _permit: Permit) {
        let mut state = self.lock();
        if let (Some(ceiling), Some(last)) = (state.ceiling, state.last_throttle) {
            if last.elapsed() >= PROBE_AFTER {
                state.ceiling = Some(ceiling * PROBE_STEP);
                state.last_throttle = Some(Instant::now());
            }
        }
        let target = state
            .ceiling
            .map_or(self.max_rate, |c| (c * HEADROOM).min(self.max_rate));
        if state.rate < target {
            state.rate = (state.rate + (target - state.rate) * RECOVERY).min(target);
        }
    }

    /// Records a 429; `retry_after` is what the server asked for, if anything.
    pub fn on_throttled(&self, permit: Permit, retry_after: Option<Duration>) {
        let mut state = self.lock();
        let now = Instant::now();
        // A long wait means the account is blocked for a while, not that this sender is slightly
        // fast: hold every sender until then instead of letting each one draw its own 429.
        if let Some(wait) = retry_after.filter(|w| *w > Duration::from_secs(1)) {
            let until = now + wait;
            state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
        }
        if permit.rate > state.rate * 1.000_001 {
            return;
        }
        state.ceiling = Some(permit.rate);
        state.last_throttle = Some(now);
        state.rate = (permit.rate * DECREASE).max(self.min_rate);
    }

    /// The rate requests are being paced at now.
    pub fn current_rate(&self) -> f64 {
        self.lock().rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is a plain assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spaces_requests_evenly() {
        let pacer = AdaptivePacer::new(10.0);
        let start = Instant::now();
        for _ in 0..11 {
            pacer.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_sender_catches_up_a_few_slots_never_a_burst() {
        let pacer = AdaptivePacer::new(10.0);
        pacer.acquire().await;
        // Idle (or starved) for two seconds: at most four slots are made up at once.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let start = Instant::now();
        for _ in 0..5 {
            pacer.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the made-up slots go at once"
        );
        pacer.acquire().await;
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "then the rate again"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttle_cuts_once_per_rate_then_recovers_below_ceiling() {
        let pacer = AdaptivePacer::new(20.0);
        let first = pacer.acquire().await;
        let second = pacer.acquire().await;
        pacer.on_throttled(first, None);
        assert!((pacer.current_rate() - 14.0).abs() < 1e-9);
        // Paced at the old rate: already answered by the cut.
        pacer.on_throttled(second, None);
        assert!((pacer.current_rate() - 14.0).abs() < 1e-9);
        for _ in 0..500 {
            let p = pacer.acquire().await;
            pacer.on_success(p);
        }
        let rate = pacer.current_rate();
        assert!(rate <= 20.0 * HEADROOM + 1e-9 && rate > 19.0, "{rate}");
    }

    #[tokio::test(start_paused = true)]
    async fn long_retry_after_pauses_every_sender() {
        let pacer = AdaptivePacer::new(10.0);
        let p = pacer.acquire().await;
        let start = Instant::now();
        pacer.on_throttled(p, Some(Duration::from_secs(5)));
        pacer.acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn never_below_minimum_rate() {
        let pacer = AdaptivePacer::new(10.0);
        for _ in 0..100 {
            let p = pacer.acquire().await;
            pacer.on_throttled(p, None);
        }
        assert!(pacer.current_rate() >= 0.2 - 1e-9);
    }
}
