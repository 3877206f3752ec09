//! Keys and regions, the rate limit's 429, the per-address windows, the bad-request ban, the merge
//! concurrency limit and injected faults, in Ortto's words.

use crate::support::{person, Ortto, KEY};
use reqwest::{Method, StatusCode};
use sandbox::{Faults, Region};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_missing_or_wrong_key_or_one_of_another_region_is_a_401() {
    let ortto = Ortto::start(|c| c.region(Region::Eu)).await;
    for (path, key, status) in [
        ("/v1/tags/get", Some(KEY), StatusCode::OK),
        ("/eu/v1/tags/get", Some(KEY), StatusCode::OK),
        ("/global/v1/tags/get", Some(KEY), StatusCode::UNAUTHORIZED),
        ("/au/v1/person/get", Some(KEY), StatusCode::UNAUTHORIZED),
        ("/v1/tags/get", Some("wrong"), StatusCode::UNAUTHORIZED),
        ("/v1/tags/get", None, StatusCode::UNAUTHORIZED),
        ("/v1/no/such/call", Some(KEY), StatusCode::NOT_FOUND),
    ] {
        let answer = ortto.send(Method::POST, path, key, json!({})).await;
        assert_eq!(answer.status, status, "{path} {key:?}");
        if status != StatusCode::OK {
            assert_eq!(answer.body["code"], status.as_u16(), "{answer:?}");
            assert!(answer.body["request_id"].is_string() && answer.body["error"].is_string());
        }
    }
    let wrong_method = ortto
        .send(Method::GET, "/v1/tags/get", Some(KEY), json!({}))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    let counters = ortto.sandbox.counters();
    assert_eq!((counters.requests, counters.unauthorized), (8, 4));
    assert_eq!(
        counters.by_endpoint["/v1/tags/get"], 6,
        "counted without the region's prefix"
    );
    assert_eq!(counters.by_endpoint["other"], 1);
    assert_eq!(counters.bad_requests, 6);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_try_in_seconds_and_retry_after_only_when_set() {
    let ortto = Ortto::start(|c| c.rate(0.5)).await;
    assert_eq!(
        ortto.call("/v1/tags/get", json!({})).await.status,
        StatusCode::OK
    );
    let throttled = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        throttled.body,
        json!({"error": {"code": "rate-limit", "message": "rate limit", "try-in-seconds": 2}})
    );
    assert_eq!(
        throttled.retry_after, None,
        "Ortto's documented 429 has no header"
    );
    ortto.settings(json!({"retry_after_header": true})).await;
    let throttled = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(throttled.retry_after.as_deref(), Some("2"));
    let counters = ortto.sandbox.counters();
    assert_eq!(
        (counters.throttled, counters.bad_requests, counters.bans),
        (2, 0, 0)
    );
}

