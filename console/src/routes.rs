//! The console's routes: which handler answers each path and method — the pages that only read
//! ([`crate::page_routes`]), the forms that change something ([`crate::actions`]), the polls and
//! downloads ([`crate::data_routes`]) and the assets — all behind [`security::guard`]; and the
//! answers they share (a page, an error page, a redirect, a destination or its not-found page).

use crate::pages::destination as destination_page;
use crate::pages::layout::{SCRIPT, STYLE};
use crate::{actions, data_routes, page_routes as pages};
use crate::{security, AppState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{middleware, Router};
use maud::Markup;
use shared::destination::{self, Destination};
use shared::JobError;

/// Every route of the console, behind the guard (the token's cookie, and forms only from its own
/// pages); any other path answers the not-found page.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::home))
        .route("/setup", get(pages::setup_page).post(actions::connect))
        .route("/destinations/{id}", get(pages::destination_view))
        .route(
            "/destinations/{id}/export-user",
            get(pages::export_user_page).post(actions::export_user),
        )
        .route(
            "/destinations/{id}/matching",
            get(pages::matching_page).post(actions::save_matching),
        )
        .route(
            "/destinations/{id}/matching/preview",
            axum::routing::post(actions::preview_matching),
        )
        .route("/destinations/{id}/preview", get(pages::preview))
        .route(
            "/destinations/{id}/export",
            axum::routing::post(actions::export_now),
        )
        .route("/destinations/{id}/progress", get(data_routes::progress))
        .route(
            "/destinations/{id}/verify",
            get(data_routes::verifying).post(actions::verify),
        )
        .route(
            "/destinations/{id}/repair",
            axum::routing::post(actions::repair),
        )
        .route(
            "/destinations/{id}/settings",
            axum::routing::post(actions::settings),
        )
        .route(
            "/destinations/{id}/remove",
            get(pages::remove_page).post(actions::remove),
        )
        .route(
            "/destinations/{id}/exports/{export}/rejected.csv",
            get(data_routes::rejected_csv),
        )
        .route(
            "/assets/style.css",
            get(|| asset(STYLE, "text/css; charset=utf-8")),
        )
        .route(
            "/assets/console.js",
            get(|| asset(SCRIPT, "text/javascript; charset=utf-8")),
        )
        .fallback(|| async { error_page(&JobError::NotFound("there is no such page".into())) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state)
}

async fn asset(text: &'static str, kind: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind)], text).into_response()
}

/// A page.
pub fn html(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

/// A page with another status than 200 (a refused form: 422; an error page).
pub fn html_with(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page for an error: 404 for what does not exist, 409 for a conflict, else 400/500.
pub fn error_page(e: &JobError) -> Response {
    let status = match e {
        JobError::NotFound(_) => StatusCode::NOT_FOUND,
        JobError::InvalidInput(_) | JobError::LimitExceeded { .. } => StatusCode::BAD_REQUEST,
        JobError::Conflict(_) | JobError::AlreadyExists(_) | JobError::GuardrailTripped(_) => {
            StatusCode::CONFLICT
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    html_with(status, destination_page::not_found(&e.to_string()))
}

/// The destination `id`, or the error page to answer instead.
pub async fn load(state: &AppState, id: &str) -> Result<Destination, Response> {
    destination::load(state.options.deps.store.as_ref(), id)
        .await
        .map_err(|e| error_page(&e))
}

/// A redirect after a form was handled.
pub fn see(path: &str) -> Response {
    Redirect::to(path).into_response()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::security::Token;
    use axum::body::Body;
    use axum::http::Request;
    use shared::audience_api::{ApiFactory, ClientSettings};
    use std::sync::Arc;
    use tower::ServiceExt;

    /// A console on the data folder `dir`, exports run in this process.
    pub(crate) fn console(dir: &std::path::Path) -> Router {
        let deps = shared::Deps {
            store: Arc::new(shared::store::LocalStore::new(dir)),
            secrets: Arc::new(shared::secrets::FileSecrets::new(dir.join("secrets"))),
            snapshots: Arc::new(shared::snapshot::LocalFiles),
            apis: Arc::new(ApiFactory::new(ClientSettings::default())),
        };
        let exports = shared::app::in_process::InProcess::new(deps.clone(), dir.to_path_buf());
        router(Arc::new(crate::State {
            options: crate::Options {
                deps,
                data_dir: dir.to_path_buf(),
                snapshots: crate::app::Segments::Folder(dir.to_path_buf()),
                deployed: None,
                boundary: shared::destination::Boundary::anywhere(),
                api_url: "http://127.0.0.1:9/v1".into(),
                listen: [127, 0, 0, 1].into(),
                port: 0,
                tls: None,
                readable_traffic: false,
                current_user: None,
                schedule: None,
            },
            token: Token::from_text("secret-token"),
            exports: crate::runs::Runs::Local(exports),
            checks: Default::default(),
        }))
    }

    pub(crate) async fn send(app: &Router, request: Request<Body>) -> Response {
        app.clone().oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn the_token_becomes_a_cookie_and_nothing_opens_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let app = console(dir.path());
        let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
        assert_eq!(
            send(&app, get("/")).await.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            send(&app, get("/?token=wrong")).await.status(),
            StatusCode::UNAUTHORIZED
        );
        let opened = send(&app, get("/setup?token=secret-token")).await;
        assert_eq!(opened.status(), StatusCode::SEE_OTHER);
        assert_eq!(opened.headers()[header::LOCATION], "/setup");
        let cookie = opened.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        let with_cookie = Request::get("/")
            .header(header::COOKIE, "autopilot_console=secret-token")
            .body(Body::empty())
            .unwrap();
        let page = send(&app, with_cookie).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
    }

    #[tokio::test]
    async fn a_form_from_another_site_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let app = console(dir.path());
        let post = |site: &str| {
            Request::post("/setup")
                .header(header::COOKIE, "autopilot_console=secret-token")
                .header("sec-fetch-site", site)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("display_name=Forged&api_key=k&agree=on"))
                .unwrap()
        };
        assert_eq!(
            send(&app, post("cross-site")).await.status(),
            StatusCode::FORBIDDEN
        );
        // From the console's own page the form is handled: no Autopilot answers at port 9, so
        // it is refused, and nothing is stored either way.
        let handled = send(&app, post("same-origin")).await;
        assert_eq!(handled.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(!dir.path().join("destinations").exists());
        assert!(!dir.path().join("secrets").exists());
    }

    #[tokio::test]
    async fn an_ortto_account_is_set_up_by_region_with_its_own_key() {
        let dir = tempfile::tempdir().unwrap();
        let app = console(dir.path());
        let page = Request::get("/setup?api=ortto")
            .header(header::COOKIE, "autopilot_console=secret-token")
            .body(Body::empty())
            .unwrap();
        let page = send(&app, page).await;
        let body = axum::body::to_bytes(page.into_body(), usize::MAX)
            .await
            .unwrap();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("Ortto API key") && body.contains("name=\"region\""),
            "{body}"
        );
        assert!(body.contains("Tag is &lt;segment name&gt;"), "{body}");
        let ortto = sandbox::Sandbox::start(sandbox::SandboxConfig::ortto("ortto-key-1234"), 0)
            .await
            .unwrap();
        let form = format!(
            "api=ortto&region=eu&display_name=Shop&api_key=ortto-key-1234&agree=on&api_url={}",
            ortto.base_url().replace(':', "%3A").replace('/', "%2F")
        );
        let post = Request::post("/setup")
            .header(header::COOKIE, "autopilot_console=secret-token")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let answer = send(&app, post).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER);
        let stored = std::fs::read_to_string(dir.path().join("destinations/shop.json")).unwrap();
        assert!(stored.contains(r#""api":"ortto""#), "{stored}");
        ortto.stop().await;
    }
}
