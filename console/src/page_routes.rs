//! The pages that only read: the destinations, the set-up forms, a destination's page, its data
//! matching, the dry run (preview) and the confirmation of a removal. Each loads what it shows
//! through the same `shared` functions the command line calls; the forms they hold post to
//! [`crate::actions`], which show these pages again with a notice or a refusal.

use crate::actions;
use crate::app;
use crate::pages::destination::{self as destination_page, View};
use crate::pages::layout::Notice;
use crate::pages::preview::{self, DryRun};
use crate::pages::{destinations, matching, setup};
use crate::routes::{error_page, html, load};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::Markup;
use shared::audience_api::ApiKind;
use shared::destination::Destination;
use std::collections::HashMap;

/// The destinations, each with its latest export, whether one runs, and its next scheduled run.
pub async fn home(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
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
pub async fn setup_page(
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

pub async fn export_user_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load(&state, &id).await {
        Ok(d) => html(actions::export_user_form(&state, &d, None)),
        Err(r) => r,
    }
}

/// When the destination's next scheduled export runs: on the stack's schedule when deployed.
fn next_run(state: &AppState, d: &Destination) -> crate::schedule::NextRun {
    let deployed = state.options.schedule.as_ref();
    crate::schedule::next_run(deployed, d.schedule.enabled, chrono::Utc::now())
}

/// A destination's page as it stands (its history, a running export, the latest Verify, the
/// changes), with `notice` on top and `settings_error` at the schedule form; the forms show it
/// again after they are handled.
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

pub async fn destination_view(
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

/// The data-matching page with `choices` filled in, `errors` at their fields, and the dry run's
/// result when one was asked for.
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

/// The data-matching page, filled in with what the destination has saved.
pub async fn matching_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
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
        escapes: d.segments.iter().any(|s| s.backslash_escapes),
    };
    let errors = matching::Errors::default();
    html(matching_view(&state, &d, &choices, &errors, None).await)
}

pub async fn preview(State(state): State<AppState>, Path(id): Path<String>) -> Response {
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

pub async fn remove_page(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match load(&state, &id).await {
        Ok(d) => html(destination_page::confirm_remove(&d)),
        Err(r) => r,
    }
}
