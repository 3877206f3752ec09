//! `POST /v1/person/get`: a tag's people page by page, to `contacts: null`.

use crate::support::{person, Ortto};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Merges `n` people `p{i}@x.io`, those with `tagged(i)` tagged "VIP".
async fn people(ortto: &Ortto, n: usize, tagged: impl Fn(usize) -> bool) {
    let all: Vec<Value> = (0..n)
        .map(|i| {
            let mut p = person(
                &format!("p{i}@x.io"),
                json!({"str::first": format!("P{i}")}),
            );
            if tagged(i) {
                p["tags"] = json!(["VIP"]);
            }
            p
        })
        .collect();
    for batch in all.chunks(100) {
        let answer = ortto.merge(json!(batch), json!({})).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
}

fn emails(page: &Value) -> Vec<String> {
    page["contacts"]
        .as_array()
        .map(|c| {
            c.iter()
                .map(|p| p["fields"]["str::email"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_tags_people_are_read_page_by_page_with_cursors_to_an_empty_page() {
    let ortto = Ortto::start(|c| c).await;
    people(&ortto, 1234, |i| i % 9 != 0).await;
    ortto.sandbox.unsubscribe_by_hand("p1@x.io");
    let tag = json!({"$u4s::is": {"field_id": "u4s::t", "value": "VIP"}});
    let mut cursor = Value::Null;
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = ortto
            .call(
                "/v1/person/get",
                json!({"limit": 500, "cursor_id": cursor, "filter": tag,
                       "fields": ["str::email", "bol::p", "tags"]}),
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        pages.push(page.body["contacts"].as_array().map_or(0, Vec::len));
        seen.extend(emails(&page.body));
        cursor = page.body["cursor_id"].clone();
        if page.body["contacts"].is_null() {
            assert_eq!(cursor, "000000000000000000000000");
            assert_eq!(page.body["has_more"], false);
            break;
        }
        assert_eq!(page.body["meta"]["total_matches"], 1096);
        assert_eq!(page.body["meta"]["total_contacts"], 1234);
        assert_eq!(page.body["meta"]["total_subscribers"], 1233);
        let first = &page.body["contacts"][0];
        assert_eq!(first["fields"]["tags"], json!(["VIP"]));
        assert!(first["id"].as_str().unwrap().len() == 24);
    }
    assert_eq!(pages, [500, 500, 96, 0]);
    let wanted: Vec<String> = (0..1234)
        .filter(|i| i % 9 != 0)
        .map(|i| format!("p{i}@x.io"))
        .collect();
    assert_eq!(seen, wanted, "every member once, in creation order");

    let p1 = ortto
        .call(
            "/v1/person/get",
            json!({"filter": {"$str::is": {"field_id": "str::email", "value": "P1@X.io"}},
                   "fields": ["str::email", "bol::p", "str::first", "str:cm:none"]}),
        )
        .await;
    assert_eq!(
        p1.status,
        StatusCode::BAD_REQUEST,
        "an unknown field is refused"
    );
    let p1 = ortto
        .call(
            "/v1/person/get",
            json!({"filter": {"$str::is": {"field_id": "str::email", "value": "P1@X.io"}},
                   "fields": ["str::email", "bol::p", "str::first", "str::last", "tags"]}),
        )
        .await;
    assert_eq!(
        p1.body["contacts"][0]["fields"],
        json!({"str::email": "p1@x.io", "bol::p": false, "str::first": "P1", "tags": ["VIP"]}),
        "a field without a value is left out"
    );
}

#[tokio::test]
async fn limits_fall_back_to_fifty_and_a_malformed_cursor_is_a_400() {
    let ortto = Ortto::start(|c| c).await;
    people(&ortto, 120, |i| i < 3).await;
    let count = |body: &Value| body["contacts"].as_array().map_or(0, Vec::len);
    for (limit, shown) in [
        (json!(501), 50),
        (json!(0), 50),
        (json!(7), 7),
        (Value::Null, 50),
    ] {
        let page = ortto.call("/v1/person/get", json!({"limit": limit})).await;
        assert_eq!(count(&page.body), shown, "{limit}");
        assert_eq!(page.body["has_more"], true);
    }
    let last = ortto
        .call("/v1/person/get", json!({"limit": 500, "offset": 100}))
        .await;
    assert_eq!(
        (
            count(&last.body),
            last.body["offset"].clone(),
            last.body["next_offset"].clone()
        ),
        (20, json!(100), json!(120))
    );
    let malformed = ortto
        .call(
            "/v1/person/get",
            json!({"cursor_id": "0069064fddda4060a58765"}),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        malformed.body["error"],
        "sandbox: Failed to parse request cannot unmarshal into an ID, the length must be 12 or \
         24 + 2 for hex but it is 24: Object not found"
    );
    let tag_id = ortto
        .sandbox
        .state()
        .list("VIP")
        .unwrap()
        .list_id
        .parse::<u64>()
        .unwrap();
    let by_id = ortto
        .call(
            "/v1/person/get",
            json!({"filter": {"$u4s::is": {"field_id": "u4s::t", "value": tag_id}},
                   "fields": ["u4s::t"]}),
        )
        .await;
    assert_eq!(count(&by_id.body), 3);
    assert_eq!(
        by_id.body["contacts"][0]["fields"],
        json!({"u4s::t": [tag_id]})
    );
    for nobody in [
        json!({"filter": {"$u4s::is": {"field_id": "u4s::t", "value": "No such tag"}}}),
        json!({"type": "archived"}),
    ] {
        let page = ortto.call("/v1/person/get", nobody.clone()).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body["contacts"].is_null(), "{nobody}");
        assert_eq!(page.body["cursor_id"], "000000000000000000000000");
    }
    for refused in [
        json!({"q": "p1"}),
        json!({"audience_id": "6904f4fbf0cc08364094a968"}),
        json!({"filter": {"$has_any_value": {"field_id": "str::first"}}}),
        json!({"offset": -1}),
        json!({"fields": "str::email"}),
    ] {
        let answer = ortto.call("/v1/person/get", refused.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{refused}");
    }
}
