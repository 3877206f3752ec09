//! Autopilot's own `/admin` routes (no key, no limit; the shared ones are in the crate's `admin`):
//! whether refusals name the contact at fault, and what a person does by hand in Autopilot's
//! interface, for tests that tamper with lists: unsubscribe a contact, take a member off a list,
//! delete a list. None of these counts as a request or a write.

use super::{error, AppState};
use crate::admin::done_or_not_found;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// `PUT /admin/refusals` `{"name_refused": "none" | "position" | "position_from_one" | "email"}`:
/// whether a 400 refusing a bulk upsert names the contact at fault (and how).
pub(super) async fn refusals(State(shared): State<AppState>, body: Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Refusals {
        name_refused: super::RefusalNaming,
    }
    match serde_json::from_slice::<Refusals>(&body) {
        Ok(refusals) => {
            shared.control().refusal_naming = refusals.name_refused;
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, "Bad Request", &e.to_string()),
    }
}

/// `POST /admin/contacts/{id}/unsubscribe`: the contact (email or id) unsubscribes.
pub(super) async fn unsubscribe(
    State(shared): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    done_or_not_found(shared.store().set_unsubscribed(&id, true), "Contact")
}

/// `DELETE /admin/lists/{list}/members/{id}`: a member taken off a list by hand.
pub(super) async fn remove_member(
    State(shared): State<AppState>,
    Path((list, id)): Path<(String, String)>,
) -> Response {
    done_or_not_found(shared.store().remove_member(&list, &id), "Member")
}

/// `DELETE /admin/lists/{list}`: a list deleted by hand (its contacts stay).
pub(super) async fn delete_list(
    State(shared): State<AppState>,
    Path(list): Path<String>,
) -> Response {
    done_or_not_found(shared.store().delete_list(&list), "List")
}

#[cfg(test)]
mod tests {
    use crate::control::Shared;
    use crate::server::router;
    use crate::{store::Store, AdminToken, SandboxConfig};
    use axum::body::Body;
    use axum::http::{request, Method, Request, StatusCode};
    use std::sync::Arc;
    use tower::ServiceExt;

    const TOKEN: &str = "admin-token-for-tests";

    /// An admin request as a program on this machine sends it.
    fn admin_request(method: Method, uri: &str) -> request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "127.0.0.1:8080")
            .header("authorization", format!("Bearer {TOKEN}"))
    }

    async fn call(shared: &Arc<Shared>, method: Method, uri: &str) -> StatusCode {
        let request = admin_request(method, uri).body(Body::empty()).unwrap();
        let answer = router(shared.clone()).oneshot(request).await.unwrap();
        answer.status()
    }

    #[tokio::test]
    async fn by_hand_a_contact_unsubscribes_a_member_leaves_and_a_list_goes() {
        let mut store = Store::default();
        let list = store.create_list("VIP");
        for email in ["ann@x.io", "bob@x.io"] {
            let input = store
                .validate(&serde_json::json!({"Email": email, "_autopilot_list": list}))
                .unwrap();
            store.apply(input);
        }
        let token = AdminToken::given(TOKEN).unwrap();
        let shared = Arc::new(Shared::new(&SandboxConfig::with_key("k"), token));
        *shared.store() = store;
        let unsubscribe = "/admin/contacts/Ann@x.io/unsubscribe";
        assert_eq!(
            call(&shared, Method::POST, unsubscribe).await,
            StatusCode::NO_CONTENT
        );
        let gone = format!("/admin/lists/{list}/members/bob@x.io");
        assert_eq!(
            call(&shared, Method::DELETE, &gone).await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            call(&shared, Method::DELETE, &gone).await,
            StatusCode::NOT_FOUND
        );
        let state = shared.store().snapshot();
        assert_eq!(state.list("VIP").unwrap().members, ["ann@x.io"]);
        let ann = state
            .contacts
            .iter()
            .find(|c| c["Email"] == "ann@x.io")
            .unwrap();
        assert_eq!(ann["unsubscribed"], true);
        let bob = state
            .contacts
            .iter()
            .find(|c| c["Email"] == "bob@x.io")
            .unwrap();
        assert!(bob.get("unsubscribed").is_none(), "{bob}");

        let delete = format!("/admin/lists/{list}");
        assert_eq!(
            call(&shared, Method::DELETE, &delete).await,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            call(&shared, Method::DELETE, &delete).await,
            StatusCode::NOT_FOUND
        );
        let unknown = "/admin/contacts/nobody@x.io/unsubscribe";
        assert_eq!(
            call(&shared, Method::POST, unknown).await,
            StatusCode::NOT_FOUND
        );
        let state = shared.store().snapshot();
        assert!(state.lists.is_empty() && state.contacts.len() == 2);
        let request = admin_request(Method::GET, "/admin/state")
            .body(Body::empty())
            .unwrap();
        let answer = router(shared.clone()).oneshot(request).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        let body = axum::body::to_bytes(answer.into_body(), usize::MAX)
            .await
            .unwrap();
        let shown: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(shown, serde_json::to_value(&state).unwrap());
        assert_eq!(shared.counters().requests, 0, "none of it is a request");
    }
}
