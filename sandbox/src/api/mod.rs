//! The sandbox's routes: Autopilot's calls under `/v1` behind key check, faults and rate limit
//! (`gate`), contacts (`contacts`) and lists (`lists`); and the `/admin` routes (`admin`). Here:
//! the state every route shares, the router, and the helpers of every handler.

mod admin;
mod contacts;
mod gate;
mod lists;

pub use contacts::RefusalNaming;

use crate::limits::{Counters, FaultState, Faults, PeakWindow, RateLimiter};
use crate::{SandboxConfig, Shared};
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

/// Keys, limits, faults and counters: everything about how the sandbox answers.
pub(crate) struct Control {
    pub api_keys: Vec<String>,
    retry_after_header: bool,
    limiter: RateLimiter,
    faults: FaultState,
    counters: Counters,
    peak: PeakWindow,
    pub refusal_naming: RefusalNaming,
}

impl Control {
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            api_keys: config.api_keys.clone(),
            retry_after_header: config.retry_after_header,
            limiter: RateLimiter::new(config.rate, config.burst),
            faults: FaultState::new(config.faults.clone()),
            counters: Counters::default(),
            peak: PeakWindow::default(),
            refusal_naming: RefusalNaming::None,
        }
    }

    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = FaultState::new(faults);
    }
}

pub(crate) fn counters(shared: &Shared) -> Counters {
    let mut counters = shared.control().counters.clone();
    let store = shared.store();
    counters.contacts_written = store.contacts_written;
    counters.distinct_contacts_written = store.distinct_contacts_written();
    counters.max_writes_per_contact = store.max_writes_per_contact;
    counters.consent_fields_received = store.consent_fields_received;
    counters
}

type AppState = Arc<Shared>;

pub(crate) fn router(shared: AppState) -> Router {
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
        .layer(middleware::from_fn_with_state(shared.clone(), gate::gate));
    let admin = Router::new()
        .route("/state", get(admin::state))
        .route("/counters", get(admin::counters))
        .route("/faults", put(admin::faults))
        .route("/refusals", put(admin::refusals))
        .route("/keys", put(admin::keys))
        .route("/reset", post(admin::reset))
        .route("/contacts/{id}/unsubscribe", post(admin::unsubscribe))
        .route("/lists/{list}", delete(admin::delete_list))
        .route("/lists/{list}/members/{id}", delete(admin::remove_member));
    Router::new()
        .nest("/v1", v1)
        .nest("/admin", admin)
        .with_state(shared)
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
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
