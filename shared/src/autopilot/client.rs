//! A client of one Autopilot account: the generic HTTP machinery ([`crate::http_api`]) with
//! Autopilot's key header and name.

use crate::http_api::{
    AdaptivePacer, ApiError, ClientConfig, Dialect, HttpClient, KeySource, StatsSnapshot, Trouble,
};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

/// Autopilot's public API.
pub const DEFAULT_BASE_URL: &str = "https://api2.autopilothq.com/v1";

/// Autopilot reads the key from the `autopilotapikey` header.
pub const DIALECT: Dialect = Dialect {
    api: "Autopilot",
    key_header: "autopilotapikey",
};

/// A client for one Autopilot account. Cheap to clone; clones share the pacer and the counters,
/// so all concurrent senders of a process together stay inside the account's rate limit.
#[derive(Clone, Debug)]
pub struct AutopilotClient {
    pub(super) http: HttpClient,
}

impl AutopilotClient {
    pub fn new(config: ClientConfig, key: SecretString) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(DIALECT, config, key, None)?,
        })
    }

    /// A client that reads its key again from `source` when Autopilot answers 401, and repeats
    /// the request once if the key changed.
    pub fn with_key_source(
        config: ClientConfig,
        key: SecretString,
        source: Arc<dyn KeySource>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            http: HttpClient::new(DIALECT, config, key, Some(source))?,
        })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.http.stats()
    }

    pub fn pacer(&self) -> &AdaptivePacer {
        self.http.pacer()
    }

    /// Whether Autopilot is failing to answer right now (its requests are being retried), and
    /// since when: what progress output shows while an export waits out an outage.
    pub fn trouble(&self) -> Option<Trouble> {
        self.http.trouble()
    }

    /// How long requests keep being retried before an export gives up.
    pub fn retry_budget(&self) -> Duration {
        self.http.retry_budget()
    }
}
