//! `connect`: validates an API key against the destination's API, stores it in the secret store and the
//! destination (without the key) in the object store. Nothing is stored when the key is refused.

use super::{Deps, JobError};
use crate::audience_api::Region;
use crate::audience_api::{Account, ApiKind};
use crate::destination::{self, Boundary, Consent, Destination, DEFAULT_PROFILE_LIMIT};
use crate::error::ErrorKind;
use crate::http_api::{ApiError, DEFAULT_REQUESTS_PER_SECOND};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::ops::RangeInclusive;

/// The request rates (per second) a destination or an export may be given: below 0.1 an export of
/// a few thousand contacts would take hours, and no Autopilot plan allows 10,000.
pub const RATE_RANGE: RangeInclusive<f64> = 0.1..=10_000.0;

/// Why a key holding a line break (or another control character) is refused.
pub const KEY_WITH_CONTROL_CHARACTERS: &str = "the API key holds a line break or other characters an API key cannot have: paste the key alone, on one line";

/// Refuses a key that holds a control character (a pasted second line, a tab): no API key has
/// one, and it would reach the API as a request that cannot be sent ("rejected the request
/// (0)"). The message never quotes the key.
pub fn check_key(key: &SecretString) -> Result<(), JobError> {
    if key.expose_secret().chars().any(char::is_control) {
        return Err(JobError::InvalidInput(KEY_WITH_CONTROL_CHARACTERS.into()));
    }
    Ok(())
}

/// The longest display name or export user kept: names are for people to read in a list.
pub const MAX_NAME_CHARS: usize = 200;

/// `text` (a display name or export user) trimmed, or why it cannot be one: control characters
/// (line breaks, tabs, terminal escapes) would rewrite what a terminal or a log shows, and a name
/// longer than [`MAX_NAME_CHARS`] is not a name. The message never quotes the text.
pub fn check_name<'a>(what: &str, text: &'a str) -> Result<&'a str, JobError> {
    let text = text.trim();
    if text.chars().any(char::is_control) {
        return Err(JobError::InvalidInput(format!(
            "the {what} holds a line break, tab or terminal escape: use letters, digits, spaces and punctuation on one line"
        )));
    }
    let chars = text.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(JobError::InvalidInput(format!(
            "the {what} is {chars} characters long: keep it to {MAX_NAME_CHARS} at most"
        )));
    }
    Ok(text)
}

/// `rate` when it is a finite number inside [`RATE_RANGE`], else the message that says why not.
pub fn check_rate(rate: f64) -> Result<f64, String> {
    if rate.is_finite() && RATE_RANGE.contains(&rate) {
        Ok(rate)
    } else {
        Err(format!(
            "requests per second must be a number from 0.1 to 10,000 (Autopilot's default is 10), not {rate}"
        ))
    }
}

/// The input of a connect (or a key rotation) an error is about, for a form that shows the
/// error beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    DisplayName,
    Key,
    Url,
    /// None in particular (the API could not be reached, the store failed, ...).
    Other,
}

