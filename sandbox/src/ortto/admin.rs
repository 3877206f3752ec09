//! Ortto's own `/admin` routes (no key, no limit, never counted): what a person does by hand in
//! Ortto — unsubscribe a person (`bol::p` false), delete a person, take a tag off a person, delete
//! a tag, put an address on the suppression list or take it off. A person is named by address
//! (any case) or id, a tag by id or name.

use super::{find_tag, AppState};
use crate::admin::done_or_not_found;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// `POST /admin/people/{id}/unsubscribe`.
pub(super) async fn unsubscribe(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    done_or_not_found(shared.store().set_unsubscribed(&id, true), "Person")
}

/// `DELETE /admin/people/{id}`.
pub(super) async fn delete_person(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let mut store = shared.store();
    let deleted = store.find(&id).is_some_and(|at| store.delete(at));
    done_or_not_found(deleted, "Person")
}

/// `DELETE /admin/people/{id}/tags/{tag}`: 404 unless the person had the tag.
pub(super) async fn remove_tag(
    State(shared): State<AppState>,
    Path((id, tag)): Path<(String, String)>,
) -> Response {
    let mut store = shared.store();
    let removed = find_tag(&store, &tag).is_some_and(|tag| store.remove_member(&tag, &id));
    done_or_not_found(removed, "Tagged person")
}

/// `DELETE /admin/tags/{tag}`: the tag goes from everyone; the people stay.
pub(super) async fn delete_tag(
    State(shared): State<AppState>,
    Path(tag): Path<String>,
) -> Response {
    let mut store = shared.store();
    let deleted = find_tag(&store, &tag).is_some_and(|tag| store.delete_list(&tag));
    done_or_not_found(deleted, "Tag")
}

/// `PUT /admin/suppressions/{email}`.
pub(super) async fn suppress(
    State(shared): State<AppState>,
    Path(email): Path<String>,
) -> Response {
    shared.store().ortto.suppress(&email);
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /admin/suppressions/{email}`: 404 unless it was suppressed.
pub(super) async fn unsuppress(
    State(shared): State<AppState>,
    Path(email): Path<String>,
) -> Response {
    done_or_not_found(
        shared.store().ortto.unsuppress(&email),
        "Suppressed address",
    )
}
