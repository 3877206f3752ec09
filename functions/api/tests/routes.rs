//! The HTTP routing on the local adapters (a folder, owner-only key files, local snapshots) and a
//! launcher that only remembers what it was asked: no AWS service involved. The AWS adapters are
//! tried on moto by `api.rs` and `security.rs`.

mod common;

use api::Api;
use async_trait::async_trait;
use common::{call, KEY};
use serde_json::{json, Value};
use shared::app::launcher::{ExportLauncher, ExportRequest, Launch, RunState};
use shared::destination::Boundary;
use shared::jobs::plan::Trigger;
use shared::jobs::{ClientSettings, Clients};
use shared::{csv_snapshot::LocalFiles, secrets::FileSecrets, store::LocalStore, Deps, JobError};
use std::sync::{Arc, Mutex};

/// Starts nothing: keeps each request under its name; every export it knows is running.
#[derive(Default)]
struct Remembers(Mutex<Vec<(String, ExportRequest)>>);

#[async_trait]
impl ExportLauncher for Remembers {
    async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError> {
        self.0.lock().unwrap().push((name.into(), request.clone()));
        Ok(Launch::Started)
    }

    async fn state(&self, name: &str) -> Result<RunState, JobError> {
        let known = self.0.lock().unwrap().iter().any(|(n, _)| n == name);
        Ok(if known {
            RunState::Running
        } else {
            RunState::Unknown
        })
    }
}

#[tokio::test]
async fn routes_answer_through_the_use_cases_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let launcher = Arc::new(Remembers::default());
    let api = Api {
        deps: Deps {
            store: Arc::new(LocalStore::new(dir.path().join("data"))),
            secrets: Arc::new(FileSecrets::new(dir.path().join("data/secrets"))),
            snapshots: Arc::new(LocalFiles),
            clients: Arc::new(Clients::new(ClientSettings::default())),
        },
        launcher: launcher.clone(),
        default_requests_per_second: Some(25.0),
        boundary: Boundary::anywhere(),
    };
    let api = &api;
    assert_eq!(call(api, "GET", "/nowhere", Value::Null).await.status, 404);
    assert_eq!(
        call(api, "PATCH", "/destinations", Value::Null)
            .await
            .status,
        405
    );

    let body = json!({"display_name": "Main", "api_key": KEY, "consent": true, "autopilot_url": sandbox.base_url()});
    assert_eq!(call(api, "POST", "/destinations", body).await.status, 201);
    let early = call(api, "POST", "/destinations/main/exports", Value::Null).await;
    assert_eq!(
        (early.status, early.body["error"].as_str()),
        (422, Some("NotConfigured"))
    );
    assert!(launcher.0.lock().unwrap().is_empty(), "nothing started");

    let snapshot = dir.path().join("vip.csv");
    std::fs::write(&snapshot, "email\na@example.com\n").unwrap();
    let configure = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": snapshot.display().to_string()}]});
    assert_eq!(
        call(api, "PUT", "/destinations/main", configure)
            .await
            .status,
        200
    );

    let started = call(
        api,
        "POST",
        "/destinations/main/exports",
        json!({"full": true}),
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.body);
    let export_id = started.body["export_id"].as_str().unwrap().to_string();
    let asked = launcher.0.lock().unwrap().clone();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].0, export_id, "the export is started under its id");
    assert_eq!(
        asked[0].1,
        ExportRequest {
            destination_id: "main".into(),
            full: true,
            override_guardrails: false,
            trigger: Trigger::Api,
        }
    );
    let status = call(
        api,
        "GET",
        &format!("/destinations/main/exports/{export_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status.body["status"], "running", "{}", status.body);
    let unknown = call(
        api,
        "GET",
        "/destinations/main/exports/20260101T000000Z-000000",
        Value::Null,
    )
    .await;
    assert_eq!(unknown.status, 404);
    let history = call(api, "GET", "/destinations/main/exports", Value::Null).await;
    assert_eq!(history.body, json!({"exports": [], "next": null}));
}