impl Field {
    /// The input `err`, returned by [`run`] or [`rotate_key`], is about.
    pub fn of(err: &JobError) -> Self {
        match err {
            JobError::AlreadyExists(_) => Self::DisplayName,
            JobError::Api(ApiError::UnusableKey) => Self::Key,
            JobError::Api(ApiError::InvalidUrl(_)) => Self::Url,
            JobError::InvalidInput(m) if m == KEY_WITH_CONTROL_CHARACTERS => Self::Key,
            e if e.kind() == ErrorKind::Unauthorized => Self::Key,
            _ => Self::Other,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Input {
    pub display_name: String,
    /// Never serialized back out: `SecretString` does not implement `Serialize` here.
    pub api_key: SecretString,
    /// The data-privacy notice was agreed to ("I agree").
    pub consent: bool,
    #[serde(default)]
    pub export_user: Option<String>,
    /// The API the destination's audience tool speaks (Autopilot's unless said).
    #[serde(default)]
    pub api: ApiKind,
    /// Where that API is, when not at its public address (a sandbox); `autopilot_url` is read as
    /// this too.
    #[serde(default, alias = "autopilot_url")]
    pub api_url: Option<String>,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// Ortto's region (`global`, `au`, `eu`), whose host the API is at unless `api_url` says
    /// otherwise.
    #[serde(default)]
    pub region: Option<String>,
    /// Exports only update people the API already has (Ortto only).
    #[serde(default)]
    pub update_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub account_name: Option<String>,
}

/// Connects with no limit on the API URL: the local command.
pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    run_within(input, deps, &Boundary::anywhere()).await
}

/// Connects a destination whose URL must lie inside `boundary` (on AWS: the APIs' hosts and
/// the hosts the stack allows), with a key of an account the boundary allows. The key is sent
/// nowhere else, and nothing is stored when the URL, the key or its account is refused.
pub async fn run_within(
    input: Input,
    deps: &Deps,
    boundary: &Boundary,
) -> Result<Output, JobError> {
    if !input.consent {
        return Err(JobError::InvalidInput(
            "consent is required: profiles leave your platform's compliance boundary when exported; agree to the data-privacy notice (--agree) to connect".into(),
        ));
    }
    let name = check_name("display name", &input.display_name)?;
    let export_user = match input.export_user.as_deref() {
        Some(user) => check_name("export user", user)?,
        None => "",
    };
    let id = destination::slug(name);
    if id.is_empty() {
        return Err(JobError::InvalidInput(
            "the destination needs a display name with at least one letter or digit".into(),
        ));
    }
    check_key(&input.api_key)?;
    let rate = match input.requests_per_second {
        Some(r) => check_rate(r).map_err(JobError::InvalidInput)?,
        None => DEFAULT_REQUESTS_PER_SECOND,
    };
    let api = input.api;
    let url = api_url(&input)?;
    boundary.check_url(api, &url)?;
    // A quick answer before asking the API; the conditional write below is what decides.
    if deps
        .store
        .exists(&destination::keys::destination(&id))
        .await?
    {
        return Err(already_exists(&id));
    }
    let client = deps
        .apis
        .for_new_key(api, &url, input.api_key.clone(), rate)?;
    let account = client.account().await?;
    boundary.check_account(api, account.id.as_deref())?;
    let destination = Destination {
        id: id.clone(),
        display_name: name.to_string(),
        api,
        api_url: url,
        account_name: account.name.clone(),
        account_id: account.id.clone(),
        consent: Consent {
            agreed_at: chrono::Utc::now(),
            export_user: if export_user.is_empty() {
                "unknown".into()
            } else {
                export_user.to_string()
            },
        },
        created_at: chrono::Utc::now(),
        data_matching: None,
        segments: Vec::new(),
        profile_limit: DEFAULT_PROFILE_LIMIT,
        requests_per_second: rate,
        guardrails: Default::default(),
        notify_url: None,
        schedule: Default::default(),
        verify_pages: crate::destination::DEFAULT_VERIFY_PAGES,
        update_only: input.update_only,
    };
    // The destination is written only if absent, and before the key: of two connects with one
    // name, the one that loses stores nothing, so it can never replace the winner's key.
    if !destination::create(deps.store.as_ref(), &destination).await? {
        return Err(already_exists(&id));
    }
    if let Err(e) = deps.secrets.put(&id, &input.api_key).await {
        // Do not leave a destination behind without its key.
        let _ = deps
            .store
            .delete(&destination::keys::destination(&id))
            .await;
        return Err(e.into());
    }
    tracing::info!(destination = %id, "destination connected");
    Ok(Output {
        destination_id: id,
        account_name: account.name,
    })
}

/// Where the API of `input` is: its URL if given, else its region's host (Ortto) or its public
/// address. A region or update-only for an API that has none is refused.
fn api_url(input: &Input) -> Result<String, JobError> {
    let api = input.api;
    let region = match (api, input.region.as_deref()) {
        (ApiKind::Ortto, Some(name)) => Some(Region::from_name(name).ok_or_else(|| {
            JobError::InvalidInput(format!(
                "'{}' is not an Ortto region: use global, au or eu (the region your Ortto account is in)",
                crate::http_api::printable(name, 40)
            ))
        })?),
        (_, Some(_)) => {
            return Err(JobError::InvalidInput(
                "a region is for an Ortto destination: add --api ortto, or leave the region out".into(),
            ))
        }
        (_, None) => None,
    };
    if input.update_only && api != ApiKind::Ortto {
        return Err(JobError::InvalidInput(format!(
            "update-only is for an Ortto destination; {} never creates contacts on its own: leave it out",
            api.vocabulary().api
        )));
    }
    Ok(match (&input.api_url, region) {
        (Some(url), _) => url.trim().to_string(),
        (None, Some(region)) => region.url(),
        (None, None) => api.default_url().to_string(),
    })
}

fn already_exists(id: &str) -> JobError {
    JobError::AlreadyExists(format!(
        "a destination '{id}' already exists: choose another name, or remove it first with `autopilot-export remove {id}`"
    ))
}

/// A new key for a connected destination: validated against its API first, then stored.
#[derive(Debug, Deserialize)]
pub struct RotateInput {
    pub destination_id: String,
    pub api_key: SecretString,
}

pub async fn rotate_key(input: RotateInput, deps: &Deps) -> Result<Output, JobError> {
    rotate_key_within(input, deps, &Boundary::anywhere()).await
}

/// Rotates the key of a destination whose URL lies inside `boundary`: a destination stored
/// before the boundary was enforced never receives a new key. The new key must belong to the
/// destination's recorded account — an answer that names no account is refused when one is
/// recorded — and to an account the boundary allows; nothing is stored otherwise.
pub async fn rotate_key_within(
    input: RotateInput,
    deps: &Deps,
    boundary: &Boundary,
) -> Result<Output, JobError> {
    check_key(&input.api_key)?;
    let destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    boundary.check_url(destination.api, &destination.api_url)?;
    let client = deps.apis.for_new_key(
        destination.api,
        &destination.api_url,
        input.api_key.clone(),
        destination.requests_per_second,
    )?;
    let account: Account = client.account().await?;
    let new_account = account.id.clone();
    boundary.check_account(destination.api, new_account.as_deref())?;
    match (&destination.account_id, &new_account) {
        (Some(ours), Some(theirs)) if ours != theirs => {
            return Err(JobError::InvalidInput(format!(
                "the new key belongs to another {} account ({}) than the one destination '{}' exports to: a destination keeps its account. Connect a new destination for the other account, or use a key of this one",
                destination.api.vocabulary().api,
                account.name.as_deref().unwrap_or("unnamed"),
                destination.id
            )))
        }
        (Some(_), None) => {
            return Err(JobError::InvalidInput(format!(
                "{} did not say which account the new key belongs to, so it cannot be shown to be the account destination '{}' exports to: try again, or use another key of this account",
                destination.api.vocabulary().api,
                destination.id
            )))
        }
        (None, Some(_)) => {
            // Connected before accounts were recorded: the account of the first key checked is kept.
            let mut recorded = destination.clone();
            recorded.account_id = new_account.clone();
            destination::save(deps.store.as_ref(), &recorded).await?;
        }
        _ => {}
    }
    deps.secrets.put(&destination.id, &input.api_key).await?;
    deps.apis.forget(&destination.id);
    tracing::info!(destination = %destination.id, "API key rotated");
    Ok(Output {
        destination_id: destination.id,
        account_name: account.name,
    })
}

#[cfg(test)]
pub(crate) mod tests;
