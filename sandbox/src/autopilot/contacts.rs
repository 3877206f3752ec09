//! The contact calls: the account, bulk and single upserts, a contact, the custom fields.

use super::{error, parse_body, AppState, KEY_HEADER, MAX_BULK};
use crate::gate::BulkApplied;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// Like Autopilot, every key of one account answers with that account's id. The sandbox's keys
/// belong to its one account, except keys of the form `ACCOUNT.SECRET`, which belong to the account
/// named ACCOUNT (a second account to rotate a key into in tests), and keys of the form `.SECRET`,
/// whose answer names no account (no `instance_id`: the answer a client must not take as proof
/// of an account).
pub(super) async fn account(headers: HeaderMap) -> Response {
    let key = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if key.starts_with('.') {
        return Json(json!({"organization_name": "Sandbox without an id"})).into_response();
    }
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

pub(super) async fn upsert_bulk(State(shared): State<AppState>, body: Bytes) -> Response {
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
    let naming = shared.control().refusal_naming;
    let mut store = shared.store();
    let mut inputs = Vec::with_capacity(contacts.len());
    for (index, contact) in contacts.iter().enumerate() {
        match store.validate(contact) {
            Ok(input) => inputs.push(input),
            Err(message) => {
                let message = naming.name(index, contact, message);
                return error(StatusCode::BAD_REQUEST, "Bad Request", &message);
            }
        }
    }
    let ids: Vec<String> = inputs.into_iter().map(|i| store.apply(i)).collect();
    drop(store);
    shared.control().counters.bulk_requests += 1;
    let mut response = Json(json!({ "contact_ids": ids })).into_response();
    response.extensions_mut().insert(BulkApplied);
    response
}

/// Whether the 400 refusing a bulk upsert names the contact at fault (set at `PUT
/// /admin/refusals`). Autopilot does not promise to, so by default it names nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefusalNaming {
    /// The message says what is wrong, not with which contact.
    #[default]
    None,
    /// The message starts with the contact's JSON path: `contacts[3]: …`.
    Position,
    /// The message ends with the contact's address: `…: ann@example.invalid`.
    Email,
    /// Like `Position`, counting from 1 (`contacts[4]` for the fourth): an answer a client
    /// reading positions from 0 misreads, which must cost it no good contact.
    #[serde(rename = "position_from_one")]
    PositionFromOne,
}

impl RefusalNaming {
    fn name(self, index: usize, contact: &Value, message: String) -> String {
        let email = contact.get("Email").and_then(Value::as_str);
        match (self, email) {
            (Self::None, _) => message,
            (Self::Email, Some(email)) => format!("{message}: {email}"),
            (Self::PositionFromOne, _) => format!("contacts[{}]: {message}", index + 1),
            (Self::Position | Self::Email, _) => format!("contacts[{index}]: {message}"),
        }
    }
}

pub(super) async fn upsert_one(State(shared): State<AppState>, body: Bytes) -> Response {
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

pub(super) async fn get_contact(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let store = shared.store();
    match store.find(&id).and_then(|at| store.contact_json(at)) {
        Some(contact) => Json(contact).into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found", "Contact not found"),
    }
}

pub(super) async fn custom_fields(State(shared): State<AppState>) -> Response {
    Json(shared.store().custom_fields()).into_response()
}
