//! A destination with a notification URL has each finished export posted there (the "Export
//! Finished" event with a `text` line), failed ones too; a webhook that fails is tried a few times
//! and never fails the export.

use axum::{http::StatusCode, routing::post, Json, Router};
use integration_tests::jobs::{configure, connect, export, export_deps};
use integration_tests::sandbox;
use serde_json::Value;
use shared::app::notify;
use shared::jobs::finalize::Status;
use std::sync::{Arc, Mutex};

/// A webhook on 127.0.0.1 that answers `status` and keeps every body it was posted; its URL.
async fn webhook(status: StatusCode) -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let kept = seen.clone();
    let app = Router::new().route(
        "/hooks/T0/secret-path",
        post(move |Json(body): Json<Value>| async move {
            kept.lock().unwrap().push(body);
            status
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/T0/secret-path",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn each_finished_export_is_posted_and_a_failing_webhook_fails_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("vip.csv");
    std::fs::write(
        &snapshot,
        "Email,First Name,age\na@example.com,A,30\nb@example.com,B,40\n",
    )
    .unwrap();
    let sandbox = sandbox(|c| c).await;
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &sandbox, 1000.0).await;
    configure(&deps, &dest, &[("VIP", &snapshot)], None)
        .await
        .unwrap();

    let (url, seen) = webhook(StatusCode::OK).await;
    notify::set_url(&deps, &dest, Some(&url)).await.unwrap();
    let report = export(&deps, &dest, 100).await.unwrap();
    assert_eq!(report.status, Status::Succeeded);
    let posted = seen.lock().unwrap().clone();
    assert_eq!(posted.len(), 1, "{posted:?}");
    let event = &posted[0];
    assert_eq!(event["source"], "autopilot-export");
    assert_eq!(event["detail-type"], "Export Finished");
    assert_eq!(event["destination_id"], dest.as_str());
    assert_eq!(event["export_id"], report.export_id.as_str());
    assert_eq!(event["status"], "succeeded");
    assert_eq!(event["trigger"], "manual");
    assert_eq!(event["counts"]["sent"], 2);
    let text = event["text"].as_str().unwrap();
    assert!(
        text.contains("succeeded") && text.contains("2 sent"),
        "{text}"
    );
    assert!(
        !event.to_string().contains("@example.com"),
        "no address in {event}"
    );

    // A webhook that keeps failing: tried a few times, and the export still succeeds.
    let (broken, tried) = webhook(StatusCode::INTERNAL_SERVER_ERROR).await;
    notify::set_url(&deps, &dest, Some(&broken)).await.unwrap();
    let report = export(&deps, &dest, 100).await.unwrap();
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(
        tried.lock().unwrap().len(),
        3,
        "three tries, then a warning"
    );

    // A failed export is posted too (here: the snapshot is gone).
    notify::set_url(&deps, &dest, Some(&url)).await.unwrap();
    std::fs::remove_file(&snapshot).unwrap();
    assert!(export(&deps, &dest, 100).await.is_err());
    let posted = seen.lock().unwrap().clone();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1]["status"], "failed");

    // Turned off: nothing more is posted.
    notify::set_url(&deps, &dest, None).await.unwrap();
    assert!(export(&deps, &dest, 100).await.is_err());
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert!(notify::set_url(&deps, &dest, Some("ftp://example.com/x"))
        .await
        .is_err());
}
