//! The `/admin` routes (no key, no limit): the state and counters, faults and keys changed at
//! run time, a reset.

use super::{error, AppState};
use crate::limits::{Counters, Faults, PeakWindow};
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

pub(super) async fn state(State(shared): State<AppState>) -> Response {
    Json(shared.store().snapshot()).into_response()
}

pub(super) async fn counters(State(shared): State<AppState>) -> Response {
    Json(super::counters(&shared)).into_response()
}

pub(super) async fn faults(State(shared): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            shared.control().set_faults(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "Bad Request", &e.to_string()),
    }
}

pub(super) async fn keys(State(shared): State<AppState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Keys {
        api_keys: Vec<String>,
    }
    match serde_json::from_slice::<Keys>(&body) {
        Ok(keys) => {
            shared.control().api_keys = keys.api_keys;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "Bad Request", &e.to_string()),
    }
}

pub(super) async fn reset(State(shared): State<AppState>) -> Response {
    *shared.store() = Store::default();
    let mut control = shared.control();
    control.counters = Counters::default();
    control.peak = PeakWindow::default();
    StatusCode::NO_CONTENT.into_response()
}
