//! The signature of a webhook post, made as Stripe and GitHub make theirs, so that a receiver can
//! tell our posts from anyone's: an HMAC-SHA-256, keyed with the destination's webhook signing
//! secret (the whole text, `whsec_` included), of the timestamp, a `.` and the raw body, sent as
//!
//! ```text
//! Autopilot-Export-Signature: t=1767225600,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//! ```
//!
//! `t` is the time of the post in Unix seconds (each try of a post is signed anew), `v1` the
//! signature in lower-case hex. A receiver recomputes it over the body exactly as received,
//! compares in constant time, and refuses a timestamp more than [`TOLERANCE`] (5 minutes) away
//! from its own clock, so that a post seen on the way cannot be replayed later. The secret is 32
//! random bytes from the system's source, never a seeded generator.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};
use std::fmt::Write;

/// The header carrying the timestamp and the signature.
pub const HEADER: &str = "Autopilot-Export-Signature";
/// How far a receiver lets the timestamp be from its clock, either way: 5 minutes.
pub const TOLERANCE_SECONDS: i64 = 300;
/// The same, as a duration.
pub const TOLERANCE: std::time::Duration = std::time::Duration::from_secs(300);
/// How every signing secret starts, so that people recognise one.
pub const SECRET_PREFIX: &str = "whsec_";

/// Why a receiver refuses a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the signature header is missing or is not `t=…,v1=…`")]
    Malformed,
    #[error("the timestamp is more than 5 minutes from this clock: an old post replayed, or a clock that is wrong")]
    OutOfTime,
    #[error("no signature matches: the body was changed, or it was signed with another secret")]
    Mismatch,
}

/// A new signing secret: `whsec_` and 32 random bytes in hex. Fails only when the system has no
/// random source to give.
pub fn new_secret() -> Result<SecretString, String> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system's random source failed: no signing secret was made".to_string())?;
    let mut text = String::from(SECRET_PREFIX);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    Ok(SecretString::from(text))
}

/// The header's value for `body` posted at `timestamp` (Unix seconds).
pub fn header_value(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex(&tag(secret.expose_secret(), timestamp, body))
    )
}

/// A receiver's check of a post: the header's timestamp within [`TOLERANCE_SECONDS`] of `now`,
/// and one of its `v1` signatures that of `body` under `secret`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Refusal> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.push(unhex(v).ok_or(Refusal::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refusal::Malformed)?;
    if signatures.is_empty() {
        return Err(Refusal::Malformed);
    }
    if now.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(Refusal::OutOfTime);
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let signed = signed_text(timestamp, body);
    signatures
        .iter()
        .any(|s| hmac::verify(&key, &signed, s).is_ok())
        .then_some(())
        .ok_or(Refusal::Mismatch)
}

fn tag(secret: &str, timestamp: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    hmac::sign(&key, &signed_text(timestamp, body))
}

/// What is signed: `{timestamp}.{body}`.
fn signed_text(timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut text = format!("{timestamp}.").into_bytes();
    text.extend_from_slice(body);
    text
}

fn hex(tag: &hmac::Tag) -> String {
    let mut text = String::with_capacity(64);
    for byte in tag.as_ref() {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_767_225_600;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_string())
    }

    #[test]
    fn secrets_are_prefixed_random_hex() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        let a = a.expose_secret();
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(a.len(), SECRET_PREFIX.len() + 64);
        assert!(a[SECRET_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b.expose_secret());
    }

    /// A known answer: HMAC-SHA-256 of `1767225600.{"a":1}` keyed with `whsec_test`, as
    /// `printf '%s' '1767225600.{"a":1}' | openssl dgst -sha256 -hmac whsec_test` gives it.
    #[test]
    fn the_signature_is_the_hmac_of_timestamp_dot_body() {
        let header = header_value(&secret("whsec_test"), NOW, br#"{"a":1}"#);
        assert_eq!(
            header,
            "t=1767225600,v1=6d204545ff126a339c00513d93603299c984074ce1331c3537c3f6c976b49019"
        );
    }

    #[test]
    fn a_post_verifies_only_unchanged_with_its_secret_and_in_time() {
        let body = br#"{"status":"succeeded"}"#;
        let header = header_value(&secret("whsec_one"), NOW, body);
        assert_eq!(verify("whsec_one", &header, body, NOW + 10), Ok(()));
        assert_eq!(verify("whsec_one", &header, body, NOW - 300), Ok(()));
        let cases = [
            (
                "whsec_one",
                header.as_str(),
                &br#"{"status":"failed"}"#[..],
                NOW,
                Refusal::Mismatch,
            ),
            (
                "whsec_two",
                header.as_str(),
                &body[..],
                NOW,
                Refusal::Mismatch,
            ),
            (
                "whsec_one",
                header.as_str(),
                &body[..],
                NOW + 301,
                Refusal::OutOfTime,
            ),
            (
                "whsec_one",
                header.as_str(),
                &body[..],
                NOW - 301,
                Refusal::OutOfTime,
            ),
            ("whsec_one", "", &body[..], NOW, Refusal::Malformed),
            (
                "whsec_one",
                "t=1767225600",
                &body[..],
                NOW,
                Refusal::Malformed,
            ),
            ("whsec_one", "v1=00", &body[..], NOW, Refusal::Malformed),
            (
                "whsec_one",
                "t=1767225600,v1=zz",
                &body[..],
                NOW,
                Refusal::Malformed,
            ),
        ];
        for (key, header, body, now, refusal) in cases {
            assert_eq!(
                verify(key, header, body, now),
                Err(refusal),
                "{key} {header} {now}"
            );
        }
        // A later timestamp written over the signed one does not verify either.
        let moved = header.replace("t=1767225600", "t=1767225900");
        assert_eq!(
            verify("whsec_one", &moved, body, NOW + 300),
            Err(Refusal::Mismatch)
        );
    }
}
