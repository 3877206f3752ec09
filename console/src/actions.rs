//! The forms that change something. Each calls the use-case the command line calls for the same
//! thing (`connect`, `configure`, `exports::start`, `verify`, `remove`), and shows a refusal next
//! to the field it is about.

use crate::app;
use crate::export_runs;
use crate::forms::Form;
use crate::pages::layout::Notice;
use crate::pages::preview::DryRun;
use crate::pages::{matching, setup};
use crate::routes::{destination_page, error_page, html, html_with, load, matching_view, see};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::Markup;
use secrecy::ExposeSecret;
use shared::app::launcher::ExportRequest;
use shared::destination::{DataMatching, Destination, Schedule, Segment};
use shared::jobs::plan::Trigger;
use shared::jobs::{configure, connect, remove};
use shared::snapshot::sources;
use shared::{ErrorKind, JobError};
use std::collections::BTreeMap;

/// **Connect**: checks the key with Autopilot, then stores it; nothing is stored when it is refused.
pub async fn connect(State(state): State<AppState>, body: Bytes) -> Response {
    let mut form = Form::parse(&body);
    let api_key = form.take_secret("api_key");
    let mut view = setup::ConnectForm {
        display_name: form.text("display_name"),
        // `autopilot_url` is what the form called it before there was a choice of API.
        api_url: form
            .optional("api_url")
            .or_else(|| form.optional("autopilot_url"))
            .unwrap_or_else(|| state.options.api_url.clone()),
        agreed: form.checked("agree"),
        error: None,
    };
    view.error = if shared::destination::slug(&view.display_name).is_empty() {
        Some(setup::FormError::Name(
            "Give the destination a display name with at least one letter or digit.".into(),
        ))
    } else if api_key.expose_secret().is_empty() {
        Some(setup::FormError::Key(
            "Paste your Autopilot API key.".into(),
        ))
    } else if !view.agreed {
        Some(setup::FormError::Agree(
            "Read the notice and tick I agree: exported profiles leave this platform.".into(),
        ))
    } else {
        None
    };
    if view.error.is_some() {
        return html_with(StatusCode::UNPROCESSABLE_ENTITY, setup::connect(&view));
    }
    let input = connect::Input {
        display_name: view.display_name.clone(),
        api_key,
        consent: true,
        export_user: None,
        api: Default::default(),
        api_url: Some(view.api_url.clone()),
        requests_per_second: None,
    };
    match connect::run_within(input, &state.options.deps, &state.options.boundary).await {
        Ok(out) => see(&format!("/destinations/{}/export-user", out.destination_id)),
        Err(e) => {
            view.error = Some(connect_error(e));
            html_with(StatusCode::UNPROCESSABLE_ENTITY, setup::connect(&view))
        }
    }
}

/// Which field a refused connect is about.
fn connect_error(e: JobError) -> setup::FormError {
    use connect::Field;
    use setup::FormError;
    match connect::Field::of(&e) {
        Field::Key if e.kind() == ErrorKind::Unauthorized => FormError::Key(
            "Autopilot refused this API key: nothing was stored. Check the key under Settings → Autopilot API and paste it again.".into(),
        ),
        Field::Key => FormError::Key(e.to_string()),
        Field::Url => FormError::Url(e.to_string()),
        Field::DisplayName => FormError::Name(format!(
            "A destination of this name exists already: choose another name, or remove that one first. ({e})"
        )),
        Field::Other => FormError::Other(format!("Not connected: {e}")),
    }
}

pub fn export_user_form(state: &AppState, d: &Destination, error: Option<&str>) -> Markup {
    let current = if d.consent.export_user == "unknown" {
        ""
    } else {
        d.consent.export_user.as_str()
    };
    setup::export_user(
        &d.id,
        &d.display_name,
        d.account_name.as_deref(),
        current,
        state.options.current_user.as_deref(),
        error,
    )
}

/// **Next** after the export user.
pub async fn export_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let form = Form::parse(&body);
    match app::set_export_user(&state.options.deps, &d.id, &form.text("export_user")).await {
        Ok(()) => see(&format!("/destinations/{}/matching", d.id)),
        Err(JobError::InvalidInput(m)) => html_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            export_user_form(&state, &d, Some(&m)),
        ),
        Err(e) => error_page(&e),
    }
}

