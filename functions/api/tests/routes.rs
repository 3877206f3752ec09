//! The HTTP routing on the local adapters (a folder, owner-only key files, local snapshots) and a
//! launcher that only remembers what it was asked: no AWS service involved. The AWS adapters are
//! tried on moto by `api.rs` and `security.rs`.

mod common;

use api::Api;
use async_trait::async_trait;
use common::{call, KEY};
use serde_json::{json, Value};
use shared::app::launcher::{ExportLauncher, ExportRequest, Launch, RunState};
use shared::app::verify::job::{self, VerifyRequest};
use shared::app::verify::{self, Verified};
use shared::audience_api::{ApiFactory, ClientSettings};
use shared::destination::Boundary;
use shared::jobs::plan::Trigger;
use shared::{secrets::FileSecrets, snapshot::LocalFiles, store::LocalStore, Deps, JobError};
use std::sync::{Arc, Mutex};

/// Starts nothing: keeps each request under its name; every export it knows is running, and
/// every verification until it is told it ended.
#[derive(Default)]
struct Remembers(
    Mutex<Vec<(String, ExportRequest)>>,
    Mutex<Vec<(String, VerifyRequest, RunState)>>,
);

#[async_trait]
impl ExportLauncher for Remembers {
    async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError> {
        self.0.lock().unwrap().push((name.into(), request.clone()));
        Ok(Launch::Started)
    }

    async fn state(&self, name: &str) -> Result<RunState, JobError> {
        let known = self.0.lock().unwrap().iter().any(|(n, _)| n == name);
        let verification = self
            .1
            .lock()
            .unwrap()
            .iter()
            .find(|v| v.0 == name)
            .map(|v| v.2);
        Ok(match (known, verification) {
            (true, _) => RunState::Running,
            (false, Some(state)) => state,
            (false, None) => RunState::Unknown,
        })
    }

    async fn start_verification(
        &self,
        name: &str,
        request: &VerifyRequest,
    ) -> Result<Launch, JobError> {
        let run = (name.to_string(), request.clone(), RunState::Running);
        self.1.lock().unwrap().push(run);
        Ok(Launch::Started)
    }
}

impl Remembers {
    fn verifications(&self) -> Vec<(String, VerifyRequest, RunState)> {
        self.1.lock().unwrap().clone()
    }
}

/// The API on a folder of `dir`, starting runs through `launcher`.
fn local_api(dir: &std::path::Path, launcher: Arc<Remembers>) -> Api {
    Api {
        deps: Deps {
            store: Arc::new(LocalStore::new(dir.join("data"))),
            secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
            snapshots: Arc::new(LocalFiles),
            apis: Arc::new(ApiFactory::new(ClientSettings::default())),
        },
        launcher,
        default_requests_per_second: Some(25.0),
        boundary: Boundary::anywhere(),
    }
}

#[tokio::test]
async fn routes_answer_through_the_use_cases_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let launcher = Arc::new(Remembers::default());
    let api = &local_api(dir.path(), launcher.clone());
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
    assert_eq!(
        (&history.body["exports"], &history.body["next"]),
        (&json!([]), &Value::Null)
    );
    assert_eq!(
        history.body["audit"][0]["action"], "export",
        "{}",
        history.body
    );
}

