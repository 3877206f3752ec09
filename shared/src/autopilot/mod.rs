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
//! Layers, outermost first: retry loop → pacer slot → one HTTP attempt with a timeout → answer
//! classification. The contacts themselves are the domain's ([`crate::contact`]).

mod answer;
pub mod api;
mod base_url;
pub mod bulk;
pub mod error;
pub mod health;
#[cfg(test)]
mod hostile;
pub mod pacing;
pub mod retry;
mod stats;

pub use crate::contact::{
    Contact, ContactBatch, ContactError, FORBIDDEN_FIELDS, MAX_CONTACTS_PER_BULK,
};
pub use api::{Account, ListInfo, ListLimits, MemberPage};
pub use base_url::check_base_url;
pub use bulk::{BulkOutcome, Rejection};
pub use error::{thousands, AutopilotError, ErrorClass};
pub use health::Trouble;
pub use pacing::AdaptivePacer;
pub use retry::RetryPolicy;
pub use stats::{ClientStats, StatsSnapshot};

use answer::{answer_message, decode, read_capped, try_in_seconds};
use reqwest::{header::HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use url::Url;

/// Autopilot's public API.
pub const DEFAULT_BASE_URL: &str = "https://api2.autopilothq.com/v1";
/// Requests per second when nothing else is configured (what the successor product documents).
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 10.0;
const KEY_HEADER: &str = "autopilotapikey";

/// The longest a request waits for its answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The shortest: a request is never given up on sooner, however fast answers usually come.
pub const DEFAULT_MIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests of one client (one destination, one process) in flight at once. Their starts are
/// spaced at the rate whatever this is; it needs to exceed rate × answer time, plus the answers
/// that hang. It also bounds what a killed process may have sent without hearing back.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;

/// How to reach one Autopilot account.
#[derive(Debug)]
pub struct ClientConfig {
    pub base_url: Url,
    pub requests_per_second: f64,
    /// The longest a request waits for its answer; requests usually wait less, a few times the
    /// recent answer time but at least `min_timeout` ([`health`]).
    pub timeout: Duration,
    pub min_timeout: Duration,
    pub retry: RetryPolicy,
    pub max_in_flight: usize,
}

impl ClientConfig {
    /// Defaults for `base_url`: 10 requests/second, 5–30 s per request, the default retry policy.
    pub fn new(base_url: Url) -> Self {
        Self {
            base_url,
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            timeout: DEFAULT_TIMEOUT,
            min_timeout: DEFAULT_MIN_TIMEOUT,
            retry: RetryPolicy::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

/// Where a client reads its key again when Autopilot refuses it: the key may have been rotated
/// (in another process) while this one kept the old key. `None` when it cannot be read.
#[async_trait::async_trait]
pub trait KeySource: Send + Sync {
    async fn current_key(&self) -> Option<SecretString>;
}

/// A client for one Autopilot account. Cheap to clone; clones share the pacer and the counters,
/// so all concurrent senders of a process together stay inside the account's rate limit.
#[derive(Clone)]
pub struct AutopilotClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    key: RwLock<SecretString>,
    /// Asked once per request answered 401, so a rotated key is picked up without a restart.
    key_source: Option<Arc<dyn KeySource>>,
    retry: RetryPolicy,
    in_flight: tokio::sync::Semaphore,
    pacer: AdaptivePacer,
    observed: health::Observed,
    stats: ClientStats,
}

impl std::fmt::Debug for AutopilotClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutopilotClient")
            .field("base_url", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl AutopilotClient {
    pub fn new(config: ClientConfig, key: SecretString) -> Result<Self, AutopilotError> {
        Self::build(config, key, None)
    }

    /// A client that reads its key again from `source` when Autopilot answers 401, and repeats
    /// the request once if the key changed.
    pub fn with_key_source(
        config: ClientConfig,
        key: SecretString,
        source: Arc<dyn KeySource>,
    ) -> Result<Self, AutopilotError> {
        Self::build(config, key, Some(source))
    }

    fn build(
        config: ClientConfig,
        key: SecretString,
        key_source: Option<Arc<dyn KeySource>>,
    ) -> Result<Self, AutopilotError> {
        if !usable(&key) {
            return Err(AutopilotError::UnusableKey);
        }
        check_base_url(&config.base_url)?;
        let http = reqwest::Client::builder()
            // A redirect is an error, never followed: reqwest drops only `Authorization` and
            // `Cookie` when following one to another host, so the key would go along.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("autopilot-export/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AutopilotError::from_reqwest(e, config.timeout))?;
        let mut base_url = config.base_url;
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                key: RwLock::new(key),
                key_source,
                retry: config.retry,
                in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
                pacer: AdaptivePacer::new(config.requests_per_second),
                observed: health::Observed::new(config.min_timeout, config.timeout),
                stats: ClientStats::default(),
            }),
        })
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    pub fn pacer(&self) -> &AdaptivePacer {
        &self.inner.pacer
    }

    /// Whether Autopilot is failing to answer right now (its requests are being retried), and
    /// since when: what progress output shows while an export waits out an outage.
    pub fn trouble(&self) -> Option<Trouble> {
        self.inner.observed.trouble()
    }

    /// How long requests keep being retried before an export gives up.
    pub fn retry_budget(&self) -> Duration {
        self.inner.retry.max_elapsed
    }

    /// One bulk `POST /contacts` of at most 100 contacts, with retries but no splitting.
    pub async fn upsert_batch(&self, batch: &[Contact]) -> Result<(), AutopilotError> {
        debug_assert!(batch.len() <= MAX_CONTACTS_PER_BULK);
        let contacts: Vec<Value> = batch.iter().map(Contact::to_autopilot_json).collect();
        let body = serde_json::json!({ "contacts": contacts });
        self.call::<Value>(Method::POST, &["contacts"], Some(&body), "contact")
            .await
            .map(drop)
    }

    /// Sends one request, retrying what is worth retrying, and decodes the JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &[&str],
        body: Option<&Value>,
        what: &'static str,
    ) -> Result<T, AutopilotError> {
        let url = self.url(path)?;
        let body = body.map(serde_json::to_vec).transpose().map_err(|e| {
            AutopilotError::InvalidResponse(format!("request could not be encoded: {e}"))
        })?;
        let started = Instant::now();
        let mut attempt = 0;
        let mut timeouts = 0;
        let mut key_reread = false;
        loop {
            attempt += 1;
            // A place among the requests in flight first, then a start slot: the pacer's turns
            // go to requests that can leave at once. The place is given back before any wait.
            let place = self
                .inner
                .in_flight
                .acquire()
                .await
                .map_err(|_| AutopilotError::Transport("the client is shutting down".into()))?;
            let permit = self.inner.pacer.acquire().await;
            let key = self.key();
            let timeout = self.inner.observed.timeout(timeouts);
            let sent = Instant::now();
            let result = self
                .attempt(&method, &url, &key, body.as_deref(), what, timeout)
                .await;
            match &result {
                Err(e @ (AutopilotError::Server { .. } | AutopilotError::Transport(_))) => {
                    self.inner.observed.on_trouble(e.type_name())
                }
                Err(e @ AutopilotError::Timeout(_)) => {
                    timeouts += 1;
                    self.inner.observed.on_trouble(e.type_name())
                }
                _ => self.inner.observed.on_answer(sent.elapsed()),
            }
            let err = match result {
                Ok(bytes) => {
                    self.inner.pacer.on_success(permit);
                    return decode(&bytes);
                }
                Err(err) => err,
            };
            if matches!(err, AutopilotError::Unauthorized) && !key_reread {
                key_reread = true;
                if self.key_changed_since(&key).await {
                    continue;
                }
            }
            if let AutopilotError::Throttled { retry_after } = &err {
                self.inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                self.inner.pacer.on_throttled(permit, *retry_after);
            }
            if !err.is_retryable() {
                return Err(err);
            }
            // The whole budget is used: the last wait is cut short to try once more at its end.
            let left = self
                .inner
                .retry
                .max_elapsed
                .saturating_sub(started.elapsed());
            let delay = self.inner.retry.delay(attempt, &err).min(left);
            if attempt >= self.inner.retry.max_attempts || left.is_zero() {
                return Err(AutopilotError::RetriesExhausted {
                    attempts: attempt,
                    elapsed: started.elapsed(),
                    last: Box::new(err),
                });
            }
            drop(place);
            self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                attempt,
                error_type = err.type_name(),
                delay_ms = delay.as_millis() as u64,
                "retrying"
            );
            if matches!(err, AutopilotError::Throttled { .. }) {
                tokio::time::sleep(delay).await;
            } else {
                // Backing off from Autopilot's trouble: go again as soon as it answers anyone.
                let recovered = self.inner.observed.recovered();
                if self.inner.observed.trouble().is_some() {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = recovered => {}
                    }
                }
            }
        }
    }

    /// One HTTP attempt: the raw body of a 2xx answer, or the error its status stands for.
    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        key: &SecretString,
        body: Option<&[u8]>,
        what: &'static str,
        timeout: Duration,
    ) -> Result<Vec<u8>, AutopilotError> {
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .timeout(timeout)
            .header(KEY_HEADER, key_header(key)?)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = request
            .send()
            .await
            .map_err(|e| AutopilotError::from_reqwest(e, timeout))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(AutopilotError::Redirected { status });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read_capped(response, timeout).await?;
        match retry::classify_status(status) {
            retry::StatusClass::Success => Ok(bytes),
            retry::StatusClass::Throttled => Err(AutopilotError::Throttled {
                retry_after: retry_after.or_else(|| try_in_seconds(&bytes)),
            }),
            retry::StatusClass::Unauthorized => Err(AutopilotError::Unauthorized),
            retry::StatusClass::NotFound => Err(AutopilotError::NotFound { what }),
            retry::StatusClass::Retry => Err(AutopilotError::Server {
                status,
                message: answer_message(&bytes),
            }),
            retry::StatusClass::BadRequest | retry::StatusClass::Fatal => {
                Err(AutopilotError::Rejected {
                    status,
                    message: answer_message(&bytes),
                })
            }
        }
    }

    fn key(&self) -> SecretString {
        self.inner
            .key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// After a 401 answered to `used`: whether the key is now a different one (another request
    /// already read it again, or the key source has a new one), so the request is worth repeating.
    async fn key_changed_since(&self, used: &SecretString) -> bool {
        if self.key().expose_secret() != used.expose_secret() {
            return true;
        }
        let Some(source) = &self.inner.key_source else {
            return false;
        };
        let Some(fresh) = source.current_key().await.filter(usable) else {
            return false;
        };
        if fresh.expose_secret() == used.expose_secret() {
            return false;
        }
        tracing::info!("the API key was refused and a different one is stored now: using it");
        *self.inner.key.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        true
    }

    fn url(&self, path: &[&str]) -> Result<Url, AutopilotError> {
        let mut url = self.inner.base_url.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|_| {
                AutopilotError::InvalidResponse("the Autopilot URL cannot hold a path".into())
            })?;
            segments.pop_if_empty();
            segments.extend(path);
        }
        Ok(url)
    }
}

