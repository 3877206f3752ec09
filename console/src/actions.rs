//! The forms that change something. Each calls the use-case the command line calls for the same
//! thing (`connect`, `configure`, `exports::start`, `verify`, `remove`), records what it changed in
//! the destination's audit trail ([`crate::trail`]), and shows a refusal next to the field it is
//! about.

use crate::app;
use crate::export_runs;
use crate::forms::Form;
use crate::matching_form::{matching_input, matching_only};
use crate::page_routes::{destination_page, matching_view};
use crate::pages::layout::Notice;
use crate::pages::preview::DryRun;
use crate::pages::{matching, setup};
use crate::routes::{error_page, html, html_with, load, see};
use crate::trail;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::Markup;
use secrecy::ExposeSecret;
use shared::app::audit::Action;
use shared::app::launcher::ExportRequest;
use shared::audience_api::ApiKind;
use shared::destination::{Destination, Schedule};
use shared::jobs::plan::Trigger;
use shared::jobs::{configure, connect, remove};
use shared::{ErrorKind, JobError};

/// **Connect**: checks the key with the account's API (Autopilot or Ortto), then stores it; nothing is stored when it is refused.
pub async fn connect(State(state): State<AppState>, body: Bytes) -> Response {
    let mut form = Form::parse(&body);
    let api_key = form.take_secret("api_key");
    let api = (form
        .optional("api")
        .and_then(|name| ApiKind::from_name(&name)))
    .unwrap_or_default();
    let mut view = setup::ConnectForm {
        display_name: form.text("display_name"),
        api,
        region: form.optional("region").unwrap_or_else(|| "global".into()),
        // `autopilot_url` is what the form called it before there was a choice of API.
        api_url: form
            .optional("api_url")
            .or_else(|| form.optional("autopilot_url"))
            .unwrap_or_else(|| setup::default_url(api, &state.options.api_url)),
        agreed: form.checked("agree"),
        error: None,
    };
    view.error = if shared::destination::slug(&view.display_name).is_empty() {
        Some(setup::FormError::Name(
            "Give the destination a display name with at least one letter or digit.".into(),
        ))
    } else if api_key.expose_secret().is_empty() {
        Some(setup::FormError::Key(format!(
            "Paste your {} API key.",
            api.vocabulary().api
        )))
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
        api,
        // Ortto's region decides its host unless a URL was given.
        api_url: Some(view.api_url.clone()).filter(|url| !url.is_empty()),
        requests_per_second: None,
        region: (api == ApiKind::Ortto).then(|| view.region.clone()),
        update_only: false,
    };
    match connect::run_within(input, &state.options.deps, &state.options.boundary).await {
        Ok(out) => {
            let dest = out.destination_id;
            let details = "API key checked and stored";
            match trail::record(&state.options.deps, Action::Connect, &dest, details, None).await {
                Ok(()) => see(&format!("/destinations/{dest}/export-user")),
                Err(e) => error_page(&e),
            }
        }
        Err(e) => {
            view.error = Some(connect_error(api, e));
            html_with(StatusCode::UNPROCESSABLE_ENTITY, setup::connect(&view))
        }
    }
}

/// Which field a refused connect is about.
fn connect_error(api: ApiKind, e: JobError) -> setup::FormError {
    use connect::Field;
    use setup::FormError;
    match connect::Field::of(&e) {
        Field::Key if e.kind() == ErrorKind::Unauthorized => FormError::Key(format!(
            "{} refused this API key: nothing was stored. Check the key under {} and paste it again.",
            api.vocabulary().api,
            setup::key_place(api)
        )),
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
        d.api.vocabulary().api,
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
    let user = form.text("export_user");
    let deps = &state.options.deps;
    let set = app::set_export_user(deps, &d.id, &user).await;
    let recorded = match set {
        Ok(()) => trail::record(deps, Action::Configure, &d.id, "export user", Some(&user)).await,
        Err(e) => Err(e),
    };
    match recorded {
        Ok(()) => see(&format!("/destinations/{}/matching", d.id)),
        Err(JobError::InvalidInput(m)) => html_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            export_user_form(&state, &d, Some(&m)),
        ),
        Err(e) => error_page(&e),
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
    let (choices, parsed) = matching_input(d.api.vocabulary(), &form, &snapshots);
    let errors = match parsed {
        Err(errors) => errors,
        Ok((data_matching, segments)) => {
            let details = format!("segments: {}", segments.len());
            let input = matching_only(&d.id, data_matching, segments);
            let deps = &state.options.deps;
            match configure::run_within(input, deps, &state.options.boundary).await {
                Ok(_) => {
                    return match trail::record(deps, Action::Configure, &d.id, details, None).await
                    {
                        Ok(()) => see(&format!("/destinations/{}?done=saved", d.id)),
                        Err(e) => error_page(&e),
                    }
                }
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
    let (choices, parsed) = matching_input(d.api.vocabulary(), &form, &snapshots);
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

/// **Verify**: reads the lists (Ortto: tags) back in the background; the page shows "Verifying…" until it ends.
pub async fn verify(state: State<AppState>, id: Path<String>) -> Response {
    check(state, id, false).await
}

/// **Repair**: like Verify, and puts missing members back on their lists (tags).
pub async fn repair(state: State<AppState>, id: Path<String>) -> Response {
    check(state, id, true).await
}

async fn check(State(state): State<AppState>, Path(id): Path<String>, repair: bool) -> Response {
    let d = match load(&state, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let deps = &state.options.deps;
    let details = if repair { "verify, repair" } else { "verify" };
    let started = match state.checks.start(deps, &d.id, repair).await {
        Ok(()) => trail::record(deps, Action::Verify, &d.id, details, None)
            .await
            .map_err(|e| e.to_string()),
        Err(message) => Err(message),
    };
    match started {
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
    let details = match form.checked("schedule") {
        true => "schedule on, guardrails",
        false => "schedule off, guardrails",
    };
    let deps = &state.options.deps;
    let saved = match configure::run_within(input, deps, &state.options.boundary).await {
        Ok(_) => trail::record(deps, Action::Configure, &d.id, details, None).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => see(&format!("/destinations/{}?done=settings", d.id)),
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
            let dest = out.destination_id;
            match trail::record(&state.options.deps, Action::Remove, &dest, "", None).await {
                Ok(()) => see(&format!("/?removed={dest}")),
                Err(e) => error_page(&e),
            }
        }
        Err(e) => error_page(&e),
    }
}
