//! Ortto mode: the sandbox imitates Ortto's API as its documentation and recorded answers describe
//! it (`ortto-api.md` in the project's reference), on the store, rate limit, faults, counters and
//! `/admin` it shares with the Autopilot mode.
//!
//! **Regions.** A sandbox is one region ([`crate::Region`], `global` by default); its keys belong
//! to it. It serves the calls under `/v1/…` — a client replaces the region's host with the
//! sandbox's `http://127.0.0.1:PORT` — and also under `/global/v1/…`, `/au/v1/…` and `/eu/v1/…`,
//! so one sandbox can show that a key works only in its own region: under another region's
//! prefix every key is answered 401. (Regions by port: start one sandbox per region.)
//!
//! **Calls** (`X-Api-Key` header, JSON bodies, at most 2,000,000 bytes; reads are `POST`):
//! - `POST /v1/person/merge` — see `merge`;
//! - `POST /v1/person/get` — see `people`;
//! - `POST /v1/person/custom-field/create`, `/v1/person/custom-field/get` — see `custom_fields`
//!   and `schema`;
//! - `POST /v1/tags/get` (`{"q"}` optional): a bare array of tags `{id, instance_id, name,
//!   source, created_by_id, created_by_name, created_by_email, created_at, last_used, count,
//!   subscribers, sms_opted_in, type}`; `POST /v1/audiences/get`: `[]` (audiences are made in
//!   Ortto's interface, none here); `PUT /v1/audience/subscribe`: counted as consent, then
//!   answered 400 "Audience not found" — see `tags`.
//!
//! Ortto has no "account" call. A key is valid when an authenticated call answers 200 (the
//! cheapest is `POST /v1/tags/get`, or `/v1/person/custom-field/get`); tags carry the account's
//! `instance_id` (`sandbox`; a key written `ACCOUNT.SECRET` belongs to the account `account`, as in
//! the Autopilot mode), and so do some error texts (`sandbox: Failed to parse request …`).
//!
//! **Errors** are `{"request_id", "code", "error"[, "details"]}`: 401 for a missing key, a wrong
//! key or another region's; 400 for bad input; 404 for an unknown call; 405 for a wrong method; 429
//! `{"error": {"code": "rate-limit", "message": "rate limit", "try-in-seconds": n}}` from the
//! per-key rate limit, the per-address windows (2,000 per 10 s and 6,000 per 60 s), an injected
//! burst or the merge concurrency limit; 500 and 503 for injected faults. Any 4xx but 429 counts
//! toward the bad-request ban: the 15th bad request (or the 15th bad-credential request) within 15
//! s bans the client's address for 15 s, every request then answered 429 (or 403).
//!
//! **Unknowns.** Where the documentation is silent and a client's behaviour depends on the answer,
//! `PUT /admin/settings` chooses it ([`OrttoSettings`]):
//!
//! | Unknown                                   | Sandbox's default                      | Alternative                          |
//! |-------------------------------------------|----------------------------------------|--------------------------------------|
//! | A merge with some people refused          | 200, a status per person (`mixed_batch: "statuses"`) | 400 for all, nothing written (`"reject"`) |
//! | `""` sent for a stored field (strategy 2) | overwrites: stored `""` (`empty_strings: "overwrite"`) | `"keep"` the value, `"clear"` it |
//! | Status of a person not created or changed | `"skipped"` (`skipped_status`)          | any word, e.g. `"ignored"`           |
//! | `Retry-After` on 429s                     | none (`retry_after_header: false`)     | `true`                               |
//! | Custom person fields per account          | 100 (`custom_field_limit`)             | 150, 200 (plans)                     |
//! | The bad-request ban's answer              | 429 with `try-in-seconds` (`ban_status`) | 403; `ban: null` for no ban        |
//! | Synchronous merges at once per key        | no limit (`merge_concurrency: null`)   | a number, 429 beyond it              |
//! | Per-address limits                        | 2,000/10 s and 6,000/60 s (`address_limits`) | others, `[]` for none           |
//!
//! Fixed choices where nothing depends on them: `async` merges are done at once and answered as
//! synchronous ones; `bol::p: true` resubscribes an unsubscribed person; a person created with
//! `bol::p: false` under strategy 1 is created unsubscribed; tags are matched by exact name; a tag
//! listed in both `tags` and `unset_tags` ends removed; `merge_by` takes up to 3 keys;
//! `person/get` lists people in creation order.
//!
//! **By hand** (`/admin`, besides the shared routes): `POST /admin/people/{email or id}/
//! unsubscribe` (`bol::p` false), `DELETE /admin/people/{email or id}` (fields and tags go; a later
//! merge makes a new person), `DELETE /admin/people/{email or id}/tags/{tag name or id}`, `DELETE
//! /admin/tags/{tag name or id}`, `PUT`/`DELETE /admin/suppressions/{email}`.

mod admin;
mod custom_fields;
mod gate;
mod merge;
mod people;
mod person;
mod rules;
mod schema;
mod settings;
mod tags;

pub(crate) use person::person_state;
pub(crate) use schema::Schema;
pub use settings::{EmptyStrings, MixedBatch, OrttoSettings};

use crate::config::Region;
use crate::control::Shared;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post, put, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::Arc;

type AppState = Arc<Shared>;

/// The header Ortto reads the key from.
const KEY_HEADER: &str = "x-api-key";
/// Ortto's payload limits: people per merge, bytes per request.
const MAX_PEOPLE: usize = 100;
const MAX_BODY_BYTES: usize = 2_000_000;
/// A person id: 24 hexadecimal digits.
const ID_DIGITS: usize = 24;

