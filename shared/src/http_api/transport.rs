//! The one road every request takes. Each attempt gets a place among the requests in flight,
//! then a start slot from the pacer, then goes out with a timeout fitted to recent answer times;
//! its answer is classified into the body of a 2xx or an [`ApiError`]. A failed attempt may be
//! tried again: after a 401 once, if the key changed meanwhile ([`super::key`]); after a 429 once
//! the pacer has slowed down and the wait the API asked for has passed; after server trouble
//! (5xx, lost connections, timeouts) after a backoff that ends early the moment the API answers
//! any request again. Retries stop at the policy's attempts or time budget
//! ([`super::retry`]), and before a wait that would reach the run's deadline
//! ([`super::deadline`]).

use super::answer::{answer_message, decode, read_capped, try_in_seconds};
use super::error::RefusedAnswer;
use super::key::key_header;
use super::retry::{classify_status, StatusClass};
use super::{ApiError, HttpClient};
use reqwest::Method;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use url::Url;

/// One request as the transport sends it.
pub struct Request<'a> {
    pub method: Method,
    /// Path segments after the base URL, each escaped on its own (an email may hold a `/`).
    pub path: &'a [&'a str],
    pub body: Option<&'a Value>,
    /// What the path names, for the message of a 404.
    pub what: &'static str,
    /// A batch write: a 400 or 413 refuses the batch ([`ApiError::BatchRefused`]), which the
    /// caller splits; any other request gets [`ApiError::Rejected`].
    pub bulk: bool,
}

impl<'a> Request<'a> {
    /// A request that is not a batch write.
    pub fn new(method: Method, path: &'a [&'a str], what: &'static str) -> Self {
        Self {
            method,
            path,
            body: None,
            what,
            bulk: false,
        }
    }

    /// The request with a JSON body.
    pub fn with_body(self, body: &'a Value) -> Self {
        Self {
            body: Some(body),
            ..self
        }
    }

    /// The request as a batch write (a 400 or 413 refuses the batch).
    pub fn batch(self) -> Self {
        Self { bulk: true, ..self }
    }
}

impl HttpClient {
    /// Sends `request`, retrying what is worth retrying, and decodes the JSON answer.
    pub async fn send<T: DeserializeOwned>(&self, request: &Request<'_>) -> Result<T, ApiError> {
        let api = self.api();
        let url = self.url(request.path)?;
        let body = request
            .body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| {
                ApiError::invalid_response(api, format!("request could not be encoded: {e}"))
            })?;
        let inner = &self.inner;
        let started = Instant::now();
        let mut attempt = 0;
        let mut timeouts = 0;
        let mut key_reread = false;
        loop {
            attempt += 1;
            // A place among the requests in flight first, then a start slot: the pacer's turns
            // go to requests that can leave at once. The place is given back before any wait.
            let place = inner
                .in_flight
                .acquire()
                .await
                .map_err(|_| ApiError::Transport {
                    api,
                    text: "the client is shutting down".into(),
                })?;
            self.keep_under_the_ban().await;
            let permit = inner.pacer.acquire().await;
            let key = inner.key.current();
            let timeout = inner.observed.timeout(timeouts);
            let sent = Instant::now();
            let result = self
                .attempt(request, &url, &key, body.as_deref(), timeout)
                .await;
            if matches!(result, Err(ApiError::Timeout { .. })) {
                timeouts += 1;
            }
            self.observe(&result, sent.elapsed());
            if let (Some(bad), Err(e)) = (&inner.bad_answers, &result) {
                if is_bad_request(e) {
                    bad.record(tokio::time::Instant::now());
                }
            }
            let err = match result {
                Ok(bytes) => {
                    inner.pacer.on_success(permit);
                    return decode(api, &bytes);
                }
                Err(err) => err,
            };
            if matches!(err, ApiError::Unauthorized { .. }) && !key_reread {
                key_reread = true;
                if inner.key.changed_since(&key).await {
                    continue;
                }
            }
            if let ApiError::Throttled { retry_after, .. } = &err {
                inner.stats.throttled.fetch_add(1, Ordering::Relaxed);
                inner.pacer.on_throttled(permit, *retry_after);
            }
            if !err.is_retryable() {
                return Err(err);
            }
            // The whole budget is used: the last wait is cut short to try once more at its end.
            let left = inner.retry.max_elapsed.saturating_sub(started.elapsed());
            let delay = inner.retry.delay(attempt, &err).min(left);
            if attempt >= inner.retry.max_attempts || left.is_zero() {
                return Err(ApiError::RetriesExhausted {
                    api,
                    attempts: attempt,
                    elapsed: started.elapsed(),
                    last: Box::new(err),
                });
            }
            // A wait that would reach the run's deadline is not begun: no attempt may start
            // after it, and the run needs the time left to store its progress.
            if super::deadline::current().is_some_and(|d| tokio::time::Instant::now() + delay >= d)
            {
                return Err(ApiError::DeadlineReached {
                    api,
                    attempts: attempt,
                    last: Box::new(err),
                });
            }
            drop(place);
            self.back_off(attempt, &err, delay).await;
        }
    }

    /// Waits, if the API bans clients that send too many bad requests, until a request may go
    /// without risking the ban.
    async fn keep_under_the_ban(&self) {
        let Some(bad) = &self.inner.bad_answers else {
            return;
        };
        loop {
            let wait = bad.wait(tokio::time::Instant::now());
            if wait.is_zero() {
                return;
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "keeping under the bad-request ban"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Records what an attempt says about the API's health: an answer and its time, or trouble
    /// that is the API's (a 5xx, a lost connection, a timeout).
    fn observe(&self, result: &Result<Vec<u8>, ApiError>, latency: Duration) {
        let observed = &self.inner.observed;
        match result {
            Err(
                e @ (ApiError::Server { .. }
                | ApiError::Transport { .. }
                | ApiError::Timeout { .. }),
            ) => observed.on_trouble(e.type_name()),
            _ => observed.on_answer(latency),
        }
    }

    /// Waits before attempt `attempt + 1`: all of `delay` after a 429; after the API's trouble,
    /// until `delay` has passed or the API answers anyone again, whichever comes first (not at
    /// all when it already has).
    async fn back_off(&self, attempt: u32, err: &ApiError, delay: Duration) {
        self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            attempt,
            error_type = err.type_name(),
            delay_ms = delay.as_millis() as u64,
            "retrying"
        );
        if matches!(err, ApiError::Throttled { .. }) {
            tokio::time::sleep(delay).await;
            return;
        }
        let observed = &self.inner.observed;
        // Made before the check, so an answer that lands in between still wakes this wait.
        let recovered = observed.recovered();
        if observed.trouble().is_some() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = recovered => {}
            }
        }
    }

    /// One HTTP attempt: the raw body of a 2xx answer, or the error its status stands for.
    async fn attempt(
        &self,
        request: &Request<'_>,
        url: &Url,
        key: &SecretString,
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Vec<u8>, ApiError> {
        let api = self.api();
        self.inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut http = self
            .inner
            .http
            .request(request.method.clone(), url.clone())
            .timeout(timeout)
            .header(self.inner.dialect.key_header, key_header(key)?)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            http = http
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let response = http
            .send()
            .await
            .map_err(|e| ApiError::from_reqwest(api, e, timeout))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            return Err(ApiError::Redirected { api, status });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read_capped(api, response, timeout).await?;
        answer(api, request, status, retry_after, bytes)
    }

    /// The URL of `path` under the base URL, each segment escaped.
    pub(super) fn url(&self, path: &[&str]) -> Result<Url, ApiError> {
        let mut url = self.inner.base_url.clone();
        {
            let mut segments = url.path_segments_mut().map_err(|_| {
                ApiError::InvalidUrl(format!("the {} URL cannot hold a path", self.api()))
            })?;
            segments.pop_if_empty();
            segments.extend(path);
        }
        Ok(url)
    }
}

