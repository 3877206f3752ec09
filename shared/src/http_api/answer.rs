//! Reading an API's answers: the body of an answer, read up to a cap; a 2xx body decoded as
//! JSON; the throttling hint of a 429; and the few words an error answer gives for messages.
//!
//! An answer's body is never quoted in an error: only the API's own short `message` (or
//! `error`) field is, made printable, with email addresses masked (`***@domain`) and cut to 120
//! characters, since these messages become report keys and lines of `rejected.csv`. Any other
//! body is only described ("an HTML page", "34 bytes of text").

use super::ApiError;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The largest answer body read; anything bigger is refused, not buffered.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn read_capped(
    api: &'static str,
    response: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, ApiError> {
    if response.content_length().unwrap_or(0) > MAX_ANSWER_BYTES as u64 {
        return Err(too_large(api));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::from_reqwest(api, e, timeout))?;
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large(api));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(api: &'static str) -> ApiError {
    ApiError::invalid_response(
        api,
        format!(
            "the answer is larger than {} MB",
            MAX_ANSWER_BYTES / (1024 * 1024)
        ),
    )
}

/// Decodes a 2xx answer of `api`; an empty body reads as JSON `null`. The error describes the
/// answer and says where it went wrong, never what it holds.
pub fn decode<T: DeserializeOwned>(api: &'static str, bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        let mut message = format!(
            "expected JSON in the shape {api} sends, got {}",
            describe_body(bytes)
        );
        if e.is_data() && !text.starts_with(b"null") {
            message.push_str(": ");
            message.push_str(&shape_problem(&e));
        }
        ApiError::invalid_response(api, message)
    })
}

/// What is wrong with a JSON answer's shape, in words that hold none of its values: serde's
/// "invalid type" and "unknown variant" messages quote them.
fn shape_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.strip_prefix("missing field `") {
        Some(rest) if rest.contains('`') => {
            format!("missing field `{}`", rest.split('`').next().unwrap_or(""))
        }
        _ => format!(
            "a value of another type at line {}, column {}",
            e.line(),
            e.column()
        ),
    }
}

/// The `error.try-in-seconds` of a 429 body, if there is one.
pub(super) fn try_in_seconds(bytes: &[u8]) -> Option<Duration> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let secs = value.get("error")?.get("try-in-seconds")?;
    let secs = secs
        .as_f64()
        .or_else(|| secs.as_str().and_then(|s| s.parse().ok()))?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

/// The longest message from an API quoted.
const MAX_MESSAGE_CHARS: usize = 120;

/// A short, printable message from an error answer: the API's own words where it gave them
/// (cleaned, see the module's documentation), else what kind of answer it was.
pub(super) fn answer_message(bytes: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return describe_body(bytes);
    };
    let message = [
        value.pointer("/error/message"),
        value.get("message"),
        value.get("error"),
    ]
    .into_iter()
    .flatten()
    .filter_map(Value::as_str)
    .map(|message| {
        truncate(
            &mask_emails(&printable(message, usize::MAX)),
            MAX_MESSAGE_CHARS,
        )
    })
    .find(|message| !message.is_empty())
    .unwrap_or_else(|| "a JSON answer with no message".into());
    message
}

/// What kind of body an answer has, without a word of what it says.
fn describe_body(bytes: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return format!("{} bytes of binary data", bytes.len());
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        "an empty body".into()
    } else if trimmed.starts_with('<') {
        "an HTML page".into()
    } else if serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
        format!("a JSON answer of {} bytes", bytes.len())
    } else {
        format!("{} bytes of text", bytes.len())
    }
}

/// Each word holding an `@` (an email address, most likely) with everything before its last
/// `@` replaced by `***`: `Ann.Lee@example.com` → `***@example.com`. Words are separated by
/// spaces, quotes, brackets, commas and semicolons.
fn mask_emails(text: &str) -> String {
    let separator = |c: char| c.is_whitespace() || "\"'`<>()[]{},;".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(separator).unwrap_or(rest.len());
        let word = &rest[..end];
        match word.rfind('@') {
            Some(at) if at > 0 => {
                out.push_str("***");
                out.push_str(&word[at..]);
            }
            _ => out.push_str(word),
        }
        let sep_len = rest[end..].chars().next().map_or(0, char::len_utf8);
        out.push_str(&rest[end..end + sep_len]);
        rest = &rest[end + sep_len..];
    }
    out
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
        None => text.to_string(),
    }
}

