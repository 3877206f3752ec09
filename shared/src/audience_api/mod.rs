//! The port to the API of an audience tool (Autopilot now, Ortto next): everything the jobs,
//! verify, the console and the command ask of the tool an export sends to, and nothing of how
//! it is asked. Above this port nothing knows which API it talks to; each API is one
//! implementation of [`AudienceApi`], wired to its [`ApiKind`] in `kinds.rs` alone.
//!
//! What the port offers: the account a key belongs to ([`Account`]: id and name, either may be
//! missing); the audiences (Autopilot's lists, Ortto's tags), read and created by name; contacts
//! written into an audience, batch by batch, with one outcome per contact (a contact the API
//! refuses is isolated by the implementation, the rest is written) and members this connector
//! added taken off it ([`AudienceApi::write`]); members put back by a repair; one page of an
//! audience's members at a time with their subscription state, behind an opaque cursor
//! ([`paging`] is the one loop that reads them); what must happen before anything is sent
//! ([`AudienceApi::prepare`]); the API's words and the fields it never receives ([`Vocabulary`],
//! for data matching); its limits and cost model ([`Limits`]: the plan, the chunks, the
//! report's requests and the cost line count requests with it alone); and, for progress output,
//! its request counters, pacer and outage state.
//!
//! The client of a destination is made by the [`ApiFactory`] from its stored record and key, and
//! checked against the deployment's boundary each time it is handed out. Errors are
//! [`ApiError`]s, which name the API and map to an [`crate::ErrorKind`]: callers act on kinds
//! and on the outcomes here, never on an implementation's answers.

mod factory;
mod kinds;
mod limits;
pub mod paging;
mod vocabulary;

pub use factory::{ApiFactory, ClientSettings};
pub use kinds::{ApiKind, Region};
pub use limits::{Batch, Limits};
pub use vocabulary::{never_sent_anywhere, Vocabulary};

use crate::contact::Contact;
use crate::destination::DataMatching;
use crate::http_api::{AdaptivePacer, ApiError, StatsSnapshot, Trouble};
use std::time::Duration;

/// The account a key belongs to. APIs differ in what they tell: Autopilot an id and a name,
/// Ortto perhaps neither, so both are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Account {
    /// Stable for the account: a destination's new key must belong to the same one.
    pub id: Option<String>,
    /// For people to read.
    pub name: Option<String>,
}

/// An audience: Autopilot's list, Ortto's tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// What the API names it by in requests.
    pub id: String,
    /// Its name, which is the segment's.
    pub name: String,
}

/// What one request writes into an audience: contacts to upsert onto it and members (addresses
/// this connector put there) to take off it. [`Limits`] says how many of each a request carries
/// and whether they share one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Changes<'a> {
    pub upserts: &'a [Contact],
    pub removals: &'a [String],
}

/// What became of one contact of a write.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactOutcome {
    /// Written, and a member of the audience.
    Written,
    /// Refused by the API, in its words (addresses masked).
    Refused(String),
    /// Left out by the API on purpose (Ortto: an address on its suppression list), in its words.
    Suppressed(String),
}

/// What became of one removal of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalOutcome {
    Removed,
    /// It was not a member any more (taken off by hand, or the contact deleted): as good as
    /// removed.
    NotMember,
}

/// The outcomes of a write, in the order of its [`Changes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub contacts: Vec<ContactOutcome>,
    pub removals: Vec<RemovalOutcome>,
}

/// What became of one member a repair put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Added,
    /// The API has no such contact any more: putting it back would take an upsert, which a
    /// repair never sends.
    NoSuchContact,
}

/// A member of an audience as read back: its email and whether it unsubscribed (it receives no
/// email), nothing else of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberStatus {
    pub email: String,
    pub unsubscribed: bool,
}

/// One page of an audience's members, and where the next one starts (`None`: none follows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberPage {
    pub members: Vec<MemberStatus>,
    /// Opaque: only the implementation that gave it reads it.
    pub cursor: Option<String>,
}

