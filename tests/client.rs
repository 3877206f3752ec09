//! The Autopilot client against a real sandbox, one test per class of answer, beyond what the
//! port's conformance suite checks of every implementation (`tests/conformance.rs`): what the
//! isolation of refused contacts costs, a key rotated elsewhere, `try-in-seconds` alone, faults
//! of every kind, bounded retries, answers no Autopilot sends, and a retry woken by recovery.

use integration_tests::batches;
use integration_tests::{client, contacts, sandbox, KEY};
use sandbox::Faults;
use secrecy::SecretString;
use shared::audience_api::AudienceApi;
use shared::autopilot::AutopilotClient;
use shared::contact::Contact;
use shared::http_api::{ApiError, ClientConfig, KeySource, RetryPolicy};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn send_all(client: &AutopilotClient, list: Option<&str>, all: Vec<Contact>) -> usize {
    let mut written = 0;
    for batch in batches(all) {
        let outcome = client
            .upsert_contacts(list, &batch)
            .await
            .expect("batch is written");
        assert!(outcome.rejected.is_empty());
        written += outcome.written;
    }
    written
}

/// Requests to isolate the refused contacts at `refused` among 100, the batch's own included.
async fn requests_to_isolate(refused: &[usize], naming: sandbox::RefusalNaming) -> u64 {
    let sandbox = sandbox(|c| c).await;
    sandbox.set_refusal_naming(naming);
    let client = client(&sandbox, 1000.0);
    let mut all = contacts("count", 100);
    for &i in refused {
        all[i] = Contact::new(&format!("refused-{i}@example.invalid")).unwrap();
    }
    let outcome = client.upsert_contacts(None, &all).await.unwrap();
    let rejected: Vec<usize> = outcome.rejected.iter().map(|r| r.index).collect();
    assert_eq!(rejected, refused);
    assert_eq!(outcome.written, 100 - refused.len());
    for rejection in &outcome.rejected {
        assert!(
            rejection.message.contains("does not accept mail"),
            "{rejection:?}"
        );
        assert!(!rejection.message.contains("refused-"), "{rejection:?}");
    }
    assert_eq!(
        sandbox.counters().contacts_written,
        100 - refused.len() as u64
    );
    sandbox.counters().requests
}

#[tokio::test]
async fn isolating_refused_contacts_costs_at_most_log2_n_plus_one_requests_each() {
    use sandbox::RefusalNaming::{Email, None, Position, PositionFromOne};
    // ⌈log2 100⌉ + 1 = 8 extra requests per refused contact, for up to four in one batch.
    for refused in [vec![0], vec![37], vec![99], vec![3, 41, 42, 77]] {
        let requests = requests_to_isolate(&refused, None).await;
        let most = 1 + 8 * refused.len() as u64;
        assert!(requests <= most, "{refused:?}: {requests} > {most}");
    }
    // An answer naming the refused contact: one extra request each, to send the rest; with
    // several in one batch, those the rest being taken did not prove refused are sent alone.
    for naming in [Position, Email] {
        for refused in [vec![37], vec![3, 41, 42, 77]] {
            let requests = requests_to_isolate(&refused, naming).await;
            let extra = 2 * refused.len() as u64 - 1;
            assert_eq!(requests, 1 + extra, "{naming:?} {refused:?}");
        }
    }
    // An answer counting from 1 names the neighbour: believed, it would reject a good contact
    // (`requests_to_isolate` checks exactly the refused are rejected and the rest written).
    for refused in [vec![37], vec![98], vec![3, 41, 42, 77]] {
        requests_to_isolate(&refused, PositionFromOne).await;
    }
}

/// A key source that answers whatever the test stored last.
struct Rotating(std::sync::Mutex<String>);

#[async_trait::async_trait]
impl KeySource for Rotating {
    async fn current_key(&self) -> Option<SecretString> {
        Some(SecretString::from(self.0.lock().unwrap().clone()))
    }
}

fn client_with_source(sandbox: &sandbox::Sandbox, source: Arc<Rotating>) -> AutopilotClient {
    let config = ClientConfig::new(sandbox.base_url().parse().unwrap());
    AutopilotClient::with_key_source(config, SecretString::from(KEY.to_string()), source).unwrap()
}

#[tokio::test]
async fn a_key_rotated_elsewhere_is_read_again_once() {
    let sandbox = sandbox(|c| c).await;
    let source = Arc::new(Rotating(std::sync::Mutex::new(KEY.to_string())));
    let client = client_with_source(&sandbox, source.clone());
    client.account().await.unwrap();

    // Rotated in the account and in the store, while this client still holds the old key.
    sandbox.set_api_keys(vec!["rotated-key".into()]);
    *source.0.lock().unwrap() = "rotated-key".into();
    assert_eq!(send_all(&client, None, contacts("rotated", 150)).await, 150);
    let counters = sandbox.counters();
    assert_eq!(counters.unauthorized, 1, "one refusal, then the new key");
    assert_eq!(counters.contacts_written, 150);

    // Revoked, with nothing new stored: still one request, no loop.
    sandbox.set_api_keys(vec!["another-key".into()]);
    let err = client.account().await.unwrap_err();
    assert!(matches!(err, ApiError::Unauthorized { .. }), "{err}");
    assert_eq!(sandbox.counters().unauthorized, 2);
}

