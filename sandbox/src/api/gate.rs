//! What every `/v1` request passes before its handler: counting, outage and faults, the key
//! header, the per-key rate limit answering 429 the way Autopilot does.

use super::contacts::BulkApplied;
use super::{error, AppState, KEY_HEADER};
use crate::limits::Fault;
use crate::ConnectionKill;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::time::Instant;

/// Everything a `/v1` request passes before its handler: counting, outage and faults, the key,
/// the rate limit; and after it, a slow answer when one was drawn.
pub(super) async fn gate(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let now = Instant::now();
    let key = request
        .headers()
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let decision = {
        let mut control = shared.control();
        control.counters.requests += 1;
        let fault = control.faults.draw(now);
        match (fault, key) {
            (Fault::Outage, _) => {
                control.counters.server_errors += 1;
                Err(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service Unavailable",
                    "Autopilot is down for maintenance",
                ))
            }
            (_, None) => {
                control.counters.unauthorized += 1;
                Err(error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    "The autopilotapikey header is missing",
                ))
            }
            (_, Some(k)) if !control.api_keys.contains(&k) => {
                control.counters.unauthorized += 1;
                Err(error(
                    StatusCode::UNAUTHORIZED,
                    "Unauthorized",
                    "The API key is not valid",
                ))
            }
            (Fault::Drop, _) => {
                control.counters.dropped += 1;
                Ok(Fault::Drop)
            }
            (Fault::Error, _) => {
                control.counters.server_errors += 1;
                Err(error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal Server Error",
                    "Something went wrong",
                ))
            }
            (Fault::ThrottleBurst, _) => {
                control.counters.throttled += 1;
                Err(throttled(control.retry_after_header, 1))
            }
            (fault, Some(k)) => match control.limiter.take(&k, now) {
                Ok(()) => {
                    control.counters.accepted += 1;
                    let in_window = control.peak.record(now);
                    let peak = &mut control.counters.peak_accepted_per_second;
                    *peak = (*peak).max(in_window);
                    Ok(fault)
                }
                Err(wait) => {
                    control.counters.throttled += 1;
                    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
                    Err(throttled(control.retry_after_header, secs))
                }
            },
        }
    };
    match decision {
        Err(response) => response,
        Ok(Fault::Drop) => {
            if let Some(kill) = request.extensions().get::<ConnectionKill>() {
                kill.0.notify_one();
            }
            std::future::pending().await
        }
        Ok(fault) => {
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
    }
}

fn throttled(retry_after_header: bool, secs: u64) -> Response {
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Json(json!({"error": {"code": "rate-limit", "message": "Your request was throttled", "try-in-seconds": secs}})),
    )
        .into_response();
    if retry_after_header {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(secs));
    }
    response
}
