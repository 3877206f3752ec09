//! The Autopilot REST API v1 client.
//!
//! Autopilot's limits, which everything here respects:
//! - at most 100 contacts per bulk upsert (`POST /contacts`), enforced by [`ContactBatch`]; request
//!   bodies stay far under the documented 2 MB;
//! - an invalid email in a bulk upsert fails the whole request with 400: the batch is split until
//!   the offending contacts are isolated, every good one is written ([`bulk`]);
//! - throttling answers 429, optionally with `Retry-After` and a body
//!   `{"error": {"try-in-seconds": n}}`; no rate is documented (the successor product documents 10
//!   requests/second per account): requests are paced by the one adaptive limiter of
//!   [`crate::http_api`];
//! - a request that timed out may still have been carried out: every write is an upsert by email,
//!   so it can be repeated safely.
//!
//! The modules, by role: `client` (the key header, the default URL and the constructor), [`api`]
//! (the endpoints and the shapes of their answers) and [`bulk`] (bulk upserts split around the
//! contacts Autopilot refuses), all sending through the generic machinery of
//! [`crate::http_api`] (pacing, retries, key rotation, answer limits). The contacts themselves
//! are the domain's ([`crate::contact`]).

pub mod api;
pub mod bulk;
mod client;
#[cfg(test)]
mod hostile;

pub use crate::contact::{
    Contact, ContactBatch, ContactError, FORBIDDEN_FIELDS, MAX_CONTACTS_PER_BULK,
};
pub use api::{Account, ListInfo, ListLimits, MemberPage};
pub use bulk::{BulkOutcome, Rejection};
pub use client::{AutopilotClient, DEFAULT_BASE_URL, DIALECT};
