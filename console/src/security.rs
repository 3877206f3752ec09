//! Who may use the console: whoever holds the token printed at start. The first URL carries it
//! once (`/?token=…`); the console answers with an HttpOnly, SameSite=Strict cookie holding it
//! (`Secure` when served over HTTPS) and a redirect to the same page without it, so it leaves the
//! address bar. Every other request needs
//! the cookie (401 without it), and a request that changes something (anything but GET and HEAD)
//! must also say it comes from the console's own pages (`Sec-Fetch-Site: same-origin`, or an
//! `Origin` equal to the console's own), so another site cannot post a form to it.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The cookie that carries the token.
pub const COOKIE: &str = "autopilot_console";

/// The access token: 32 random bytes, as hex.
pub struct Token(String);

impl Token {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::getrandom(&mut bytes)?;
        Ok(Self(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }

    #[cfg(test)]
    pub fn from_text(text: &str) -> Self {
        Self(text.to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the token, compared in time that does not depend on where they differ.
    pub fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// The `Set-Cookie` value that hands the token to the browser; `secure` (over HTTPS) keeps
    /// the browser from ever sending it over plain HTTP.
    pub fn cookie(&self, secure: bool) -> String {
        let secure = if secure { "; Secure" } else { "" };
        format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/{secure}",
            self.0
        )
    }
}

/// The value of cookie `name` in a `Cookie` header, if present.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

/// The `token` query parameter, if present.
pub fn token_in_query(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// Whether a request that changes something comes from the console's own pages.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (get("sec-fetch-site"), get("origin"), get("host")) {
        (Some(site), _, _) => site == "same-origin",
        (None, Some(origin), Some(host)) => {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        }
        _ => false,
    }
}

/// Whether this method changes something (and so needs [`same_origin`]).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

/// The middleware in front of every route.
pub(crate) async fn guard(
    State(state): State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let token = &state.token;
    if let Some(given) = token_in_query(request.uri().query()) {
        if !token.matches(&given) {
            return refused(StatusCode::UNAUTHORIZED, "This link's token is not the console's: open the link the console printed when it started.");
        }
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SEE_OTHER;
        let path = request.uri().path().to_string();
        if let (Ok(location), Ok(cookie)) = (
            HeaderValue::from_str(&path),
            HeaderValue::from_str(&token.cookie(state.options.tls.is_some())),
        ) {
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        return response;
    }
    let authorised = cookie_value(request.headers(), COOKIE).is_some_and(|v| token.matches(v));
    if !authorised {
        return refused(StatusCode::UNAUTHORIZED, "Open the console with the link it printed when it started (it holds the access token).");
    }
    if changes_state(request.method()) && !same_origin(request.headers()) {
        return refused(
            StatusCode::FORBIDDEN,
            "This request did not come from the console's own pages, so nothing was changed.",
        );
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
        (
            "content-security-policy",
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn refused(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn tokens_are_random_hex_and_compared_whole() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[..63]));
        assert!(!a.matches(""));
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let cookie = Token::from_text("abc").cookie(false);
        assert!(cookie.starts_with("autopilot_console=abc;"));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(Token::from_text("abc").cookie(true).ends_with("; Secure"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; autopilot_console=xyz; b=2")]);
        assert_eq!(cookie_value(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&headers(&[("cookie", "a=1")]), COOKIE), None);
        assert_eq!(token_in_query(Some("x=1&token=t%20k")), Some("t k".into()));
        assert_eq!(token_in_query(Some("x=1")), None);
    }

    #[test]
    fn only_the_consoles_own_pages_may_change_things() {
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(same_origin(&headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(!same_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(changes_state(&Method::POST));
        assert!(!changes_state(&Method::GET));
    }
}
