//! Decoding Autopilot's answers, through the client's public calls: a local server answers each
//! request with the fuzzer's bytes — a status, maybe a `Retry-After`, and a body — and one call
//! of the client reads it. Input: byte 0 picks the status, byte 1 the call, byte 2 the
//! `Retry-After` header; the rest is the body. Nothing may panic, hang or grow without bound, and
//! an error message stays short whatever the body holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use shared::autopilot::AutopilotClient;
use shared::contact::Contact;
use shared::http_api::{ApiError, ClientConfig, RetryPolicy};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

const STATUSES: [u16; 12] = [200, 200, 201, 204, 400, 401, 403, 404, 413, 429, 500, 503];
const RETRY_AFTER: [Option<&str>; 6] = [
    None,
    Some("0"),
    Some("1"),
    Some("abc"),
    Some("99999999999999999999"),
    Some("-1"),
];
/// The longest error message a caller may be shown (Autopilot's words are cut well before).
const MAX_MESSAGE_CHARS: usize = 2000;

/// The answer the server gives now: status, Retry-After, body.
static ANSWER: Mutex<(u16, Option<&'static str>, Vec<u8>)> = Mutex::new((200, None, Vec::new()));

/// The server's address; it answers every request of every connection with [`ANSWER`].
fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        url
    })
}

fn serve(mut stream: TcpStream) {
    // One write per answer, sent at once: no 40 ms wait for a delayed acknowledgement.
    let _ = stream.set_nodelay(true);
    loop {
        // The request: its head, then as many body bytes as it says.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if stream.read_exact(&mut body).is_err() {
            return;
        }
        let (status, retry_after, answer) = ANSWER.lock().unwrap().clone();
        let mut reply = format!(
            "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n",
            answer.len()
        );
        if let Some(value) = retry_after {
            reply.push_str(&format!("retry-after: {value}\r\n"));
        }
        reply.push_str("\r\n");
        let mut reply = reply.into_bytes();
        reply.extend(answer);
        if stream.write_all(&reply).is_err() {
            return;
        }
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

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
    let mut config = ClientConfig::new(url::Url::parse(server()).unwrap());
    config.requests_per_second = 10_000.0;
    config.timeout = Duration::from_secs(5);
    config.min_timeout = Duration::from_secs(5);
    config.retry = RetryPolicy::new(1, Duration::ZERO);
    AutopilotClient::new(config, SecretString::from("fuzz-key".to_string())).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let [status, call, retry_after, body @ ..] = data else {
        return;
    };
    let status = STATUSES[*status as usize % STATUSES.len()];
    let retry_after = RETRY_AFTER[*retry_after as usize % RETRY_AFTER.len()];
    *ANSWER.lock().unwrap() = (status, retry_after, body.to_vec());
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
    for message in messages {
        let chars = message.chars().count();
        assert!(
            chars <= MAX_MESSAGE_CHARS,
            "a message of {chars} characters"
        );
    }
});
