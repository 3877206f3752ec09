//! What a person does by hand in Ortto (through `/admin` and the in-process handle), the state
//! view, the settings, a reset; none of it counted as a request.

use crate::support::{person, Ortto};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn by_hand_a_person_unsubscribes_loses_a_tag_is_deleted_and_an_address_is_suppressed() {
    let ortto = Ortto::start(|c| c).await;
    let made = ortto
        .merge(
            json!([{"fields": {"str::email": "ann@x.io"}, "tags": ["VIP", "Lapsed"]},
                   {"fields": {"str::email": "bob@x.io"}, "tags": ["VIP"]},
                   {"fields": {"str::email": "cy@x.io"}, "tags": ["VIP"]}]),
            json!({}),
        )
        .await;
    let bob_id = made.body["people"][1]["person_id"]
        .as_str()
        .unwrap()
        .to_string();
    let ok = StatusCode::NO_CONTENT;
    assert_eq!(
        ortto
            .by_hand(Method::POST, "/people/ANN@x.io/unsubscribe")
            .await,
        ok
    );
    assert_eq!(
        ortto
            .by_hand(Method::DELETE, "/people/ann@x.io/tags/Lapsed")
            .await,
        ok
    );
    assert_eq!(
        ortto
            .by_hand(Method::DELETE, "/people/ann@x.io/tags/Lapsed")
            .await,
        StatusCode::NOT_FOUND,
        "she no longer has it"
    );
    assert_eq!(
        ortto
            .by_hand(Method::DELETE, &format!("/people/{bob_id}"))
            .await,
        ok
    );
    assert_eq!(
        ortto.by_hand(Method::DELETE, "/people/bob@x.io").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ortto.by_hand(Method::PUT, "/suppressions/Dee@x.io").await,
        ok
    );
    assert!(
        ortto.sandbox.remove_member_by_hand("1", "cy@x.io"),
        "tag 1 is VIP"
    );

    let state = ortto.admin(Method::GET, "/state", None).await.body;
    assert_eq!(state, serde_json::to_value(ortto.sandbox.state()).unwrap());
    assert_eq!(state["suppressed"], json!(["dee@x.io"]));
    assert_eq!(
        state["lists"],
        json!([{"list_id": "1", "title": "VIP", "members": ["ann@x.io"]},
               {"list_id": "2", "title": "Lapsed", "members": []}])
    );
    let people = state["contacts"].as_array().unwrap();
    assert_eq!(people.len(), 2, "bob is gone");
    assert_eq!(people[0]["bol::p"], false);
    assert_eq!(ortto.sandbox.is_unsubscribed("cy@x.io"), Some(false));
    assert_eq!(ortto.sandbox.is_unsubscribed("bob@x.io"), None);

    let again = ortto
        .merge(
            json!([person("bob@x.io", json!({})), person("dee@x.io", json!({}))]),
            json!({"suppression_list_field_id": "str::email"}),
        )
        .await;
    assert_eq!(
        again.statuses(),
        ["created", "suppressed"],
        "deleted bob comes back new"
    );
    assert_ne!(again.body["people"][0]["person_id"], bob_id);
    assert_eq!(
        ortto
            .by_hand(Method::DELETE, "/suppressions/dee@x.io")
            .await,
        ok
    );
    assert_eq!(ortto.by_hand(Method::DELETE, "/tags/Lapsed").await, ok);
    assert_eq!(
        ortto.by_hand(Method::DELETE, "/tags/Lapsed").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ortto.by_hand(Method::POST, "/no/such/route").await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(ortto.sandbox.counters().requests, 2, "the two merges only");
}

#[tokio::test]
async fn the_handle_tags_by_hand_the_way_the_demo_checks_lists() {
    let ortto = Ortto::start(|c| c).await;
    let vip = ortto.sandbox.create_list("VIP Customers");
    assert_eq!(vip, "1");
    ortto.sandbox.add_member_by_hand(&vip, "Ann@x.io").unwrap();
    assert!(
        ortto.sandbox.add_member_by_hand("9", "b@x.io").is_err(),
        "no such tag"
    );
    ortto.sandbox.rename_list("VIP Customers", "VIPs");
    let mut members = Vec::new();
    assert!(ortto
        .sandbox
        .for_each_member("VIPs", |e| members.push(e.to_string())));
    assert_eq!(members, ["Ann@x.io"]);
    let tags = ortto.call("/v1/tags/get", json!({})).await.body;
    assert_eq!(
        (tags[0]["name"].clone(), tags[0]["source"].clone()),
        (json!("VIPs"), json!("manual"))
    );
    assert_eq!(ortto.person("Ann@x.io").await.unwrap()["bol::p"], true);
    assert!(ortto.sandbox.delete_person_by_hand("ann@x.io"));
    assert!(ortto.sandbox.delete_list_by_hand(&vip));
    assert!(ortto.sandbox.state().contacts.is_empty());
    assert_eq!(
        ortto.sandbox.base_url(),
        format!("http://{}", ortto.sandbox.addr())
    );
}

#[tokio::test]
async fn settings_change_only_what_they_name_and_nonsense_is_refused() {
    let ortto = Ortto::start(|c| c).await;
    let defaults = ortto.admin(Method::GET, "/settings", None).await.body;
    assert_eq!(
        defaults,
        json!({"retry_after_header": false, "mixed_batch": "statuses", "empty_strings": "overwrite",
               "skipped_status": "skipped", "custom_field_limit": 100,
               "ban": {"threshold": 15, "window_secs": 15, "ban_secs": 15}, "ban_status": 429,
               "address_limits": [{"limit": 2000, "window_secs": 10}, {"limit": 6000, "window_secs": 60}],
               "merge_concurrency": null})
    );
    let changed = ortto
        .admin(
            Method::PUT,
            "/settings",
            Some(json!({"mixed_batch": "reject", "retry_after_header": true})),
        )
        .await;
    assert_eq!(changed.body["mixed_batch"], "reject");
    assert_eq!(changed.body["empty_strings"], "overwrite", "left as it was");
    assert_eq!(changed.body["retry_after_header"], true);
    assert_eq!(
        ortto.sandbox.ortto_settings().mixed_batch,
        sandbox::MixedBatch::Reject
    );
    for nonsense in [
        json!({"ban_status": 500}),
        json!({"mixed_batch": "sometimes"}),
        json!({"no_such_setting": 1}),
        json!({"merge_concurrency": 0}),
        json!({"retry_after_header": "yes"}),
        json!([1]),
    ] {
        let refused = ortto
            .admin(Method::PUT, "/settings", Some(nonsense.clone()))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{nonsense}");
    }
    assert_eq!(
        ortto.sandbox.ortto_settings().mixed_batch,
        sandbox::MixedBatch::Reject,
        "unchanged"
    );

    ortto
        .merge(json!([person("a@x.io", json!({}))]), json!({}))
        .await;
    assert_eq!(
        ortto.by_hand(Method::POST, "/reset").await,
        StatusCode::NO_CONTENT
    );
    assert!(ortto.sandbox.state().contacts.is_empty());
    assert_eq!(ortto.sandbox.counters(), sandbox::Counters::default());
    let fresh = ortto
        .merge(json!([person("a@x.io", json!({}))]), json!({}))
        .await;
    assert_eq!(
        fresh.body["people"][0]["person_id"], "000000000000000000000001",
        "Ortto ids again"
    );
}
