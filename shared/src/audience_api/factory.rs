//! The factory of API clients ([`ApiFactory`]): the client of a destination made from its stored
//! record (API kind and URL) and its key, one per destination and process, so that every upload
//! of a process shares one pacer.
//!
//! A client is handed out again only while it is still the destination's: its cache entry is
//! keyed by the destination's id, API kind, URL, rate and a fingerprint of the key stored now
//! (HMAC-SHA-256 with a key of this process's own, never the key itself), so after a `remove` and
//! a new `connect` under the same id — in this process or any other — the next request goes to
//! the new account with the new key, never to the old one. The key is read from the secret store
//! each time a client is asked for (one read per plan, chunk upload or verification); a client
//! also reads it again when the API refuses it (a rotation by another process) and repeats the
//! request once. Before anything else, every hand-out checks the destination's URL against the
//! deployment's [`Boundary`] (on AWS: the APIs' own hosts and the stack's allowed hosts), so a
//! URL rewritten in the store mid-export is refused before any request carries the key there.

use super::{ApiKind, AudienceApi};
use crate::destination::{Boundary, Destination};
use crate::http_api::{ClientConfig, KeySource, RetryPolicy};
use crate::secrets::SecretStore;
use crate::JobError;
use ring::hmac;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Settings for the clients the factory builds.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The longest a request waits for its answer.
    pub timeout: Duration,
    /// The shortest (requests usually wait a few times the recent answer time in between).
    pub min_timeout: Duration,
    pub max_attempts: u32,
    /// How long one request keeps being retried while the API does not answer properly: the
    /// outage an export waits out before it stops (resumably).
    pub max_elapsed: Duration,
    /// Requests to one destination in flight at once.
    pub max_in_flight: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: crate::http_api::DEFAULT_TIMEOUT,
            min_timeout: crate::http_api::DEFAULT_MIN_TIMEOUT,
            max_attempts: crate::http_api::DEFAULT_MAX_ATTEMPTS,
            max_elapsed: crate::http_api::DEFAULT_RETRY_BUDGET,
            max_in_flight: crate::http_api::DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Retries when checking a key that is not stored yet (connect, key rotation): someone is
/// waiting for the answer, so an unreachable API is reported within seconds.
const KEY_CHECK_ATTEMPTS: u32 = 3;
const KEY_CHECK_BUDGET: Duration = Duration::from_secs(20);

/// What a cached client was made from; the same destination id with anything else is another
/// client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Made {
    destination: String,
    api: ApiKind,
    url: String,
    /// The rate's bits: clients paced differently are different clients.
    rate: u64,
    /// A keyed hash of the key, in hex.
    key: String,
}

/// Makes (and keeps) the clients of destinations.
pub struct ApiFactory {
    settings: ClientSettings,
    boundary: Boundary,
    /// This process's own key for fingerprints of API keys.
    fingerprints: hmac::Key,
    cache: Mutex<HashMap<Made, Arc<dyn AudienceApi>>>,
}

impl ApiFactory {
    /// A factory whose clients may go to any https URL (or http on this machine): the local
    /// command.
    pub fn new(settings: ClientSettings) -> Self {
        let random = ring::rand::SystemRandom::new();
        let fingerprints = hmac::Key::generate(hmac::HMAC_SHA256, &random)
            // The system's random source failed: a key only this process knows all the same.
            .unwrap_or_else(|_| {
                hmac::Key::new(hmac::HMAC_SHA256, &fastrand::u128(..).to_le_bytes())
            });
        Self {
            settings,
            boundary: Boundary::anywhere(),
            fingerprints,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The same factory handing out clients only for URLs inside `boundary` (a deployment's).
    pub fn within(self, boundary: Boundary) -> Self {
        Self { boundary, ..self }
    }

    /// A client of `api` at `url` for a key that is not stored yet (connect, key rotation): a few
    /// quick retries, since someone is waiting. The URL is checked against the boundary first.
    pub fn for_new_key(
        &self,
        api: ApiKind,
        url: &str,
        key: SecretString,
        rate: f64,
    ) -> Result<Arc<dyn AudienceApi>, JobError> {
        self.boundary.check_url(api, url)?;
        let mut config = self.config(api, url, rate)?;
        config.retry = RetryPolicy::new(
            KEY_CHECK_ATTEMPTS.min(self.settings.max_attempts),
            KEY_CHECK_BUDGET.min(self.settings.max_elapsed),
        );
        Ok(api.client(config, key, None)?)
    }

    /// The client of `destination` at `rate` requests/second, with the key `secrets` holds now:
    /// the one already made if nothing changed, else a new one (and the old ones forgotten).
    /// Refused before the key is read when the destination's URL is outside the boundary.
    pub async fn for_destination(
        &self,
        destination: &Destination,
        secrets: &Arc<dyn SecretStore>,
        rate: f64,
    ) -> Result<Arc<dyn AudienceApi>, JobError> {
        self.boundary
            .check_url(destination.api, &destination.api_url)?;
        let key = secrets.get(&destination.id).await?;
        let made = Made {
            destination: destination.id.clone(),
            api: destination.api,
            url: destination.api_url.clone(),
            rate: rate.to_bits(),
            key: self.fingerprint(&key),
        };
        if let Some(client) = self.lock().get(&made) {
            return Ok(client.clone());
        }
        let source = Arc::new(StoredKey {
            secrets: secrets.clone(),
            destination_id: destination.id.clone(),
        });
        let config = self.config(destination.api, &destination.api_url, rate)?;
        let client = destination.api.client(config, key, Some(source))?;
        let mut cache = self.lock();
        // Clients of what the destination was before (another account, URL or key) are not
        // handed out again.
        cache.retain(|other, _| {
            other.destination != made.destination
                || (other.api, &other.url, &other.key) == (made.api, &made.url, &made.key)
        });
        Ok(cache.entry(made).or_insert(client).clone())
    }

    /// Forgets a destination's clients (after its key changed or it was removed).
    pub fn forget(&self, destination_id: &str) {
        self.lock()
            .retain(|made, _| made.destination != destination_id);
    }

    fn config(&self, api: ApiKind, url: &str, rate: f64) -> Result<ClientConfig, JobError> {
        let name = api.vocabulary().api;
        let base_url = url::Url::parse(url).map_err(|e| {
            JobError::InvalidInput(format!("'{url}' is not a valid {name} URL: {e}"))
        })?;
        crate::http_api::check_base_url(&base_url, name)?;
        let mut config = ClientConfig::new(base_url);
        config.requests_per_second = rate;
        config.timeout = self.settings.timeout;
        config.min_timeout = self.settings.min_timeout;
        config.max_in_flight = self.settings.max_in_flight;
        config.retry = RetryPolicy::new(self.settings.max_attempts, self.settings.max_elapsed);
        Ok(config)
    }

    /// The key's fingerprint: this process's HMAC of it, in hex.
    fn fingerprint(&self, key: &SecretString) -> String {
        let tag = hmac::sign(&self.fingerprints, key.expose_secret().as_bytes());
        tag.as_ref().iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Made, Arc<dyn AudienceApi>>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A destination's key as the secret store holds it now.
struct StoredKey {
    secrets: Arc<dyn SecretStore>,
    destination_id: String,
}

#[async_trait::async_trait]
impl KeySource for StoredKey {
    async fn current_key(&self) -> Option<SecretString> {
        self.secrets.get(&self.destination_id).await.ok()
    }
}

#[cfg(test)]
mod tests;
