//! One verification of a destination at a time, whichever front door asks: a second Verify click,
//! or a Verify while the command line verifies, is told that one is running and starts nothing.

use crate::routes::tests::{console, send};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use shared::app::local_export::{self, Options};
use shared::app::verify::foreground;
use shared::audience_api::ClientSettings;
use shared::destination::keys;
use shared::test_support::{local_deps, write_people, TestDestination, KEY};
use std::time::Duration;

/// A destination exported once to a sandbox that then answers every request after 2 s, so that a
/// verification started now is still running a moment later.
async fn exported_then_slow(dir: &std::path::Path) -> (shared::Deps, String, sandbox::Sandbox) {
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let deps = local_deps(dir, ClientSettings::default());
    let people = dir.join("people.csv");
    write_people(&people, 250).unwrap();
    let dest = TestDestination::new(sandbox.base_url())
        .segment("VIP Customers", &people)
        .create(&deps)
        .await
        .unwrap();
    local_export::run(&deps, &Options::new(&dest), &|_| {})
        .await
        .unwrap();
    sandbox.set_faults(sandbox::Faults {
        slow_rate: 1.0,
        slow_ms: 2_000,
        ..sandbox::Faults::default()
    });
    (deps, dest, sandbox)
}

fn click(dest: &str, what: &str) -> Request<Body> {
    Request::post(format!("/destinations/{dest}/{what}"))
        .header(header::COOKIE, "autopilot_console=secret-token")
        .header("sec-fetch-site", "same-origin")
        .body(Body::empty())
        .unwrap()
}

async fn text(response: axum::response::Response) -> String {
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

/// Whether the page that waits for a check says one runs.
async fn verifying(app: &Router, dest: &str) -> bool {
    let request = Request::get(format!("/destinations/{dest}/verify"))
        .header(header::COOKIE, "autopilot_console=secret-token")
        .body(Body::empty())
        .unwrap();
    text(send(app, request).await)
        .await
        .contains("\"running\":true")
}

/// The verifications the store holds records of (the lock aside).
async fn verification_records(deps: &shared::Deps, dest: &str) -> Vec<String> {
    let found = deps
        .store
        .list(&keys::verification_dir(dest))
        .await
        .unwrap();
    let lock = keys::verifying(dest);
    found.into_iter().filter(|key| *key != lock).collect()
}

#[tokio::test]
async fn a_second_verify_click_is_told_one_is_running() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, dest, sandbox) = exported_then_slow(dir.path()).await;
    let app = console(&dir.path().join("data"));

    let first = send(&app, click(&dest, "verify")).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    for what in ["verify", "repair"] {
        let second = send(&app, click(&dest, what)).await;
        assert_eq!(second.status(), StatusCode::CONFLICT, "{what}");
        let page = text(second).await;
        assert!(
            page.contains("is already being verified") && page.contains("wait for it to finish"),
            "{page}"
        );
    }
    let command_line = foreground::claim(&deps, &dest, false).await.unwrap_err();
    assert_eq!(command_line.kind(), shared::ErrorKind::AlreadyExists);

    // The first runs to its end, alone; then the lock is free for the next.
    sandbox.set_faults(sandbox::Faults::default());
    for _ in 0..300 {
        if !verifying(&app, &dest).await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !verifying(&app, &dest).await,
        "the first verification ended"
    );
    assert_eq!(
        verification_records(&deps, &dest).await.len(),
        1,
        "one verification ran"
    );
    let page = text(
        send(
            &app,
            Request::get(format!("/destinations/{dest}"))
                .header(header::COOKIE, "autopilot_console=secret-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    )
    .await;
    assert!(
        page.contains("in place"),
        "the first verification found every member: {page}"
    );
    let next = send(&app, click(&dest, "verify")).await;
    assert_eq!(
        next.status(),
        StatusCode::SEE_OTHER,
        "a later click starts one"
    );
}

#[tokio::test]
async fn a_verify_click_while_the_command_line_verifies_is_told_one_is_running() {
    let dir = tempfile::tempdir().unwrap();
    let (deps, dest, _sandbox) = exported_then_slow(dir.path()).await;
    let app = console(&dir.path().join("data"));

    let command_line = foreground::claim(&deps, &dest, false).await.unwrap();
    let click = send(&app, click(&dest, "verify")).await;
    assert_eq!(click.status(), StatusCode::CONFLICT);
    let page = text(click).await;
    assert!(page.contains("is already being verified"), "{page}");
    assert!(!verifying(&app, &dest).await, "the console started nothing");
    assert!(verification_records(&deps, &dest).await.is_empty());
    drop(command_line);
}