/// The data matching and segments of a posted form, or what to say at which field.
fn matching_input(
    form: &Form,
    snapshots: &[app::Snapshot],
) -> (
    matching::Choices,
    Result<(DataMatching, Vec<Segment>), matching::Errors>,
) {
    let pairs: Vec<(String, String)> = form
        .all("field_name")
        .into_iter()
        .zip(form.all("field_column"))
        .map(|(f, c)| (f.trim().to_string(), c.trim().to_string()))
        .filter(|(f, c)| !f.is_empty() || !c.is_empty())
        .collect();
    let choices = matching::Choices {
        email: form.text("email"),
        first_name: form.text("first_name"),
        last_name: form.text("last_name"),
        extra: pairs.clone(),
        segments: form.all("segment"),
        headerless: form.text("columns"),
    };
    let mut errors = matching::Errors::default();
    if choices.email.is_empty() {
        errors.email = Some(
            "Choose the column that holds the email address: it is how Autopilot matches contacts."
                .into(),
        );
    }
    let segments: Vec<Segment> = choices
        .segments
        .iter()
        .filter_map(|name| {
            snapshots
                .iter()
                .find(|s| &s.segment == name)
                .map(|s| Segment {
                    columns: headerless_columns(&choices.headerless, &s.path),
                    ..Segment::new(s.segment.clone(), s.path.clone())
                })
        })
        .collect();
    if segments.is_empty() {
        errors.segments = Some("Choose at least one segment to export.".into());
    } else if segments.len() < choices.segments.len() {
        errors.segments =
            Some("A chosen segment's snapshot is no longer in the snapshot folder.".into());
    }
    if pairs.iter().any(|(f, c)| f.is_empty() || c.is_empty()) {
        errors.other =
            Some("Each added field needs both an Autopilot field name and a column.".into());
    }
    if errors.email.is_some() || errors.segments.is_some() || errors.other.is_some() {
        return (choices, Err(errors));
    }
    let (custom, fields): (BTreeMap<_, _>, BTreeMap<_, _>) =
        pairs.into_iter().partition(|(f, _)| f.contains("--"));
    let matching = DataMatching {
        email: choices.email.clone(),
        first_name: Some(choices.first_name.clone()).filter(|s| !s.is_empty()),
        last_name: Some(choices.last_name.clone()).filter(|s| !s.is_empty()),
        fields,
        custom,
    };
    (choices, Ok((matching, segments)))
}

/// The column names typed for headerless files, for a segment read from `source` (a model names
/// its own).
fn headerless_columns(text: &str, source: &str) -> Option<Vec<String>> {
    let model = matches!(sources::form(source), sources::Form::Model { .. });
    let names: Vec<String> = text.split(',').map(|c| c.trim().to_string()).collect();
    (!model && !text.trim().is_empty()).then_some(names)
}

/// `configure`'s input for the matching page's choices, every other setting kept as stored.
fn matching_only(
    destination_id: &str,
    data_matching: DataMatching,
    segments: Vec<Segment>,
) -> configure::Input {
    configure::Input {
        destination_id: destination_id.to_string(),
        data_matching,
        segments,
        profile_limit: None,
        requests_per_second: None,
        schedule: None,
        max_removal_percent: None,
        max_shrink_percent: None,
    }
}

/// **Save** the data matching and segments.
pub async fn save_matching(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let form = Form::parse(&body);
    let snapshots = state.options.snapshots.of(&state.options.deps, &d).await;
    let (choices, parsed) = matching_input(&form, &snapshots);
    let errors = match parsed {
        Err(errors) => errors,
        Ok((data_matching, segments)) => {
            let input = matching_only(&d.id, data_matching, segments);
            match configure::run_within(input, &state.options.deps, &state.options.boundary).await {
                Ok(_) => return see(&format!("/destinations/{}?done=saved", d.id)),
                Err(e) => matching::Errors {
                    other: Some(format!("Not saved: {e}")),
                    ..Default::default()
                },
            }
        }
    };
    html_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        matching_view(&state, &d, &choices, &errors, None).await,
    )
}

