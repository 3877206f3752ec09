//! The HTTP API's handler on moto as a caller who may call it but may not read the buckets
//! would use it (issue 9).

mod common;

use async_trait::async_trait;
use bytes::Bytes;
use common::{call, setup, KEY, PRINCIPAL};
use serde_json::{json, Value};
use shared::secrets::SecretStore;
use shared::store::{ObjectStore, StoreError};
use std::sync::Arc;

fn connect_body(url: &str) -> Value {
    json!({"display_name": "Main", "api_key": KEY, "consent": true, "autopilot_url": url})
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
    setup.api.executions =
        shared::aws::Executions::new(aws_sdk_sfn::Client::new(&setup.sdk), missing);
    let failed = call(&setup.api, "POST", "/destinations/main/exports", json!({})).await;
    // A bucket that does not exist.
    setup.api.deps.store = Arc::new(shared::aws::S3Store::new(
        setup.s3.clone(),
        "no-such-bucket-for-api-test",
    ));
    let unreadable = call(&setup.api, "GET", "/destinations", Value::Null).await;
    for answer in [failed, unreadable] {
        assert_eq!(
            (answer.status, answer.body["error"].as_str()),
            (502, Some("Transient")),
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
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_user_is_the_calling_principal_unless_the_body_names_one() {
    let setup = setup(&[]).await;
    let url = setup.sandbox.base_url();
    call(&setup.api, "POST", "/destinations", connect_body(&url)).await;
    let named = json!({"display_name": "Named", "api_key": KEY, "consent": true, "autopilot_url": url, "export_user": "marketing-ops"});
    call(&setup.api, "POST", "/destinations", named).await;
    let main = call(&setup.api, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(main.body["consent"]["export_user"], PRINCIPAL);
    let named = call(&setup.api, "GET", "/destinations/named", Value::Null).await;
    assert_eq!(named.body["consent"]["export_user"], "marketing-ops");
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
