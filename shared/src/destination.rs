//! A destination: one account of an audience tool (its API kind and URL), its data matching and
//! its segments. Stored as `destinations/{id}.json`; the API key is never part of it.

use crate::audience_api::ApiKind;
use crate::job_error::JobError;
use crate::store::{get_json, put_json, ObjectStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod boundary;
pub use boundary::Boundary;

/// The recommended most distinct profiles per destination.
pub const DEFAULT_PROFILE_LIMIT: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub id: String,
    pub display_name: String,
    /// The API its audience tool speaks (every destination stored before there was a choice
    /// speaks Autopilot's).
    #[serde(default)]
    pub api: ApiKind,
    /// Where its API is (stored as `autopilot_url` before there was a choice of API).
    #[serde(alias = "autopilot_url")]
    pub api_url: String,
    /// Exports only update people the API already has, never create one (Ortto's
    /// `skip_non_existing`: Ortto subscribes the people it creates). Ortto only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub update_only: bool,
    /// The API's name for the account the key belongs to.
    pub account_name: Option<String>,
    /// The API's id for that account (Autopilot's `instance_id`): a new key must belong to the same one,
    /// so that rotating a key can never move the destination's exports into another account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub consent: Consent,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub data_matching: Option<DataMatching>,
    #[serde(default)]
    pub segments: Vec<Segment>,
    #[serde(default = "default_limit")]
    pub profile_limit: u64,
    /// Requests per second the API allows this account.
    #[serde(default = "default_rate")]
    pub requests_per_second: f64,
    /// Whether the scheduled refresh exports this destination (on AWS).
    #[serde(default)]
    pub schedule: Schedule,
    #[serde(default)]
    pub guardrails: Guardrails,
    /// Where each finished export is posted (locally; `app::notify`). It can hold a secret token:
    /// shown by its host only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// Pages of each segment's list read back after every export (the light verify in the
    /// report, [`crate::jobs::finalize`]); 0 turns it off.
    #[serde(default = "default_verify_pages")]
    pub verify_pages: u32,
}

/// When an export stops before sending anything, unless overridden: a run that would take more
/// than `max_removal_percent` of the members this connector added off a list, or a segment that
/// shrank by more than `max_shrink_percent` since the last export (usually a broken snapshot).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Guardrails {
    pub max_removal_percent: f64,
    pub max_shrink_percent: f64,
}

impl Default for Guardrails {
    fn default() -> Self {
        Self {
            max_removal_percent: 20.0,
            max_shrink_percent: 50.0,
        }
    }
}

/// The scheduled refresh of a destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub enabled: bool,
}

/// Pages of each list the light verify reads after an export unless configured otherwise.
pub const DEFAULT_VERIFY_PAGES: u32 = 2;
/// The most pages a light verify may read per list: a full read is `verify`'s work.
pub const MAX_VERIFY_PAGES: u32 = 100;

fn default_verify_pages() -> u32 {
    DEFAULT_VERIFY_PAGES
}

fn default_limit() -> u64 {
    DEFAULT_PROFILE_LIMIT
}

fn default_rate() -> f64 {
    crate::http_api::DEFAULT_REQUESTS_PER_SECOND
}

/// The data-privacy agreement given when the destination was connected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Consent {
    pub agreed_at: DateTime<Utc>,
    /// Who exports run as.
    pub export_user: String,
}

/// Which profile columns fill which fields of the contact (named as Autopilot names them,
/// whatever the API: each implementation maps them to its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataMatching {
    /// The column holding the email address (required).
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Other standard fields: field name (`Company`) → column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
    /// Custom fields: key (`integer--Age`) → column.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, String>,
}

impl DataMatching {
    /// Every column the matching reads, each once, in the order email, names, fields, custom
    /// fields (what a Parquet snapshot reads of its columns).
    pub fn columns(&self) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        let all = std::iter::once(&self.email)
            .chain(self.first_name.iter())
            .chain(self.last_name.iter())
            .chain(self.fields.values())
            .chain(self.custom.values());
        for column in all {
            let column = column.trim();
            if !columns.iter().any(|c| c == column) {
                columns.push(column.to_string());
            }
        }
        columns
    }
}

/// A segment and the snapshot it is read from; its audience (an Autopilot list) has the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub name: String,
    /// Where its snapshot is, a local path or an `s3://bucket/…` URL: a file, a folder of parts
    /// (ending in `/`), a glob, or a data-lake model's entity (`…/model.json#Entity`); see
    /// [`crate::snapshot::sources`].
    pub source: String,
    /// The names of the columns of its CSV files when they have no header row (a plain warehouse
    /// unload); a model names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Its CSV files are unquoted text whose values a backslash escapes (`Acme\, Inc.`): how
    /// PostgreSQL's `COPY`, MySQL's `INTO OUTFILE` and Snowflake's default unload write them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backslash_escapes: bool,
}

impl Segment {
    /// A segment read from `source`, whose files name their own columns.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            source: source.into(),
            columns: None,
            backslash_escapes: false,
        }
    }
}

/// Object keys of a destination and its exports: the store's one layout.
pub use crate::store::keys;

/// Loads a destination or says clearly that there is none.
pub async fn load(store: &dyn ObjectStore, id: &str) -> Result<Destination, JobError> {
    if crate::store::check_key(&keys::destination(id)).is_err() || id.contains('/') {
        return Err(unknown(id));
    }
    get_json(store, &keys::destination(id))
        .await?
        .ok_or_else(|| unknown(id))
}

fn unknown(id: &str) -> JobError {
    JobError::NotFound(format!(
        "there is no destination '{id}': list them with `autopilot-export destinations`, or connect one"
    ))
}

pub async fn save(store: &dyn ObjectStore, destination: &Destination) -> Result<(), JobError> {
    Ok(put_json(store, &keys::destination(&destination.id), destination).await?)
}

/// Stores a new destination only if none of its id exists (atomically: of two connects with one
/// name exactly one wins); `false` when one did.
pub async fn create(store: &dyn ObjectStore, destination: &Destination) -> Result<bool, JobError> {
    let bytes = serde_json::to_vec(destination).map_err(|e| crate::store::StoreError::Io {
        key: keys::destination(&destination.id),
        source: Box::new(e),
    })?;
    let key = keys::destination(&destination.id);
    Ok(store.put_if_absent(&key, bytes.into()).await?)
}

/// A destination id from a display name: lower-case letters, digits and dashes.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(48).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("  Marketing — EU (prod) "), "marketing-eu-prod");
        assert_eq!(super::slug("***"), "");
    }
}
