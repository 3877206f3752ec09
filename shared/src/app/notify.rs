//! Telling someone an export finished, locally: after each export of a destination with a
//! notification URL (`configure DEST --notify-url URL`), the "Export Finished" event the AWS
//! deployment puts on EventBridge is posted there as JSON, with a one-line `text` that chat
//! webhooks (Slack, Teams, Mattermost) display. A few tries, then a warning: a webhook that fails
//! never fails the export. The URL can hold a secret token: it is never logged or printed whole.
//!
//! Each post is signed ([`signature`]) with the destination's webhook signing secret, made when
//! the URL is set, handed back once to be shown, kept in the secret store
//! ([`Named::WebhookSigning`]) and replaced by [`rotate_secret`]; removing the URL (or the
//! destination) deletes it. A destination whose URL was set before posts were signed posts
//! unsigned, with a warning, until its secret is rotated.

pub mod signature;

use crate::destination::{self, keys};
use crate::jobs::finalize::{ExportFinished, Report};
use crate::secrets::Named;
use crate::{Deps, JobError};
use secrecy::SecretString;
use serde::Serialize;
use std::time::Duration;

/// Tries per notification, and the wait before the second (doubling after).
const ATTEMPTS: u32 = 3;
const FIRST_WAIT: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_secs(10);

/// The body posted: the event's detail and the line a person reads.
#[derive(Debug, Serialize)]
struct Body<'a> {
    source: &'static str,
    #[serde(rename = "detail-type")]
    detail_type: &'static str,
    #[serde(flatten)]
    event: &'a ExportFinished,
    text: String,
}

/// Checks a notification URL: http or https, with a host.
pub fn check_url(url: &str) -> Result<url::Url, JobError> {
    let parsed = url::Url::parse(url.trim()).map_err(|_| {
        JobError::InvalidInput(
            "the notification URL is not a URL: give an http(s) address, e.g. a chat webhook's"
                .into(),
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(JobError::InvalidInput(
            "the notification URL must be an http(s) address with a host".into(),
        ));
    }
    Ok(parsed)
}

/// Where notifications go, as shown to people: the scheme and host only (the path of a chat
/// webhook is its secret).
pub fn shown(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| "(unreadable URL)".to_string(),
        |u| format!("{}://{}/…", u.scheme(), u.host_str().unwrap_or_default()),
    )
}

/// Sets (or with `None` removes) the URL `destination`'s finished exports are posted to. A URL
/// gets a new signing secret, returned to be shown once (it cannot be read back); removing the
/// URL deletes the secret.
pub async fn set_url(
    deps: &Deps,
    destination: &str,
    url: Option<&str>,
) -> Result<Option<SecretString>, JobError> {
    let url = url.map(check_url).transpose()?;
    let mut d = destination::load(deps.store.as_ref(), destination).await?;
    let secret = match url {
        Some(_) => Some(store_new_secret(deps, &d.id).await?),
        None => None,
    };
    d.notify_url = url.map(String::from);
    destination::save(deps.store.as_ref(), &d).await?;
    if d.notify_url.is_none() {
        deps.secrets
            .delete_named(&d.id, Named::WebhookSigning)
            .await?;
    }
    Ok(secret)
}

/// Replaces the signing secret of `destination`'s webhook; the new one is returned to be shown
/// once, and signs every post from now on.
pub async fn rotate_secret(deps: &Deps, destination: &str) -> Result<SecretString, JobError> {
    let d = destination::load(deps.store.as_ref(), destination).await?;
    if d.notify_url.is_none() {
        return Err(JobError::InvalidInput(format!(
            "{} posts no notifications, so it has no signing secret: set a URL with `configure {} --notify-url URL`",
            d.id, d.id
        )));
    }
    store_new_secret(deps, &d.id).await
}

async fn store_new_secret(deps: &Deps, destination: &str) -> Result<SecretString, JobError> {
    let secret = signature::new_secret().map_err(JobError::internal)?;
    deps.secrets
        .put_named(destination, Named::WebhookSigning, &secret)
        .await?;
    Ok(secret)
}

/// Posts the "Export Finished" event of `report` to its destination's notification URL, if it has
/// one. `Ok(false)` when there is none; an error says why the post failed after every try.
pub async fn export_finished(deps: &Deps, report: &Report) -> Result<bool, String> {
    let dest = &report.destination_id;
    let Ok(d) = destination::load(deps.store.as_ref(), dest).await else {
        return Ok(false);
    };
    let Some(url) = d.notify_url.as_deref() else {
        return Ok(false);
    };
    let secret = match deps.secrets.get_named(dest, Named::WebhookSigning).await {
        Ok(Some(secret)) => Some(secret),
        Ok(None) => {
            tracing::warn!(destination = %dest, "the webhook has no signing secret, so its post is unsigned: run `configure {dest} --rotate-notify-secret` to make one");
            None
        }
        Err(e) => {
            return Err(format!(
                "the webhook's signing secret could not be read: {e}"
            ))
        }
    };
    let key = keys::report(dest, &report.export_id);
    let event = ExportFinished::of(report, &d.display_name, &key);
    let body = Body {
        source: crate::jobs::finalize::SOURCE,
        detail_type: crate::jobs::finalize::DETAIL_TYPE,
        text: event.text(),
        event: &event,
    };
    let body =
        serde_json::to_vec(&body).map_err(|e| format!("the event could not be written: {e}"))?;
    post(url, &body, secret.as_ref()).await.map(|()| true)
}

/// Posts `body`, signed with `secret` when there is one (each try with its own timestamp).
async fn post(url: &str, body: &[u8], secret: Option<&SecretString>) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("no HTTP client: {e}"))?;
    let mut wait = FIRST_WAIT;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut request = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_vec());
        if let Some(secret) = secret {
            let now = chrono::Utc::now().timestamp();
            request = request.header(
                signature::HEADER,
                signature::header_value(secret, now, body),
            );
        }
        match request.send().await {
            Ok(answer) if answer.status().is_success() => return Ok(()),
            Ok(answer) => last = format!("it answered HTTP {}", answer.status().as_u16()),
            Err(e) if e.is_timeout() => last = "it did not answer in time".into(),
            Err(_) => last = "it could not be reached".into(),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
    }
    Err(format!(
        "the notification to {} was not delivered after {ATTEMPTS} tries: {last}",
        shown(url)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_addresses_with_a_host_are_taken_and_only_their_host_is_shown() {
        for good in [
            "https://hooks.example.com/services/T0/B0/secret",
            "http://127.0.0.1:9/x",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "hooks.example.com/x",
            "ftp://example.com/x",
            "file:///etc/passwd",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        let shown = shown("https://hooks.example.com/services/T0/B0/secret");
        assert_eq!(shown, "https://hooks.example.com/…");
    }
}
