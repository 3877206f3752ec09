//! The sandbox's routes: Autopilot's calls under `/v1` behind key check, faults and rate limit,
//! and the `/admin` routes.

use crate::limits::{Counters, Fault, FaultState, Faults, PeakWindow, RateLimiter};
use crate::store::Store;
use crate::{ConnectionKill, SandboxConfig, Shared};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

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
        .route("/account", get(account))
        .route("/contacts", post(upsert_bulk))
        .route("/contact", post(upsert_one))
        .route("/contact/{id}", get(get_contact))
        .route("/contacts/custom_fields", get(custom_fields))
        .route("/lists", get(lists))
        .route("/list", post(create_list))
        .route("/list/{list}/contacts", get(members_first))
        .route("/list/{list}/contacts/{bookmark}", get(members_after))
        .route(
            "/list/{list}/contact/{id}",
            get(is_member).post(add_member).delete(remove_member),
        )
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found", "No such call") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    let admin = Router::new()
        .route("/state", get(admin_state))
        .route("/counters", get(admin_counters))
        .route("/faults", put(admin_faults))
        .route("/keys", put(admin_keys))
        .route("/reset", post(admin_reset));
    Router::new()
        .nest("/v1", v1)
        .nest("/admin", admin)
        .with_state(shared)
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (status, Json(json!({ "error": error, "message": message }))).into_response()
}

/// Everything a `/v1` request passes before its handler: counting, outage and faults, the key,
/// the rate limit; and after it, a slow answer when one was drawn.
async fn gate(State(shared): State<AppState>, request: Request, next: Next) -> Response {
    let now = Instant::now();
    let key = request
        .headers()
        .get("autopilotapikey")
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

fn parse_body(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "The request body is not valid JSON",
        )
    })
}

/// Like Autopilot, every key of one account answers with that account's id. The sandbox's keys
/// belong to its one account, except keys of the form `ACCOUNT.SECRET`, which belong to the account
/// named ACCOUNT (a second account to rotate a key into in tests).
async fn account(headers: HeaderMap) -> Response {
    let key = headers
        .get("autopilotapikey")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (instance, name) = match key.split_once('.') {
        Some((other, _)) => (
            other
                .bytes()
                .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()))
                % 100_000,
            format!("Sandbox {other}"),
        ),
        None => (1, "Sandbox Inc.".to_string()),
    };
    Json(json!({"instance_id": instance, "organization_name": name})).into_response()
}

async fn upsert_bulk(State(shared): State<AppState>, body: Bytes) -> Response {
    let value = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(contacts) = value.get("contacts").and_then(Value::as_array) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Expected {\"contacts\": [...]}",
        );
    };
    if contacts.is_empty() || contacts.len() > MAX_BULK {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            &format!(
                "A bulk request takes 1 to {MAX_BULK} contacts, not {}",
                contacts.len()
            ),
        );
    }
    let mut store = shared.store();
    let mut inputs = Vec::with_capacity(contacts.len());
    for contact in contacts {
        match store.validate(contact) {
            Ok(input) => inputs.push(input),
            Err(message) => return error(StatusCode::BAD_REQUEST, "Bad Request", &message),
        }
    }
    let ids: Vec<String> = inputs.into_iter().map(|i| store.apply(i)).collect();
    drop(store);
    shared.control().counters.bulk_requests += 1;
    let mut response = Json(json!({ "contact_ids": ids })).into_response();
    response.extensions_mut().insert(BulkApplied);
    response
}

/// Marks the answer of a bulk upsert that wrote its contacts, for the slow-answer counter.
#[derive(Debug, Clone, Copy)]
struct BulkApplied;

async fn upsert_one(State(shared): State<AppState>, body: Bytes) -> Response {
    let value = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(contact) = value.get("contact") else {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "Expected {\"contact\": {...}}",
        );
    };
    let mut store = shared.store();
    match store.validate(contact) {
        Ok(input) => Json(json!({ "contact_id": store.apply(input) })).into_response(),
        Err(message) => error(StatusCode::BAD_REQUEST, "Bad Request", &message),
    }
}

