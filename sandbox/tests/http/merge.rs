//! `POST /v1/person/merge`: statuses, fields, tags, strategies, limits, refusals, consent.

use crate::support::{person, Ortto};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn is_person_id(id: &Value) -> bool {
    id.as_str()
        .is_some_and(|id| id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[tokio::test]
async fn people_are_created_then_merged_with_their_fields_and_tags_and_subscribed() {
    let ortto = Ortto::start(|c| c).await;
    let first = ortto
        .merge(
            json!([
                {"fields": {"str::email": "Ann@x.io", "str::first": "Ann", "str::last": "Lee"},
                 "tags": ["VIP Customers"]},
                person("bob@x.io", json!({"geo::city": {"name": "Oslo"}})),
            ]),
            json!({"merge_strategy": 2}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(first.statuses(), ["created", "created"]);
    let ann_id = first.body["people"][0]["person_id"].clone();
    assert!(is_person_id(&ann_id), "{ann_id}");

    let again = ortto
        .merge(
            json!([{"fields": {"str::email": "ann@X.IO", "str::first": "Anne", "str::last": null},
                    "tags": ["Lapsed"], "unset_tags": ["VIP Customers", "Never had it"]}]),
            json!({}),
        )
        .await;
    assert_eq!(
        again.body,
        json!({"people": [{"person_id": ann_id, "status": "merged"}]})
    );
    let ann = ortto
        .person("Ann@x.io")
        .await
        .expect("Ann, as first written");
    assert_eq!(
        ann,
        json!({"id": ann_id, "email": "Ann@x.io", "bol::p": true, "tags": ["Lapsed"],
               "fields": {"str::first": "Anne"}}),
        "the sent value replaced, null cleared, tags set and unset"
    );
    let bob = ortto.person("bob@x.io").await.unwrap();
    assert_eq!(bob["fields"], json!({"geo::city": {"name": "Oslo"}}));
    assert_eq!(bob["bol::p"], true, "subscribed on creation");
    let counters = ortto.sandbox.counters();
    assert_eq!((counters.bulk_requests, counters.contacts_written), (2, 3));
    assert_eq!(counters.distinct_contacts_written, 2);
    let mut vip = Vec::new();
    assert!(ortto
        .sandbox
        .for_each_member("VIP Customers", |e| vip.push(e.to_string())));
    assert!(vip.is_empty(), "the tag stays, without Ann");
    assert_eq!(
        ortto.sandbox.state().list("Lapsed").unwrap().members,
        ["Ann@x.io"]
    );
}

#[tokio::test]
async fn a_merge_takes_one_to_a_hundred_people_and_at_most_two_million_bytes() {
    let ortto = Ortto::start(|c| c).await;
    let people = |n: usize| -> Value {
        (0..n)
            .map(|i| person(&format!("p{i}@x.io"), json!({})))
            .collect()
    };
    for n in [0, 101] {
        let answer = ortto.merge(people(n), json!({})).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{n}");
        let error = answer.body["error"].as_str().unwrap();
        assert!(
            error.contains(&format!("1 to 100 people, not {n}")),
            "{error}"
        );
        assert_eq!(answer.body["code"], 400);
        assert!(answer.body["request_id"].is_string());
    }
    assert_eq!(
        ortto.merge(people(100), json!({})).await.statuses().len(),
        100
    );

    let heavy: Value = (0..100)
        .map(|i| {
            json!({"fields": {"str::email": format!("h{i}@x.io")},
                   "location": {"note": "x".repeat(20_000)}})
        })
        .collect();
    let too_big = ortto.merge(heavy, json!({})).await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
    assert!(too_big.body["error"]
        .as_str()
        .unwrap()
        .contains("2000000 bytes"));
    let no_json = ortto
        .send(
            reqwest::Method::POST,
            "/v1/person/merge",
            Some(crate::support::KEY),
            json!("x"),
        )
        .await;
    assert_eq!(no_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(ortto.sandbox.counters().distinct_contacts_written, 100);
}

#[tokio::test]
async fn each_person_of_a_mixed_batch_gets_its_status_by_default() {
    let ortto = Ortto::start(|c| c).await;
    ortto.sandbox.suppress_by_hand("Known@x.io");
    ortto.sandbox.suppress_by_hand("new@x.io");
    ortto
        .merge(json!([person("known@x.io", json!({}))]), json!({}))
        .await;
    let answer = ortto
        .merge(
            json!([
                person("ok@x.io", json!({"str::first": "Ok"})),
                person("ann@example.invalid", json!({})),
                person("cy@x.io", json!({"str::x": "y"})),
                person("dee@x.io", json!({"str::first": 12})),
                person("new@x.io", json!({})),
                person("known@x.io", json!({"str::first": "Kay"})),
                {"fields": {"str::first": "No address"}},
                person("not an address", json!({})),
            ]),
            json!({"suppression_list_field_id": "str::email"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.statuses(),
        [
            "created",
            "invalid",
            "invalid",
            "invalid",
            "suppressed",
            "merged",
            "invalid",
            "invalid"
        ]
    );
    let people = &answer.body["people"];
    assert_eq!(
        people[2]["error"],
        "failed to validate field str::x in schema: str::x: Object not found"
    );
    assert_eq!(
        people[3]["error"],
        "failed to validate field str::first: expected text of at most 255 characters"
    );
    assert_eq!(
        people[4],
        json!({"status": "suppressed", "error": "Email is suppressed"})
    );
    for refused in [1, 2, 3, 4, 6, 7] {
        assert!(people[refused].get("person_id").is_none(), "{refused}");
        let error = people[refused]["error"].as_str().unwrap();
        assert!(!error.contains('@'), "no address in an error: {error}");
    }
    let state = ortto.sandbox.state();
    let emails: Vec<&str> = state
        .contacts
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["known@x.io", "ok@x.io"],
        "only the valid people, and the suppressed existing one merged"
    );
}

#[tokio::test]
async fn a_batch_without_a_valid_person_is_refused_whole_as_recorded() {
    let ortto = Ortto::start(|c| c).await;
    ortto.sandbox.suppress_by_hand("s@x.io");
    let answer = ortto
        .merge(
            json!([
                person("s@x.io", json!({})),
                person("t@x.io", json!({"str::x": 1}))
            ]),
            json!({"suppression_list_field_id": "str::email"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["error"],
        "No valid contacts provided (Email is suppressed)"
    );
    assert_eq!(
        answer.body["details"],
        json!([{"status": "suppressed", "error": "Email is suppressed"},
               {"status": "invalid",
                "error": "failed to validate field str::x in schema: str::x: Object not found"}])
    );
    assert!(ortto.sandbox.state().contacts.is_empty());
    let counters = ortto.sandbox.counters();
    assert_eq!((counters.bulk_requests, counters.rejected), (0, 1));
}

#[tokio::test]
async fn a_mixed_batch_can_be_refused_whole_with_nothing_written() {
    let ortto = Ortto::start(|c| c).await;
    ortto.settings(json!({"mixed_batch": "reject"})).await;
    let answer = ortto
        .merge(
            json!([
                person("a@x.io", json!({})),
                person("b@x.invalid", json!({})),
                person("c@x.io", json!({})),
                person("d@x.io", json!({"int:cm:nope": 1}))
            ]),
            json!({}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body["error"],
        "2 of 4 contacts are not valid (Email domain does not accept mail)"
    );
    let details = answer.body["details"].as_array().unwrap();
    assert_eq!(
        details.len(),
        2,
        "the refused people only, without positions"
    );
    assert!(details
        .iter()
        .all(|d| d["status"] == "invalid" && d.get("person_id").is_none()));
    assert!(ortto.sandbox.state().contacts.is_empty(), "nothing written");
    let clean = ortto
        .merge(json!([person("a@x.io", json!({}))]), json!({}))
        .await;
    assert_eq!(clean.statuses(), ["created"]);
}

#[tokio::test]
async fn strategies_fill_overwrite_or_leave_people_and_skip_non_existing_creates_nobody() {
    let ortto = Ortto::start(|c| c).await;
    let ann = |first: &str, last: Value| {
        person("ann@x.io", json!({"str::first": first, "str::last": last}))
    };
    ortto
        .merge(json!([ann("Ann", json!(null))]), json!({}))
        .await;

    let fill = ortto
        .merge(
            json!([ann("Anne", json!("Lee"))]),
            json!({"merge_strategy": 1}),
        )
        .await;
    assert_eq!(fill.statuses(), ["merged"]);
    let fields = ortto.person("ann@x.io").await.unwrap()["fields"].clone();
    assert_eq!(
        fields,
        json!({"str::first": "Ann", "str::last": "Lee"}),
        "only the empty field filled"
    );

    let ignore = ortto
        .merge(
            json!([ann("Annie", json!("Li")), person("new@x.io", json!({}))]),
            json!({"merge_strategy": 3}),
        )
        .await;
    assert_eq!(ignore.statuses(), ["skipped", "created"]);
    assert!(ignore.body["people"][0]["person_id"].is_string());
    assert_eq!(
        ortto.person("ann@x.io").await.unwrap()["fields"],
        fields,
        "untouched"
    );

    ortto.settings(json!({"skipped_status": "ignored"})).await;
    let update_only = ortto
        .merge(
            json!([ann("Annie", json!("Li")), person("nobody@x.io", json!({}))]),
            json!({"skip_non_existing": true}),
        )
        .await;
    assert_eq!(update_only.body["people"][1], json!({"status": "ignored"}));
    assert_eq!(update_only.statuses()[0], "merged");
    assert!(ortto.person("nobody@x.io").await.is_none(), "never created");
    assert_eq!(
        ortto.person("ann@x.io").await.unwrap()["fields"]["str::last"],
        "Li"
    );
}

#[tokio::test]
async fn an_empty_string_overwrites_keeps_or_clears_as_set_and_is_counted() {
    let ortto = Ortto::start(|c| c).await;
    let set = |first: &str| {
        json!([person(
            "ann@x.io",
            json!({"str::first": first, "str::last": "Lee"})
        )])
    };
    for (choice, after) in [
        ("keep", json!({"str::first": "Ann", "str::last": "Lee"})),
        ("overwrite", json!({"str::first": "", "str::last": "Lee"})),
        ("clear", json!({"str::last": "Lee"})),
    ] {
        ortto.settings(json!({"empty_strings": choice})).await;
        ortto.merge(set("Ann"), json!({})).await;
        ortto.merge(set(""), json!({})).await;
        assert_eq!(
            ortto.person("ann@x.io").await.unwrap()["fields"],
            after,
            "{choice}"
        );
    }
    assert_eq!(ortto.sandbox.counters().empty_values_received, 3);
}

#[tokio::test]
async fn consent_is_applied_and_counted_so_a_connector_can_be_caught_sending_it() {
    let ortto = Ortto::start(|c| c).await;
    let quiet = ortto
        .merge(
            json!([person("a@x.io", json!({"str::first": "A"}))]),
            json!({}),
        )
        .await;
    assert_eq!(quiet.statuses(), ["created"]);
    assert_eq!(ortto.sandbox.counters().consent_fields_received, 0);

    ortto
        .merge(
            json!([
                person(
                    "b@x.io",
                    json!({"bol::p": false, "bol::sp": true, "str::u-ctx": "why"})
                ),
                person("c@x.io", json!({"bol::gdpr": true}))
            ]),
            json!({"merge_strategy": 1}),
        )
        .await;
    let b = ortto.person("b@x.io").await.unwrap();
    assert_eq!(
        (b["bol::p"].clone(), b["fields"].clone()),
        (json!(false), json!({"bol::sp": true}))
    );
    ortto
        .merge(
            json!([person("b@x.io", json!({"bol::p": true}))]),
            json!({"merge_strategy": 1}),
        )
        .await;
    assert_eq!(
        ortto.person("b@x.io").await.unwrap()["bol::p"],
        false,
        "strategy 1 never changes it"
    );
    ortto
        .merge(
            json!([person("b@x.io", json!({"bol::p": true}))]),
            json!({}),
        )
        .await;
    assert_eq!(
        ortto.person("b@x.io").await.unwrap()["bol::p"],
        true,
        "resubscribed"
    );

    let subscribe = ortto
        .send(reqwest::Method::PUT, "/v1/audience/subscribe", Some(crate::support::KEY),
              json!({"audience_id": "6904f4fbf0cc08364094a968", "people": [{"email": "a@x.io", "subscribed": true}]}))
        .await;
    assert_eq!(subscribe.status, StatusCode::BAD_REQUEST);
    let counters = ortto.sandbox.counters();
    assert_eq!(counters.consent_fields_received, 3 + 1 + 1 + 1 + 1);
    assert_eq!(counters.by_endpoint["/v1/audience/subscribe"], 1);
}

#[tokio::test]
async fn request_settings_that_make_no_sense_are_a_400_and_write_nothing() {
    let ortto = Ortto::start(|c| c).await;
    let one = json!([person("a@x.io", json!({}))]);
    for options in [
        json!({"merge_strategy": 0}),
        json!({"merge_by": ["str::ei"]}),
        json!({"merge_by": ["str::email", "str::person_id"]}),
        json!({"suppression_list_field_id": "phn::phone"}),
        json!({"skip_non_existing": 1}),
    ] {
        let answer = ortto.merge(one.clone(), options.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{options}");
    }
    assert!(ortto.sandbox.state().contacts.is_empty());
    let answer = ortto
        .merge(one, json!({"async": true, "find_strategy": 1}))
        .await;
    assert_eq!(answer.statuses(), ["created"], "async is done at once");
}
