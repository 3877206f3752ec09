//! The store's behaviour as the API shows it: upserts, ids, pages and bookmarks, the snapshot.

use super::autopilot::position_of_id;
use super::*;
use serde_json::json;

fn upsert(store: &mut Store, contact: Value) -> String {
    let input = store.validate(&contact).unwrap();
    store.apply(input)
}

#[test]
fn upsert_is_case_insensitive_and_pages_follow_bookmarks() {
    let mut store = Store::default();
    let list = store.create_list("VIP");
    for i in 0..250 {
        upsert(
            &mut store,
            json!({"Email": format!("P{i}@x.io"), "_autopilot_list": list}),
        );
    }
    let id = upsert(&mut store, json!({"Email": "p0@X.IO", "FirstName": "Ann"}));
    assert_eq!(id, "person_000000000001");
    assert_eq!(store.snapshot().contacts.len(), 250);
    assert_eq!(
        (
            store.contacts_written,
            store.distinct_contacts_written(),
            store.max_writes_per_contact
        ),
        (251, 250, 2)
    );
    let record = store.lists().get(&list).unwrap().clone();
    let (first, b1) = store.page(&record, None);
    let (second, b2) = store.page(&record, b1.as_deref());
    let (third, b3) = store.page(&record, b2.as_deref());
    assert_eq!((first.len(), second.len(), third.len()), (100, 100, 50));
    assert_eq!(b1.as_deref(), Some("person_000000000100"));
    assert_eq!(first[0]["Email"], "P0@x.io", "the address as first written");
    assert_eq!(second[0]["contact_id"], "person_000000000101");
    assert_eq!(third[49]["Email"], "P249@x.io");
    assert!(b3.is_none());
}

#[test]
fn a_bookmark_that_is_no_id_pages_from_the_ids_after_it_as_text() {
    let mut store = Store::default();
    let list = store.create_list("VIP");
    for i in 0..150 {
        upsert(
            &mut store,
            json!({"Email": format!("p{i}@x.io"), "_autopilot_list": list}),
        );
    }
    let record = store.lists().get(&list).unwrap().clone();
    let emails = |page: &[Value]| page.iter().map(|c| c["Email"].clone()).collect::<Vec<_>>();
    let (after_a, _) = store.page(&record, Some("a"));
    assert_eq!(after_a.len(), 100);
    let (after_z, next) = store.page(&record, Some("z"));
    assert!(after_z.is_empty() && next.is_none());
    // Between person_000000000120 and person_000000000121 as text.
    let (between, next) = store.page(&record, Some("person_0000000001205"));
    assert_eq!(emails(&between)[0], "p120@x.io");
    assert_eq!((between.len(), next), (30, None));
    let (none_after, _) = store.page(&record, Some("person_999999999999"));
    assert!(none_after.is_empty());
}

#[test]
fn a_contact_takes_one_pointer_and_two_small_numbers_beside_its_packed_bytes() {
    assert!(std::mem::size_of::<Contact>() <= 24);
}

#[test]
fn ids_are_only_those_written_as_ids() {
    assert_eq!(contact_id(0), "person_000000000001");
    assert_eq!(position_of_id("person_000000000001"), Some(0));
    assert_eq!(
        position_of_id("person_1000000000000"),
        Some(999_999_999_999)
    );
    for not_an_id in [
        "person_000000000000",
        "person_00000000001",
        "person_0000000000001",
        "person_00000000000a",
        "person_+00000000001",
        "Person_000000000001",
        "p@x.io",
        "",
    ] {
        assert_eq!(position_of_id(not_an_id), None, "{not_an_id}");
    }
    let mut store = Store::default();
    upsert(&mut store, json!({"Email": "ann@x.io"}));
    assert_eq!(store.find("person_000000000001"), Some(0));
    assert_eq!(store.find("ANN@x.io"), Some(0));
    assert_eq!(store.find("person_000000000002"), None, "no such contact");
}

#[test]
fn a_contact_shows_its_fields_merged_over_its_upserts() {
    let mut store = Store::default();
    let list = store.create_list("VIP");
    upsert(
        &mut store,
        json!({"Email": "Ann@x.io", "FirstName": "Ann", "Phone": 123,
               "custom": {"integer--Age": 30, "string--Loyalty--Tier": "gold"}}),
    );
    upsert(
        &mut store,
        json!({"Email": "ann@X.io", "LastName": "Lee, Jr.", "_autopilot_list": list,
               "custom": {"integer--Age": 31, "date--Signup--Date": "2025-01-31"}}),
    );
    upsert(&mut store, json!({"Email": "bob@x.io"}));
    assert!(store.set_unsubscribed("bob@x.io", true));
    let state = store.snapshot();
    assert_eq!(
        state.contacts,
        [
            json!({"contact_id": "person_000000000001", "Email": "Ann@x.io", "FirstName": "Ann",
                   "LastName": "Lee, Jr.", "Phone": 123,
                   "custom": {"date--Signup--Date": "2025-01-31", "integer--Age": 31,
                              "string--Loyalty--Tier": "gold"}}),
            json!({"contact_id": "person_000000000002", "Email": "bob@x.io", "unsubscribed": true}),
        ]
    );
    assert_eq!(state.list("VIP").unwrap().members, ["Ann@x.io"]);
    assert_eq!(
        store.custom_fields(),
        [
            json!({"name": "Signup Date", "fieldType": "date"}),
            json!({"name": "Age", "fieldType": "integer"}),
            json!({"name": "Loyalty Tier", "fieldType": "string"}),
        ]
    );
}

#[test]
fn members_are_visited_in_place_list_by_title() {
    let mut store = Store::default();
    let vip = store.create_list("VIP");
    let other = store.create_list("Other");
    for (email, list) in [("b@x.io", &vip), ("A@x.io", &vip), ("c@x.io", &other)] {
        upsert(&mut store, json!({"Email": email, "_autopilot_list": list}));
    }
    assert!(store.remove_member(&vip, "b@X.io"));
    upsert(
        &mut store,
        json!({"Email": "d@x.io", "_autopilot_list": vip}),
    );
    let mut seen = Vec::new();
    assert!(store.for_each_member("VIP", |email| seen.push(email.to_string())));
    assert_eq!(seen, ["A@x.io", "d@x.io"]);
    assert_eq!(seen, store.snapshot().list("VIP").unwrap().members);
    assert!(!store.for_each_member("Nope", |_| panic!("no list, no member")));
}
