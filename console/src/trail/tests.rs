//! The console's changes reach the audit trail under the local caller, and the destination's page
//! shows them: set-up, the export user, the data matching and **Export now**, driven through the
//! console's routes against the sandbox.

use crate::routes::tests::{console, send};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use shared::app::audit::{self, Action};
use shared::test_support::{local_deps, write_people, KEY};
use std::time::Duration;

fn post(uri: &str, form: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, "autopilot_console=secret-token")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

async fn get(app: &Router, uri: &str) -> String {
    let request = Request::get(uri)
        .header(header::COOKIE, "autopilot_console=secret-token")
        .body(Body::empty())
        .unwrap();
    let body = axum::body::to_bytes(send(app, request).await.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// Posts `form` to `uri` and expects the redirect that follows a change.
async fn change(app: &Router, uri: &str, form: &str) {
    let answer = send(app, post(uri, form)).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{uri}");
}

#[tokio::test]
async fn set_up_save_and_export_now_are_recorded_under_the_local_caller_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_people(&data.join("vip.csv"), 30).unwrap();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let app = console(&data);

    let url = sandbox.base_url().replace(':', "%3A").replace('/', "%2F");
    let setup = format!("display_name=Shop&api_key={KEY}&agree=on&api_url={url}");
    change(&app, "/setup", &setup).await;
    change(&app, "/destinations/shop/export-user", "export_user=Ana").await;
    change(
        &app,
        "/destinations/shop/matching",
        "email=email&segment=vip",
    )
    .await;
    change(&app, "/destinations/shop/export", "").await;
    for _ in 0..400 {
        if get(&app, "/destinations/shop/progress")
            .await
            .contains("\"running\":false")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let deps = local_deps(dir.path(), Default::default());
    let trail = audit::recent(deps.store.as_ref(), "shop", 10)
        .await
        .unwrap();
    let caller = audit::local_caller();
    let found: Vec<(&str, Action, &str, Option<&str>)> = trail
        .iter()
        .map(|e| {
            let details = e.details.split(' ').next().unwrap_or("");
            (e.caller.as_str(), e.action, details, e.label.as_deref())
        })
        .collect();
    assert_eq!(
        found,
        [
            (caller.as_str(), Action::Export, "export", None),
            (caller.as_str(), Action::Configure, "segments:", None),
            (caller.as_str(), Action::Configure, "export", Some("Ana")),
            (caller.as_str(), Action::Connect, "API", None),
        ],
        "newest first: {trail:?}"
    );
    let export_id = trail[0].details.strip_prefix("export ").unwrap();
    assert_eq!(trail[1].details, "segments: 1");

    let page = get(&app, "/destinations/shop").await;
    let table = page
        .split("id=\"changes\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_else(|| panic!("the page has a table of changes: {page}"));
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    assert_eq!(rows.len(), 4, "{table}");
    let escaped = maud::html! { (caller) }.into_string();
    assert!(rows.iter().all(|row| row.contains(&escaped)), "{table}");
    for (row, (what, details)) in rows.iter().zip([
        ("export", format!("export {export_id}")),
        ("configure", "segments: 1".to_string()),
        ("configure", "export user (for: Ana)".to_string()),
        ("connect", "API key checked and stored".to_string()),
    ]) {
        assert!(
            row.contains(&format!("<td>{what}</td>")) && row.contains(&details),
            "{what} {details}: {row}"
        );
    }
    sandbox.stop().await;
}
