//! Errors of the Autopilot client, each with the class the retry logic and the state machine act on.
//!
//! Messages never carry the API key or a request URL (paths can hold an email address), nor an
//! answer's body: only Autopilot's own short message, cleaned (see `answer.rs`).

use std::time::Duration;

/// Whether trying the same request again later can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling, server faults, lost connections and timeouts: try again later.
    Retryable,
    /// A rejected key, a rejected request, a missing object: trying again changes nothing.
    Fatal,
}

/// What went wrong talking to Autopilot.
#[derive(Debug, thiserror::Error)]
pub enum AutopilotError {
    #[error("Autopilot rejected the API key (401): check the key, or connect the destination again with a valid one")]
    Unauthorized,
    #[error("the API key is empty or holds a line break or other characters an API key cannot have: paste the key alone, on one line")]
    UnusableKey,
    /// A base URL the key must not be sent to ([`super::check_base_url`]).
    #[error("{0}")]
    InvalidUrl(String),
    #[error("Autopilot throttled the request (429)")]
    Throttled { retry_after: Option<Duration> },
    #[error("Autopilot rejected the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    /// A bulk write answered 400 (a contact Autopilot will not take) or 413 (too large): the
    /// batch is split to find the contacts at fault ([`super::bulk`]), so this reaches callers
    /// only from [`super::AutopilotClient::upsert_batch`]. `named`: the contacts the answer names,
    /// if any, never printed.
    #[error("Autopilot refused the batch of contacts ({status}): {message}")]
    BatchRefused {
        status: u16,
        message: String,
        named: super::bulk::Named,
    },
    #[error("Autopilot has no such {what}")]
    NotFound { what: &'static str },
    #[error("Autopilot failed to answer ({status}): {message}")]
    Server { status: u16, message: String },
    #[error("could not reach Autopilot: {0}")]
    Transport(String),
    #[error("Autopilot did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Autopilot's answer could not be read: {0}; check the destination's Autopilot URL")]
    InvalidResponse(String),
    /// A list with more members than an export reads ([`super::ListLimits`]).
    #[error("the Autopilot list {list} has more than {} members, more than an export reads: stopped reading it", thousands(*limit as u64))]
    ListTooLarge { list: String, limit: usize },
    /// `GET /account` answered 2xx with neither an instance id nor an organisation name.
    #[error(
        "the answer to GET /account has no account in it: the URL is probably not Autopilot's API"
    )]
    NoAccount,
    /// A 3xx: never followed, since the key would go along to wherever it points.
    #[error("Autopilot answered with a redirect ({status}) instead of an answer, and it was not followed: the destination's Autopilot URL is probably wrong")]
    Redirected { status: u16 },
    #[error("Autopilot did not answer properly for {:.0}s ({attempts} attempts); gave up: {last}", elapsed.as_secs_f64())]
    RetriesExhausted {
        attempts: u32,
        elapsed: Duration,
        #[source]
        last: Box<AutopilotError>,
    },
}

impl AutopilotError {
    /// The retry class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Throttled { .. }
            | Self::Server { .. }
            | Self::Transport(_)
            | Self::Timeout(_)
            | Self::RetriesExhausted { .. } => ErrorClass::Retryable,
            Self::Unauthorized
            | Self::UnusableKey
            | Self::InvalidUrl(_)
            | Self::Rejected { .. }
            | Self::BatchRefused { .. }
            | Self::NotFound { .. }
            | Self::InvalidResponse(_)
            | Self::Redirected { .. }
            | Self::NoAccount
            | Self::ListTooLarge { .. } => ErrorClass::Fatal,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Retryable
    }

    /// A stable name for the class of this error, matched by the state machine's `Retry` and
    /// `Catch` and written into reports. Never changes once released.
    /// The name comes from [`crate::error::ErrorKind`]'s one table.
    pub fn type_name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The `Retry-After` the server asked for, if this is a throttling answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after } => *retry_after,
            _ => None,
        }
    }

    pub(crate) fn from_reqwest(err: reqwest::Error, timeout: Duration) -> Self {
        if err.is_timeout() {
            return Self::Timeout(timeout);
        }
        // The URL can hold an email address in its path: never let it into the message.
        let err = err.without_url();
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(text)
    }
}

/// `5000000` as `5,000,000`: counts in messages people read.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_type_names() {
        let table: Vec<(AutopilotError, ErrorClass, &str)> = vec![
            (
                AutopilotError::Unauthorized,
                ErrorClass::Fatal,
                "Unauthorized",
            ),
            (
                AutopilotError::Throttled { retry_after: None },
                ErrorClass::Retryable,
                "Throttled",
            ),
            (
                AutopilotError::Rejected {
                    status: 400,
                    message: "bad".into(),
                },
                ErrorClass::Fatal,
                "InvalidRequest",
            ),
            (
                AutopilotError::BatchRefused {
                    status: 413,
                    message: "too large".into(),
                    named: Default::default(),
                },
                ErrorClass::Fatal,
                "InvalidRequest",
            ),
            (
                AutopilotError::NotFound { what: "list" },
                ErrorClass::Fatal,
                "NotFound",
            ),
            (
                AutopilotError::Server {
                    status: 503,
                    message: "down".into(),
                },
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                AutopilotError::Transport("reset".into()),
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                AutopilotError::Timeout(Duration::from_secs(1)),
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                AutopilotError::InvalidResponse("html".into()),
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                AutopilotError::InvalidUrl("http".into()),
                ErrorClass::Fatal,
                "InvalidInput",
            ),
            (
                AutopilotError::ListTooLarge {
                    list: "l".into(),
                    limit: 1,
                },
                ErrorClass::Fatal,
                "LimitExceeded",
            ),
            (
                AutopilotError::NoAccount,
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                AutopilotError::Redirected { status: 302 },
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                AutopilotError::RetriesExhausted {
                    attempts: 3,
                    elapsed: Duration::from_secs(2),
                    last: Box::new(AutopilotError::Throttled { retry_after: None }),
                },
                ErrorClass::Retryable,
                "Throttled",
            ),
        ];
        assert_eq!(
            [0, 999, 1000, 5_000_000].map(thousands),
            ["0", "999", "1,000", "5,000,000"]
        );
        for (err, class, name) in table {
            assert_eq!(err.class(), class, "{err}");
            assert_eq!(err.type_name(), name, "{err}");
        }
    }
}