async fn throttled_requests_are_retried(retry_after_header: bool) {
    let sandbox = sandbox(|mut c| {
        c.retry_after_header = retry_after_header;
        c.rate(4.0)
    })
    .await;
    // Twice as fast as the sandbox allows: it must be throttled and still write everything.
    let client = client(&sandbox, 8.0);
    assert_eq!(
        send_all(&client, None, contacts("throttle", 1200)).await,
        1200
    );
    let counters = sandbox.counters();
    assert!(counters.throttled > 0, "{counters:?}");
    assert_eq!(client.stats().throttled, counters.throttled);
    assert_eq!(sandbox.state().contacts.len(), 1200);
}

#[tokio::test]
async fn throttling_with_try_in_seconds_only() {
    throttled_requests_are_retried(false).await;
}

#[tokio::test]
async fn server_errors_dropped_connections_and_slow_answers_are_retried() {
    let table = [
        Faults {
            error_rate: 0.4,
            ..Faults::default()
        },
        Faults {
            drop_rate: 0.4,
            ..Faults::default()
        },
        Faults {
            slow_rate: 0.4,
            slow_ms: 1500,
            ..Faults::default()
        },
        Faults {
            outage_after_ms: Some(0),
            outage_ms: 600,
            ..Faults::default()
        },
    ];
    for faults in table {
        let label = format!("{faults:?}");
        let sandbox = sandbox(|c| {
            c.faults(Faults {
                seed: Some(11),
                ..faults
            })
        })
        .await;
        let client = client(&sandbox, 1000.0);
        assert_eq!(
            send_all(&client, None, contacts("fault", 1000)).await,
            1000,
            "{label}"
        );
        assert_eq!(sandbox.state().contacts.len(), 1000, "{label}");
        assert!(client.stats().retries > 0, "{label}");
    }
}

#[tokio::test]
async fn retries_are_bounded() {
    let sandbox = sandbox(|c| {
        c.faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        })
    })
    .await;
    let client = client(&sandbox, 1000.0);
    let batch = contacts("down", 5);
    let err = client.upsert_contacts(None, &batch).await.unwrap_err();
    match &err {
        ApiError::RetriesExhausted { attempts, .. } => assert_eq!(*attempts, 12),
        other => panic!("expected retries to run out, got {other}"),
    }
    assert_eq!(err.type_name(), "Transient");
    assert!(err.is_retryable());
}

/// A server that answers every request with the same raw bytes.
async fn raw_server(answer: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(&answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("http://{addr}/v1")
}

fn http(status: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[tokio::test]
async fn garbage_answers_are_clear_errors() {
    use secrecy::SecretString;
    let huge = vec![b'x'; 17 * 1024 * 1024];
    let table: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            http("200 OK", "text/html", b"<html>Sign in</html>"),
            "InvalidResponse",
            "HTML page",
        ),
        (
            http("200 OK", "application/json", b""),
            "InvalidResponse",
            "empty body",
        ),
        (
            http("200 OK", "application/json", b"{\"lists\": 5}"),
            "InvalidResponse",
            "expected JSON",
        ),
        (
            http("200 OK", "text/plain", &huge),
            "InvalidResponse",
            "larger than",
        ),
        (
            http("502 Bad Gateway", "text/html", b"<html>502</html>"),
            "Transient",
            "HTML page",
        ),
        (
            b"not http at all\r\n\r\n".to_vec(),
            "Transient",
            "could not reach",
        ),
    ];
    for (answer, type_name, text) in table {
        let url = raw_server(answer).await;
        let mut config = ClientConfig::new(url.parse().unwrap());
        config.timeout = Duration::from_secs(5);
        config.retry = RetryPolicy::new(2, Duration::from_secs(5))
            .with_delays(Duration::from_millis(1), Duration::from_millis(5));
        let client = AutopilotClient::new(config, SecretString::from("k".to_string())).unwrap();
        let err = client.lists().await.unwrap_err();
        assert_eq!(err.type_name(), type_name, "{err}");
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[tokio::test]
async fn a_retry_after_an_outage_goes_when_autopilot_answers_again_not_after_its_backoff() {
    let sandbox = sandbox(|c| c).await;
    let mut config = ClientConfig::new(sandbox.base_url().parse().unwrap());
    config.requests_per_second = 1000.0;
    // An hour of backoff after each failure: the batch can only go again early, woken by the
    // answer to another request.
    let hour = Duration::from_secs(3600);
    config.retry = RetryPolicy::new(5, 2 * hour).with_delays(hour, hour);
    let client = AutopilotClient::new(config, SecretString::from(KEY.to_string())).unwrap();
    sandbox.set_faults(Faults {
        outage_after_ms: Some(0),
        outage_ms: 2 * 3_600_000,
        ..Faults::default()
    });
    let batch = contacts("back", 10);
    let sending = tokio::spawn({
        let client = client.clone();
        async move { client.upsert_contacts(None, &batch).await }
    });
    while client.trouble().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(!sending.is_finished(), "the batch waits out its backoff");

    sandbox.set_faults(Faults::default());
    client.lists().await.expect("Autopilot answers again");
    // A guard, not a measure: ten minutes instead of the hour the backoff would take.
    let outcome = tokio::time::timeout(Duration::from_secs(600), sending)
        .await
        .expect("the batch went again as soon as Autopilot answered")
        .unwrap()
        .unwrap();
    assert_eq!(outcome.written, 10);
    let stats = client.stats();
    assert_eq!(
        (stats.requests, stats.retries),
        (3, 1),
        "the batch refused once, the list read, the batch again: {stats:?}"
    );
    assert_eq!(sandbox.counters().server_errors, 1);
    assert_eq!(sandbox.state().contacts.len(), 10);
}
