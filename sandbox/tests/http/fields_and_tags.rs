//! Custom fields (create, list, the limit, values by type) and tags (`/v1/tags/get`), and what a
//! client can learn of the account.

use crate::support::{person, Ortto, KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn create(ortto: &Ortto, field_type: &str, name: &str) -> (StatusCode, Value) {
    let answer = ortto
        .call(
            "/v1/person/custom-field/create",
            json!({"type": field_type, "name": name, "track_changes": false}),
        )
        .await;
    (answer.status, answer.body)
}

#[tokio::test]
async fn custom_fields_are_created_by_type_listed_and_used_by_merges() {
    let ortto = Ortto::start(|c| c).await;
    let (status, made) = create(&ortto, "text", "Loyalty Tier").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        made,
        json!({"name": "Loyalty Tier", "field_id": "str:cm:loyalty-tier",
               "display_type": "text", "track_changes": false})
    );
    for (field_type, name, id) in [
        ("integer", "Orders", "int:cm:orders"),
        ("decimal", "Lifetime Value", "int:cm:lifetime-value"),
        ("boolean", "VIP", "bol:cm:vip"),
        ("date", "Signed Up", "dtz:cm:signed-up"),
    ] {
        let (status, made) = create(&ortto, field_type, name).await;
        assert_eq!(
            (status, made["field_id"].as_str()),
            (StatusCode::OK, Some(id))
        );
    }
    let (status, duplicate) = create(&ortto, "integer", "loyalty tier").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(duplicate["error"], "Duplicate field name: loyalty tier");
    assert_eq!(
        create(&ortto, "aggregate", "Sum").await.0,
        StatusCode::BAD_REQUEST
    );

    let listed = ortto.call("/v1/person/custom-field/get", json!({})).await;
    let fields = listed.body["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 5);
    assert_eq!(
        fields[0],
        json!({"field": {"id": "str:cm:loyalty-tier", "name": "Loyalty Tier", "display_type": "text",
                         "liquid_name": "people.custom.loyalty-tier"}, "tracked_value": false})
    );

    let merged = ortto
        .merge(
            json!([
                person(
                    "a@x.io",
                    json!({"str:cm:loyalty-tier": "Gold", "int:cm:lifetime-value": 12_500,
                                        "bol:cm:vip": true, "dtz:cm:signed-up": "2024-02-29",
                                        "int:cm:orders": 3})
                ),
                person("b@x.io", json!({"int:cm:lifetime-value": 12.5})),
                person("c@x.io", json!({"str:cm:not-created": "x"})),
            ]),
            json!({}),
        )
        .await;
    assert_eq!(merged.statuses(), ["created", "invalid", "invalid"]);
    assert_eq!(
        merged.body["people"][1]["error"],
        "failed to validate field int:cm:lifetime-value: expected a whole number (decimals are sent multiplied by 1,000)"
    );
    assert_eq!(
        merged.body["people"][2]["error"],
        "failed to validate field str:cm:not-created in schema: str:cm:not-created: Object not found"
    );
    let a = ortto.person("a@x.io").await.unwrap();
    assert_eq!(a["fields"]["int:cm:lifetime-value"], 12_500);
}

#[tokio::test]
async fn the_custom_field_limit_is_a_setting_and_reaching_it_says_so() {
    let ortto = Ortto::start(|c| c).await;
    let settings = ortto.admin(Method::GET, "/settings", None).await.body;
    assert_eq!(
        settings["custom_field_limit"], 100,
        "Ortto's documented limit"
    );
    for i in 0..100 {
        assert_eq!(
            create(&ortto, "text", &format!("Field {i}")).await.0,
            StatusCode::OK
        );
    }
    let (status, full) = create(&ortto, "text", "One Too Many").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        full["error"]
            .as_str()
            .unwrap()
            .starts_with("Custom field limit reached: the account has 100 custom person fields"),
        "{full}"
    );
    ortto.settings(json!({"custom_field_limit": 150})).await;
    assert_eq!(
        create(&ortto, "text", "One Too Many").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tags_are_listed_with_their_counts_and_the_keys_account() {
    let ortto = Ortto::start(|c| c).await;
    ortto
        .sandbox
        .set_api_keys(vec![KEY.into(), "Acme.secret".into()]);
    let empty = ortto.call("/v1/tags/get", json!({})).await;
    assert_eq!(
        (empty.status, empty.body.clone()),
        (StatusCode::OK, json!([])),
        "a valid key, no tags"
    );
    ortto
        .merge(
            json!([
                {"fields": {"str::email": "a@x.io"}, "tags": ["VIP Customers", "Lapsed"]},
                {"fields": {"str::email": "b@x.io", "bol::sp": true}, "tags": ["VIP Customers"]},
            ]),
            json!({}),
        )
        .await;
    ortto.sandbox.unsubscribe_by_hand("a@x.io");
    let tags = ortto.call("/v1/tags/get", json!({})).await.body;
    let vip = &tags[0];
    assert_eq!(
        (
            vip["id"].clone(),
            vip["name"].clone(),
            vip["instance_id"].clone(),
            vip["source"].clone()
        ),
        (
            json!(1),
            json!("VIP Customers"),
            json!("sandbox"),
            json!("api")
        )
    );
    assert_eq!(
        (
            vip["count"].clone(),
            vip["subscribers"].clone(),
            vip["sms_opted_in"].clone()
        ),
        (json!(2), json!(1), json!(1))
    );
    assert!(vip["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(tags[1]["name"], "Lapsed");
    let search = ortto.call("/v1/tags/get", json!({"q": "vip"})).await.body;
    assert_eq!(search.as_array().unwrap().len(), 1);
    let other = ortto
        .send(Method::POST, "/v1/tags/get", Some("Acme.secret"), json!({}))
        .await;
    assert_eq!(
        other.body[0]["instance_id"], "acme",
        "the account of the key"
    );
    let audiences = ortto.call("/v1/audiences/get", json!({"limit": 40})).await;
    assert_eq!(audiences.body, json!([]));
    let custom = ortto.call("/v1/person/custom-field/get", json!({})).await;
    assert_eq!(custom.body, json!({"fields": []}));
    let counters = ortto.sandbox.counters();
    assert_eq!(counters.by_endpoint["/v1/tags/get"], 4);
    assert_eq!(counters.by_endpoint["/v1/person/merge"], 1);
}