/// **Preview** on the matching page: `configure` and the dry run on the form's choices, in a
/// scratch store, so nothing is saved; the form comes back with the choices and the result.
pub async fn preview_matching(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let form = Form::parse(&body);
    let snapshots = state.options.snapshots.of(&state.options.deps, &d).await;
    let (choices, parsed) = matching_input(&form, &snapshots);
    let (data_matching, segments) = match parsed {
        Ok(parsed) => parsed,
        Err(errors) => {
            let page = matching_view(&state, &d, &choices, &errors, None).await;
            return html_with(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    let deps = crate::scratch::deps(&state.options.deps);
    let input = matching_only(&d.id, data_matching, segments);
    let dry = match configure::run_within(input, &deps, &state.options.boundary).await {
        Ok(_) => {
            let request = ExportRequest::new(&d.id, Trigger::Console);
            DryRun::from(shared::app::exports::preview(&deps, &request).await)
        }
        Err(e) => DryRun::Failed(format!("These choices cannot be exported: {e}")),
    };
    let errors = matching::Errors::default();
    html(matching_view(&state, &d, &choices, &errors, Some(&dry)).await)
}

/// **Export now**.
pub async fn export_now(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match export_runs::start(&state, &d.id).await {
        Ok(()) => see(&format!("/destinations/{}", d.id)),
        Err(message) => html_with(
            StatusCode::CONFLICT,
            destination_page(&state, &d, Some((Notice::Error, message)), None).await,
        ),
    }
}

/// **Verify**: reads the lists back in the background; the page shows "Verifying…" until it ends.
pub async fn verify(state: State<AppState>, id: Path<String>) -> Response {
    check(state, id, false).await
}

/// **Repair**: like Verify, and puts missing members back on their lists.
pub async fn repair(state: State<AppState>, id: Path<String>) -> Response {
    check(state, id, true).await
}

async fn check(State(state): State<AppState>, Path(id): Path<String>, repair: bool) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    match state.checks.start(&state.options.deps, &d.id, repair) {
        Ok(()) => see(&format!("/destinations/{}#verify", d.id)),
        Err(message) => html_with(
            StatusCode::CONFLICT,
            destination_page(&state, &d, Some((Notice::Error, message)), None).await,
        ),
    }
}

/// The schedule and guardrail thresholds, through `configure` with the stored choices.
pub async fn settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let form = Form::parse(&body);
    let Some(data_matching) = d.data_matching.clone() else {
        return refuse_settings(
            &state,
            &d,
            "Choose the data matching and segments first.".into(),
        )
        .await;
    };
    let (removal, shrink) = match (
        form.percent("max_removal_percent"),
        form.percent("max_shrink_percent"),
    ) {
        (Ok(r), Ok(s)) => (r, s),
        (Err(m), _) | (_, Err(m)) => return refuse_settings(&state, &d, m).await,
    };
    let input = configure::Input {
        destination_id: d.id.clone(),
        data_matching,
        segments: d.segments.clone(),
        profile_limit: None,
        requests_per_second: None,
        schedule: Some(Schedule {
            enabled: form.checked("schedule"),
        }),
        max_removal_percent: removal,
        max_shrink_percent: shrink,
    };
    match configure::run_within(input, &state.options.deps, &state.options.boundary).await {
        Ok(_) => see(&format!("/destinations/{}?done=settings", d.id)),
        Err(e) => refuse_settings(&state, &d, e.to_string()).await,
    }
}

async fn refuse_settings(state: &AppState, d: &Destination, message: String) -> Response {
    html_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        destination_page(state, d, None, Some(message)).await,
    )
}

/// **Remove destination**, after its confirmation page.
pub async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if state.exports.is_running(&state.options.deps, &d.id).await {
        return html_with(
            StatusCode::CONFLICT,
            destination_page(
                &state,
                &d,
                Some((
                    Notice::Error,
                    "An export is running: remove the destination when it has finished.".into(),
                )),
                None,
            )
            .await,
        );
    }
    match remove::run(
        remove::Input {
            destination_id: d.id.clone(),
        },
        &state.options.deps,
    )
    .await
    {
        Ok(out) => {
            state.checks.forget(&out.destination_id);
            see(&format!("/?removed={}", out.destination_id))
        }
        Err(e) => error_page(&e),
    }
}
