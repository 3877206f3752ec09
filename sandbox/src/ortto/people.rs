//! `POST /v1/person/get`: a page of people, in creation order.
//!
//! Request keys: `limit` (1–500; absent, or anything else, is 50, as Ortto falls back), `offset`
//! (people of the match to skip), `cursor_id` (the previous page's: the page starts after it; not
//! 24 hexadecimal digits → 400 in Ortto's words; all zeros starts from the beginning), `fields`
//! (field ids to show: built-in, custom, `tags` — the person's tag names —, `u4s::t` — their ids —
//! or `str::person_id`; an unknown id → 400; absent: `str::email`), `filter`, `type` (`archived`
//! matches nobody: the sandbox archives no one). `sort_by_field_id` and `sort_order` are ignored;
//! `q` (a search) and `audience_id` (no audiences here) are refused.
//!
//! `filter` is absent (everyone), a tag — Ortto's audience filter on the tag field,
//! `{"$u4s::is": {"field_id": "u4s::t", "value": TAG}}` with the tag's id (a number) or its name —
//! or one address, `{"$str::is": {"field_id": "str::email", "value": EMAIL}}` (any case).
//!
//! Answer: `{"contacts": [{"id", "fields": {id: value}}] or null when empty, "meta":
//! {"total_contacts", "total_organizations": 0, "total_matches", "total_subscribers"},
//! "offset", "next_offset", "cursor_id", "has_more"}`: `cursor_id` is the last person's
//! (`000000000000000000000000` on an empty page); the totals but `total_matches` are the account's.
//! A field the person has no value for is left out of its `fields`.

use super::person::field_value;
use super::rules::{self, READ_ONLY};
use super::{error, person_id, position_of_person_id, read_body, AppState, ID_DIGITS};
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use std::ops::Bound;

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// Who a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Everyone,
    /// The members of a tag (by id), or nobody when there is no such tag.
    Tag(Option<String>),
    /// The person with this address, if any.
    Email(Option<usize>),
    Nobody,
}

/// A request for a page, checked.
#[derive(Debug)]
struct PageRequest {
    limit: usize,
    offset: usize,
    /// The page starts after this position (`None`: from the beginning).
    after: Option<usize>,
    fields: Vec<String>,
    filter: Filter,
}

fn limit(value: Option<&Value>) -> usize {
    value
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .unwrap_or(DEFAULT_LIMIT)
}

/// Ortto's words for a cursor that is no id (its length counted with its quotes, as Ortto does).
fn bad_cursor(instance: &str, cursor: &str) -> String {
    format!(
        "{instance}: Failed to parse request cannot unmarshal into an ID, the length must be 12 \
         or {ID_DIGITS} + 2 for hex but it is {}: Object not found",
        cursor.len() + 2
    )
}

fn cursor(value: Option<&Value>, instance: &str) -> Result<Option<usize>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let text = value.as_str().ok_or("cursor_id must be a string")?;
    if text.len() == ID_DIGITS && text.bytes().all(|b| b == b'0') {
        return Ok(None);
    }
    position_of_person_id(text)
        .map(Some)
        .ok_or_else(|| bad_cursor(instance, text))
}

fn filter(store: &Store, value: Option<&Value>) -> Result<Filter, String> {
    const HOW: &str = "The sandbox filters people by tag, {\"$u4s::is\": {\"field_id\": \
                       \"u4s::t\", \"value\": TAG_ID_OR_NAME}}, or by address, {\"$str::is\": \
                       {\"field_id\": \"str::email\", \"value\": EMAIL}}, only";
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Filter::Everyone);
    };
    let condition = |op: &str, field: &str| {
        let condition = value.get(op)?;
        (condition.get("field_id")?.as_str()? == field).then(|| condition.get("value"))?
    };
    if let Some(tag) = condition("$u4s::is", "u4s::t") {
        let id = match tag {
            Value::Number(n) => Some(n.to_string()).filter(|id| store.lists().contains_key(id)),
            Value::String(name) => store.list_id(name).map(str::to_string),
            _ => return Err(HOW.into()),
        };
        return Ok(Filter::Tag(id));
    }
    if let Some(email) = condition("$str::is", "str::email").and_then(Value::as_str) {
        return Ok(Filter::Email(store.position_of_email(email)));
    }
    Err(HOW.into())
}

fn fields(store: &Store, value: Option<&Value>) -> Result<Vec<String>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(vec!["str::email".into()]);
    };
    let ids: Vec<String> = value
        .as_array()
        .and_then(|ids| {
            ids.iter()
                .map(|id| id.as_str().map(str::to_string))
                .collect()
        })
        .ok_or("fields must be an array of field ids")?;
    for id in &ids {
        if !READ_ONLY.contains(&id.as_str()) {
            rules::kind_of(&store.ortto, id)?;
        }
    }
    Ok(ids)
}