/// A key an HTTP header can carry.
fn usable(key: &SecretString) -> bool {
    !key.expose_secret().is_empty() && HeaderValue::from_str(key.expose_secret()).is_ok()
}

/// The key as a header value marked sensitive: kept out of `Debug` output and never put in an
/// HTTP/2 header compression table.
fn key_header(key: &SecretString) -> Result<HeaderValue, AutopilotError> {
    let mut value =
        HeaderValue::from_str(key.expose_secret()).map_err(|_| AutopilotError::UnusableKey)?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_printed() {
        let config = ClientConfig::new(Url::parse("http://127.0.0.1:1/v1").unwrap());
        let client =
            AutopilotClient::new(config, SecretString::from("sk-very-secret".to_string())).unwrap();
        assert!(!format!("{client:?}").contains("sk-very-secret"));
    }

    #[test]
    fn emails_in_paths_are_escaped() {
        let config = ClientConfig::new(Url::parse("http://127.0.0.1:1/v1").unwrap());
        let client = AutopilotClient::new(config, SecretString::from("k".to_string())).unwrap();
        let url = client
            .url(&["list", "l1", "contact", "a+b/c@x.io"])
            .unwrap();
        assert_eq!(url.path(), "/v1/list/l1/contact/a+b%2Fc@x.io");
    }
}
