//! Reading Autopilot's answers: the body of an answer, read up to a cap; a 2xx body decoded as
//! JSON; the throttling hint of a 429; and the few words an error answer gives for messages.

use super::AutopilotError;
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The largest answer body read; anything bigger is refused, not buffered.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

pub(super) async fn read_capped(
    response: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, AutopilotError> {
    if response.content_length().unwrap_or(0) > MAX_ANSWER_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| AutopilotError::from_reqwest(e, timeout))?;
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large() -> AutopilotError {
    AutopilotError::InvalidResponse(format!(
        "the answer is larger than {} MB",
        MAX_ANSWER_BYTES / (1024 * 1024)
    ))
}

/// Decodes a 2xx answer; an empty body reads as JSON `null`.
pub(super) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AutopilotError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        AutopilotError::InvalidResponse(format!(
            "expected JSON, got {} ({} bytes): {e}",
            describe_body(bytes),
            bytes.len()
        ))
    })
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

/// A short, printable message from an error answer: Autopilot's own words where it gave them.
pub(super) fn answer_message(bytes: &[u8]) -> String {
    if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
        let found = [
            value.pointer("/error/message"),
            value.get("message"),
            value.get("error"),
        ]
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().map(str::to_string));
        if let Some(message) = found {
            return truncate(&message, 300);
        }
    }
    describe_body(bytes)
}

fn describe_body(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        "an empty body".into()
    } else if trimmed.starts_with('<') {
        "an HTML page".into()
    } else {
        format!("\"{}\"", truncate(trimmed, 120))
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// `text` fit to print on one line: control characters and invisible direction marks become
/// spaces, runs of spaces one, and at most `max_chars` characters are kept.
pub(super) fn printable(text: &str, max_chars: usize) -> String {
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

    #[test]
    fn messages_from_answers() {
        let table: [(&[u8], &str); 6] = [
            (br#"{"error":"Bad email"}"#, "Bad email"),
            (
                br#"{"error":{"message":"rate limit","try-in-seconds":3}}"#,
                "rate limit",
            ),
            (br#"{"message":"nope"}"#, "nope"),
            (b"<html><body>502 Bad Gateway</body></html>", "an HTML page"),
            (b"", "an empty body"),
            (b"plain words", "\"plain words\""),
        ];
        for (body, expected) in table {
            assert_eq!(answer_message(body), expected);
        }
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
        let err = decode::<super::super::Account>(b"<html>login</html>").unwrap_err();
        assert!(err.to_string().contains("HTML page"), "{err}");
        assert!(decode::<Value>(b"").unwrap().is_null());
    }
}