/// The calls' paths, the region's prefix left out: what `by_endpoint` counts.
const CALLS: [&str; 7] = [
    "/v1/person/merge",
    "/v1/person/get",
    "/v1/person/custom-field/create",
    "/v1/person/custom-field/get",
    "/v1/tags/get",
    "/v1/audiences/get",
    "/v1/audience/subscribe",
];

/// The calls, in the order of [`CALLS`].
fn calls() -> [MethodRouter<AppState>; 7] {
    [
        post(merge::merge),
        post(people::get),
        post(custom_fields::create),
        post(custom_fields::list),
        post(tags::list),
        post(tags::audiences),
        put(tags::subscribe),
    ]
}

/// The path prefix of a region on a sandbox.
fn prefix(region: Region) -> String {
    format!("/{}", region.as_str())
}

/// Ortto's calls under `/v1` and under each region's prefix, behind the gate; anything else is
/// answered 404 (405 for a wrong method) in Ortto's words, through the gate too.
pub(crate) fn api(shared: AppState, home: Region) -> Router<AppState> {
    let mut router = Router::new();
    for prefix in std::iter::once(String::new()).chain(Region::ALL.map(prefix)) {
        for (path, call) in CALLS.iter().zip(calls()) {
            router = router.route(&format!("{prefix}{path}"), call);
        }
    }
    router
        .fallback(|| async { error(StatusCode::NOT_FOUND, "Not Found") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1))
        .layer(middleware::from_fn_with_state((shared, home), gate::gate))
}

/// Ortto's routes under `/admin`: what a person does by hand in Ortto.
pub(crate) fn by_hand() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/unsubscribe", post(admin::unsubscribe))
        .route("/people/{id}", delete(admin::delete_person))
        .route("/people/{id}/tags/{tag}", delete(admin::remove_tag))
        .route("/tags/{tag}", delete(admin::delete_tag))
        .route(
            "/suppressions/{email}",
            put(admin::suppress).delete(admin::unsuppress),
        )
}

/// A person's id: its position plus one, in 24 hexadecimal digits. All zeros is nobody (the
/// cursor of an empty page).
pub(crate) fn person_id(at: usize) -> String {
    format!("{:0width$x}", at as u128 + 1, width = ID_DIGITS)
}

/// The position a person id stands for, whether or not there is such a person; `None` for
/// anything not written as [`person_id`] writes it (any case) or for the zero id.
pub(crate) fn position_of_person_id(id: &str) -> Option<usize> {
    if id.len() != ID_DIGITS || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let number = u128::from_str_radix(id, 16).ok()?;
    usize::try_from(number.checked_sub(1)?).ok()
}

/// A tag's id as Ortto writes it: a number.
pub(super) fn tag_number(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))
}

/// The id of the tag named `name`, made if there is none; noted as used now.
pub(crate) fn tag_for(store: &mut Store, name: &str, by_hand: bool) -> String {
    let id = store.create_list(name);
    store.ortto.tag_used(&id, by_hand);
    id
}

/// The id of the tag given by id or by name.
fn find_tag(store: &Store, tag: &str) -> Option<String> {
    if store.lists().contains_key(tag) {
        Some(tag.to_string())
    } else {
        store.list_id(tag).map(str::to_string)
    }
}

/// Gives a person (created if new, subscribed as any new person) a tag by hand.
pub(crate) fn tag_by_hand(store: &mut Store, tag_id: &str, email: &str) -> Result<(), String> {
    if !store.lists().contains_key(tag_id) {
        return Err(format!("Tag {tag_id} does not exist"));
    }
    if !crate::store::valid_email(email) {
        return Err("Not a valid email address".into());
    }
    let (at, _) = store.upsert_position(email);
    store.count_write(at);
    if let Some(list) = store.list_mut(tag_id) {
        list.members.insert(at);
    }
    store.ortto.tag_used(tag_id, true);
    Ok(())
}

/// A new request id, as Ortto writes them (a UUID).
fn request_id() -> String {
    let digits: String = (0..32)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &digits[..8],
        &digits[8..12],
        &digits[12..16],
        &digits[16..20],
        &digits[20..]
    )
}

/// Ortto's error answer: `{"request_id", "code", "error"}`.
pub(crate) fn error(status: StatusCode, text: &str) -> Response {
    let body = json!({"request_id": request_id(), "code": status.as_u16(), "error": text});
    (status, Json(body)).into_response()
}

/// Ortto's error answer with `details`.
fn error_with_details(status: StatusCode, text: &str, details: Vec<Value>) -> Response {
    let body = json!({"request_id": request_id(), "code": status.as_u16(), "error": text,
                      "details": details});
    (status, Json(body)).into_response()
}

/// A request's JSON body, or Ortto's 400: too large, or not JSON.
fn read_body(body: Result<Bytes, BytesRejection>) -> Result<Value, Response> {
    let too_large = || {
        let text = format!("The payload exceeds the limit of {MAX_BODY_BYTES} bytes per request");
        error(StatusCode::BAD_REQUEST, &text)
    };
    let body = body.map_err(|_| too_large())?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&body).map_err(|_| {
        error(
            StatusCode::BAD_REQUEST,
            "The request body is not valid JSON",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_24_hex_digits_and_only_those() {
        assert_eq!(person_id(0), "000000000000000000000001");
        assert_eq!(person_id(254), "0000000000000000000000ff");
        assert_eq!(position_of_person_id("0000000000000000000000FF"), Some(254));
        for not_an_id in [
            "000000000000000000000000",
            "00000000000000000000001",
            "0000000000000000000000001",
            "00000000000000000000000g",
            "person_000000000001",
            "",
        ] {
            assert_eq!(position_of_person_id(not_an_id), None, "{not_an_id}");
        }
        let request = request_id();
        assert_eq!(request.len(), 36);
        assert_eq!(request.matches('-').count(), 4);
    }
}
