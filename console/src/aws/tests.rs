//! The console's pages on a stack's adapters against moto (S3, Secrets Manager, Step Functions)
//! and the Autopilot sandbox: set up, data matching and segments from a snapshot object, Export
//! now starts an execution named after the export; and a destination whose URL is rewritten in
//! the bucket to a host the stack does not allow is refused by upload-chunk, finalize and the
//! console's Verify before any request leaves.

use super::{connect, Stack};
use crate::runs::{Deployed, Runs};
use crate::security::Token;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use axum::Router;
use std::sync::Arc;
use tower::ServiceExt;

const KEY: &str = "console-aws-test-key-5521";

struct Setup {
    app: Router,
    /// The dependencies the stack's functions use (the console's own).
    deps: shared::Deps,
    sfn: aws_sdk_sfn::Client,
    machine: String,
    s3: aws_sdk_s3::Client,
    bucket: String,
    _sandbox: sandbox::Sandbox,
}

async fn setup() -> Setup {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "this test needs moto: run it through scripts/test"
    );
    let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let bucket = format!("console-{}", fastrand::u32(..));
    let sdk = aws_adapters::sdk_config().await;
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    let machine = sfn
        .create_state_machine()
        .name(format!("export-{}", fastrand::u32(..)))
        .definition(r#"{"StartAt":"Done","States":{"Done":{"Type":"Succeed"}}}"#)
        .role_arn("arn:aws:iam::123456789012:role/export")
        .send()
        .await
        .unwrap()
        .state_machine_arn()
        .to_string();
    let stack = Stack {
        data_bucket: bucket.clone(),
        state_machine_arn: machine.clone(),
        snapshot_bucket: bucket.clone(),
        snapshot_prefix: "snapshots/".into(),
        allowed_hosts: vec![format!("http://{}", sandbox.addr())],
        secret_prefix: format!("console-{}/", fastrand::u32(..)),
        force_path_style: true,
    };
    let mut settings = aws_adapters::Settings::new(&bucket);
    settings.force_path_style = true;
    let s3 = aws_adapters::s3_client(&sdk, &settings);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("snapshots/VIP Customers.csv")
        .body(
            b"email,given_name\nana@example.com,Ana\nben@example.com,Ben\n"
                .to_vec()
                .into(),
        )
        .send()
        .await
        .unwrap();
    let connected = connect(&stack).await.unwrap();
    let deps = connected.deps.clone();
    let app = crate::routes::router(Arc::new(crate::State {
        options: crate::Options {
            deps: connected.deps,
            data_dir: std::env::temp_dir(),
            snapshots: crate::app::Segments::S3(connected.segments),
            deployed: Some(connected.launcher.clone()),
            boundary: connected.boundary,
            api_url: sandbox.base_url(),
            listen: [127, 0, 0, 1].into(),
            port: 0,
            tls: None,
            readable_traffic: false,
            current_user: None,
            schedule: None,
        },
        token: Token::from_text("secret-token"),
        exports: Runs::Deployed(Deployed::new(connected.launcher)),
        checks: Default::default(),
    }));
    Setup {
        app,
        deps,
        sfn,
        machine,
        s3,
        bucket,
        _sandbox: sandbox,
    }
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    let request = Request::get(uri)
        .header(header::COOKIE, "autopilot_console=secret-token")
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn post(app: &Router, uri: &str, form: &str) -> Response {
    let request = Request::post(uri)
        .header(header::COOKIE, "autopilot_console=secret-token")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap();
    app.clone().oneshot(request).await.unwrap()
}

fn location(response: &Response) -> &str {
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{response:?}");
    response.headers()[header::LOCATION].to_str().unwrap()
}

/// The export id in the destination page's progress card.
fn shown_export_id(page: &str) -> Option<&str> {
    let start = page.find("class=\"export-id\">")? + "class=\"export-id\">".len();
    page[start..].split('<').next()
}

/// Connects the sandbox as "Moto Shop" through the pages, its segment the snapshot object.
async fn connect_moto_shop(s: &Setup) {
    let connect_form = format!(
        "display_name=Moto+Shop&api_key={KEY}&agree=on&autopilot_url={}",
        url::form_urlencoded::byte_serialize(s._sandbox.base_url().as_bytes()).collect::<String>()
    );
    let connected = post(&s.app, "/setup", &connect_form).await;
    assert_eq!(location(&connected), "/destinations/moto-shop/export-user");
    let user = post(
        &s.app,
        "/destinations/moto-shop/export-user",
        "export_user=ana",
    )
    .await;
    assert_eq!(location(&user), "/destinations/moto-shop/matching");
    // The segment and its columns come from the snapshot object in S3.
    let (status, matching) = get(&s.app, "/destinations/moto-shop/matching").await;
    assert_eq!(status, StatusCode::OK);
    assert!(matching.contains("VIP Customers"), "{matching}");
    assert!(matching.contains("given_name"), "{matching}");
    let saved = post(
        &s.app,
        "/destinations/moto-shop/matching",
        "email=email&first_name=given_name&segment=VIP+Customers",
    )
    .await;
    assert_eq!(location(&saved), "/destinations/moto-shop?done=saved");
}

#[tokio::test]
async fn export_now_on_a_stack_starts_an_execution_named_after_the_export() {
    let s = setup().await;
    // A host the stack does not allow is refused before the key is sent anywhere, as by its API.
    let outside = format!(
        "display_name=Outside&api_key={KEY}&agree=on&autopilot_url=https%3A%2F%2Fattacker.example%2Fv1"
    );
    let refused = post(&s.app, "/setup", &outside).await;
    assert_ne!(refused.status(), StatusCode::SEE_OTHER);
    let body = axum::body::to_bytes(refused.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("AllowedAutopilotHosts"), "{body}");
    connect_moto_shop(&s).await;

    let started = post(&s.app, "/destinations/moto-shop/export", "").await;
    assert_eq!(location(&started), "/destinations/moto-shop");
    let (_, page) = get(&s.app, "/destinations/moto-shop").await;
    assert!(page.contains("Exporting…"), "{page}");
    let export_id = shown_export_id(&page).expect("the page shows the running export");
    let executions = s
        .sfn
        .list_executions()
        .state_machine_arn(&s.machine)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = executions.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, [export_id]);

    // A second Export now is refused while it runs.
    let again = post(&s.app, "/destinations/moto-shop/export", "").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_url_rewritten_outside_the_stack_after_the_plan_is_refused_before_any_request() {
    use shared::destination::{keys, Destination};
    use shared::jobs::{finalize, lock, plan, upload_chunk};
    use shared::store::{get_json, put_json};
    let s = setup().await;
    let attacker = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    connect_moto_shop(&s).await;
    let deps = &s.deps;
    // A first export, so that there is a baseline to verify.
    let first = shared::app::local_export::run(
        deps,
        &shared::app::local_export::Options::new("moto-shop"),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(first.totals.sent, 2);

    // The next export is planned as the export function plans it...
    s.s3.put_object()
        .bucket(&s.bucket)
        .key("snapshots/VIP Customers.csv")
        .body(
            b"email,given_name\nana@example.com,Ana\nben@example.com,Ben\ncy@example.com,Cy\n"
                .to_vec()
                .into(),
        )
        .send()
        .await
        .unwrap();
    let export_id = plan::new_export_id();
    lock::acquire(deps, "moto-shop", &export_id).await.unwrap();
    let planned = plan::run(
        plan::Input {
            destination_id: "moto-shop".into(),
            export_id: Some(export_id.clone()),
            ..plan::Input::default()
        },
        deps,
    )
    .await
    .unwrap();
    assert!(!planned.chunks.is_empty());

    // ... then someone with write access to the bucket points the destination elsewhere.
    let store = deps.store.as_ref();
    let mut destination: Destination = get_json(store, &keys::destination("moto-shop"))
        .await
        .unwrap()
        .unwrap();
    destination.api_url = attacker.base_url();
    put_json(store, &keys::destination("moto-shop"), &destination)
        .await
        .unwrap();
    let asked = s._sandbox.counters().requests;

    let upload = upload_chunk::Input {
        destination_id: "moto-shop".into(),
        export_id: export_id.clone(),
        chunk: 0,
        requests_per_second: None,
        deadline: None,
        on_request: None,
    };
    let err = upload_chunk::run(upload, deps).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidInput", "{err}");
    assert!(err.to_string().contains("AllowedAutopilotHosts"), "{err}");

    let input = finalize::Input {
        destination_id: "moto-shop".into(),
        export_id: export_id.clone(),
        failure: None,
    };
    let finalized = finalize::run(input, deps).await.unwrap();
    let report: finalize::Report = get_json(store, &finalized.report_key)
        .await
        .unwrap()
        .unwrap();
    let light = report.light_verify.expect("the light verify ran");
    assert_eq!(light.requests, 0);
    for list in &light.lists {
        let why = list.not_checked.as_deref().unwrap_or_default();
        assert!(
            why.starts_with("InvalidInput") && why.contains("AllowedAutopilotHosts"),
            "{why}"
        );
    }

    let verify = post(&s.app, "/destinations/moto-shop/verify", "").await;
    assert_eq!(location(&verify), "/destinations/moto-shop#verify");
    for _ in 0..500 {
        let (_, running) = get(&s.app, "/destinations/moto-shop/verify").await;
        if running.contains("\"running\":false") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (_, page) = get(&s.app, "/destinations/moto-shop").await;
    assert!(page.contains("AllowedAutopilotHosts"), "{page}");

    assert_eq!(
        attacker.counters().requests,
        0,
        "nothing reached the rewritten URL"
    );
    assert_eq!(s._sandbox.counters().requests, asked, "nor the old one");
}