async fn get_contact(State(shared): State<AppState>, Path(id): Path<String>) -> Response {
    match shared.store().find(&id) {
        Some(c) => Json(c.to_json()).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found", "Contact not found"),
    }
}

async fn custom_fields(State(shared): State<AppState>) -> Response {
    Json(shared.store().custom_fields()).into_response()
}

async fn lists(State(shared): State<AppState>) -> Response {
    let store = shared.store();
    let lists: Vec<Value> = store
        .lists()
        .iter()
        .map(|(id, l)| json!({"list_id": id, "title": l.title}))
        .collect();
    Json(json!({ "lists": lists })).into_response()
}

async fn create_list(State(shared): State<AppState>, body: Bytes) -> Response {
    let value = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match value.get("name").and_then(Value::as_str).map(str::trim) {
        Some(name) if !name.is_empty() => {
            Json(json!({ "list_id": shared.store().create_list(name) })).into_response()
        }
        _ => error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "A list needs a name",
        ),
    }
}

fn members_page(store: &Store, list: &str, bookmark: Option<&str>) -> Response {
    let Some(record) = store.lists().get(list) else {
        return error(StatusCode::NOT_FOUND, "Not Found", "List not found");
    };
    let (contacts, next) = store.page(record, bookmark);
    let mut body = json!({"contacts": contacts, "total_contacts": record.members.len()});
    if let Some(next) = next {
        body["bookmark"] = json!(next);
    }
    Json(body).into_response()
}

async fn members_first(State(shared): State<AppState>, Path(list): Path<String>) -> Response {
    members_page(&shared.store(), &list, None)
}

async fn members_after(
    State(shared): State<AppState>,
    Path((list, bookmark)): Path<(String, String)>,
) -> Response {
    members_page(&shared.store(), &list, Some(&bookmark))
}

/// Resolves a list and a contact for the membership calls.
fn member_ids(store: &Store, list: &str, id: &str) -> Result<(String, String), Response> {
    if !store.lists().contains_key(list) {
        return Err(error(StatusCode::NOT_FOUND, "Not Found", "List not found"));
    }
    match store.find(id) {
        Some(c) => Ok((list.to_string(), c.contact_id.clone())),
        None => Err(error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "Contact not found",
        )),
    }
}

async fn is_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    let store = shared.store();
    match member_ids(&store, &list, &id) {
        Ok((list, contact)) if store.lists()[&list].members.contains(&contact) => {
            Json(json!({"contact_id": contact})).into_response()
        }
        Ok(_) => error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "Contact is not on the list",
        ),
        Err(r) => r,
    }
}

async fn add_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    let mut store = shared.store();
    match member_ids(&store, &list, &id) {
        Ok((list, contact)) => {
            if let Some(l) = store.list_mut(&list) {
                l.members.insert(contact);
            }
            Json(json!({})).into_response()
        }
        Err(r) => r,
    }
}

async fn remove_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    let mut store = shared.store();
    match member_ids(&store, &list, &id) {
        Ok((list, contact)) => {
            if let Some(l) = store.list_mut(&list) {
                l.members.remove(&contact);
            }
            Json(json!({})).into_response()
        }
        Err(r) => r,
    }
}

async fn admin_state(State(shared): State<AppState>) -> Response {
    Json(shared.store().snapshot()).into_response()
}

async fn admin_counters(State(shared): State<AppState>) -> Response {
    Json(counters(&shared)).into_response()
}

async fn admin_faults(State(shared): State<AppState>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            shared.control().set_faults(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "Bad Request", &e.to_string()),
    }
}

async fn admin_keys(State(shared): State<AppState>, body: Bytes) -> Response {
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

async fn admin_reset(State(shared): State<AppState>) -> Response {
    *shared.store() = Store::default();
    let mut control = shared.control();
    control.counters = Counters::default();
    control.peak = PeakWindow::default();
    StatusCode::NO_CONTENT.into_response()
}