/// Whether `err` is an answer an API counts as a bad request: input refused (400, 413, other 4xx)
/// or credentials refused (401, 403). Throttling and a missing object are not.
fn is_bad_request(err: &ApiError) -> bool {
    matches!(
        err,
        ApiError::Rejected { .. } | ApiError::BatchRefused { .. } | ApiError::Unauthorized { .. }
    )
}

/// The body of a 2xx answer of `api` to `request`, or the error its status stands for.
fn answer(
    api: &'static str,
    request: &Request<'_>,
    status: u16,
    retry_after: Option<Duration>,
    bytes: Vec<u8>,
) -> Result<Vec<u8>, ApiError> {
    match classify_status(status) {
        StatusClass::Success => Ok(bytes),
        StatusClass::Throttled => Err(ApiError::Throttled {
            api,
            retry_after: retry_after.or_else(|| try_in_seconds(&bytes)),
        }),
        StatusClass::Unauthorized => Err(ApiError::Unauthorized { api }),
        StatusClass::NotFound => Err(ApiError::NotFound {
            api,
            what: request.what,
        }),
        StatusClass::Retry => Err(ApiError::Server {
            api,
            status,
            message: answer_message(&bytes),
        }),
        StatusClass::BadRequest if request.bulk => Err(ApiError::BatchRefused {
            api,
            status,
            message: answer_message(&bytes),
            answer: RefusedAnswer(bytes),
        }),
        StatusClass::BadRequest | StatusClass::Fatal => Err(ApiError::Rejected {
            api,
            status,
            message: answer_message(&bytes),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_api::client::tests::TESTING;
    use crate::http_api::ClientConfig;

    #[test]
    fn emails_in_paths_are_escaped() {
        let config = ClientConfig::new(Url::parse("http://127.0.0.1:1/v1").unwrap());
        let key = SecretString::from("k".to_string());
        let client = HttpClient::new(TESTING, config, key, None).unwrap();
        let url = client
            .url(&["list", "l1", "contact", "a+b/c@x.io"])
            .unwrap();
        assert_eq!(url.path(), "/v1/list/l1/contact/a+b%2Fc@x.io");
    }

    #[test]
    fn a_bad_request_refuses_a_bulk_write_and_rejects_anything_else() {
        let request = |bulk| Request {
            method: Method::POST,
            path: &[],
            body: None,
            what: "contact",
            bulk,
        };
        let body = br#"{"message": "Email is not valid"}"#.to_vec();
        for status in [400, 413] {
            let err = answer("Testing", &request(true), status, None, body.clone()).unwrap_err();
            assert!(
                matches!(&err, ApiError::BatchRefused { status: s, message, answer, .. } if *s == status && message.contains("not valid") && answer.0 == body),
                "{err:?}"
            );
            let err = answer("Testing", &request(false), status, None, body.clone()).unwrap_err();
            assert!(matches!(err, ApiError::Rejected { .. }), "{err:?}");
        }
        for status in [409, 422] {
            let err = answer("Testing", &request(true), status, None, body.clone()).unwrap_err();
            assert!(
                matches!(err, ApiError::Rejected { .. }),
                "{status}: a bulk write refused for another reason is not split: {err:?}"
            );
        }
    }
}
