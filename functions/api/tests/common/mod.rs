//! The HTTP API's handler on moto (S3, Secrets Manager, Step Functions) and the sandbox, with the
//! boundary a deployment has: the sandbox as its one allowed host besides Autopilot's, and
//! segments under `snapshots/` of the bucket.
#![allow(dead_code)]

use api::{Answer, Api, Caller};
use aws_adapters::{s3_client, sdk_config, Executions, SecretsManagerSecrets, Settings};
use serde_json::Value;
use std::sync::Arc;

pub const KEY: &str = "api-test-key-7731";
pub const PRINCIPAL: &str = "arn:aws:iam::123456789012:user/alice";

pub struct Setup {
    pub api: Api,
    pub sandbox: sandbox::Sandbox,
    pub s3: aws_sdk_s3::Client,
    pub sdk: aws_config::SdkConfig,
    pub settings: Settings,
}

impl Setup {
    pub fn bucket(&self) -> &str {
        &self.settings.data_bucket
    }

    pub fn secrets(&self) -> SecretsManagerSecrets {
        SecretsManagerSecrets::new(
            aws_sdk_secretsmanager::Client::new(&self.sdk),
            &self.settings.secret_prefix,
        )
    }

    pub async fn put(&self, key: &str, body: &str) {
        self.s3
            .put_object()
            .bucket(self.bucket())
            .key(key)
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

/// The sandbox's origin, as a stack's AllowedAutopilotHosts would list it.
pub fn origin(sandbox: &sandbox::Sandbox) -> String {
    format!("http://{}", sandbox.addr())
}

/// The API on a bucket of its own; the sandbox accepts [`KEY`] and `other_keys`.
pub async fn setup(other_keys: &[&str]) -> Setup {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "these tests need moto: run them through scripts/test"
    );
    let config = sandbox::SandboxConfig {
        api_keys: std::iter::once(&KEY)
            .chain(other_keys)
            .map(|k| k.to_string())
            .collect(),
        ..sandbox::SandboxConfig::with_key(KEY)
    };
    let sandbox = sandbox::Sandbox::start(config, 0).await.unwrap();
    let bucket = format!("api-{}", fastrand::u32(..));
    let settings = Settings {
        force_path_style: true,
        secret_prefix: format!("api-{}/", fastrand::u32(..)),
        allowed_autopilot_hosts: vec![origin(&sandbox)],
        snapshot_bucket: Some(bucket.clone()),
        snapshot_prefix: "snapshots/".into(),
        ..Settings::new(&bucket)
    };
    let sdk = sdk_config().await;
    let s3 = s3_client(&sdk, &settings);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn
        .create_state_machine()
        .name(format!("export-{}", fastrand::u32(..)))
        .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/export")
        .send()
        .await
        .unwrap();
    let boundary = settings.boundary().unwrap();
    // The dependencies the functions build.
    let deps = aws_adapters::deps(&sdk, &settings).unwrap();
    let api = Api {
        deps,
        launcher: Arc::new(Executions::new(sfn, machine.state_machine_arn())),
        default_requests_per_second: Some(25.0),
        boundary,
    };
    Setup {
        api,
        sandbox,
        s3,
        sdk,
        settings,
    }
}

pub fn caller() -> Caller {
    Caller {
        request_id: "req-7f3a".into(),
        principal: Some(PRINCIPAL.into()),
    }
}

/// One request; checks that no answer echoes a key and that every error is JSON.
pub async fn call(api: &Api, method: &str, path: &str, body: Value) -> Answer {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let answer = api.handle(method, path, &bytes, &caller()).await;
    assert!(
        !answer.body.to_string().contains(KEY),
        "{method} {path} echoed the key: {}",
        answer.body
    );
    if answer.status >= 400 {
        assert!(
            answer.body["error"].is_string() && answer.body["message"].is_string(),
            "{}",
            answer.body
        );
    }
    answer
}