#[tokio::test]
async fn an_address_gets_only_as_many_requests_as_its_windows_allow() {
    let ortto = Ortto::start(|c| c).await;
    let defaults = ortto.admin(Method::GET, "/settings", None).await.body;
    assert_eq!(
        defaults["address_limits"],
        json!([{"limit": 2000, "window_secs": 10}, {"limit": 6000, "window_secs": 60}])
    );
    ortto
        .settings(json!({"address_limits": [{"limit": 5, "window_secs": 60}]}))
        .await;
    for _ in 0..5 {
        assert_eq!(
            ortto.call("/v1/tags/get", json!({})).await.status,
            StatusCode::OK
        );
    }
    let limited = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = limited.body["error"]["try-in-seconds"].as_u64().unwrap();
    assert!((59..=60).contains(&wait), "{wait}");
    ortto.settings(json!({"address_limits": []})).await;
    assert_eq!(
        ortto.call("/v1/tags/get", json!({})).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn fifteen_bad_requests_within_fifteen_seconds_ban_the_address() {
    let ortto = Ortto::start(|c| c).await;
    let bad = json!({"people": []});
    for i in 0..14 {
        let answer = ortto.call("/v1/person/merge", bad.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{i}");
    }
    assert_eq!(
        ortto.call("/v1/tags/get", json!({})).await.status,
        StatusCode::OK
    );
    let fifteenth = ortto.call("/v1/person/merge", bad.clone()).await;
    assert_eq!(
        fifteenth.status,
        StatusCode::BAD_REQUEST,
        "answered, then the ban"
    );
    let banned = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(banned.status, StatusCode::TOO_MANY_REQUESTS);
    let wait = banned.body["error"]["try-in-seconds"].as_u64().unwrap();
    assert!((14..=15).contains(&wait), "{wait}");
    let counters = ortto.sandbox.counters();
    assert_eq!(
        (counters.bad_requests, counters.bans, counters.banned),
        (15, 1, 1)
    );

    ortto
        .settings(
            json!({"ban": {"threshold": 3, "window_secs": 15, "ban_secs": 1}, "ban_status": 403}),
        )
        .await;
    for _ in 0..3 {
        let answer = ortto
            .send(Method::POST, "/v1/tags/get", Some("wrong"), json!({}))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let forbidden = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.body["code"], 403);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        ortto.call("/v1/tags/get", json!({})).await.status,
        StatusCode::OK,
        "over"
    );

    ortto.settings(json!({"ban": null})).await;
    for _ in 0..30 {
        ortto.call("/v1/person/merge", bad.clone()).await;
    }
    assert_eq!(
        ortto.call("/v1/tags/get", json!({})).await.status,
        StatusCode::OK,
        "no ban"
    );
}

#[tokio::test]
async fn merges_beyond_the_concurrency_limit_are_throttled() {
    let ortto = Ortto::start(|c| c).await;
    ortto.settings(json!({"merge_concurrency": 1})).await;
    ortto.sandbox.set_faults(Faults {
        slow_rate: 1.0,
        slow_ms: 600,
        ..Faults::default()
    });
    let one = json!([person("a@x.io", json!({}))]);
    let (first, second) = tokio::join!(ortto.merge(one.clone(), json!({})), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        ortto.merge(one.clone(), json!({})).await
    });
    assert_eq!(first.statuses(), ["created"]);
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(second.body["error"]["try-in-seconds"], 1);
    let after = ortto.merge(one, json!({})).await;
    assert_eq!(after.statuses(), ["merged"], "the first is done");
    let counters = ortto.sandbox.counters();
    assert_eq!((counters.slow, counters.slow_bulk_writes), (2, 2));
}

#[tokio::test]
async fn faults_are_injected_as_in_the_autopilot_mode_in_ortto_words() {
    let ortto = Ortto::start(|c| c).await;
    ortto.sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let error = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(
        (error.status, error.body["code"].clone()),
        (StatusCode::INTERNAL_SERVER_ERROR, json!(500))
    );
    ortto.sandbox.set_faults(Faults {
        outage_after_ms: Some(0),
        outage_ms: 60_000,
        ..Faults::default()
    });
    let outage = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(outage.status, StatusCode::SERVICE_UNAVAILABLE);
    ortto.sandbox.set_faults(Faults {
        throttle_burst_rate: 1.0,
        throttle_burst_ms: 60_000,
        ..Faults::default()
    });
    let burst = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(burst.body["error"]["code"], "rate-limit");
    ortto.sandbox.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let dropped = reqwest::Client::new()
        .post(ortto.url("/v1/tags/get"))
        .header("X-Api-Key", KEY)
        .json(&json!({}))
        .send()
        .await;
    assert!(dropped.is_err(), "no answer");
    let counters = ortto.sandbox.counters();
    assert_eq!(
        (
            counters.server_errors,
            counters.throttled,
            counters.dropped,
            counters.bad_requests
        ),
        (2, 1, 1, 0)
    );
}
