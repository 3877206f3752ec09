//! What every API request passes before its handler, in either API: an outage, the key, the
//! injected faults (500, dropped connection, burst of 429s), the per-key rate limit; and after it,
//! a slow answer when one was drawn. Each API words its refusals in its own [`Dialect`]; Ortto's
//! gate adds its per-address limits and ban around this one.

use crate::control::{Control, Shared};
use crate::limits::Fault;
use crate::ConnectionKill;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::{Duration, Instant};

/// How an API words what its gate refuses.
pub(crate) struct Dialect {
    /// The header the key is read from.
    pub key_header: &'static str,
    /// The answer to a request without the key header.
    pub missing_key: (StatusCode, &'static str),
    /// The text of a 401 for a key that is not accepted.
    pub wrong_key: &'static str,
    /// The text of an outage's 503.
    pub outage: &'static str,
    /// The text of an injected 500.
    pub server_error: &'static str,
    /// The `message` of a 429's body.
    pub throttled: &'static str,
    /// The API's error answer.
    pub error: fn(StatusCode, &str) -> Response,
}

/// The key of a request, as the gate judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key {
    Missing,
    Wrong,
    Accepted(String),
}

impl Key {
    /// The key in the dialect's header, judged against the accepted keys.
    pub fn of(dialect: &Dialect, headers: &HeaderMap, control: &Control) -> Key {
        match headers
            .get(dialect.key_header)
            .and_then(|v| v.to_str().ok())
        {
            None => Key::Missing,
            Some(k) if control.api_keys.iter().any(|a| a == k) => Key::Accepted(k.to_string()),
            Some(_) => Key::Wrong,
        }
    }
}

/// Marks the answer of a call that wrote contacts, for the slow-answer counter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BulkApplied;

/// Decides, and counts, what happens to a request before its handler: refused (the answer), or
/// let through with the fault drawn for it (none, a drop or a slow answer).
pub(crate) fn admit(
    control: &mut Control,
    dialect: &Dialect,
    key: &Key,
    now: Instant,
) -> Result<Fault, Response> {
    let fault = control.faults.draw(now);
    let counters = &mut control.counters;
    match (fault, key) {
        (Fault::Outage, _) => {
            counters.server_errors += 1;
            Err((dialect.error)(
                StatusCode::SERVICE_UNAVAILABLE,
                dialect.outage,
            ))
        }
        (_, Key::Missing) => {
            counters.unauthorized += 1;
            let (status, text) = dialect.missing_key;
            Err((dialect.error)(status, text))
        }
        (_, Key::Wrong) => {
            counters.unauthorized += 1;
            Err((dialect.error)(StatusCode::UNAUTHORIZED, dialect.wrong_key))
        }
        (Fault::Drop, _) => {
            counters.dropped += 1;
            Ok(Fault::Drop)
        }
        (Fault::Error, _) => {
            counters.server_errors += 1;
            Err((dialect.error)(
                StatusCode::INTERNAL_SERVER_ERROR,
                dialect.server_error,
            ))
        }
        (Fault::ThrottleBurst, _) => {
            counters.throttled += 1;
            Err(throttled(
                dialect,
                control.retry_after_header,
                Duration::ZERO,
            ))
        }
        (fault, Key::Accepted(k)) => match control.limiter.take(k, now) {
            Ok(()) => {
                control.counters.accepted += 1;
                let in_window = control.peak.record(now);
                let peak = &mut control.counters.peak_accepted_per_second;
                *peak = (*peak).max(in_window);
                Ok(fault)
            }
            Err(wait) => {
                control.counters.throttled += 1;
                Err(throttled(dialect, control.retry_after_header, wait))
            }
        },
    }
}

/// Runs a request the gate let through: drops its connection, or runs the handler (counting a
/// 4xx) and holds the answer back if a slow answer was drawn.
pub(crate) async fn run(shared: &Shared, request: Request, next: Next, fault: Fault) -> Response {
    if fault == Fault::Drop {
        if let Some(kill) = request.extensions().get::<ConnectionKill>() {
            kill.0.notify_one();
        }
        return std::future::pending().await;
    }
    let response = next.run(request).await;
    if response.status().is_client_error() {
        shared.control().counters.rejected += 1;
    }
    if let Fault::Slow(delay) = fault {
        {
            let mut control = shared.control();
            control.counters.slow += 1;
            if response.extensions().get::<BulkApplied>().is_some() {
                control.counters.slow_bulk_writes += 1;
            }
        }
        tokio::time::sleep(delay).await;
    }
    response
}

/// A 429 asking to wait `wait` (whole seconds, at least one) in its body's `try-in-seconds`, and in
/// a `Retry-After` header if `retry_after_header`.
pub(crate) fn throttled(dialect: &Dialect, retry_after_header: bool, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let body = json!({"error": {"code": "rate-limit", "message": dialect.throttled, "try-in-seconds": secs}});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if retry_after_header {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}
