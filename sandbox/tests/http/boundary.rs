//! Who may talk to the sandbox, in either mode: a request addressed to another host (DNS
//! rebinding) is refused on every route, a web page of another site can neither reset nor write,
//! and `/admin` needs the sandbox's admin token. Each refusal is checked against the same request
//! made the allowed way, which does what the refused one would have done.

use reqwest::{Method, StatusCode};
use sandbox::{AdminToken, Sandbox, SandboxConfig};
use serde_json::{json, Value};
use std::io::{Read, Write};

const KEY: &str = "boundary-key";

/// One API: its configuration, its key header, a call that reads and one that writes a contact.
struct Mode {
    config: SandboxConfig,
    key_header: &'static str,
    read: (Method, &'static str),
    write: (&'static str, Value),
}

fn modes() -> [Mode; 2] {
    [
        Mode {
            config: SandboxConfig::with_key(KEY),
            key_header: "autopilotapikey",
            read: (Method::GET, "/v1/account"),
            write: ("/v1/contacts", json!({"contacts": [{"Email": "ann@x.io"}]})),
        },
        Mode {
            config: SandboxConfig::ortto(KEY),
            key_header: "x-api-key",
            read: (Method::POST, "/v1/tags/get"),
            write: (
                "/v1/person/merge",
                json!({"people": [{"fields": {"str::email": "ann@x.io"}}], "merge_by": ["str::email"]}),
            ),
        },
    ]
}

async fn status_and_text(request: reqwest::RequestBuilder) -> (StatusCode, String) {
    let answer = request.send().await.expect("the sandbox answers");
    let status = answer.status();
    (status, answer.text().await.unwrap_or_default())
}

#[tokio::test]
async fn a_cross_site_post_to_reset_is_refused_and_nothing_is_reset() {
    for mode in modes() {
        let sandbox = Sandbox::start(mode.config, 0).await.unwrap();
        let list = sandbox.create_list("VIP");
        sandbox.add_member_by_hand(&list, "ann@x.io").unwrap();
        let reset = format!("http://{}/admin/reset", sandbox.addr());
        let client = reqwest::Client::new();
        // What a page of another site sends without asking first (a form, a no-cors fetch), even
        // one that somehow knows the token.
        let from_pages = [
            ("origin", "https://evil.example"),
            ("origin", "null"),
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "cross-site"),
        ];
        for (header, value) in from_pages {
            for token in [None, Some(sandbox.admin_token())] {
                let mut post = client
                    .post(&reset)
                    .header(header, value)
                    .header("content-type", "text/plain")
                    .body("{}");
                if let Some(token) = token {
                    post = post.bearer_auth(token);
                }
                let (status, text) = status_and_text(post).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{header}: {value}: {text}");
                assert!(text.contains("came from a web page"), "{text}");
            }
        }
        let state = sandbox.state();
        assert_eq!(
            (state.contacts.len(), state.lists.len()),
            (1, 1),
            "nothing was reset"
        );

        let post = client.post(&reset).bearer_auth(sandbox.admin_token());
        assert_eq!(status_and_text(post).await.0, StatusCode::NO_CONTENT);
        assert!(
            sandbox.state().contacts.is_empty(),
            "a program's reset works"
        );
    }
}

#[tokio::test]
async fn a_foreign_host_is_refused_on_admin_and_api_routes() {
    for mode in modes() {
        let sandbox = Sandbox::start(mode.config, 0).await.unwrap();
        let port = sandbox.addr().port();
        // As after DNS rebinding: the attacker's name leads to the sandbox's address.
        let client = reqwest::Client::builder()
            .resolve("attacker.example", sandbox.addr())
            .resolve("localhost", sandbox.addr())
            .build()
            .unwrap();
        let (method, path) = mode.read.clone();
        for (host, allowed) in [
            ("attacker.example", false),
            ("127.0.0.1", true),
            ("localhost", true),
        ] {
            let admin = client
                .get(format!("http://{host}:{port}/admin/state"))
                .bearer_auth(sandbox.admin_token());
            let api = client
                .request(method.clone(), format!("http://{host}:{port}{path}"))
                .header(mode.key_header, KEY)
                .json(&json!({}));
            for (route, request) in [("admin", admin), ("API", api)] {
                let (status, text) = status_and_text(request).await;
                if allowed {
                    assert_eq!(status, StatusCode::OK, "{route} via {host}: {text}");
                } else {
                    assert_eq!(status, StatusCode::MISDIRECTED_REQUEST, "{route}: {text}");
                    assert!(text.contains("addressed to 127.0.0.1"), "{text}");
                }
            }
        }
        assert_eq!(
            sandbox.counters().requests,
            2,
            "the refused API request was not counted"
        );
    }
}

/// The status code of the answer to `head` (a request without its final blank line) sent as it is.
fn raw_status(sandbox: &Sandbox, head: &str) -> String {
    let mut stream = std::net::TcpStream::connect(sandbox.addr()).unwrap();
    write!(stream, "{head}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status_line = answer.lines().next().unwrap_or_default();
    status_line
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_a_loopback_host_or_with_another_in_its_target_is_refused() {
    let sandbox = Sandbox::start(SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let auth = format!("Authorization: Bearer {}", sandbox.admin_token());
    let refused = [
        format!("GET http://attacker.example/admin/counters HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"),
        format!("GET /admin/counters HTTP/1.0\r\n{auth}"),
        format!(
            "GET /admin/counters HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\n{auth}"
        ),
        format!("GET /admin/counters HTTP/1.1\r\nHost: 127.0.0.1.attacker.example\r\n{auth}"),
        "GET /nothing/here HTTP/1.1\r\nHost: attacker.example".to_string(),
    ];
    for head in refused {
        let status = tokio::task::block_in_place(|| raw_status(&sandbox, &head));
        assert_eq!(status, "421", "{head}");
    }
    let allowed = format!("GET http://[::1]:1/admin/counters HTTP/1.1\r\nHost: [::1]:1\r\n{auth}");
    let status = tokio::task::block_in_place(|| raw_status(&sandbox, &allowed));
    assert_eq!(status, "200");
}

#[tokio::test]
async fn a_web_page_of_another_site_cannot_write_through_the_api_either() {
    for mode in modes() {
        let sandbox = Sandbox::start(mode.config, 0).await.unwrap();
        let (path, body) = &mode.write;
        let url = format!("http://{}{path}", sandbox.addr());
        let client = reqwest::Client::new();
        let write = || {
            client
                .post(&url)
                .header(mode.key_header, KEY)
                .header("content-type", "text/plain")
                .body(body.to_string())
        };
        let (status, text) =
            status_and_text(write().header("origin", "https://evil.example")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {text}");
        assert!(sandbox.state().contacts.is_empty(), "nothing was written");
        assert_eq!(sandbox.counters().requests, 0);

        let (status, text) = status_and_text(write()).await;
        assert!(
            status.is_success(),
            "a program's write works: {status} {text}"
        );
        assert_eq!(sandbox.state().contacts.len(), 1);
    }
}

#[tokio::test]
async fn an_admin_request_needs_the_sandboxs_token() {
    for mode in modes() {
        let sandbox = Sandbox::start(mode.config, 0).await.unwrap();
        let other = Sandbox::start(SandboxConfig::with_key(KEY), 0)
            .await
            .unwrap();
        assert_ne!(
            sandbox.admin_token(),
            other.admin_token(),
            "each makes its own"
        );
        let admin = |path: &str| format!("http://{}/admin{path}", sandbox.addr());
        let client = reqwest::Client::new();
        let token = sandbox.admin_token();
        let refused = [
            client.get(admin("/counters")),
            client
                .get(admin("/counters"))
                .bearer_auth("not-the-token-at-all"),
            client
                .get(admin("/counters"))
                .bearer_auth(other.admin_token()),
            client
                .get(admin("/counters"))
                .basic_auth("admin", Some(token)),
            client
                .get(admin("/counters"))
                .header("authorization", token),
            client.get(admin(&format!("/counters?token={token}"))),
            client.get(admin("/no-such-route")),
            client
                .put(admin("/keys"))
                .json(&json!({"api_keys": ["stolen"]})),
        ];
        for request in refused {
            let answer = request.send().await.unwrap();
            let challenge = answer.headers().get("www-authenticate").cloned();
            let (status, text) = (answer.status(), answer.text().await.unwrap());
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{text}");
            assert!(text.contains("admin token"), "{text}");
            assert!(!text.contains(token), "the answer does not tell the token");
            assert!(challenge.is_some_and(|c| c.as_bytes().starts_with(b"Bearer")));
        }
        let (method, path) = mode.read.clone();
        let api = client
            .request(method, format!("http://{}{path}", sandbox.addr()))
            .header(mode.key_header, KEY)
            .json(&json!({}));
        assert_eq!(
            status_and_text(api).await.0,
            StatusCode::OK,
            "the keys were not changed"
        );

        let counters = client.get(admin("/counters")).bearer_auth(token);
        assert_eq!(status_and_text(counters).await.0, StatusCode::OK);
        let keys = client
            .put(admin("/keys"))
            .bearer_auth(token)
            .json(&json!({"api_keys": ["another"]}));
        assert_eq!(status_and_text(keys).await.0, StatusCode::NO_CONTENT);
    }

    let chosen = "a-token-of-our-own-choosing";
    let config = SandboxConfig::with_key(KEY).admin_token(AdminToken::given(chosen).unwrap());
    let sandbox = Sandbox::start(config, 0).await.unwrap();
    assert_eq!(sandbox.admin_token(), chosen);
    let counters = reqwest::Client::new()
        .get(format!("http://{}/admin/counters", sandbox.addr()))
        .bearer_auth(chosen);
    assert_eq!(status_and_text(counters).await.0, StatusCode::OK);
}
