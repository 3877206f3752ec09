//! Ortto's API (Autopilot's successor) behind the audience port ([`OrttoClient`] implements
//! [`crate::audience_api::AudienceApi`]): a segment's audience is a tag named as the segment,
//! people are merged by email.
//!
//! What Ortto is asked, and how (the reference is `ortto-api.md` in the project's documents):
//! - **People** go in `POST /v1/person/merge`, at most 100 and 2 MB a request, `merge_by:
//!   ["str::email"]`, `merge_strategy: 2` (sent values replace stored ones, fields left out keep
//!   theirs), `suppression_list_field_id: "str::email"` (an address on the account's suppression
//!   list is never created), synchronous, so that each person gets a status. Fields are mapped by
//!   `fields` (the table is there); empty values and consent fields (`bol::p`, `bol::sp`,
//!   `bol::gdpr`, their context fields) are never sent, nor is `/v1/audience/subscribe`.
//! - **A segment is a tag**: members get it in `tags`; a member who left gets `unset_tags` (the
//!   person stays, fields untouched); a repair sends only the address and `tags`. Tags come into
//!   being on first use, so an audience is created without a request; its id is its name.
//!   Removals and repairs are sent with `skip_non_existing: true`, so a person deleted in Ortto is
//!   never made again by taking a tag off it. For that reason removals share requests with upserts
//!   only when the destination never creates people (`--update-only`, [`OrttoClient::limits`]);
//!   otherwise they go in requests of their own, 100 a request: k changes and m leavers cost
//!   ⌈k/100⌉ + ⌈m/100⌉ requests (at most one more than sharing).
//! - **Outcomes**: `created`/`merged` → written; `suppressed` → suppressed (Ortto's choice, a
//!   bucket of its own); `invalid` → refused with Ortto's words (addresses masked); any other
//!   status word (`skipped`, `ignored`: a person update-only did not create) → suppressed, saying
//!   why. A merge Ortto refuses whole with 400 (every person refused, or — if Ortto answers mixed
//!   batches so — some) is isolated by halves (`merge`), each half paced under Ortto's ban on bad
//!   requests ([`DIALECT`]).
//! - **Members** are read with `POST /v1/person/get`, 500 a page, filtered on the tag's id (looked
//!   up by name in `/v1/tags/get` on the first page), `cursor_id` paging; `bol::p` false reads as
//!   unsubscribed.
//! - **Custom fields** missing from the account are created in [`prepare`](
//!   crate::audience_api::AudienceApi::prepare) (plan time, before any person is sent), with
//!   Ortto's reason when it refuses (its custom-field limit, a name taken by another type).
//! - **The key** is checked with `POST /v1/tags/get` (Ortto has no account call); the account's
//!   id is the `instance_id` of its tags, when it has any.
//!
//! What the client does for each unknown of Ortto's documentation: a mixed batch answered with
//! statuses or refused whole (both handled, above); `""` never sent, whatever it would do; any
//! status word besides the known ones is not a failure (see outcomes); `Retry-After` or the body's
//! `try-in-seconds`, whichever comes (the generic transport reads both); the custom-field limit is
//! Ortto's to enforce, its refusal reported as is; a ban answered 429 or 403 is avoided by pacing
//! bad requests, and a 429 is waited out; the per-address limits (2,000/10 s, 6,000/60 s) are far
//! above any account's rate (10 or 30/s), which the pacer keeps to.
//!
//! The modules, by role: `client` (hosts, regions, key header, construction), `fields` (our fields
//! as Ortto ids), `merge` (merge requests and their isolation), `read` (tags, members, custom
//! fields), `port` (all of it as the audience port).

mod client;
pub mod fields;
#[cfg(test)]
mod hostile;
mod merge;
mod port;
mod read;

pub use client::{OrttoClient, Region, API_HOSTS, DIALECT};

/// Ortto's public API, its global region (requests go to `URL/v1/…`).
pub const DEFAULT_BASE_URL: &str = "https://api.ap3api.com";

use crate::audience_api::{Limits, Vocabulary};

/// People in one merge at most.
pub const MAX_PEOPLE_PER_MERGE: usize = 100;

/// Ortto's limits and cost model when removals may share requests with upserts (a destination
/// that never creates people); [`OrttoClient::limits`] gives the one that applies.
pub const LIMITS: Limits = Limits {
    batch_size: MAX_PEOPLE_PER_MERGE,
    max_body_bytes: 2_000_000,
    removals_per_request: MAX_PEOPLE_PER_MERGE,
    removals_share_requests: true,
};

/// Ortto's limits when merges may create people: removals in requests of their own.
pub const LIMITS_CREATING: Limits = Limits {
    removals_share_requests: false,
    ..LIMITS
};

/// Ortto's words: the standard fields it has, and the fields never sent to it.
pub const VOCABULARY: Vocabulary = Vocabulary {
    api: "Ortto",
    audience: "tag",
    rejected_reason: "rejected_by_ortto",
    standard_fields: &fields::STANDARD_NAMES,
    never_sent: &[
        "bol::p",
        "bol::sp",
        "bol::gdpr",
        "str::s-ctx",
        "str::u-ctx",
        "str::soi-ctx",
        "str::soo-ctx",
        "_NewEmail",
    ],
    one_time_step: Some(
        "Once per segment, in Ortto: build an audience on \"Tag is <segment name>\"; campaigns and journeys use the audience, and the tag keeps it up to date.",
    ),
};
