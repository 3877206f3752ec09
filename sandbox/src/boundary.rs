//! Who may talk to the sandbox over HTTP: programs on this machine, and for `/admin` only those
//! holding its admin token (during a trial it may hold real contacts). What every request passes
//! before anything else, in either API and in `/admin`:
//!
//! - its `Host` (and the authority of an absolute request target) names the loopback: `127.0.0.1`,
//!   `localhost` or `[::1]`, with any port. Anything else — what a browser sends after DNS
//!   rebinding pointed a site's name at 127.0.0.1 — is answered 421;
//! - it does not come from a web page of another origin: an `Origin` header other than the
//!   sandbox's own (`http://` and its `Host`), or `Sec-Fetch-Site: cross-site` or `same-site`
//!   (another port of 127.0.0.1 is another origin), is answered 403. The sandbox serves no pages,
//!   so this refuses every browser request; curl, the clients and Node's `fetch` send neither
//!   header;
//! - `/admin` needs the admin token, as `Authorization: Bearer TOKEN` (401 without it or with
//!   another, with `WWW-Authenticate: Bearer`; never in the query string, which logs keep). The
//!   token is 16 random bytes from the operating system's generator as 32 hex characters, unless
//!   [`crate::SandboxConfig::admin_token`] gives one.
//!
//! A refused request reaches no handler and is not counted. The in-process handle
//! ([`crate::Sandbox`]) needs no token.

use crate::admin;
use crate::control::Shared;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The host names a request may be addressed to, whatever the port.
const LOOPBACK_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "[::1]"];

/// The token `/admin` requires. Its `Debug` does not show it.
#[derive(Clone)]
pub struct AdminToken(String);

impl AdminToken {
    /// The fewest and most characters of a given token.
    pub const LENGTH: std::ops::RangeInclusive<usize> = 16..=256;

    /// A fresh token: 16 bytes from the operating system's random generator, as 32 hex characters.
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// A token chosen by the caller: 16 to 256 of the characters `A-Z a-z 0-9 - . _ ~ + / =`
    /// (those a bearer token may hold); the reason otherwise.
    pub fn given(text: &str) -> Result<Self, String> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
        if !Self::LENGTH.contains(&text.len()) {
            return Err(format!(
                "the admin token must have {} to {} characters (it has {})",
                Self::LENGTH.start(),
                Self::LENGTH.end(),
                text.len()
            ));
        }
        if !text.chars().all(allowed) {
            return Err(
                "the admin token may hold only letters, digits and - . _ ~ + / =".to_string(),
            );
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the token, compared in time that does not depend on where they differ.
    fn matches(&self, given: &str) -> bool {
        self.0.as_bytes().ct_eq(given.as_bytes()).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(…)")
    }
}

/// The middleware in front of every route: a loopback `Host`, and no other site's request.
pub(crate) async fn from_this_machine(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => host.to_str().ok(),
        _ => None,
    };
    let target = request.uri().authority().map(|a| a.as_str());
    let Some(host) =
        host.filter(|h| names_the_loopback(h) && target.is_none_or(names_the_loopback))
    else {
        return admin::error(
            StatusCode::MISDIRECTED_REQUEST,
            "This sandbox answers only requests addressed to 127.0.0.1, localhost or [::1] (the \
             Host header names another server): call it as http://127.0.0.1:PORT.",
        );
    };
    if from_another_site(headers, host) {
        return admin::error(
            StatusCode::FORBIDDEN,
            "This request came from a web page (its Origin or Sec-Fetch-Site header says so): the \
             sandbox answers only programs on this machine, so nothing was done.",
        );
    }
    next.run(request).await
}

/// The middleware in front of `/admin`: the admin token.
pub(crate) async fn admin_token(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let message = match bearer(request.headers()) {
        Some(given) if shared.admin_token.matches(given) => return next.run(request).await,
        Some(_) => {
            "This is not the sandbox's admin token: send the one it printed at start (or was \
             given), as the header Authorization: Bearer TOKEN."
        }
        None => {
            "The sandbox's /admin routes need its admin token: send the header Authorization: \
             Bearer TOKEN, with the token it printed at start (or was given)."
        }
    };
    let mut refused = admin::error(StatusCode::UNAUTHORIZED, message);
    refused.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"sandbox admin\""),
    );
    refused
}