impl PageRequest {
    fn parse(store: &Store, request: &Value, instance: &str) -> Result<PageRequest, String> {
        for refused in ["q", "audience_id"] {
            if request
                .get(refused)
                .is_some_and(|v| !v.is_null() && v != "")
            {
                return Err(format!(
                    "The sandbox does not support {refused} in person/get: filter by tag instead"
                ));
            }
        }
        let archived = request.get("type").and_then(Value::as_str) == Some("archived");
        let offset = match request.get("offset") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or("offset must be a whole number of at least 0")?,
        };
        Ok(PageRequest {
            limit: limit(request.get("limit")),
            offset,
            after: cursor(request.get("cursor_id"), instance)?,
            fields: fields(store, request.get("fields"))?,
            filter: if archived {
                Filter::Nobody
            } else {
                filter(store, request.get("filter"))?
            },
        })
    }
}

/// The positions the filter matches after `after`, in order; and how many it matches in all.
fn matches<'a>(
    store: &'a Store,
    filter: &'a Filter,
    after: Option<usize>,
) -> (Box<dyn Iterator<Item = usize> + 'a>, usize) {
    let from = after.map_or(Bound::Unbounded, Bound::Excluded);
    match filter {
        Filter::Everyone => {
            let start = after.map_or(0, |at| at + 1);
            let live = (start..store.positions().end).filter(|at| store.is_live(*at));
            (Box::new(live), store.live_count())
        }
        Filter::Tag(Some(id)) => match store.lists().get(id) {
            Some(tag) => (
                Box::new(tag.members.range((from, Bound::Unbounded)).copied()),
                tag.members.len(),
            ),
            None => (Box::new(std::iter::empty()), 0),
        },
        Filter::Email(Some(at)) => {
            let on_page = after.is_none_or(|after| *at > after);
            (Box::new(on_page.then_some(*at).into_iter()), 1)
        }
        Filter::Tag(None) | Filter::Email(None) | Filter::Nobody => {
            (Box::new(std::iter::empty()), 0)
        }
    }
}

fn page(store: &Store, request: &PageRequest) -> Value {
    let (matching, total_matches) = matches(store, &request.filter, request.after);
    let positions: Vec<usize> = matching
        .skip(request.offset)
        .take(request.limit + 1)
        .collect();
    let has_more = positions.len() > request.limit;
    let shown = &positions[..positions.len().min(request.limit)];
    let contacts: Vec<Value> = shown
        .iter()
        .map(|&at| {
            let stored: Map<String, Value> = store.fields(at).0.into_iter().collect();
            let fields: Map<String, Value> = request
                .fields
                .iter()
                .filter_map(|id| Some((id.clone(), field_value(store, at, id, &stored)?)))
                .collect();
            json!({"id": person_id(at), "fields": fields})
        })
        .collect();
    let cursor_id = shown
        .last()
        .map_or_else(|| "0".repeat(ID_DIGITS), |&at| person_id(at));
    json!({
        "contacts": if contacts.is_empty() { Value::Null } else { json!(contacts) },
        "meta": {
            "total_contacts": store.live_count(),
            "total_organizations": 0,
            "total_matches": total_matches,
            "total_subscribers": store.subscribed_count(),
        },
        "offset": request.offset,
        "next_offset": request.offset + shown.len(),
        "cursor_id": cursor_id,
        "has_more": has_more,
    })
}

pub(super) async fn get(
    State(shared): State<AppState>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let request = match read_body(body) {
        Ok(request) => request,
        Err(refusal) => return refusal,
    };
    let instance = super::tags::instance_id(&headers);
    let store = shared.store();
    match PageRequest::parse(&store, &request, &instance) {
        Ok(request) => Json(page(&store, &request)).into_response(),
        Err(message) => error(StatusCode::BAD_REQUEST, &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_five_hundred_fall_back_to_fifty() {
        for (given, used) in [
            (json!(1), 1),
            (json!(500), 500),
            (json!(501), 50),
            (json!(0), 50),
            (json!(-3), 50),
            (json!("100"), 50),
            (json!(2.5), 50),
        ] {
            assert_eq!(limit(Some(&given)), used, "{given}");
        }
        assert_eq!(limit(None), 50);
    }

    #[test]
    fn cursors_are_ids_or_refused_in_ortto_words() {
        assert_eq!(cursor(None, "i"), Ok(None));
        assert_eq!(
            cursor(Some(&json!("000000000000000000000000")), "i"),
            Ok(None)
        );
        assert_eq!(
            cursor(Some(&json!("00000000000000000000000a")), "i"),
            Ok(Some(9))
        );
        assert_eq!(
            cursor(Some(&json!("0069064fddda4060a58765")), "sandbox"),
            Err(
                "sandbox: Failed to parse request cannot unmarshal into an ID, the length must \
                 be 12 or 24 + 2 for hex but it is 24: Object not found"
                    .into()
            )
        );
        assert!(cursor(Some(&json!(12)), "i").is_err());
    }
}
