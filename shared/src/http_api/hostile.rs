//! The client against tiny local servers that answer as no API would: redirects elsewhere. Each
//! server counts the connections it accepted and keeps what it was sent; the servers serve the
//! tests of the implementations too ([`server`], [`http`]).

use super::client::tests::TESTING;
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
pub(crate) async fn server(
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

pub(crate) fn http(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The configuration of a client of the server on `port`: quick retries, a short timeout.
pub(crate) fn config(port: u16) -> ClientConfig {
    let url = Url::parse(&format!("http://127.0.0.1:{port}/v1")).unwrap();
    let mut config = ClientConfig::new(url);
    config.timeout = Duration::from_secs(5);
    config.retry = RetryPolicy::new(2, Duration::from_secs(5))
        .with_delays(Duration::from_millis(1), Duration::from_millis(5));
    config
}

fn client(port: u16) -> HttpClient {
    HttpClient::new(
        TESTING,
        config(port),
        SecretString::from(KEY.to_string()),
        None,
    )
    .unwrap()
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
        let account = Request::new(reqwest::Method::GET, &["account"], "account");
        let err = client(port)
            .send::<serde_json::Value>(&account)
            .await
            .unwrap_err();
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
async fn bad_requests_slow_down_before_an_api_would_ban_the_client() {
    let (port, asked, _) = server(|| http("400 Bad Request", "", r#"{"error":"bad"}"#)).await;
    let banning = Dialect {
        bad_requests: Some(BadRequestLimit {
            answers: 3,
            window: Duration::from_millis(800),
        }),
        ..TESTING
    };
    let key = SecretString::from(KEY.to_string());
    let client = HttpClient::new(banning, config(port), key, None).unwrap();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let request = Request::new(reqwest::Method::POST, &["people"], "person");
        let err = client
            .send::<serde_json::Value>(&request)
            .await
            .unwrap_err();
        assert_eq!(err.type_name(), "InvalidRequest", "{err}");
    }
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    // The third waited for the first to leave the window: never three in 800 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}
