//! The `/admin` routes both APIs share (the admin token instead of an API key, no limit, never
//! counted as requests; the `boundary` module checks the token): the state and counters, faults,
//! keys and settings changed at run time, and a reset. Each API adds its own (what a person does by
//! hand in it) beside these.
//!
//! - `GET /admin/state`: every contact and group ([`crate::StateSnapshot`]);
//! - `GET /admin/counters`: [`crate::Counters`];
//! - `PUT /admin/faults`: [`crate::Faults`], their timers starting now;
//! - `PUT /admin/keys` `{"api_keys": [...]}`: the accepted keys;
//! - `GET`/`PUT /admin/settings`: `retry_after_header` and Ortto's settings
//!   ([`crate::OrttoSettings`]); a `PUT` changes only the settings it names and answers them all;
//! - `POST /admin/reset`: no data, counters at zero, every address's limits and ban forgotten.

use crate::control::Shared;
use crate::limits::Faults;
use crate::ortto::OrttoSettings;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use std::sync::Arc;

type AppState = Arc<Shared>;

/// The shared `/admin` routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/state", get(state))
        .route("/counters", get(counters))
        .route("/faults", put(faults))
        .route("/keys", put(keys))
        .route("/settings", get(settings).put(change_settings))
        .route("/reset", post(reset))
}

/// An admin route's error: `{"error": reason, "message": …}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    (status, Json(json!({"error": reason, "message": message}))).into_response()
}

/// 204 if it was done, else 404 saying `what` was not found.
pub(crate) fn done_or_not_found(done: bool, what: &str) -> Response {
    if done {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, &format!("{what} not found"))
    }
}

async fn state(State(shared): State<AppState>) -> Response {
    Json(shared.store().view()).into_response()
}

async fn counters(State(shared): State<AppState>) -> Response {
    Json(shared.counters()).into_response()
}

async fn faults(State(shared): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            shared.control().set_faults(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

async fn keys(State(shared): State<AppState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Keys {
        api_keys: Vec<String>,
    }
    match serde_json::from_slice::<Keys>(&body) {
        Ok(keys) => {
            shared.control().api_keys = keys.api_keys;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

fn settings_json(retry_after_header: bool, ortto: &OrttoSettings) -> Value {
    let mut all = json!({ "retry_after_header": retry_after_header });
    if let (Some(all), Value::Object(ortto)) = (all.as_object_mut(), json!(ortto)) {
        all.extend(ortto);
    }
    all
}

async fn settings(State(shared): State<AppState>) -> Response {
    let control = shared.control();
    Json(settings_json(control.retry_after_header, &control.ortto)).into_response()
}

async fn change_settings(State(shared): State<AppState>, body: Bytes) -> Response {
    let Ok(Value::Object(mut changes)) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Expected a JSON object of the settings to change",
        );
    };
    let retry_after_header = match changes.remove("retry_after_header") {
        None => None,
        Some(Value::Bool(on)) => Some(on),
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "retry_after_header must be true or false",
            )
        }
    };
    let mut control = shared.control();
    let settings = match changed(&control.ortto, changes) {
        Ok(settings) => settings,
        Err(message) => return error(StatusCode::BAD_REQUEST, &message),
    };
    if settings.ban != control.ortto.ban || settings.address_limits != control.ortto.address_limits
    {
        control.addresses.clear();
        control.bans.clear();
    }
    control.ortto = settings;
    if let Some(on) = retry_after_header {
        control.retry_after_header = on;
    }
    Json(settings_json(control.retry_after_header, &control.ortto)).into_response()
}

/// `current` with `changes` written over it, if the result makes sense.
fn changed(current: &OrttoSettings, changes: Map<String, Value>) -> Result<OrttoSettings, String> {
    let mut all = match json!(current) {
        Value::Object(all) => all,
        _ => Map::new(),
    };
    all.extend(changes);
    let settings: OrttoSettings =
        serde_json::from_value(Value::Object(all)).map_err(|e| e.to_string())?;
    settings.check()?;
    Ok(settings)
}

async fn reset(State(shared): State<AppState>) -> Response {
    let empty = shared.control().empty_store();
    *shared.store() = empty;
    shared.control().reset();
    StatusCode::NO_CONTENT.into_response()
}
