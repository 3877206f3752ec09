//! The HTTP API's handler on moto as a caller who may call it but may not read the buckets
//! would use it.
// Runs only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#![cfg(feature = "moto-tests")]

mod common;

use async_trait::async_trait;
use bytes::Bytes;
use common::{call, setup, Setup, KEY, PRINCIPAL};
use serde_json::{json, Value};
use shared::secrets::{SecretError, SecretStore};
use shared::store::{ObjectStore, StoreError};
use std::sync::Arc;

fn connect_body(url: &str) -> Value {
    json!({"display_name": "Main", "api_key": KEY, "consent": true, "autopilot_url": url})
}

async fn nothing_stored(setup: &Setup) {
    let destinations = setup.api.deps.store.list("destinations/").await.unwrap();
    assert!(destinations.is_empty(), "{destinations:?}");
    assert!(matches!(
        setup.secrets().get("main").await,
        Err(SecretError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_failures_answer_a_request_id_not_aws_text() {
    let mut setup = setup(&[]).await;
    let url = setup.sandbox.base_url();
    assert_eq!(
        call(&setup.api, "POST", "/destinations", connect_body(&url))
            .await
            .status,
        201
    );
    setup
        .put("snapshots/vip.csv", "email\na@example.com\n")
        .await;
    let bucket = setup.bucket().to_string();
    let configure = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": format!("s3://{bucket}/snapshots/vip.csv")}]});
    assert_eq!(
        call(&setup.api, "PUT", "/destinations/main", configure)
            .await
            .status,
        200
    );
    // A state machine that does not exist: AWS's answer names it by ARN.
    let missing = "arn:aws:states:us-east-1:123456789012:stateMachine:gone";
    setup.api.launcher = Arc::new(aws_adapters::Executions::new(
        aws_sdk_sfn::Client::new(&setup.sdk),
        missing,
    ));
    let failed = call(&setup.api, "POST", "/destinations/main/exports", json!({})).await;
    // A bucket that does not exist.
    setup.api.deps.store = Arc::new(aws_adapters::S3Store::new(
        setup.s3.clone(),
        "no-such-bucket-for-api-test",
    ));
    let unreadable = call(&setup.api, "GET", "/destinations", Value::Null).await;
    // Neither is worth trying again: the deployment is wrong, and the answer says so.
    for answer in [failed, unreadable] {
        assert_eq!(
            (answer.status, answer.body["error"].as_str()),
            (500, Some("Internal")),
            "{}",
            answer.body
        );
        let text = answer.body.to_string();
        assert!(
            !text.contains("arn:") && !text.contains("no-such-bucket"),
            "{text}"
        );
        assert_eq!(answer.body["request_id"], "req-7f3a", "{text}");
        assert!(text.contains("req-7f3a"), "{text}");
    }
    // An S3 that does not answer: worth trying again, and the answer says so.
    let down = aws_sdk_s3::config::Builder::from(&setup.sdk)
        .endpoint_url("http://127.0.0.1:9")
        .force_path_style(true)
        .build();
    setup.api.deps.store = Arc::new(aws_adapters::S3Store::new(
        aws_sdk_s3::Client::from_conf(down),
        &bucket,
    ));
    let answer = call(&setup.api, "GET", "/destinations", Value::Null).await;
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (502, Some("Transient")),
        "{}",
        answer.body
    );
}

/// A store that always says a destination does not exist yet: what a connect sees when another
/// connect with the same name writes between its check and its write.
struct RacingStore(Arc<dyn ObjectStore>);

#[async_trait]
impl ObjectStore for RacingStore {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        self.0.get(key).await
    }
    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        self.0.put(key, data).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.0.list(prefix).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await
    }
    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        self.0.put_if_absent(key, data).await
    }
    async fn delete_versions(&self, prefix: &str) -> Result<usize, StoreError> {
        self.0.delete_versions(prefix).await
    }
    async fn exists(&self, _key: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_that_loses_the_race_stores_nothing() {
    const OTHER: &str = "api-test-key-of-another-account";
    let mut setup = setup(&[OTHER]).await;
    setup.api.deps.store = Arc::new(RacingStore(setup.api.deps.store.clone()));
    let url = setup.sandbox.base_url();
    let first = call(&setup.api, "POST", "/destinations", connect_body(&url)).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let second = json!({"display_name": "Main", "api_key": OTHER, "consent": true, "autopilot_url": url, "export_user": "mallory"});
    let lost = call(&setup.api, "POST", "/destinations", second).await;
    assert_eq!(
        (lost.status, lost.body["error"].as_str()),
        (409, Some("AlreadyExists")),
        "{}",
        lost.body
    );
    use secrecy::ExposeSecret;
    let key = setup.secrets().get("main").await.unwrap();
    assert_eq!(key.expose_secret(), KEY, "the winner's key stays");
    let read = call(&setup.api, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(read.body["consent"]["export_user"], PRINCIPAL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_outside_the_deployment_is_refused_and_nothing_is_stored() {
    let setup = setup(&[]).await;
    // A server of the caller's own that would accept the key and answer like Autopilot.
    let attacker = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    for url in [
        "https://attacker.example/v1".to_string(),
        attacker.base_url(),
        "http://api2.autopilothq.com/v1".to_string(),
        format!("https://api2.autopilothq.com@{}/v1", attacker.addr()),
    ] {
        let refused = call(&setup.api, "POST", "/destinations", connect_body(&url)).await;
        assert_eq!(
            (refused.status, refused.body["error"].as_str()),
            (400, Some("InvalidInput")),
            "{url}: {}",
            refused.body
        );
        let message = refused.body["message"].as_str().unwrap();
        assert!(
            message.contains("https://api2.autopilothq.com")
                && message.contains(&common::origin(&setup.sandbox)),
            "names what is allowed: {message}"
        );
        nothing_stored(&setup).await;
    }
    assert_eq!(attacker.counters().requests, 0, "the key never left");
    let allowed = call(
        &setup.api,
        "POST",
        "/destinations",
        connect_body(&setup.sandbox.base_url()),
    )
    .await;
    assert_eq!(allowed.status, 201, "{}", allowed.body);
    // The URL of a connected destination cannot be changed: remove it and connect again.
    let moved = call(
        &setup.api,
        "PUT",
        "/destinations/main",
        json!({"data_matching": {"email": "email"}, "segments": [], "autopilot_url": attacker.base_url()}),
    )
    .await;
    assert_eq!(moved.status, 400, "{}", moved.body);
    assert!(moved.body["message"]
        .as_str()
        .unwrap()
        .contains("cannot be changed"));
    let neutral = call(
        &setup.api,
        "PUT",
        "/destinations/main",
        json!({"data_matching": {"email": "email"}, "segments": [], "api_url": attacker.base_url()}),
    )
    .await;
    assert_eq!(neutral.status, 400, "{}", neutral.body);
    let read = call(&setup.api, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(read.body["api_url"], setup.sandbox.base_url());
    assert_eq!(read.body["api"], "autopilot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_outside_the_snapshot_prefix_is_refused_naming_it() {
    let setup = setup(&[]).await;
    let created = call(
        &setup.api,
        "POST",
        "/destinations",
        connect_body(&setup.sandbox.base_url()),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let bucket = setup.bucket().to_string();
    setup
        .put(
            "exports/main/e1/rejected.csv",
            "email\nsecret@example.com\n",
        )
        .await;
    for source in [
        "s3://other-bucket/snapshots/vip.csv".to_string(),
        format!("s3://{bucket}/exports/main/e1/rejected.csv"),
        format!("s3://{bucket}/state/main/baseline.json"),
        format!("s3://{bucket}/snapshots/../exports/main/e1/rejected.csv"),
        "/var/task/vip.csv".to_string(),
    ] {
        let body = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": source}]});
        let refused = call(&setup.api, "PUT", "/destinations/main", body).await;
        assert_eq!(refused.status, 400, "{source}: {}", refused.body);
        let message = refused.body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("s3://{bucket}/snapshots/…")) && message.contains("VIP"),
            "{source}: {message}"
        );
    }
    let kept = call(&setup.api, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(kept.body["segments"], json!([]), "nothing changed");

    // The reader refuses too, whatever a stored destination says.
    let snapshots = setup.api.deps.snapshots.clone();
    let source = format!("s3://{bucket}/exports/main/e1/rejected.csv");
    let err = tokio::task::spawn_blocking(move || snapshots.open(&source).err())
        .await
        .unwrap()
        .expect("refused");
    assert!(err.message().contains("outside the snapshots"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_stored_outside_the_deployment_gets_no_key_and_no_export() {
    let setup = setup(&[]).await;
    let attacker = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let bucket = setup.bucket();
    let stored = json!({
        "id": "old", "display_name": "Old", "autopilot_url": attacker.base_url(),
        "account_name": null,
        "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "someone"},
        "created_at": "2026-01-01T00:00:00Z",
        "data_matching": {"email": "email"},
        "segments": [{"name": "Taken", "source": format!("s3://{bucket}/exports/x/rejected.csv")}],
    });
    setup
        .put("destinations/old.json", &stored.to_string())
        .await;
    let rotated = call(
        &setup.api,
        "PUT",
        "/destinations/old/key",
        json!({"api_key": KEY}),
    )
    .await;
    assert_eq!(rotated.status, 400, "{}", rotated.body);
    for body in [json!({}), json!({"dry_run": true})] {
        let export = call(&setup.api, "POST", "/destinations/old/exports", body).await;
        assert_eq!(export.status, 400, "{}", export.body);
    }
    assert_eq!(attacker.counters().requests, 0);
}
