//! A client's configuration and its construction; the defaults of every setting, defined here
//! and nowhere else (the jobs' client settings and the command's flags start from these).

use super::bad_requests::{BadAnswers, BadRequestLimit};
use super::health::{self, Trouble};
use super::key::{KeyHolder, KeySource};
use super::stats::{ClientStats, StatsSnapshot};
use super::{check_base_url, AdaptivePacer, ApiError, RetryPolicy};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// Requests per second when nothing else is configured (what Ortto documents for its smallest
/// plan; Autopilot documents no rate).
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 10.0;
/// The longest a request waits for its answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The shortest: a request is never given up on sooner, however fast answers usually come.
pub const DEFAULT_MIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Requests of one client (one destination, one process) in flight at once. Their starts are
/// spaced at the rate whatever this is; it needs to exceed rate × answer time, plus the answers
/// that hang. It also bounds what a killed process may have sent without hearing back.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// How long a request keeps being retried through an outage before the export gives up (and can
/// be resumed): long enough to ride out a typical incident.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(15 * 60);
/// Attempts of one request at the most, within the budget.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 200;
/// The longest a connection may take to open, whatever the request's timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What differs between the APIs this machinery talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The API's name, as messages give it: "Autopilot".
    pub api: &'static str,
    /// The header the API reads the key from.
    pub key_header: &'static str,
    /// The API's ban on clients that send too many bad requests, if it has one.
    pub bad_requests: Option<BadRequestLimit>,
}

/// How to reach one account of an API.
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
    /// The defaults above for `base_url`: [`DEFAULT_REQUESTS_PER_SECOND`], requests given
    /// [`DEFAULT_MIN_TIMEOUT`] to [`DEFAULT_TIMEOUT`], [`RetryPolicy::default`],
    /// [`DEFAULT_MAX_IN_FLIGHT`] requests in flight.
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

/// A client for one account of an API. Cheap to clone; clones share the pacer and the counters,
/// so all concurrent senders of a process together stay inside the account's rate limit.
#[derive(Clone)]
pub struct HttpClient {
    pub(super) inner: Arc<Inner>,
}

/// What the clones of a client share; the transport ([`super::transport`]) uses all of it.
pub(super) struct Inner {
    pub dialect: Dialect,
    pub http: reqwest::Client,
    /// Ends with `/`, so request paths are appended to it.
    pub base_url: Url,
    pub key: KeyHolder,
    pub retry: RetryPolicy,
    pub in_flight: tokio::sync::Semaphore,
    pub pacer: AdaptivePacer,
    pub observed: health::Observed,
    pub stats: ClientStats,
    /// The bad answers of the last window, for an API that bans clients sending too many.
    pub bad_answers: Option<BadAnswers>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("api", &self.inner.dialect.api)
            .field("base_url", &self.inner.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client of the API `dialect` names; with a `key_source`, it reads its key again from
    /// there when the API answers 401, and repeats the request once if the key changed. Refuses
    /// a key no header can carry and a base URL the key must not go to, before any request.
    pub fn new(
        dialect: Dialect,
        config: ClientConfig,
        key: SecretString,
        key_source: Option<Arc<dyn KeySource>>,
    ) -> Result<Self, ApiError> {
        let key = KeyHolder::new(key, key_source)?;
        check_base_url(&config.base_url, dialect.api)?;
        let http = reqwest::Client::builder()
            // A redirect is an error, never followed: reqwest drops only `Authorization` and
            // `Cookie` when following one to another host, so the key would go along.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(concat!("autopilot-export/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::from_reqwest(dialect.api, e, config.timeout))?;
        let mut base_url = config.base_url;
        if !base_url.path().ends_with('/') {
            let path = format!("{}/", base_url.path());
            base_url.set_path(&path);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                dialect,
                http,
                base_url,
                key,
                retry: config.retry,
                in_flight: tokio::sync::Semaphore::new(config.max_in_flight.max(1)),
                pacer: AdaptivePacer::new(config.requests_per_second),
                observed: health::Observed::new(config.min_timeout, config.timeout),
                stats: ClientStats::default(),
                bad_answers: dialect.bad_requests.map(BadAnswers::new),
            }),
        })
    }

    /// The API's name, as messages give it.
    pub fn api(&self) -> &'static str {
        self.inner.dialect.api
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }

    /// Counts a refused batch split to isolate the contacts the API refused.
    pub fn count_split(&self) {
        self.inner
            .stats
            .splits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn pacer(&self) -> &AdaptivePacer {
        &self.inner.pacer
    }

    /// Whether the API is failing to answer right now (its requests are being retried), and
    /// since when: what progress output shows while an export waits out an outage.
    pub fn trouble(&self) -> Option<Trouble> {
        self.inner.observed.trouble()
    }

    /// How long requests keep being retried before an export gives up.
    pub fn retry_budget(&self) -> Duration {
        self.inner.retry.max_elapsed
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::http_api) const TESTING: Dialect = Dialect {
        api: "Testing",
        key_header: "testingapikey",
        bad_requests: None,
    };

    #[test]
    fn key_never_printed() {
        let config = ClientConfig::new(Url::parse("http://127.0.0.1:1/v1").unwrap());
        let key = SecretString::from("sk-very-secret".to_string());
        let client = HttpClient::new(TESTING, config, key, None).unwrap();
        assert!(!format!("{client:?}").contains("sk-very-secret"));
    }

    #[test]
    fn an_unusable_key_or_url_is_refused_before_any_request() {
        let config = || ClientConfig::new(Url::parse("http://127.0.0.1:1/v1").unwrap());
        let empty = SecretString::from(String::new());
        let err = HttpClient::new(TESTING, config(), empty, None).unwrap_err();
        assert!(matches!(err, ApiError::UnusableKey), "{err}");
        let far = ClientConfig::new(Url::parse("http://example.com/v1").unwrap());
        let key = SecretString::from("k".to_string());
        let err = HttpClient::new(TESTING, far, key, None).unwrap_err();
        assert!(matches!(err, ApiError::InvalidUrl(_)), "{err}");
    }
}
