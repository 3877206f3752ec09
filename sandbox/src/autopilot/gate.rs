//! How Autopilot words the gate's refusals (the key in `autopilotapikey`, a 400 without it, 429s
//! saying "Your request was throttled"), and the middleware that passes every `/v1` request
//! through the shared gate.

use super::{error, AppState, KEY_HEADER};
use crate::gate::{self, Dialect, Key};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub(super) const DIALECT: Dialect = Dialect {
    key_header: KEY_HEADER,
    missing_key: (
        StatusCode::BAD_REQUEST,
        "The autopilotapikey header is missing",
    ),
    wrong_key: "The API key is not valid",
    outage: "Autopilot is down for maintenance",
    server_error: "Something went wrong",
    throttled: "Your request was throttled",
    error: error_for_status,
};

fn error_for_status(status: StatusCode, message: &str) -> Response {
    let name = status.canonical_reason().unwrap_or("Error");
    error(status, name, message)
}

/// Counts a `/v1` request and passes it through the gate to its handler.
pub(super) async fn gate(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let admitted = {
        let mut control = shared.control();
        control.counters.requests += 1;
        let key = Key::of(&DIALECT, request.headers(), &control);
        gate::admit(&mut control, &DIALECT, &key, Instant::now())
    };
    match admitted {
        Ok(fault) => gate::run(&shared, request, next, fault).await,
        Err(response) => response,
    }
}
