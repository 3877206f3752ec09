//! The list calls: lists, a new list, pages of members, and one contact's membership.

use super::{error, parse_body, AppState};
use crate::store::{contact_id, Store};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(super) async fn lists(State(shared): State<AppState>) -> Response {
    let store = shared.store();
    let lists: Vec<Value> = store
        .lists()
        .iter()
        .map(|(id, l)| json!({"list_id": id, "title": l.title}))
        .collect();
    Json(json!({ "lists": lists })).into_response()
}

pub(super) async fn create_list(State(shared): State<AppState>, body: Bytes) -> Response {
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

pub(super) async fn members_first(
    State(shared): State<AppState>,
    Path(list): Path<String>,
) -> Response {
    members_page(&shared.store(), &list, None)
}

pub(super) async fn members_after(
    State(shared): State<AppState>,
    Path((list, bookmark)): Path<(String, String)>,
) -> Response {
    members_page(&shared.store(), &list, Some(&bookmark))
}

/// Resolves a list and a contact (its position) for the membership calls.
fn member_ids(store: &Store, list: &str, id: &str) -> Result<(String, usize), Response> {
    if !store.lists().contains_key(list) {
        return Err(error(StatusCode::NOT_FOUND, "Not Found", "List not found"));
    }
    match store.find(id) {
        Some(at) => Ok((list.to_string(), at)),
        None => Err(error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "Contact not found",
        )),
    }
}

pub(super) async fn is_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    let store = shared.store();
    match member_ids(&store, &list, &id) {
        Ok((list, at)) if store.lists()[&list].members.contains(&at) => {
            Json(json!({"contact_id": contact_id(at)})).into_response()
        }
        Ok(_) => error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "Contact is not on the list",
        ),
        Err(r) => r,
    }
}

pub(super) async fn add_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    change_membership(&shared, &list, &id, |members, contact| {
        members.insert(contact);
    })
}

pub(super) async fn remove_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    change_membership(&shared, &list, &id, |members, contact| {
        members.remove(&contact);
    })
}

/// Adds a contact to a list or takes it off (`change`), once both are found.
fn change_membership(
    shared: &AppState,
    list: &str,
    id: &str,
    change: impl FnOnce(&mut BTreeSet<usize>, usize),
) -> Response {
    let mut store = shared.store();
    match member_ids(&store, list, id) {
        Ok((list, contact)) => {
            if let Some(l) = store.list_mut(&list) {
                change(&mut l.members, contact);
            }
            Json(json!({})).into_response()
        }
        Err(r) => r,
    }
}
