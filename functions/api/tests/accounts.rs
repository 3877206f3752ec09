//! The account allow-list (the stack's `AllowedAccounts`, `ALLOWED_ACCOUNTS`) on moto and the
//! sandbox: with it set, a caller with API access cannot connect or rotate in a key of another
//! account, and a destination whose stored account was rewritten gets no export.
// Runs only with the `moto-tests` feature, which scripts/test turns on after starting moto.
#![cfg(feature = "moto-tests")]

mod common;

use common::{call, setup, Setup, KEY};
use serde_json::{json, Value};
use shared::secrets::{SecretError, SecretStore};

/// The sandbox's own account (`instance_id` 1); keys `ACCOUNT.SECRET` belong to others.
const SANDBOX_ACCOUNT: &str = "1";
const OTHER: &str = "mallory.key-0123";

fn connect_body(url: &str, key: &str) -> Value {
    json!({"display_name": "Main", "api_key": key, "consent": true, "api_url": url})
}

/// The API of a stack whose AllowedAccounts lists `accounts`, with the boundary the functions
/// build from their settings.
async fn allowing(accounts: &[&str]) -> Setup {
    let mut setup = setup(&[OTHER, ".nameless-0123"]).await;
    setup.settings.allowed_accounts = accounts.iter().map(|a| a.to_string()).collect();
    setup.api.boundary = setup.settings.boundary().unwrap();
    setup
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
async fn with_an_allow_list_a_key_of_another_account_is_refused_at_connect_and_rotation() {
    let setup = allowing(&[SANDBOX_ACCOUNT, "4242"]).await;
    let url = setup.sandbox.base_url();
    for key in [OTHER, ".nameless-0123"] {
        let refused = call(&setup.api, "POST", "/destinations", connect_body(&url, key)).await;
        assert_eq!(
            (refused.status, refused.body["error"].as_str()),
            (400, Some("InvalidInput")),
            "{}",
            refused.body
        );
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("AllowedAccounts"),
            "{}",
            refused.body
        );
        nothing_stored(&setup).await;
    }

    let allowed = call(&setup.api, "POST", "/destinations", connect_body(&url, KEY)).await;
    assert_eq!(allowed.status, 201, "{}", allowed.body);
    let rotated = call(
        &setup.api,
        "PUT",
        "/destinations/main/key",
        json!({"api_key": OTHER}),
    )
    .await;
    assert_eq!(rotated.status, 400, "{}", rotated.body);
    use secrecy::ExposeSecret;
    let kept = setup.secrets().get("main").await.unwrap();
    assert_eq!(kept.expose_secret(), KEY, "the allowed account's key stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_whose_stored_account_was_rewritten_gets_no_export() {
    let setup = allowing(&[SANDBOX_ACCOUNT]).await;
    let url = setup.sandbox.base_url();
    let created = call(&setup.api, "POST", "/destinations", connect_body(&url, KEY)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    setup
        .put("snapshots/vip.csv", "email\na@example.com\n")
        .await;
    let source = format!("s3://{}/snapshots/vip.csv", setup.bucket());
    let configure = json!({"data_matching": {"email": "email"}, "segments": [{"name": "VIP", "source": source}]});
    let configured = call(&setup.api, "PUT", "/destinations/main", configure).await;
    assert_eq!(configured.status, 200, "{}", configured.body);

    // Someone who may write to the bucket points the destination at another account.
    let key = "destinations/main.json";
    let mut stored: Value =
        serde_json::from_slice(&setup.api.deps.store.get(key).await.unwrap()).unwrap();
    assert_eq!(stored["account_id"], SANDBOX_ACCOUNT);
    stored["account_id"] = json!("4242");
    setup.put(key, &stored.to_string()).await;

    let before = setup.sandbox.counters().requests;
    for body in [json!({}), json!({"dry_run": true})] {
        let refused = call(&setup.api, "POST", "/destinations/main/exports", body).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert!(
            refused.body["message"]
                .as_str()
                .unwrap()
                .contains("AllowedAccounts"),
            "{}",
            refused.body
        );
    }
    assert_eq!(setup.sandbox.counters().requests, before, "no request sent");
    let history = call(&setup.api, "GET", "/destinations/main/exports", Value::Null).await;
    assert_eq!(history.body["exports"], json!([]), "no export started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_allow_list_any_account_may_be_connected() {
    let setup = allowing(&[]).await;
    assert!(setup.api.boundary.any_account());
    let url = setup.sandbox.base_url();
    let other = call(
        &setup.api,
        "POST",
        "/destinations",
        connect_body(&url, OTHER),
    )
    .await;
    assert_eq!(other.status, 201, "{}", other.body);
}
