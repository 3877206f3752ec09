//! The HTTP machinery every client of an audience tool's API is built on ([`HttpClient`]): what
//! does not depend on which API it talks to. An implementation of the audience port names its
//! API and the header its key goes in ([`Dialect`]) and sends its requests through here.
//!
//! What it does for every request, in this order (`transport`): a place among the requests in
//! flight → a start slot from the adaptive pacer shared by every sender of a process ([`pacing`])
//! → one HTTP attempt with a timeout fitted to recent answer times ([`health`]) → the answer
//! classified ([`retry`]): a 2xx body decoded as JSON, or an [`ApiError`]. What it then retries:
//! a 401 once, if the key changed meanwhile (`key`: the key is held so that every request reads
//! the current one, read again from its [`KeySource`] after a refusal); a 429 after the wait the
//! API asked for (`Retry-After`, else the body's `error.try-in-seconds`); server trouble (5xx,
//! lost connections, timeouts) after a backoff that ends early the moment the API answers any
//! request again. Retries stop at the policy's attempts or time budget, and at the run's deadline
//! when one is set ([`deadline`]: a Lambda function's time budget). An API that bans clients
//! sending too many bad requests (Ortto: 15 in 15 seconds) is kept under its limit
//! ([`Dialect::bad_requests`]).
//!
//! Its limits and rules: answers larger than 16 MB are refused unread (`answer`); redirects are
//! never followed (the key would go along); the key goes only to `https://` URLs, or plain
//! `http://` on this machine ([`check_base_url`]); every request says who sends it (user agent
//! `autopilot-export/VERSION`). Messages name the API ("Autopilot refused the API key") and
//! never carry the key, a request URL (paths can hold an email address) or an answer's body
//! beyond the API's own short message, cleaned.

mod answer;
mod bad_requests;
mod base_url;
mod client;
pub mod deadline;
pub mod error;
pub mod health;
#[cfg(test)]
pub(crate) mod hostile;
mod key;
pub mod pacing;
pub mod retry;
mod stats;
mod transport;

pub use answer::{cleaned_message, decode, printable};
pub use bad_requests::BadRequestLimit;
pub use base_url::check_base_url;
pub use client::{
    ClientConfig, Dialect, HttpClient, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MIN_TIMEOUT, DEFAULT_REQUESTS_PER_SECOND, DEFAULT_RETRY_BUDGET, DEFAULT_TIMEOUT,
};
pub use error::{ApiError, ErrorClass, RefusedAnswer};
pub use health::Trouble;
pub use key::KeySource;
pub use pacing::AdaptivePacer;
pub use retry::RetryPolicy;
pub use stats::{ClientStats, StatsSnapshot};
pub use transport::Request;
