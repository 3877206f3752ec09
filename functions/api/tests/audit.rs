//! The audit trail on moto: every state-changing call is recorded under the IAM principal API
//! Gateway authenticated, whatever the body says, and `GET /destinations/{id}/exports` shows the
//! trail beside the exports. (A verification's start is recorded too: `routes.rs`.)
// Runs only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#![cfg(feature = "moto-tests")]

mod common;

use api::Caller;
use common::{setup, KEY, PRINCIPAL};
use serde_json::{json, Value};

const BOB: &str = "arn:aws:iam::123456789012:user/bob";
const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/scheduler/ops";

async fn call_as(setup: &common::Setup, who: &str, method: &str, path: &str, body: Value) -> Value {
    let caller = Caller {
        request_id: "req-audit".into(),
        principal: Some(who.into()),
    };
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let answer = setup.api.handle(method, path, &bytes, &caller).await;
    assert!(answer.status < 300, "{method} {path}: {}", answer.body);
    assert!(!answer.body.to_string().contains(KEY));
    answer.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_names_the_caller_of_each_call_and_a_body_cannot_impersonate() {
    let setup = setup(&["second-key-0123"]).await;
    let url = setup.sandbox.base_url();
    // The body names someone else: it stays a label; the caller is the principal.
    let connect = json!({"display_name": "Main", "api_key": KEY, "consent": true, "api_url": url, "export_user": BOB});
    call_as(&setup, PRINCIPAL, "POST", "/destinations", connect).await;
    let read = call_as(&setup, BOB, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(
        read["consent"]["export_user"], PRINCIPAL,
        "not the body's name"
    );

    setup
        .put("snapshots/vip.csv", "email\na@example.com\n")
        .await;
    let source = format!("s3://{}/snapshots/vip.csv", setup.bucket());
    let configure = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": source}]});
    call_as(&setup, BOB, "PUT", "/destinations/main", configure).await;
    let rotate = json!({"api_key": "second-key-0123"});
    call_as(&setup, ROLE, "PUT", "/destinations/main/key", rotate).await;
    let export = call_as(&setup, BOB, "POST", "/destinations/main/exports", json!({})).await;
    let export_id = export["export_id"].as_str().unwrap().to_string();
    // A dry run changes nothing and is not recorded.
    call_as(
        &setup,
        BOB,
        "POST",
        "/destinations/main/exports",
        json!({"dry_run": true}),
    )
    .await;

    let history = call_as(
        &setup,
        BOB,
        "GET",
        "/destinations/main/exports",
        Value::Null,
    )
    .await;
    let trail: Vec<(String, String)> = history["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["caller"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("export", BOB),
        ("rotate_key", ROLE),
        ("configure", BOB),
        ("connect", PRINCIPAL),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, c)| (a.to_string(), c.to_string()))
        .collect();
    assert_eq!(trail, expected, "{}", history["audit"]);
    let entries = history["audit"].as_array().unwrap();
    assert_eq!(entries[3]["label"], BOB, "the body's name is only a label");
    assert!(entries[0]["details"].as_str().unwrap().contains(&export_id));
    let text = history["audit"].to_string();
    assert!(
        !text.contains("a@example.com") && !text.contains("second-key"),
        "{text}"
    );

    call_as(
        &setup,
        PRINCIPAL,
        "DELETE",
        "/destinations/main",
        Value::Null,
    )
    .await;
    let removals = setup.api.deps.store.list("audit/removed/").await.unwrap();
    assert_eq!(removals.len(), 1, "{removals:?}");
    let record: Value =
        serde_json::from_slice(&setup.api.deps.store.get(&removals[0]).await.unwrap()).unwrap();
    assert_eq!(
        (record["action"].as_str(), record["caller"].as_str()),
        (Some("remove"), Some(PRINCIPAL))
    );
    assert!(
        setup
            .api
            .deps
            .store
            .list("state/main/")
            .await
            .unwrap()
            .is_empty(),
        "the destination's own trail goes with it"
    );
}
