//! Decoding Ortto's answers, through the client's public calls (the audience port): a local server
//! (`answer_server`) answers each request with the fuzzer's bytes — a status, maybe a
//! `Retry-After`, and a body — and one call of the client reads it: the key check and the tags
//! (`/v1/tags/get`), custom fields read and created (`/v1/person/custom-field/get`, `/create`), a
//! page of a tag's people (`/v1/person/get`, with a cursor or after looking the tag up), merges
//! with a status per person or refused whole (`/v1/person/merge`, upserts beside removals, and
//! repairs), 429 bodies with `try-in-seconds`, error bodies. Input: byte 0 picks the status,
//! byte 1 the call (8 of them), byte 2 the `Retry-After` header; the rest is the body.
//!
//! Nothing may panic, hang or grow without bound; a write has one outcome per person it was
//! given, and an error message (or a person's refusal) stays
//! short and names no contact's address whatever the body holds.

#![no_main]

mod answer_server;

use answer_server::{answer_with, check_messages, runtime, server};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use serde_json::json;
use shared::audience_api::{AudienceApi, Changes, ContactOutcome};
use shared::contact::Contact;
use shared::destination::DataMatching;
use shared::http_api::{ApiError, ClientConfig, RetryPolicy};
use shared::ortto::OrttoClient;
use std::sync::Mutex;
use std::time::Duration;

/// The people the calls send: three to upsert, two leaving the tag.
const UPSERTS: [&str; 3] = ["ann@x.io", "bob@x.io", "cy@x.io"];
const LEAVERS: [&str; 2] = ["dee@x.io", "eve@x.io"];

/// A client with one attempt per request, so nothing waits. Kept while the answers are 2xx; made
/// again after any other, so that neither a throttling pause nor the bad answers Ortto's ban
/// counts (which a client paces itself under) carry over to the next input.
fn client(status: u16, update_only: bool) -> OrttoClient {
    static CLIENTS: Mutex<[Option<OrttoClient>; 2]> = Mutex::new([None, None]);
    let mut cached = CLIENTS.lock().unwrap();
    let slot = &mut cached[usize::from(update_only)];
    let client = slot.take().unwrap_or_else(|| new_client(update_only));
    if (200..300).contains(&status) {
        *slot = Some(client.clone());
    }
    client
}

fn new_client(update_only: bool) -> OrttoClient {
    let mut config = ClientConfig::new(url::Url::parse(server()).unwrap());
    config.requests_per_second = 10_000.0;
    config.timeout = Duration::from_secs(5);
    config.min_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy::new(1, Duration::ZERO);
    config.update_only = update_only;
    OrttoClient::build(config, SecretString::from("fuzz-key".to_string()), None).unwrap()
}

/// Data matching with a custom field of each type, so that preparing it reads the account's
/// fields and creates those it lacks.
fn matching() -> DataMatching {
    let custom = [
        "string--Tier",
        "integer--Points",
        "float--Score",
        "boolean--Vip",
        "date--Joined",
    ];
    DataMatching {
        email: "email".into(),
        first_name: Some("first".into()),
        last_name: None,
        fields: Default::default(),
        custom: custom
            .iter()
            .map(|k| (k.to_string(), k.to_string()))
            .collect(),
    }
}

fn upserts() -> Vec<Contact> {
    UPSERTS
        .iter()
        .map(|email| {
            Contact::new(email)
                .and_then(|c| c.with_field("FirstName", "Ann"))
                .and_then(|c| c.with_custom("integer--Points", json!(7)))
                .unwrap()
        })
        .collect()
}

/// A write of three upserts and two leavers: one outcome each, in order; what it said of them.
async fn write(client: &OrttoClient) -> Result<Vec<String>, ApiError> {
    let contacts = upserts();
    let removals: Vec<String> = LEAVERS.iter().map(|e| e.to_string()).collect();
    let changes = Changes {
        upserts: &contacts,
        removals: &removals,
    };
    let written = client.write("VIP Customers", changes).await?;
    assert_eq!(
        written.contacts.len(),
        contacts.len(),
        "one outcome per person"
    );
    assert_eq!(
        written.removals.len(),
        removals.len(),
        "one outcome per leaver"
    );
    Ok(written
        .contacts
        .into_iter()
        .filter_map(|outcome| match outcome {
            ContactOutcome::Refused(words) | ContactOutcome::Suppressed(words) => Some(words),
            _ => None,
        })
        .collect())
}

/// One call of the client, chosen by `call`: what it said (error messages, refusals).
async fn run(call: u8, status: u16) -> Vec<String> {
    fn messages<T>(result: Result<T, ApiError>) -> Vec<String> {
        result
            .err()
            .map(|e| vec![e.to_string()])
            .unwrap_or_default()
    }
    match call % 8 {
        0 => messages(client(status, false).account().await),
        1 => messages(client(status, false).audiences().await),
        2 => messages(client(status, false).prepare(&matching()).await),
        3 | 4 => {
            // With a cursor, the page alone; without, the tag's lookup first.
            let cursor = (call % 8 == 3).then_some("17/c0ffee");
            let page = client(status, false)
                .members_page("VIP Customers", cursor)
                .await;
            messages(page)
        }
        5 | 6 => {
            let update_only = call % 8 == 6;
            write(&client(status, update_only))
                .await
                .unwrap_or_else(|e| vec![e.to_string()])
        }
        _ => {
            let emails: Vec<String> = UPSERTS.iter().map(|e| e.to_string()).collect();
            let added = client(status, false)
                .add_members("VIP Customers", &emails)
                .await;
            if let Ok(added) = &added {
                assert_eq!(added.len(), emails.len(), "one outcome per person put back");
            }
            messages(added)
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((status, call)) = answer_with(data) else {
        return;
    };
    let messages = runtime().block_on(run(call, status));
    let addresses: Vec<&str> = UPSERTS.iter().chain(&LEAVERS).copied().collect();
    check_messages(&messages, &addresses);
});
