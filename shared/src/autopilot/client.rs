//! A client of one Autopilot account: the generic HTTP machinery ([`crate::http_api`]) with
//! Autopilot's key header and name.

use crate::http_api::{ApiError, ClientConfig, Dialect, HttpClient, KeySource};
use secrecy::SecretString;
use std::sync::Arc;

/// Autopilot's public API.
pub const DEFAULT_BASE_URL: &str = "https://api2.autopilothq.com/v1";

/// Autopilot reads the key from the `autopilotapikey` header, and documents no ban on clients
/// that send bad requests.
pub const DIALECT: Dialect = Dialect {
    api: "Autopilot",
    key_header: "autopilotapikey",
    bad_requests: None,
};

/// A client for one Autopilot account. Cheap to clone; clones share the pacer and the counters,
/// so all concurrent senders of a process together stay inside the account's rate limit. Its
/// counters, pacer and outage state are the audience port's ([`crate::audience_api`]).
#[derive(Clone, Debug)]
pub struct AutopilotClient {
    pub(super) http: HttpClient,
}

impl AutopilotClient {
    pub fn new(config: ClientConfig, key: SecretString) -> Result<Self, ApiError> {
        Self::build(config, key, None)
    }

    /// A client that reads its key again from `source` when Autopilot answers 401, and repeats
    /// the request once if the key changed.
    pub fn with_key_source(
        config: ClientConfig,
        key: SecretString,
        source: Arc<dyn KeySource>,
    ) -> Result<Self, ApiError> {
        Self::build(config, key, Some(source))
    }

    pub(crate) fn build(
        config: ClientConfig,
        key: SecretString,
        source: Option<Arc<dyn KeySource>>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(DIALECT, config, key, source)?,
        })
    }
}
