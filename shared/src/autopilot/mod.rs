//! The Autopilot REST API v1 client.
//!
//! Autopilot's limits, which everything here respects:
//! - at most 100 contacts per bulk upsert (`POST /contacts`), enforced by [`ContactBatch`]; request
//!   bodies stay far under the documented 2 MB;
//! - an invalid email in a bulk upsert fails the whole request with 400: the batch is split until
//!   the offending contacts are isolated, every good one is written ([`bulk`]);
//! - throttling answers 429, optionally with `Retry-After` and a body
//!   `{"error": {"try-in-seconds": n}}`; no rate is documented (the successor product documents 10
//!   requests/second per account): requests are paced by one adaptive limiter ([`pacing`]);
//! - a request that timed out may still have been carried out: every write is an upsert by email,
//!   so it can be repeated safely ([`retry`]).
//!
//! The modules, by role: `client` (the configuration, its defaults, and the constructor), [`api`]
//! (the endpoints and the shapes of their answers) and [`bulk`] (bulk upserts split around the
//! contacts Autopilot refuses), all sending through `transport` (the one retry, pacing and key
//! rotation loop: retry loop → place in flight → pacer slot → one HTTP attempt with a timeout →
//! answer classification), with `key` (the key and where a rotated one is read), [`retry`],
//! [`pacing`], [`health`] (answer times and outages), `answer` (reading answers), [`error`] and
//! `stats`. The contacts themselves are the domain's ([`crate::contact`]).

mod answer;
pub mod api;
mod base_url;
pub mod bulk;
mod client;
pub mod error;
pub mod health;
#[cfg(test)]
mod hostile;
mod key;
pub mod pacing;
pub mod retry;
mod stats;
mod transport;

pub use crate::contact::{
    Contact, ContactBatch, ContactError, FORBIDDEN_FIELDS, MAX_CONTACTS_PER_BULK,
};
pub use api::{Account, ListInfo, ListLimits, MemberPage};
pub use base_url::check_base_url;
pub use bulk::{BulkOutcome, Rejection};
pub use client::{
    AutopilotClient, ClientConfig, DEFAULT_BASE_URL, DEFAULT_MAX_ATTEMPTS, DEFAULT_MAX_IN_FLIGHT,
    DEFAULT_MIN_TIMEOUT, DEFAULT_REQUESTS_PER_SECOND, DEFAULT_RETRY_BUDGET, DEFAULT_TIMEOUT,
};
pub use error::{thousands, AutopilotError, ErrorClass};
pub use health::Trouble;
pub use key::KeySource;
pub use pacing::AdaptivePacer;
pub use retry::RetryPolicy;
pub use stats::{ClientStats, StatsSnapshot};
