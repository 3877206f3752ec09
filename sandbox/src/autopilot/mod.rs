//! Autopilot mode: Autopilot's calls under `/v1` behind the shared gate in Autopilot's words
//! (`gate`), contacts (`contacts`) and lists (`lists`); its own `/admin` routes (`admin`: refusal
//! naming, what a person does by hand). Here: its routers and the helpers of every handler.

mod admin;
mod contacts;
mod gate;
mod lists;

pub use contacts::RefusalNaming;

use crate::control::Shared;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

/// The header Autopilot reads the API key from.
const KEY_HEADER: &str = "autopilotapikey";
/// Autopilot's limits on a bulk upsert.
const MAX_BULK: usize = 100;
const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

type AppState = Arc<Shared>;

/// Autopilot's calls under `/v1`, behind the gate.
pub(crate) fn api(shared: AppState) -> Router<AppState> {
    let v1 = Router::new()
        .route("/account", get(contacts::account))
        .route("/contacts", post(contacts::upsert_bulk))
        .route("/contact", post(contacts::upsert_one))
        .route("/contact/{id}", get(contacts::get_contact))
        .route("/contacts/custom_fields", get(contacts::custom_fields))
        .route("/lists", get(lists::lists))
        .route("/list", post(lists::create_list))
        .route("/list/{list}/contacts", get(lists::members_first))
        .route(
            "/list/{list}/contacts/{bookmark}",
            get(lists::members_after),
        )
        .route(
            "/list/{list}/contact/{id}",
            get(lists::is_member)
                .post(lists::add_member)
                .delete(lists::remove_member),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found", "No such call") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(shared, gate::gate));
    Router::new().nest("/v1", v1)
}

/// Autopilot's routes under `/admin`: whether refusals name the contact at fault, and what a
/// person does by hand in Autopilot.
pub(crate) fn by_hand() -> Router<AppState> {
    Router::new()
        .route("/refusals", put(admin::refusals))
        .route("/contacts/{id}/unsubscribe", post(admin::unsubscribe))
        .route("/lists/{list}", delete(admin::delete_list))
        .route("/lists/{list}/members/{id}", delete(admin::remove_member))
}

pub(crate) fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error, "message": message }))).into_response()
}

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "The request body is not valid JSON",
        )
    })
}
