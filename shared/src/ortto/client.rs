//! A client of one Ortto account: the generic HTTP machinery ([`crate::http_api`]) with Ortto's
//! key header, its ban on bad requests, its regional hosts, and whether its merges may create
//! people.

use super::fields::CustomField;
use crate::http_api::{ApiError, BadRequestLimit, ClientConfig, Dialect, HttpClient, KeySource};
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Ortto's regions, each with its own host; a key works only in its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Region {
    #[default]
    Global,
    Au,
    Eu,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Global, Region::Au, Region::Eu];

    /// Its name, as `--region` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Global => "global",
            Self::Au => "au",
            Self::Eu => "eu",
        }
    }

    /// The region of a name (`global`, `au`, `eu`, any case).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Its API host.
    pub fn host(self) -> &'static str {
        match self {
            Self::Global => "api.ap3api.com",
            Self::Au => "api.au.ap3api.com",
            Self::Eu => "api.eu.ap3api.com",
        }
    }

    /// Its API's base URL (requests go to `URL/v1/…`).
    pub fn url(self) -> String {
        format!("https://{}", self.host())
    }

    /// The region whose API `url` is, if it is one of Ortto's hosts.
    pub fn of_url(url: &str) -> Option<Self> {
        let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
        Self::ALL.into_iter().find(|r| r.host() == host)
    }
}

/// The hosts of Ortto's public API, every region's.
pub const API_HOSTS: [&str; 3] = ["api.ap3api.com", "api.au.ap3api.com", "api.eu.ap3api.com"];

/// Ortto reads the key from `X-Api-Key`, and bans an address for 15 s after 15 bad requests (or
/// bad-credential requests) within 15 s. The client keeps to 10 within 15 s, a margin for
/// requests already in flight when the window fills (isolating a refused merge sends one at a
/// time).
pub const DIALECT: Dialect = Dialect {
    api: "Ortto",
    key_header: "X-Api-Key",
    bad_requests: Some(BadRequestLimit {
        answers: 10,
        window: Duration::from_secs(15),
    }),
};

/// A client for one Ortto account. Cheap to clone; clones share the pacer, the counters and
/// what was read of the account's custom fields.
#[derive(Clone)]
pub struct OrttoClient {
    pub(super) http: HttpClient,
    /// Merges never create a person (`skip_non_existing`): the destination updates existing
    /// people only.
    pub(super) update_only: bool,
    /// The account's custom fields, by lower-cased name: their ids. Read once, when first needed.
    pub(super) custom_ids: Arc<tokio::sync::Mutex<Option<HashMap<String, String>>>>,
}

impl std::fmt::Debug for OrttoClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrttoClient")
            .field("http", &self.http)
            .field("update_only", &self.update_only)
            .finish_non_exhaustive()
    }
}

impl OrttoClient {
    /// A client of the account `key` opens at `config.base_url` (a region's URL, or a sandbox's);
    /// with a `key_source`, it reads the key again from there when Ortto answers 401.
    pub fn build(
        config: ClientConfig,
        key: SecretString,
        key_source: Option<Arc<dyn KeySource>>,
    ) -> Result<Self, ApiError> {
        let update_only = config.update_only;
        Ok(Self {
            http: HttpClient::new(DIALECT, config, key, key_source)?,
            update_only,
            custom_ids: Arc::default(),
        })
    }

    /// The id the account gives `field`: the one read from the account when it has a field of
    /// that name, else the likely one.
    pub(super) fn custom_id(known: &HashMap<String, String>, field: &CustomField) -> String {
        known
            .get(&field.name.to_lowercase())
            .cloned()
            .unwrap_or_else(|| field.likely_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_have_their_hosts() {
        for region in Region::ALL {
            assert_eq!(Region::from_name(region.as_str()), Some(region));
            assert_eq!(Region::of_url(&region.url()), Some(region));
            assert!(API_HOSTS.contains(&region.host()));
        }
        assert_eq!(Region::from_name(" EU "), Some(Region::Eu));
        assert_eq!(Region::from_name("us"), None);
        assert_eq!(Region::of_url("http://127.0.0.1:9/"), None);
    }
}
