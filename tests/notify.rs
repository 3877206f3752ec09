//! A destination with a notification URL has each finished export posted there (the "Export
//! Finished" event with a `text` line), failed ones too; a webhook that fails is tried a few times
//! and never fails the export. Each post is signed: a receiver holding the secret shown when the
//! URL was set verifies it, and refuses a changed body, another secret or an old timestamp; so
//! does the receiver's check the README shows (`docs/verify-webhook.py`).

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::{http::StatusCode, routing::post, Router};
use integration_tests::jobs::{configure, connect, export, export_deps};
use integration_tests::sandbox;
use secrecy::ExposeSecret;
use serde_json::Value;
use shared::app::notify::{self, signature};
use shared::jobs::finalize::Status;
use std::sync::{Arc, Mutex};

/// A post as the webhook received it: the signature header, the raw body, and the body read.
#[derive(Clone)]
struct Posted {
    signature: Option<String>,
    raw: Bytes,
    body: Value,
}

/// A webhook on 127.0.0.1 that answers `status` and keeps every post it received; its URL.
async fn webhook(status: StatusCode) -> (String, Arc<Mutex<Vec<Posted>>>) {
    let seen: Arc<Mutex<Vec<Posted>>> = Arc::default();
    let kept = seen.clone();
    let app = Router::new().route(
        "/hooks/T0/secret-path",
        post(move |headers: HeaderMap, raw: Bytes| async move {
            let signature = headers
                .get(signature::HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            kept.lock().unwrap().push(Posted {
                signature,
                raw,
                body,
            });
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
    let secret = notify::set_url(&deps, &dest, Some(&url))
        .await
        .unwrap()
        .expect("a URL gets a signing secret");
    let report = export(&deps, &dest, 100).await.unwrap();
    assert_eq!(report.status, Status::Succeeded);
    let posted = seen.lock().unwrap().clone();
    assert_eq!(posted.len(), 1);
    receiver_checks(&posted[0], secret.expose_secret());
    let event = &posted[0].body;
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

    // A failed export is posted too (here: the snapshot is gone), signed with the secret shown
    // when the URL was set again, not the first one; a rotated secret replaces that one.
    let again = notify::set_url(&deps, &dest, Some(&url))
        .await
        .unwrap()
        .unwrap();
    std::fs::remove_file(&snapshot).unwrap();
    assert!(export(&deps, &dest, 100).await.is_err());
    let posted = seen.lock().unwrap().clone();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[1].body["status"], "failed");
    receiver_checks(&posted[1], again.expose_secret());
    let (header, now) = (posted[1].signature.as_deref().unwrap(), now());
    let first = signature::verify(secret.expose_secret(), header, &posted[1].raw, now);
    assert_eq!(first, Err(signature::Refusal::Mismatch));
    let rotated = notify::rotate_secret(&deps, &dest).await.unwrap();
    assert_ne!(rotated.expose_secret(), again.expose_secret());
    assert!(export(&deps, &dest, 100).await.is_err());
    let posted = seen.lock().unwrap().clone();
    receiver_checks(&posted[2], rotated.expose_secret());

    // Turned off: nothing more is posted.
    notify::set_url(&deps, &dest, None).await.unwrap();
    assert!(export(&deps, &dest, 100).await.is_err());
    assert_eq!(seen.lock().unwrap().len(), 3);
    assert!(notify::set_url(&deps, &dest, Some("ftp://example.com/x"))
        .await
        .is_err());
    assert!(
        notify::rotate_secret(&deps, &dest).await.is_err(),
        "no URL, no secret to rotate"
    );
}

/// The time in Unix seconds.
fn now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.map_or(0, |d| d.as_secs() as i64)
}

/// What a receiver checks: the post verifies with `secret`, now; a changed body, another secret,
/// or the same post five minutes and a second later does not.
fn receiver_checks(post: &Posted, secret: &str) {
    let header = post.signature.as_deref().expect("the post is signed");
    let now = now();
    assert_eq!(signature::verify(secret, header, &post.raw, now), Ok(()));
    let mut changed = post.raw.to_vec();
    changed.insert(1, b' ');
    let refusals = [
        (secret, &changed[..], now, signature::Refusal::Mismatch),
        (
            "whsec_another",
            &post.raw[..],
            now,
            signature::Refusal::Mismatch,
        ),
        (
            secret,
            &post.raw[..],
            now + 301,
            signature::Refusal::OutOfTime,
        ),
    ];
    for (key, body, at, refusal) in refusals {
        assert_eq!(signature::verify(key, header, body, at), Err(refusal));
    }
    // The receiver the README shows, in Python, agrees.
    assert!(python_receiver(secret, header, &post.raw));
    assert!(!python_receiver(secret, header, &changed));
    assert!(!python_receiver("whsec_another", header, &post.raw));
}

/// Whether `docs/verify-webhook.py` verifies the post.
fn python_receiver(secret: &str, header: &str, body: &[u8]) -> bool {
    use std::io::Write;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verify-webhook.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .arg(header)
        .env("SECRET", secret)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs the receiver's check");
    child.stdin.take().unwrap().write_all(body).unwrap();
    child.wait().unwrap().success()
}
