//! What can go wrong talking to an API, whichever API it is ([`ApiError`]): each error names the
//! API it is about ("Autopilot refused the API key"), has the class the retry logic acts on
//! ([`ErrorClass`]) and the [`ErrorKind`] the state machine, reports and front doors act on.
//!
//! Messages never carry the API key or a request URL (paths can hold an email address), nor an
//! answer's body: only the API's own short message, cleaned (see `answer.rs`).

use crate::error::ErrorKind;
use std::time::Duration;

/// Whether trying the same request again later can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Throttling, server faults, lost connections and timeouts: try again later.
    Retryable,
    /// A rejected key, a rejected request, a missing object: trying again changes nothing.
    Fatal,
}

/// The body of an answer refusing a batch, for the implementation that sent it to read which
/// contacts it names. Never printed: it may hold addresses.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RefusedAnswer(pub Vec<u8>);

impl std::fmt::Debug for RefusedAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefusedAnswer({} bytes)", self.0.len())
    }
}

/// What went wrong talking to an API; `api` is its name as messages give it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{api} rejected the API key (401): check the key, or connect the destination again with a valid one")]
    Unauthorized { api: &'static str },
    #[error("the API key is empty or holds a line break or other characters an API key cannot have: paste the key alone, on one line")]
    UnusableKey,
    /// A base URL the key must not be sent to ([`super::check_base_url`]).
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{api} throttled the request (429)")]
    Throttled {
        api: &'static str,
        retry_after: Option<Duration>,
    },
    #[error("{api} rejected the request ({status}): {message}")]
    Rejected {
        api: &'static str,
        status: u16,
        message: String,
    },
    /// A batch write answered 400 (a contact the API will not take) or 413 (too large): the
    /// implementation that sent it splits the batch to find the contacts at fault, so this never
    /// reaches the jobs. `answer`: what the answer said, never printed.
    #[error("{api} refused the batch of contacts ({status}): {message}")]
    BatchRefused {
        api: &'static str,
        status: u16,
        message: String,
        answer: RefusedAnswer,
    },
    #[error("{api} has no such {what}")]
    NotFound {
        api: &'static str,
        what: &'static str,
    },
    #[error("{api} failed to answer ({status}): {message}")]
    Server {
        api: &'static str,
        status: u16,
        message: String,
    },
    #[error("could not reach {api}: {text}")]
    Transport { api: &'static str, text: String },
    #[error("{api} did not answer within {after:?}")]
    Timeout { api: &'static str, after: Duration },
    #[error("{api}'s answer could not be read: {text}; check the destination's API URL")]
    InvalidResponse { api: &'static str, text: String },
    /// An audience with more members than an export reads: `audience` says which ("list
    /// contactlist_1").
    #[error("the {api} {audience} has more than {} members, more than an export reads: stopped reading it", crate::text::thousands(*limit as u64))]
    AudienceTooLarge {
        api: &'static str,
        audience: String,
        limit: usize,
    },
    /// A 2xx answer to the account call with neither an id nor a name in it.
    #[error("the answer to {call} has no account in it: the URL is probably not {api}'s API")]
    NoAccount {
        api: &'static str,
        call: &'static str,
    },
    /// The account call answered 404: an API answers it for any key, so the URL (its path, most
    /// often) is not the API's.
    #[error("{call} answered 404 (not found), which {api}'s API does not: the destination's API URL is probably wrong — check its path too")]
    NotTheApi {
        api: &'static str,
        call: &'static str,
    },
    /// The account cannot take what an export needs, found before anything is sent (Ortto: a
    /// custom field of the mapping's name holds another type); `text` says what to change.
    #[error("the {api} account cannot take this export: {text}")]
    Unsuitable { api: &'static str, text: String },
    /// A 3xx: never followed, since the key would go along to wherever it points.
    #[error("{api} answered with a redirect ({status}) instead of an answer, and it was not followed: the destination's API URL is probably wrong")]
    Redirected { api: &'static str, status: u16 },
    #[error("{api} did not answer properly for {:.0}s ({attempts} attempts); gave up: {last}", elapsed.as_secs_f64())]
    RetriesExhausted {
        api: &'static str,
        attempts: u32,
        elapsed: Duration,
        #[source]
        last: Box<ApiError>,
    },
    /// The run's deadline ([`super::deadline`]) came before the API answered properly: the
    /// request was given up so the run can store its progress and end in time; the next run
    /// carries on.
    #[error("{api} did not answer properly before this run's deadline ({attempts} attempts); stopped so the next run carries on: {last}")]
    DeadlineReached {
        api: &'static str,
        attempts: u32,
        #[source]
        last: Box<ApiError>,
    },
}

impl ApiError {
    /// The retry class of this error.
    pub fn class(&self) -> ErrorClass {
        if self.kind().retryable() {
            ErrorClass::Retryable
        } else {
            ErrorClass::Fatal
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Retryable
    }

    /// The kind of this error (a retried one is of its last attempt's kind).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthorized { .. } => ErrorKind::Unauthorized,
            Self::Throttled { .. } => ErrorKind::Throttled,
            Self::Rejected { .. } | Self::BatchRefused { .. } => ErrorKind::InvalidRequest,
            Self::UnusableKey | Self::InvalidUrl(_) | Self::Unsuitable { .. } => {
                ErrorKind::InvalidInput
            }
            Self::AudienceTooLarge { .. } => ErrorKind::LimitExceeded,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Server { .. } | Self::Transport { .. } | Self::Timeout { .. } => {
                ErrorKind::Transient
            }
            Self::InvalidResponse { .. }
            | Self::Redirected { .. }
            | Self::NoAccount { .. }
            | Self::NotTheApi { .. } => ErrorKind::InvalidResponse,
            Self::RetriesExhausted { last, .. } | Self::DeadlineReached { last, .. } => last.kind(),
        }
    }

    /// A stable name for the class of this error, matched by the state machine's `Retry` and
    /// `Catch` and written into reports: [`ErrorKind::as_str`] of its kind.
    pub fn type_name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The wait the server asked for, if this is a throttling answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// `self`, unless it is a 404 to the account call `call`: then [`ApiError::NotTheApi`].
    pub fn of_account_call(self, call: &'static str) -> Self {
        match self {
            Self::NotFound { api, .. } => Self::NotTheApi { api, call },
            other => other,
        }
    }

    /// An answer `api` sent that could not be used, said in `text` (which quotes none of it).
    pub fn invalid_response(api: &'static str, text: impl Into<String>) -> Self {
        Self::InvalidResponse {
            api,
            text: text.into(),
        }
    }

    pub(crate) fn from_reqwest(api: &'static str, err: reqwest::Error, timeout: Duration) -> Self {
        if err.is_timeout() {
            return Self::Timeout {
                api,
                after: timeout,
            };
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
        Self::Transport { api, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: &str = "Autopilot";

    /// The names reports and the state machine match: they never change once released.
    #[test]
    fn classes_and_released_type_names() {
        let refused = || "m".to_string();
        let table: Vec<(ApiError, ErrorClass, &str)> = vec![
            (
                ApiError::Unauthorized { api: API },
                ErrorClass::Fatal,
                "Unauthorized",
            ),
            (ApiError::UnusableKey, ErrorClass::Fatal, "InvalidInput"),
            (
                ApiError::InvalidUrl("u".into()),
                ErrorClass::Fatal,
                "InvalidInput",
            ),
            (
                ApiError::Throttled {
                    api: API,
                    retry_after: None,
                },
                ErrorClass::Retryable,
                "Throttled",
            ),
            (
                ApiError::Rejected {
                    api: API,
                    status: 400,
                    message: refused(),
                },
                ErrorClass::Fatal,
                "InvalidRequest",
            ),
            (
                ApiError::BatchRefused {
                    api: API,
                    status: 413,
                    message: refused(),
                    answer: RefusedAnswer::default(),
                },
                ErrorClass::Fatal,
                "InvalidRequest",
            ),
            (
                ApiError::NotFound {
                    api: API,
                    what: "list",
                },
                ErrorClass::Fatal,
                "NotFound",
            ),
            (
                ApiError::Server {
                    api: API,
                    status: 503,
                    message: refused(),
                },
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                ApiError::Transport {
                    api: API,
                    text: "reset".into(),
                },
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                ApiError::Timeout {
                    api: API,
                    after: Duration::from_secs(1),
                },
                ErrorClass::Retryable,
                "Transient",
            ),
            (
                ApiError::invalid_response(API, "html"),
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                ApiError::AudienceTooLarge {
                    api: API,
                    audience: "list l".into(),
                    limit: 1,
                },
                ErrorClass::Fatal,
                "LimitExceeded",
            ),
            (
                ApiError::NoAccount {
                    api: API,
                    call: "GET /account",
                },
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                ApiError::NotTheApi {
                    api: API,
                    call: "GET /account",
                },
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                ApiError::Redirected {
                    api: API,
                    status: 302,
                },
                ErrorClass::Fatal,
                "InvalidResponse",
            ),
            (
                ApiError::RetriesExhausted {
                    api: API,
                    attempts: 3,
                    elapsed: Duration::from_secs(2),
                    last: Box::new(ApiError::Throttled {
                        api: API,
                        retry_after: None,
                    }),
                },
                ErrorClass::Retryable,
                "Throttled",
            ),
            (
                ApiError::RetriesExhausted {
                    api: API,
                    attempts: 2,
                    elapsed: Duration::from_secs(1),
                    last: Box::new(ApiError::Timeout {
                        api: API,
                        after: Duration::from_secs(1),
                    }),
                },
                ErrorClass::Retryable,
                "Transient",
            ),
        ];
        for (err, class, name) in table {
            assert_eq!(err.class(), class, "{err}");
            assert_eq!(err.type_name(), name, "{err}");
            assert_eq!(err.kind().retryable(), err.is_retryable(), "{err}");
        }
    }

    #[test]
    fn messages_name_the_api_they_are_about() {
        let err = ApiError::Unauthorized { api: "Ortto" };
        assert!(
            err.to_string().starts_with("Ortto rejected the API key"),
            "{err}"
        );
        let refused = ApiError::BatchRefused {
            api: "Autopilot",
            status: 400,
            message: "bad".into(),
            answer: RefusedAnswer(b"ann@x.io".to_vec()),
        };
        assert!(!format!("{refused:?}").contains("ann@"), "{refused:?}");
    }
}