/// The API of an audience tool, for one account (the key it was made with). Implementations
/// are cheap to share: every sender of a process to one destination uses one, so they pace
/// together.
#[async_trait::async_trait]
pub trait AudienceApi: Send + Sync {
    /// Which API this is.
    fn kind(&self) -> ApiKind;

    /// Its words and the fields it never receives.
    fn vocabulary(&self) -> &'static Vocabulary {
        self.kind().vocabulary()
    }

    /// Its limits and cost model.
    fn limits(&self) -> Limits {
        self.kind().limits()
    }

    /// The account the key belongs to: checks the key (a refused one is `Unauthorized`) and that
    /// the URL is this API's.
    async fn account(&self) -> Result<Account, ApiError>;

    /// Every audience of the account.
    async fn audiences(&self) -> Result<Vec<Audience>, ApiError>;

    /// Creates an audience named `name` (the caller found none) and answers its id. An API whose
    /// audiences come into being on first use (Ortto's tags) answers without a request.
    async fn create_audience(&self, name: &str) -> Result<String, ApiError>;

    /// The id of the audience named `name`, created when there is none; and whether it was.
    async fn ensure_audience(&self, name: &str) -> Result<(String, bool), ApiError> {
        if let Some(found) = self.audiences().await?.into_iter().find(|a| a.name == name) {
            return Ok((found.id, false));
        }
        Ok((self.create_audience(name).await?, true))
    }

    /// What the API needs before an export of `matching` sends anything (Ortto: the custom
    /// fields it lacks, created); called by the plan once every check has passed.
    async fn prepare(&self, matching: &DataMatching) -> Result<(), ApiError> {
        let _ = matching;
        Ok(())
    }

    /// Upserts `changes.upserts` into `audience` and takes `changes.removals` off it, as few
    /// requests as [`Limits`] allows (one, when the caller cut the changes by it). A contact the
    /// API refuses is isolated and comes back [`ContactOutcome::Refused`], the others are
    /// written. Any other failure (a refused key, retries run out) ends the call: what was
    /// written stays written, and writing the same changes again is safe (upserts by email).
    async fn write(&self, audience: &str, changes: Changes<'_>) -> Result<Written, ApiError>;

    /// Upserts `contacts` into `audience`, alone.
    async fn upsert(
        &self,
        audience: &str,
        contacts: &[Contact],
    ) -> Result<Vec<ContactOutcome>, ApiError> {
        let changes = Changes {
            upserts: contacts,
            removals: &[],
        };
        Ok(self.write(audience, changes).await?.contacts)
    }

    /// Takes `emails` off `audience`, alone: members only, never a contact or its fields.
    async fn remove_members(
        &self,
        audience: &str,
        emails: &[String],
    ) -> Result<Vec<RemovalOutcome>, ApiError> {
        let changes = Changes {
            upserts: &[],
            removals: emails,
        };
        Ok(self.write(audience, changes).await?.removals)
    }

    /// Puts existing contacts back on `audience` (a repair): membership alone, never an upsert,
    /// a field or a subscription.
    async fn add_members(&self, audience: &str, emails: &[String]) -> Result<Vec<Added>, ApiError>;

    /// One page of `audience`'s members from `cursor` (`None`: the first); `None` when the
    /// audience does not exist.
    async fn members_page(
        &self,
        audience: &str,
        cursor: Option<&str>,
    ) -> Result<Option<MemberPage>, ApiError>;

    /// One contact as this API is sent it (no audience in it): what a dry run shows, masked.
    fn payload(&self, contact: &Contact) -> serde_json::Value;

    /// What this client did so far: requests, throttled answers, retries, splits.
    fn stats(&self) -> StatsSnapshot;

    /// The pacer every request of this client waits its turn at.
    fn pacer(&self) -> &AdaptivePacer;

    /// Whether the API is failing to answer now (its requests are being retried), and since when.
    fn trouble(&self) -> Option<Trouble>;

    /// How long a request keeps being retried before an export gives up.
    fn retry_budget(&self) -> Duration;
}
