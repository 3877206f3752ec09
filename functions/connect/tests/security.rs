//! The HTTP API's handler on moto as a caller who may call it but may not read the buckets
//! would use it (issue 9).

mod common;

use common::{call, setup, KEY, PRINCIPAL};
use serde_json::{json, Value};
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
