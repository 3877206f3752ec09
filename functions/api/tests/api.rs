//! The HTTP API's handler against moto (S3, Secrets Manager, Step Functions) and the sandbox:
//! every route, JSON 4xx errors for bad bodies, and never an API key in an answer.
// Runs only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#![cfg(feature = "moto-tests")]

mod common;

use common::{call, setup, KEY};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_every_refusal() {
    let setup = setup(&[]).await;
    let (api, sandbox, bucket) = (&setup.api, &setup.sandbox, setup.bucket());
    let connect = json!({"display_name": "Main", "api_key": KEY, "consent": true, "autopilot_url": sandbox.base_url()});

    // Bad bodies: JSON 400s that name the problem, never the values.
    let bad = call(
        api,
        "POST",
        "/destinations",
        json!({"display_name": "Main", "api_key": KEY}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["error"].as_str()),
        (400, Some("InvalidInput"))
    );
    assert!(bad.body["message"]
        .as_str()
        .unwrap()
        .contains("missing field `consent`"));
    let wrong_type = call(
        api,
        "POST",
        "/destinations",
        json!({"display_name": "Main", "api_key": 5, "consent": KEY}),
    )
    .await;
    assert_eq!(wrong_type.status, 400);
    let not_json = api
        .handle(
            "POST",
            "/destinations",
            format!("{{oops {KEY}").as_bytes(),
            &common::caller(),
        )
        .await;
    assert_eq!(not_json.status, 400);
    assert!(!not_json.body.to_string().contains(KEY));
    let no_consent = call(api, "POST", "/destinations", json!({"display_name": "Main", "api_key": KEY, "consent": false, "autopilot_url": sandbox.base_url()})).await;
    assert_eq!(no_consent.status, 400);
    let wrong_key = call(api, "POST", "/destinations", json!({"display_name": "Main", "api_key": "nope", "consent": true, "autopilot_url": sandbox.base_url()})).await;
    assert_eq!(
        (wrong_key.status, wrong_key.body["error"].as_str()),
        (400, Some("Unauthorized"))
    );

    let created = call(api, "POST", "/destinations", connect.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["destination_id"], "main");
    // The neutral name of the URL is taken as well as `autopilot_url`.
    let neutral = json!({"display_name": "Neutral", "api_key": KEY, "consent": true, "api": "autopilot", "api_url": sandbox.base_url()});
    let created = call(api, "POST", "/destinations", neutral).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let read = call(api, "GET", "/destinations/neutral", Value::Null).await;
    assert_eq!(read.body["api_url"], sandbox.base_url());
    assert_eq!(
        call(api, "DELETE", "/destinations/neutral", Value::Null)
            .await
            .status,
        200
    );
    assert_eq!(
        call(api, "POST", "/destinations", connect).await.status,
        409
    );

    let listed = call(api, "GET", "/destinations", Value::Null).await;
    assert_eq!(listed.body["destinations"].as_array().unwrap().len(), 1);
    let read = call(api, "GET", "/destinations/main", Value::Null).await;
    assert_eq!(
        read.body["requests_per_second"], 25.0,
        "the template's default rate"
    );
    assert_eq!(
        (read.status, read.body["display_name"].as_str()),
        (200, Some("Main"))
    );
    assert_eq!(
        call(api, "GET", "/destinations/other", Value::Null)
            .await
            .status,
        404
    );

    // Exporting before configuring is refused.
    assert_eq!(
        call(api, "POST", "/destinations/main/exports", json!({}))
            .await
            .status,
        422
    );

    setup
        .put("snapshots/vip.csv", "email\na@example.com\nb@example.com\n")
        .await;
    let configure = json!({
        "data_matching": {"email": "email"},
        "segments": [{"name": "VIP", "source": format!("s3://{bucket}/snapshots/vip.csv")}],
        "schedule": {"enabled": true},
        "max_removal_percent": 35
    });
    let configured = call(api, "PUT", "/destinations/main", configure).await;
    assert_eq!(configured.status, 200, "{}", configured.body);
    assert_eq!(configured.body["schedule"]["enabled"], true);
    assert_eq!(
        configured.body["guardrails"],
        json!({"max_removal_percent": 35.0, "max_shrink_percent": 50.0})
    );
    let unknown_type = call(api, "PUT", "/destinations/main", json!({"data_matching": {"email": "email", "custom": {"colour--Eyes": "e"}}, "segments": [{"name": "S", "source": "s3://b/k"}]})).await;
    assert_eq!(unknown_type.status, 400);
    let extra_field = call(
        api,
        "PUT",
        "/destinations/main",
        json!({"data_matching": {"email": "email"}, "segments": [], "api_key": KEY}),
    )
    .await;
    assert_eq!(extra_field.status, 400);

    let dry = call(
        api,
        "POST",
        "/destinations/main/exports",
        json!({"dry_run": true}),
    )
    .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["preview"][0]["adds"], 2);
    assert_eq!(
        sandbox.counters().bulk_requests,
        0,
        "a dry run writes nothing"
    );

    let started = call(api, "POST", "/destinations/main/exports", Value::Null).await;
    assert_eq!(started.status, 202, "{}", started.body);
    let export_id = started.body["export_id"].as_str().unwrap().to_string();
    let status = call(
        api,
        "GET",
        &format!("/destinations/main/exports/{export_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.body);
    // moto records the execution without running it: running, nothing planned yet.
    assert_eq!(status.body["status"], "running", "{}", status.body);
    assert_eq!(status.body["progress"]["planned"], false, "{}", status.body);
    assert_eq!(
        call(
            api,
            "GET",
            "/destinations/main/exports/unknown-export",
            Value::Null
        )
        .await
        .status,
        404
    );

    // History: the started export has no report yet, so it is not in it; two finished ones
    // are, newest first, a page at a time.
    let empty = call(api, "GET", "/destinations/main/exports", Value::Null).await;
    assert_eq!(
        (empty.status, &empty.body["exports"], &empty.body["next"]),
        (200, &json!([]), &Value::Null)
    );
    for export in [
        "main-20260101T000000Z-000001",
        "main-20260102T000000Z-000002",
    ] {
        let input = shared::jobs::finalize::Input {
            destination_id: "main".into(),
            export_id: export.into(),
            failure: None,
        };
        shared::jobs::finalize::run(input, &api.deps).await.unwrap();
    }
    let first = call(
        api,
        "GET",
        "/destinations/main/exports?limit=1",
        Value::Null,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(
        first.body["exports"][0]["export_id"],
        "main-20260102T000000Z-000002"
    );
    assert_eq!(first.body["next"], 1);
    let second = call(
        api,
        "GET",
        "/destinations/main/exports?limit=1&skip=1",
        Value::Null,
    )
    .await;
    assert_eq!(
        second.body["exports"][0]["export_id"],
        "main-20260101T000000Z-000001"
    );
    assert_eq!(second.body["next"], Value::Null);
    for odd in ["limit=0", "limit=101", "limit=ten", "skip=-1"] {
        let path = format!("/destinations/main/exports?{odd}");
        assert_eq!(
            call(api, "GET", &path, Value::Null).await.status,
            400,
            "{odd}"
        );
    }

    // A running export (its lock held) makes a second start a 409.
    shared::jobs::lock::acquire(&api.deps, "main", "held-by-test")
        .await
        .unwrap();
    let second = call(api, "POST", "/destinations/main/exports", json!({})).await;
    assert_eq!(
        (second.status, second.body["error"].as_str()),
        (409, Some("ExportRunning"))
    );

    let rotated = call(
        api,
        "PUT",
        "/destinations/main/key",
        json!({"api_key": KEY}),
    )
    .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let refused = call(
        api,
        "PUT",
        "/destinations/main/key",
        json!({"api_key": "not-valid"}),
    )
    .await;
    assert_eq!(refused.status, 400);

    assert_eq!(
        call(api, "PATCH", "/destinations/main", json!({}))
            .await
            .status,
        405
    );
    assert_eq!(call(api, "GET", "/nowhere", Value::Null).await.status, 404);

    let removed = call(api, "DELETE", "/destinations/main", Value::Null).await;
    assert_eq!(removed.status, 200);
    assert_eq!(
        call(api, "GET", "/destinations/main", Value::Null)
            .await
            .status,
        404
    );
    assert_eq!(
        call(api, "POST", "/destinations/main/exports", json!({}))
            .await
            .status,
        404
    );
}
