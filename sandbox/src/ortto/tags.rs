//! `POST /v1/tags/get` (`{"q"}` optional: tags whose name contains it, any case), a bare array of
//! the account's tags in id order; `POST /v1/audiences/get`, a bare empty array (audiences are
//! made in Ortto's interface, and none in the sandbox); `PUT /v1/audience/subscribe`, counted as
//! consent (a connector never calls it) and answered 400 "Audience not found" (or 400 for a body
//! without `audience_id` and `people`). The account's `instance_id` comes from the key, as the
//! Autopilot mode's account does: `sandbox`, or `account` for a key written `ACCOUNT.SECRET`.

use super::schema::TagTimes;
use super::{error, read_body, tag_number, AppState, KEY_HEADER};
use crate::store::{Flag, ListRecord, Store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// The account a request's key belongs to, as Ortto names it in tags and errors.
pub(super) fn instance_id(headers: &HeaderMap) -> String {
    let key = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match key.split_once('.') {
        Some((account, _)) => account
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .flat_map(|c| c.to_lowercase())
            .collect(),
        None => "sandbox".into(),
    }
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn tag_json(store: &Store, instance: &str, id: &str, tag: &ListRecord) -> Value {
    let times = store.ortto.tag_times(id).unwrap_or(TagTimes {
        created: DateTime::UNIX_EPOCH,
        last_used: DateTime::UNIX_EPOCH,
        by_hand: true,
    });
    let members = || tag.members.iter().copied();
    let subscribers = members()
        .filter(|&at| !store.flag(at, Flag::Unsubscribed))
        .count();
    let sms = members()
        .filter(|&at| store.flag(at, Flag::SmsOptedIn))
        .count();
    json!({
        "id": tag_number(id),
        "instance_id": instance,
        "name": tag.title,
        "source": if times.by_hand { "manual" } else { "api" },
        "created_by_id": "000000000000000000000000",
        "created_by_name": "",
        "created_by_email": "",
        "created_at": time(times.created),
        "last_used": time(times.last_used),
        "count": tag.members.len(),
        "subscribers": subscribers,
        "sms_opted_in": sms,
        "type": "",
    })
}

pub(super) async fn list(
    State(shared): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_body(body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let q = match request.get("q") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(q)) => q.to_lowercase(),
        Some(_) => return error(StatusCode::BAD_REQUEST, "q must be a text"),
    };
    let instance = instance_id(&headers);
    let store = shared.store();
    let mut tags: Vec<(u64, Value)> = store
        .lists()
        .iter()
        .filter(|(_, tag)| tag.title.to_lowercase().contains(&q))
        .map(|(id, tag)| {
            let order = id.parse().unwrap_or(u64::MAX);
            (order, tag_json(&store, &instance, id, tag))
        })
        .collect();
    tags.sort_by_key(|(order, _)| *order);
    let tags: Vec<Value> = tags.into_iter().map(|(_, tag)| tag).collect();
    Json(tags).into_response()
}

pub(super) async fn audiences(body: Result<Bytes, BytesRejection>) -> Response {
    match read_body(body) {
        Ok(_) => Json(json!([])).into_response(),
        Err(refusal) => refusal,
    }
}

pub(super) async fn subscribe(
    State(shared): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    shared.control().counters.consent_fields_received += 1;
    let request = match read_body(body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let shaped = request.get("audience_id").is_some_and(Value::is_string)
        && request.get("people").is_some_and(Value::is_array);
    if shaped {
        error(StatusCode::BAD_REQUEST, "Audience not found")
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "Expected {\"audience_id\": \"...\", \"people\": [...]}",
        )
    }
}