/// `text` fit to print on one line: control characters and invisible direction marks become
/// spaces, runs of spaces one, and at most `max_chars` characters are kept.
pub fn printable(text: &str, max_chars: usize) -> String {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || invisible(c))
        .filter(|w| !w.is_empty())
        .collect();
    truncate(&words.join(" "), max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "Autopilot";

    #[test]
    fn messages_from_answers() {
        let long = format!(r#"{{"message":"{}"}}"#, "word ".repeat(100));
        let table: Vec<(&[u8], String)> = vec![
            (br#"{"error":"Bad email"}"#, "Bad email".into()),
            (
                br#"{"error":{"message":"rate limit","try-in-seconds":3}}"#,
                "rate limit".into(),
            ),
            (br#"{"message":"nope"}"#, "nope".into()),
            (
                b"<html><body>502 Bad Gateway</body></html>",
                "an HTML page".into(),
            ),
            (b"", "an empty body".into()),
            (b" \n ", "an empty body".into()),
            // The API's own message: printable, emails masked, at most 120 characters.
            (
                br#"{"message":"Contact Ann.Lee+vip@Example.com is invalid, see <bob@x.io>"}"#,
                "Contact ***@Example.com is invalid, see <***@x.io>".into(),
            ),
            (
                br#"{"error":"bad\u001b[2J\r\nvalue\u202e here"}"#,
                "bad [2J value here".into(),
            ),
            (
                long.as_bytes(),
                format!("{}…", "word ".repeat(24).trim_end()),
            ),
            (
                br#"{"message":"a@b@example.com and @handle"}"#,
                "***@example.com and @handle".into(),
            ),
            // Anything else is described, never quoted.
            (
                b"plain words from alice@example.com",
                "34 bytes of text".into(),
            ),
            (b"\xff\xfe\x00bob@x.io", "11 bytes of binary data".into()),
            (
                br#"{"email":"alice@example.com"}"#,
                "a JSON answer with no message".into(),
            ),
            (
                br#"{"error":{"code":"x"}}"#,
                "a JSON answer with no message".into(),
            ),
            (
                br#"{"message":"  "}"#,
                "a JSON answer with no message".into(),
            ),
            (
                br#""alice@example.com""#,
                "a JSON answer with no message".into(),
            ),
        ];
        for (body, expected) in table {
            let message = answer_message(body);
            assert_eq!(message, expected, "{}", String::from_utf8_lossy(body));
            assert!(message.chars().count() <= 121, "{message}");
        }
    }

    #[test]
    fn decode_errors_never_quote_the_answer() {
        let err = decode::<Vec<u32>>(API, br#"["alice@example.com"]"#).unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("alice"), "{text}");
        assert!(
            text.contains("expected JSON in the shape Autopilot sends, got a JSON answer of 21 bytes: a value of another type at line 1, column 20"),
            "{text}"
        );
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Lists {
            lists: Vec<u32>,
        }
        let err = decode::<Lists>(API, br#"{"other": "bob@x.io"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `lists`"), "{err}");
        assert!(!err.to_string().contains("bob"), "{err}");
        let err = decode::<Lists>(API, b"Dear Alice Smith, your password is...").unwrap_err();
        assert!(err.to_string().contains("got 37 bytes of text"), "{err}");
        assert!(!err.to_string().contains("Alice"), "{err}");
        let err = decode::<Lists>(API, b"").unwrap_err();
        assert!(err.to_string().contains("got an empty body"), "{err}");
    }

    #[test]
    fn try_in_seconds_from_body() {
        let body = br#"{"error":{"code":"rate-limit","message":"rate limit","try-in-seconds":10}}"#;
        assert_eq!(try_in_seconds(body), Some(Duration::from_secs(10)));
        assert_eq!(try_in_seconds(b"{}"), None);
        assert_eq!(try_in_seconds(b"<html>"), None);
    }

    #[test]
    fn decode_refuses_html_with_a_clear_message() {
        let err = decode::<Vec<String>>(API, b"<html>login</html>").unwrap_err();
        assert!(err.to_string().contains("HTML page"), "{err}");
        assert!(decode::<Value>(API, b"").unwrap().is_null());
    }
}
