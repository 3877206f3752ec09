//! The routes that answer data, not a page: an export's progress and whether a Verify or Repair
//! runs (JSON, polled by the pages' script while they wait), and an export's rejected.csv (its
//! refused rows, as a download).

use crate::app;
use crate::routes::{error_page, load};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The running export's progress (`{"running": false}` when none runs), for the bar on the
/// destination's page.
pub async fn progress(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match crate::export_runs::view(&state, &id).await {
        Some(view) => Json(view).into_response(),
        None => Json(serde_json::json!({ "running": false })).into_response(),
    }
}

/// Whether a Verify or Repair of the destination runs, for the page that waits for it.
pub async fn verifying(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let running = state.checks.latest(&id).is_some_and(|c| c.is_running());
    Json(serde_json::json!({ "running": running })).into_response()
}

/// The rejected.csv of the destination's export `export`, or the error page when it has none.
pub async fn rejected_csv(
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