/// Whether `authority` (`name[:port]`) names the loopback.
fn names_the_loopback(authority: &str) -> bool {
    let name_ends = if authority.starts_with('[') {
        authority.find(']').map(|end| end + 1)
    } else {
        Some(authority.find(':').unwrap_or(authority.len()))
    };
    let Some((name, port)) = name_ends.map(|end| authority.split_at(end)) else {
        return false;
    };
    let port_is_fine = port.is_empty()
        || port.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    port_is_fine && LOOPBACK_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// Whether a web page of an origin other than `http://{host}` made the request.
fn from_another_site(headers: &HeaderMap, host: &str) -> bool {
    let own_origin = format!("http://{host}");
    let foreign_origin = headers.get_all(header::ORIGIN).iter().any(|origin| {
        !origin
            .to_str()
            .is_ok_and(|o| o.eq_ignore_ascii_case(&own_origin))
    });
    let other_site = headers
        .get_all("sec-fetch-site")
        .iter()
        .any(|site| matches!(site.as_bytes(), b"cross-site" | b"same-site"));
    foreign_origin || other_site
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass_whatever_the_port() {
        let table = [
            ("127.0.0.1", true),
            ("127.0.0.1:8080", true),
            ("localhost", true),
            ("LocalHost:1", true),
            ("[::1]", true),
            ("[::1]:65535", true),
            ("attacker.example", false),
            ("attacker.example:8080", false),
            ("127.0.0.1.attacker.example", false),
            ("localhost.", false),
            ("localhost.attacker.example:80", false),
            ("127.0.0.2", false),
            ("0.0.0.0:8080", false),
            ("[::2]:8080", false),
            ("[::1", false),
            ("127.0.0.1:", false),
            ("127.0.0.1:80x", false),
            ("127.0.0.1:123456", false),
            ("", false),
        ];
        for (authority, passes) in table {
            assert_eq!(names_the_loopback(authority), passes, "{authority:?}");
        }
    }

    #[test]
    fn a_page_of_another_origin_is_told_from_a_program() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.append(*name, HeaderValue::from_static(value));
            }
            map
        };
        let host = "127.0.0.1:8080";
        let table = [
            (headers(&[]), false),
            (headers(&[("origin", "http://127.0.0.1:8080")]), false),
            (headers(&[("sec-fetch-site", "same-origin")]), false),
            (headers(&[("sec-fetch-site", "none")]), false),
            (headers(&[("origin", "https://evil.example")]), true),
            (headers(&[("origin", "null")]), true),
            (headers(&[("origin", "http://127.0.0.1:9090")]), true),
            (headers(&[("origin", "https://127.0.0.1:8080")]), true),
            (headers(&[("sec-fetch-site", "cross-site")]), true),
            (headers(&[("sec-fetch-site", "same-site")]), true),
        ];
        for (headers, foreign) in table {
            assert_eq!(from_another_site(&headers, host), foreign, "{headers:?}");
        }
    }

    #[test]
    fn a_bearer_token_is_read_from_its_header_only() {
        let with = |value: &'static str| {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            map
        };
        assert_eq!(bearer(&with("Bearer abc")), Some("abc"));
        assert_eq!(bearer(&with("bearer  abc ")), Some("abc"));
        assert_eq!(bearer(&with("Basic abc")), None);
        assert_eq!(bearer(&with("Bearer")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn a_token_is_random_or_given_within_limits() {
        let (a, b) = (
            AdminToken::generate().unwrap(),
            AdminToken::generate().unwrap(),
        );
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()) && !a.matches(b.as_str()) && !a.matches(""));
        assert!(!format!("{a:?}").contains(a.as_str()));

        assert!(AdminToken::given("0123456789abcdef").is_ok());
        assert!(AdminToken::given("A-._~+/=0123456789").is_ok());
        let short = AdminToken::given("too-short").unwrap_err();
        assert!(short.contains("16 to 256 characters"), "{short}");
        assert!(AdminToken::given(&"x".repeat(257)).is_err());
        let spaced = AdminToken::given("0123456789 abcdef").unwrap_err();
        assert!(spaced.contains("only letters, digits"), "{spaced}");
        assert!(AdminToken::given("0123456789abcdéf").is_err());
    }
}
