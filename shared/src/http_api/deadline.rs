//! The deadline of a run (a Lambda invocation's time budget), for the retries of every request
//! made inside it. [`within`] runs a future with a deadline; inside it, a request whose retry
//! wait would reach the deadline stops waiting and fails at once with
//! [`ApiError::DeadlineReached`](super::ApiError::DeadlineReached), so that the run can store its
//! progress and answer before its timeout instead of being killed in the middle of a wait.
//!
//! The deadline is task-local: it holds for everything the future polls itself (its joined and
//! buffered futures), not for tasks it spawns. Outside [`within`] there is no deadline, and only
//! the retry policy's own attempts and time budget bound the retries.

use tokio::time::Instant;

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Runs `work` with `deadline` (none: as if called directly).
pub async fn within<F: std::future::Future>(deadline: Option<Instant>, work: F) -> F::Output {
    match deadline {
        Some(deadline) => DEADLINE.scope(deadline, work).await,
        None => work.await,
    }
}

/// The deadline of the run polling this, if it has one.
pub fn current() -> Option<Instant> {
    DEADLINE.try_with(|d| *d).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn the_deadline_holds_inside_and_only_inside() {
        assert_eq!(current(), None);
        let at = Instant::now() + Duration::from_secs(5);
        let seen = within(Some(at), async {
            let joined = futures::future::join(async { current() }, async { current() }).await;
            (current(), joined)
        })
        .await;
        assert_eq!(seen, (Some(at), (Some(at), Some(at))));
        assert_eq!(within(None, async { current() }).await, None);
        assert_eq!(current(), None);
    }
}