/// A verification's progress while its steps run (here by hand, as the launcher would), then the
/// same document as the command's `verify --json`, with its id and status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_is_started_then_read_running_then_with_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let launcher = Arc::new(Remembers::default());
    let api = &local_api(dir.path(), launcher.clone());
    let verify = |id: &str, body: Value| {
        let path = format!("/destinations/{id}/verify");
        async move { call(api, "POST", &path, body).await }
    };
    let unknown = verify("nobody", Value::Null).await;
    assert_eq!(
        (unknown.status, unknown.body["error"].as_str()),
        (404, Some("NotFound"))
    );

    let body = json!({"display_name": "Main", "api_key": KEY, "consent": true,
                      "autopilot_url": sandbox.base_url(), "requests_per_second": 1000});
    assert_eq!(call(api, "POST", "/destinations", body).await.status, 201);
    let early = verify("main", Value::Null).await;
    assert_eq!(
        (early.status, early.body["error"].as_str()),
        (422, Some("NotConfigured"))
    );
    let snapshot = dir.path().join("vip.csv");
    let rows: String = (0..250).map(|i| format!("p{i}@example.com\n")).collect();
    std::fs::write(&snapshot, format!("email\n{rows}")).unwrap();
    let configure = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": snapshot.display().to_string()}]});
    assert_eq!(
        call(api, "PUT", "/destinations/main", configure)
            .await
            .status,
        200
    );
    let unexported = verify("main", Value::Null).await;
    assert_eq!(unexported.status, 422, "{}", unexported.body);
    assert!(launcher.verifications().is_empty(), "nothing started");

    let options = shared::app::local_export::Options::new("main");
    shared::app::local_export::run(&api.deps, &options, &|_| {})
        .await
        .expect("exported");
    let list = sandbox.state().list("VIP").unwrap().list_id.clone();
    assert!(sandbox.remove_member_by_hand(&list, "p7@example.com"));

    // While an export runs, no verification starts.
    shared::jobs::lock::acquire(&api.deps, "main", "20261130T000000Z-000001")
        .await
        .unwrap();
    let exporting = verify("main", json!({"repair": false})).await;
    assert_eq!(
        (exporting.status, exporting.body["error"].as_str()),
        (409, Some("ExportRunning"))
    );
    shared::jobs::lock::release(&api.deps, "main", "20261130T000000Z-000001")
        .await
        .unwrap();

    assert_eq!(verify("main", json!({"repair": "yes"})).await.status, 400);
    let started = verify("main", json!({"repair": false})).await;
    assert_eq!(started.status, 202, "{}", started.body);
    let vid = started.body["verification_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(started.body["status"], "running");
    let status_url = format!("/destinations/main/verifications/{vid}");
    assert_eq!(started.body["status_url"], status_url.as_str());
    let asked = launcher.verifications();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (asked[0].0.as_str(), asked[0].1.repair),
        (vid.as_str(), false)
    );
    let again = verify("main", Value::Null).await;
    assert_eq!(
        (again.status, again.body["error"].as_str()),
        (409, Some("AlreadyExists"))
    );
    // The start is in the audit trail under its caller; the refused second one is not.
    let history = call(api, "GET", "/destinations/main/exports", Value::Null).await;
    let latest = &history.body["audit"][0];
    assert_eq!(
        (latest["action"].as_str(), latest["caller"].as_str()),
        (Some("verify"), Some(common::PRINCIPAL)),
        "{}",
        history.body
    );
    assert!(latest["details"].as_str().unwrap().contains(&vid));
    assert_eq!(history.body["audit"][1]["action"], "configure");

    let read = || async { call(api, "GET", &status_url, Value::Null).await };
    let pending = read().await;
    assert_eq!(
        (pending.status, &pending.body["status"]),
        (200, &json!("running"))
    );
    assert_eq!(pending.body["progress"]["pages"], 0, "{}", pending.body);
    let request = VerifyRequest {
        step_pages: Some(1),
        ..asked[0].1.clone()
    };
    job::step(&api.deps, &request, &vid, request.budget())
        .await
        .unwrap();
    let running = read().await;
    assert_eq!(running.body["status"], "running", "{}", running.body);
    assert_eq!(running.body["progress"]["pages"], 1, "{}", running.body);
    assert_eq!(running.body["progress"]["members"], 100, "{}", running.body);
    while !job::step(&api.deps, &request, &vid, request.budget())
        .await
        .unwrap()
        .done
    {}
    let finished = read().await;
    assert_eq!(finished.body["status"], "succeeded", "{}", finished.body);
    assert_eq!(finished.body["verification_id"], vid.as_str());
    let mut result: Verified = serde_json::from_value(finished.body.clone()).unwrap();
    let mut one_go = verify::foreground::run(&api.deps, "main", false)
        .await
        .unwrap();
    for v in [&mut result, &mut one_go] {
        v.seconds = 0.0;
        v.lists.iter_mut().for_each(|l| l.seconds = 0.0);
    }
    assert_eq!(
        result, one_go,
        "the same document as the command's verify --json"
    );
    assert_eq!((result.lists[0].missing, result.lists[0].present), (1, 249));
    assert!(
        !finished.body.to_string().contains("p7@"),
        "addresses are masked"
    );

    // Done, the destination can be verified again; an id it never had is not found.
    launcher.1.lock().unwrap()[0].2 = RunState::Succeeded;
    assert_eq!(verify("main", json!({"repair": true})).await.status, 202);
    let none = call(
        api,
        "GET",
        "/destinations/main/verifications/nope",
        Value::Null,
    )
    .await;
    assert_eq!(none.status, 404);
    let bad = call(
        api,
        "GET",
        "/destinations/main/verifications/..%2Fx",
        Value::Null,
    )
    .await;
    assert_eq!(bad.status, 404);
    assert_eq!(
        call(
            api,
            "DELETE",
            &format!("/destinations/main/verifications/{vid}"),
            Value::Null
        )
        .await
        .status,
        405
    );
}
