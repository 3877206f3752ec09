//! A tiny fake Autopilot whose answers a case chooses: a valid account, and for one path an
//! answer that is not JSON or lacks its fields. It counts the requests to each path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What to answer to a request: `(status, body)`.
pub type Answer = fn(method: &str, path: &str) -> (u16, &'static [u8]);

/// Answers as Autopilot would for an empty account; a case overrides what it needs.
pub fn normal(method: &str, path: &str) -> (u16, &'static [u8]) {
    match (method, path) {
        ("GET", "/v1/account") => (200, br#"{"instance_id":"i1","organization_name":"Tiny"}"#),
        ("GET", "/v1/lists") => (200, br#"{"lists":[]}"#),
        ("POST", "/v1/list") => (200, br#"{"list_id":"contactlist_1"}"#),
        ("POST", "/v1/contacts") => (200, b"{}"),
        _ => (404, br#"{"error":"Not Found"}"#),
    }
}

pub struct Tiny {
    pub url: String,
    seen: Arc<Mutex<HashMap<String, u64>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Tiny {
    pub async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let counts = seen.clone();
        let server = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counts = counts.clone();
                tokio::spawn(async move {
                    while let Some((method, path)) = read_request(&mut stream).await {
                        *counts
                            .lock()
                            .unwrap()
                            .entry(format!("{method} {path}"))
                            .or_default() += 1;
                        let (status, body) = answer(&method, &path);
                        let head = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        );
                        let sent = stream.write_all(head.as_bytes()).await;
                        if sent.is_err() || stream.write_all(body).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, seen, server }
    }

    /// Requests seen as `METHOD /path`.
    pub fn seen(&self, request: &str) -> u64 {
        self.seen.lock().unwrap().get(request).copied().unwrap_or(0)
    }
}

impl Drop for Tiny {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads one request (head and body); `None` when the connection ends.
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<(String, String)> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next()?.to_string();
    let path = words.next()?.to_string();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some((method, path))
}
