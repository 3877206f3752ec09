//! Autopilot's REST API v1 behind the audience port ([`AutopilotClient`] implements
//! [`crate::audience_api::AudienceApi`]): segments are lists, contacts are upserted by email.
//!
//! Autopilot's limits, which everything here respects ([`LIMITS`]):
//! - at most 100 contacts per bulk upsert (`POST /contacts`), and a body under 2 MB (a batch
//!   whose body would be larger is split before it is sent);
//! - an invalid email in a bulk upsert fails the whole request with 400: the batch is split until
//!   the offending contacts are isolated, every good one is written ([`bulk`]);
//! - a member leaves a list by a `DELETE` of its own: one request per removal;
//! - throttling answers 429, optionally with `Retry-After` and a body
//!   `{"error": {"try-in-seconds": n}}`; no rate is documented (the successor product documents 10
//!   requests/second per account): requests are paced by the one adaptive limiter of
//!   [`crate::http_api`];
//! - a request that timed out may still have been carried out: every write is an upsert by email,
//!   so it can be repeated safely.
//!
//! The modules, by role: `client` (the key header, the default URL and the constructor), [`api`]
//! (the endpoints and the shapes of their answers), `encode` (a contact as Autopilot takes it),
//! [`bulk`] (bulk upserts split around the contacts Autopilot refuses) and `port` (all of it as
//! the audience port), all sending through the generic machinery of [`crate::http_api`]
//! (pacing, retries, key rotation, answer limits).

pub mod api;
pub mod bulk;
mod client;
mod encode;
#[cfg(test)]
mod hostile;
mod port;

pub use api::{Account, ListInfo};
pub use bulk::{BulkOutcome, Rejection};
pub use client::{AutopilotClient, DEFAULT_BASE_URL, DIALECT};
pub use encode::contact_json;

use crate::audience_api::{Limits, Vocabulary};

/// Autopilot's API host.
pub const API_HOST: &str = "api2.autopilothq.com";

/// Contacts in one bulk upsert at most.
pub const MAX_CONTACTS_PER_BULK: usize = 100;

/// Autopilot's limits and cost model: 100 contacts a request, 2 MB a body, a request of its own
/// for each removal.
pub const LIMITS: Limits = Limits {
    batch_size: MAX_CONTACTS_PER_BULK,
    max_body_bytes: 2 * 1024 * 1024,
    removals_per_request: 1,
    removals_share_requests: false,
};

/// Autopilot's words: its standard contact fields, and the fields never sent to it.
pub const VOCABULARY: Vocabulary = Vocabulary {
    api: "Autopilot",
    audience: "list",
    rejected_reason: "rejected_by_autopilot",
    standard_fields: &[
        "FirstName",
        "LastName",
        "Company",
        "Phone",
        "MobilePhone",
        "Title",
        "Salutation",
        "Website",
        "Industry",
        "LeadSource",
        "Status",
        "Twitter",
        "NumberOfEmployees",
        "MailingStreet",
        "MailingCity",
        "MailingState",
        "MailingPostalCode",
        "MailingCountry",
    ],
    never_sent: &["unsubscribed", "_NewEmail"],
    one_time_step: None,
};
