//! What the answer targets (`answers` for Autopilot, `ortto-answers` for Ortto) share: a local
//! HTTP server that answers every request of every connection with the answer the current input
//! chose, the runtime their client calls run on, and the checks every error message must pass.
//!
//! An input is laid out alike for both: byte 0 picks the status ([`STATUSES`]), byte 1 the call
//! (each target's own list), byte 2 the `Retry-After` header ([`RETRY_AFTER`]); the rest is the
//! body. Every request of one call gets the same answer.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

/// The statuses an input may pick (200 more often than the others).
pub const STATUSES: [u16; 12] = [200, 200, 201, 204, 400, 401, 403, 404, 413, 429, 500, 503];
const RETRY_AFTER: [Option<&str>; 6] = [
    None,
    Some("0"),
    Some("1"),
    Some("abc"),
    Some("99999999999999999999"),
    Some("-1"),
];
/// The longest error message a caller may be shown (an API's words are cut well before).
const MAX_MESSAGE_CHARS: usize = 2000;

/// The answer the server gives now: status, Retry-After, body.
static ANSWER: Mutex<(u16, Option<&'static str>, Vec<u8>)> = Mutex::new((200, None, Vec::new()));

/// One input, read: the status every request is answered with and the call byte. `None` for an
/// input too short to say. The server answers with this input's status and body from now on.
pub fn answer_with(data: &[u8]) -> Option<(u16, u8)> {
    let [status, call, retry_after, body @ ..] = data else {
        return None;
    };
    let status = STATUSES[*status as usize % STATUSES.len()];
    let retry_after = RETRY_AFTER[*retry_after as usize % RETRY_AFTER.len()];
    *ANSWER.lock().unwrap() = (status, retry_after, body.to_vec());
    Some((status, *call))
}

/// Threads serving connections. A client keeps one connection open, and one it dropped closes
/// at its runtime's next turn; a few threads are enough for all of them.
const WORKERS: usize = 8;

/// The server's address, `http://127.0.0.1:PORT`; it is started on first use. Its threads are
/// started once and live as long as the process: a thread per connection, started and ended
/// hundreds of times a second as clients are made again, would be caught mid-start when the
/// fuzzer exits and reported as a leak.
pub fn server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (accepted, connections) = mpsc::channel::<TcpStream>();
        let connections = Arc::new(Mutex::new(connections));
        for _ in 0..WORKERS {
            let connections = connections.clone();
            std::thread::spawn(move || loop {
                let next = connections.lock().unwrap().recv();
                match next {
                    Ok(stream) => serve(stream),
                    Err(_) => return,
                }
            });
        }
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if accepted.send(stream).is_err() {
                    return;
                }
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

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Every message a call gave a caller is short, and names none of `addresses` (the contacts the
/// call sent): an API's words are kept with addresses masked.
pub fn check_messages(messages: &[String], addresses: &[&str]) {
    for message in messages {
        let chars = message.chars().count();
        assert!(
            chars <= MAX_MESSAGE_CHARS,
            "a message of {chars} characters"
        );
        for address in addresses {
            assert!(
                !message.contains(address),
                "a message names a contact's address: {message}"
            );
        }
    }
}
