//! Decoding Autopilot's answers, through the client's public calls: a local server
//! (`answer_server`) answers each request with the fuzzer's bytes — a status, maybe a
//! `Retry-After`, and a body — and one call of the client reads it. Input: byte 0 picks the
//! status, byte 1 the call (7 of them), byte 2 the `Retry-After` header; the rest is the body.
//! Nothing may panic, hang or grow without bound, and an error message stays short and names no
//! contact's address whatever the body holds.

#![no_main]

mod answer_server;

use answer_server::{answer_with, check_messages, runtime, server};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use shared::autopilot::AutopilotClient;
use shared::contact::Contact;
use shared::http_api::{ApiError, ClientConfig, RetryPolicy};
use std::sync::Mutex;
use std::time::Duration;

/// A client with one attempt per request, so nothing waits; made again after a throttling
/// answer, so that its pause does not carry over to the next input.
fn client(status: u16) -> AutopilotClient {
    static CLIENT: Mutex<Option<AutopilotClient>> = Mutex::new(None);
    let mut cached = CLIENT.lock().unwrap();
    let client = cached.take().unwrap_or_else(new_client);
    if status != 429 {
        *cached = Some(client.clone());
    }
    client
}

fn new_client() -> AutopilotClient {
    let mut config = ClientConfig::new(url::Url::parse(&format!("{}/v1", server())).unwrap());
    config.requests_per_second = 10_000.0;
    config.timeout = Duration::from_secs(5);
    config.min_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy::new(1, Duration::ZERO);
    AutopilotClient::new(config, SecretString::from("fuzz-key".to_string())).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let Some((status, call)) = answer_with(data) else {
        return;
    };
    let client = client(status);
    let messages: Vec<String> = runtime().block_on(async {
        let error = |e: ApiError| vec![e.to_string()];
        match call % 7 {
            0 => client.account().await.err().map_or_else(Vec::new, error),
            1 => client.lists().await.err().map_or_else(Vec::new, error),
            2 => client
                .create_list("S")
                .await
                .err()
                .map_or_else(Vec::new, error),
            3 => client
                .list_members_page("l1", Some("b1"))
                .await
                .err()
                .map_or_else(Vec::new, error),
            4 => client
                .is_member("l1", "a@x.io")
                .await
                .err()
                .map_or_else(Vec::new, error),
            5 => client
                .remove_from_list("l1", "a@x.io")
                .await
                .err()
                .map_or_else(Vec::new, error),
            _ => {
                let contacts = ["a@x.io", "b@x.io", "c@x.io"].map(|e| Contact::new(e).unwrap());
                match client.upsert_contacts(Some("l1"), &contacts).await {
                    Ok(outcome) => {
                        assert_eq!(outcome.written + outcome.rejected.len(), 3);
                        outcome.rejected.into_iter().map(|r| r.message).collect()
                    }
                    Err(e) => error(e),
                }
            }
        }
    });
    check_messages(&messages, &["a@x.io", "b@x.io", "c@x.io"]);
});
