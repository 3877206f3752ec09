//! The client against tiny local servers that answer as no Autopilot would: redirects elsewhere,
//! answers without an account, list pages that never end. Each server counts the connections it
//! accepted and keeps what it was sent.

use super::key::key_header;
use super::*;
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

const KEY: &str = "key-that-must-stay-home";

/// A server on a free loopback port that answers every request with `answer()`; returns its
/// port, the number of connections it accepted, and the bytes it was sent.
async fn server(
    answer: impl Fn() -> Vec<u8> + Send + Sync + 'static,
) -> (u16, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let (counted, kept) = (count.clone(), heard.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let (answer, kept) = (answer.clone(), kept.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let n = stream.read(&mut buf).await.unwrap_or(0);
                kept.lock().unwrap().extend_from_slice(&buf[..n]);
                let _ = stream.write_all(&answer()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, count, heard)
}

fn http(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn client(port: u16) -> AutopilotClient {
    let url = Url::parse(&format!("http://127.0.0.1:{port}/v1")).unwrap();
    let mut config = ClientConfig::new(url);
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy::new(2, Duration::from_secs(5))
        .with_delays(Duration::from_millis(1), Duration::from_millis(5));
    AutopilotClient::new(config, SecretString::from(KEY.to_string())).unwrap()
}

#[tokio::test]
async fn a_redirect_is_never_followed_and_the_key_stays_home() {
    let (elsewhere, reached, heard) = server(|| {
        http(
            "200 OK",
            "",
            r#"{"instance_id": 1, "organization_name": "Elsewhere"}"#,
        )
    })
    .await;
    for status in [
        "301 Moved Permanently",
        "302 Found",
        "307 Temporary Redirect",
        "308 Permanent Redirect",
    ] {
        let location = format!("location: http://127.0.0.1:{elsewhere}/v1/account\r\n");
        let (port, asked, _) = server(move || http(status, &location, "")).await;
        let err = client(port).account().await.unwrap_err();
        assert_eq!(
            asked.load(Ordering::SeqCst),
            1,
            "{status}: asked once, not retried"
        );
        assert_eq!(
            reached.load(Ordering::SeqCst),
            0,
            "{status}: followed to another host"
        );
        let text = err.to_string();
        assert!(
            text.contains("answered with a redirect") && text.contains("URL is probably wrong"),
            "{status}: {text}"
        );
        assert!(
            !text.contains(KEY) && !text.contains(&elsewhere.to_string()),
            "{text}"
        );
        assert_eq!(err.type_name(), "InvalidResponse", "{status}");
        assert!(!err.is_retryable(), "{status}");
    }
    assert!(heard.lock().unwrap().is_empty());
}

#[test]
fn the_key_header_is_marked_sensitive() {
    let value = key_header(&SecretString::from(KEY.to_string())).unwrap();
    assert!(value.is_sensitive());
    assert!(!format!("{value:?}").contains(KEY));
}

#[tokio::test]
async fn an_account_answer_without_an_account_is_refused() {
    for body in [
        "{}",
        r#"{"instance_id": null}"#,
        r#"{"instance_id": ""}"#,
        r#"{"organization_name": "  "}"#,
        r#"{"status": "ok", "data": {"organization_name": "Nested"}}"#,
    ] {
        let (port, _, _) = server(move || http("200 OK", "", body)).await;
        let err = client(port).account().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the answer to GET /account has no account in it: the URL is probably not Autopilot's API",
            "{body}"
        );
        assert_eq!(err.type_name(), "InvalidResponse", "{body}");
    }
    for (body, name) in [
        (r#"{"instance_id": 12345}"#, None),
        (r#"{"instance_id": "abc"}"#, None),
        (r#"{"organization_name": "Acme"}"#, Some("Acme")),
        (
            r#"{"instance_id": 7, "organization_name": "Acme\u001b[31m Ltd"}"#,
            Some("Acme [31m Ltd"),
        ),
    ] {
        let (port, _, _) = server(move || http("200 OK", "", body)).await;
        let account = client(port).account().await.unwrap();
        assert_eq!(account.organization_name.as_deref(), name, "{body}");
    }
}

/// A server whose list pages hold `per_page` members each and go on for `pages` pages (with a
/// bookmark on all but the last), or for ever.
async fn paging_server(
    per_page: usize,
    pages: Option<usize>,
) -> (AutopilotClient, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let (port, asked, _) = server(move || {
        let page = served.fetch_add(1, Ordering::SeqCst);
        let contacts: Vec<String> = (0..per_page)
            .map(|i| format!(r#"{{"Email":"p{page}-{i}@example.com","FirstName":"Ann","custom":{{"string--Note":"{}"}}}}"#, "x".repeat(200)))
            .collect();
        let bookmark = match pages {
            Some(last) if page + 1 >= last => String::new(),
            _ => format!(r#","bookmark":"b{page}""#),
        };
        let body = format!(r#"{{"contacts":[{}],"total_contacts":99{bookmark}}}"#, contacts.join(","));
        http("200 OK", "", &body)
    })
    .await;
    (client(port), asked)
}

#[tokio::test]
async fn list_members_are_read_as_emails_only() {
    let (client, asked) = paging_server(2, Some(3)).await;
    let emails = client.list_member_emails("l1").await.unwrap();
    assert_eq!(emails.len(), 6);
    assert_eq!(emails[0], "p0-0@example.com");
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    let (client, _) = paging_server(2, Some(3)).await;
    let members = client.list_members("l1").await.unwrap();
    assert_eq!(members[5], serde_json::json!({"Email": "p2-1@example.com"}));
}

#[tokio::test]
async fn a_list_that_never_ends_is_refused_at_the_limits() {
    let limits = |members, pages| ListLimits { members, pages };
    // Too many members: stopped at the limit, never more than one page past it.
    let (client, asked) = paging_server(10, None).await;
    let err = client
        .read_member_emails("l1", limits(25, 1000))
        .await
        .unwrap_err();
    assert_eq!(err.type_name(), "LimitExceeded", "{err}");
    assert_eq!(
        err.to_string(),
        "the Autopilot list l1 has more than 25 members, more than an export reads: stopped reading it"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    // Pages that never end: stopped at the page limit.
    let (client, asked) = paging_server(1, None).await;
    let err = client
        .read_member_emails("l1", limits(1000, 10))
        .await
        .unwrap_err();
    assert_eq!(err.type_name(), "InvalidResponse", "{err}");
    assert!(
        err.to_string().contains("went on for more than 10 pages"),
        "{err}"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 10);
    // The defaults.
    let defaults = ListLimits::default();
    assert_eq!((defaults.members, defaults.pages), (5_000_000, 1_000_000));
}
