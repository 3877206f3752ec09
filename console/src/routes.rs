//! The console's routes and the pages that only read.

use crate::actions;
use crate::app;
use crate::pages::destination::{self as destination_page, View};
use crate::pages::layout::{Notice, SCRIPT, STYLE};
use crate::pages::preview::{self, DryRun};
use crate::pages::{destinations, matching, setup};
use crate::{security, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{middleware, Json, Router};
use maud::Markup;
use shared::audience_api::ApiKind;
use shared::destination::{self, Destination};
use shared::JobError;
use std::collections::HashMap;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/setup", get(setup_page).post(actions::connect))
        .route("/destinations/{id}", get(destination_view))
        .route(
            "/destinations/{id}/export-user",
            get(export_user_page).post(actions::export_user),
        )
        .route(
            "/destinations/{id}/matching",
            get(matching_page).post(actions::save_matching),
        )
        .route(
            "/destinations/{id}/matching/preview",
            axum::routing::post(actions::preview_matching),
        )
        .route("/destinations/{id}/preview", get(preview))
        .route(
            "/destinations/{id}/export",
            axum::routing::post(actions::export_now),
        )
        .route("/destinations/{id}/progress", get(progress))
        .route(
            "/destinations/{id}/verify",
            get(verifying).post(actions::verify),
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
            get(remove_page).post(actions::remove),
        )
        .route(
            "/destinations/{id}/exports/{export}/rejected.csv",
            get(rejected_csv),
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

pub fn html(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

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

pub async fn load(state: &AppState, id: &str) -> Result<Destination, Response> {
    destination::load(state.options.deps.store.as_ref(), id)
        .await
        .map_err(|e| error_page(&e))
}

async fn home(State(state): State<AppState>, Query(q): Query<HashMap<String, String>>) -> Response {
    let deps = &state.options.deps;
    let found = match app::destinations(deps).await {
        Ok(found) => found,
        Err(e) => return error_page(&e),
    };
    let mut rows = Vec::new();
    for d in found {
        let latest = app::latest_report(deps, &d.id).await.ok().flatten();
        let running = state.exports.is_running(deps, &d.id).await;
        let next = next_run(&state, &d);
        rows.push(destinations::Row {
            destination: d,
            latest,
            running,
            next,
        });
    }
    let removed = q
        .get("removed")
        .filter(|id| !rows.iter().any(|r| &r.destination.id == *id));
    html(destinations::render(&rows, removed.map(String::as_str)))
}

/// The connect form, for the account type `?api=` names (Autopilot's unless said).
async fn setup_page(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let api = (q.get("api").and_then(|name| ApiKind::from_name(name))).unwrap_or_default();
    html(setup::connect(&setup::ConnectForm {
        api,
        api_url: setup::default_url(api, &state.options.api_url),
        ..Default::default()
    }))
}

async fn export_user_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load(&state, &id).await {
        Ok(d) => html(actions::export_user_form(&state, &d, None)),
        Err(r) => r,
    }
}

fn next_run(state: &AppState, d: &Destination) -> crate::schedule::NextRun {
    let deployed = state.options.schedule.as_ref();
    crate::schedule::next_run(deployed, d.schedule.enabled, chrono::Utc::now())
}

pub async fn destination_page(
    state: &AppState,
    d: &Destination,
    notice: Option<(Notice, String)>,
    settings_error: Option<String>,
) -> Markup {
    let history = app::history(&state.options.deps, &d.id)
        .await
        .unwrap_or_default();
    let run = state.exports.latest(&state.options.deps, &d.id).await;
    let check = state.checks.latest(&d.id);
    let changes = crate::trail::recent(&state.options.deps, &d.id).await;
    destination_page::render(&View {
        destination: d,
        history: &history,
        changes: &changes,
        run: run.as_ref(),
        notice,
        settings_error,
        check: check.as_ref(),
        next: next_run(state, d),
    })
}

async fn destination_view(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let notice = match q.get("done").map(String::as_str) {
        Some("saved") => Some((
            Notice::Done,
            "Saved. Preview what an export would do, or export now.".to_string(),
        )),
        Some("settings") => Some((Notice::Done, "Schedule and guardrails saved.".to_string())),
        _ => None,
    };
    html(destination_page(&state, &d, notice, None).await)
}

pub async fn matching_view(
    state: &AppState,
    d: &Destination,
    choices: &matching::Choices,
    errors: &matching::Errors,
    preview: Option<&DryRun>,
) -> Markup {
    let snapshots = state.options.snapshots.of(&state.options.deps, d).await;
    let columns = app::columns(&state.options.deps, d, &snapshots).await;
    matching::render(&matching::View {
        dest: &d.id,
        display_name: &d.display_name,
        words: d.api.vocabulary(),
        columns: &columns,
        snapshots: &snapshots,
        snapshot_dir: &state.options.snapshots.describe(),
        choices,
        errors,
        preview,
        profile_limit: d.profile_limit,
    })
}

async fn matching_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let m = d.data_matching.clone();
    let choices = matching::Choices {
        email: m.as_ref().map(|m| m.email.clone()).unwrap_or_default(),
        first_name: m
            .as_ref()
            .and_then(|m| m.first_name.clone())
            .unwrap_or_default(),
        last_name: m
            .as_ref()
            .and_then(|m| m.last_name.clone())
            .unwrap_or_default(),
        extra: m
            .map(|m| m.fields.into_iter().chain(m.custom).collect())
            .unwrap_or_default(),
        segments: d.segments.iter().map(|s| s.name.clone()).collect(),
        headerless: d
            .segments
            .iter()
            .find_map(|s| s.columns.as_ref())
            .map(|c| c.join(","))
            .unwrap_or_default(),
    };
    let errors = matching::Errors::default();
    html(matching_view(&state, &d, &choices, &errors, None).await)
}

async fn preview(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let request =
        shared::app::launcher::ExportRequest::new(&d.id, shared::jobs::plan::Trigger::Console);
    let out = shared::app::exports::preview(&state.options.deps, &request).await;
    html(preview::page_of(
        d.api.vocabulary(),
        &d.id,
        &d.display_name,
        d.profile_limit,
        &DryRun::from(out),
    ))
}

async fn progress(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match crate::export_runs::view(&state, &id).await {
        Some(view) => Json(view).into_response(),
        None => Json(serde_json::json!({ "running": false })).into_response(),
    }
}

/// Whether a Verify or Repair of the destination runs, for the page that waits for it.
async fn verifying(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let running = state.checks.latest(&id).is_some_and(|c| c.is_running());
    Json(serde_json::json!({ "running": running })).into_response()
}

async fn remove_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load(&state, &id).await {
        Ok(d) => html(destination_page::confirm_remove(&d)),
        Err(r) => r,
    }
}

async fn rejected_csv(
    State(state): State<AppState>,
    Path((id, export)): Path<(String, String)>,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match app::rejected_csv(&state.options.deps, &d.id, &export).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"rejected-{export}.csv\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_page(&e),
    }
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
