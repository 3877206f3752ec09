//! The light verify after an export: the first few pages of each segment's audience (its list)
//! read back through the audience port ([`crate::audience_api::paging`], at the destination's
//! rate like every other request) and compared with the baseline the export left. Per list it
//! finds how many members were read, how many of ours unsubscribed, how many are foreign (not
//! ours per the baseline) and whether the list is gone. A sample cannot count missing members,
//! except on a list short enough to be read whole; `verify` reads every page.
//!
//! It never fails the export: a list that could not be read (no key, a URL outside the
//! deployment's boundary, a timeout, server errors) is recorded as not checked with the reason,
//! which names no address and no key. All of it is held to [`BUDGET`], so an API that stopped
//! answering delays the report by that at most. With 0 pages configured it sends nothing.

use crate::audience_api::paging::{MemberLimits, Reading};
use crate::audience_api::AudienceApi;
use crate::baseline::{Baseline, SegmentBaseline};
use crate::destination::Destination;
use crate::email;
use crate::jobs::plan::Plan;
use crate::{Deps, JobError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// What the report says a sample cannot do.
pub const NOTE: &str = "a sample cannot count missing members: run `verify` for a full count";
/// The longest the light verify of one export may take, all lists together.
pub const BUDGET: Duration = Duration::from_secs(60);

/// The light verify's findings, in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LightVerify {
    /// Pages read at most per list (the destination's `verify_pages`).
    pub pages_per_list: u32,
    pub lists: Vec<SampledList>,
    /// Requests to the API it took, retries included.
    pub requests: u64,
    pub seconds: f64,
    /// [`NOTE`].
    pub note: String,
}

/// One segment's list as sampled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampledList {
    pub segment: String,
    pub list_id: String,
    /// Why the list was not read (then every count is 0): no address, no key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_checked: Option<String>,
    /// The list no longer exists.
    pub list_gone: bool,
    pub pages: u32,
    /// Distinct members read.
    pub members: u64,
    /// Of the members read that are ours, those who unsubscribed.
    pub unsubscribed: u64,
    /// Members read that the baseline does not record as ours.
    pub foreign: u64,
    /// Every page of the list was read (it is shorter than the sample).
    pub whole_list: bool,
    /// Ours no longer on the list: known only when the whole list was read or it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
}

impl LightVerify {
    /// The lists that are gone.
    pub fn gone(&self) -> impl Iterator<Item = &SampledList> {
        self.lists.iter().filter(|l| l.list_gone)
    }
}

/// Samples each list of `plan` at `destination`'s rate, against `baseline`; `None` when the
/// destination reads no pages (nothing is sent then) or there is no plan. When the export was
/// `stopped` by the API (an error kind such as `Transient`), no list is read.
pub async fn run(
    deps: &Deps,
    destination: Option<&Destination>,
    plan: Option<&Plan>,
    baseline: Option<&Baseline>,
    stopped: Option<&str>,
) -> Option<LightVerify> {
    let (destination, plan) = (destination?, plan?);
    let pages = destination.verify_pages;
    if pages == 0 || plan.segments.is_empty() {
        return None;
    }
    let started = Instant::now();
    let api = match stopped {
        Some(kind) => Err(format!(
            "{kind}: the export stopped on this error, so {} was not read again",
            destination.api.vocabulary().api
        )),
        None => deps
            .apis
            .for_destination(destination, &deps.secrets, plan.requests_per_second)
            .await
            .map_err(|e| reason(&e)),
    };
    let before = api.as_ref().map_or(0, |c| c.stats().requests);
    let mut lists = Vec::with_capacity(plan.segments.len());
    for segment in &plan.segments {
        let empty = SegmentBaseline::default();
        let ours = baseline
            .and_then(|b| b.segments.get(&segment.name))
            .filter(|b| b.audience_id == segment.audience_id)
            .unwrap_or(&empty);
        let mut list = SampledList {
            segment: segment.name.clone(),
            list_id: segment.audience_id.clone(),
            ..SampledList::default()
        };
        let left = BUDGET.saturating_sub(started.elapsed());
        let outcome = match &api {
            Err(why) => Err(why.clone()),
            Ok(api) => tokio::time::timeout(left, sample(api.as_ref(), &mut list, ours, pages))
                .await
                .unwrap_or_else(|_| {
                    Err(format!(
                        "Transient: no answer within the light verify's {} s",
                        BUDGET.as_secs()
                    ))
                }),
        };
        if let Err(why) = outcome {
            list = SampledList {
                segment: list.segment,
                list_id: list.list_id,
                not_checked: Some(why),
                ..SampledList::default()
            };
        }
        lists.push(list);
    }
    let requests = api.as_ref().map_or(0, |c| c.stats().requests - before);
    let found = LightVerify {
        pages_per_list: pages,
        lists,
        requests,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        note: NOTE.to_string(),
    };
    tracing::info!(
        lists = found.lists.len(),
        requests,
        gone = found.gone().count(),
        not_checked = found
            .lists
            .iter()
            .filter(|l| l.not_checked.is_some())
            .count(),
        "light verify"
    );
    Some(found)
}

/// Reads up to `pages` pages of `list` into its counts.
async fn sample(
    api: &dyn AudienceApi,
    list: &mut SampledList,
    ours: &SegmentBaseline,
    pages: u32,
) -> Result<(), String> {
    let mut seen = HashSet::new();
    let mut reading = Reading::default();
    while reading.pages < u64::from(pages) && !reading.done {
        let members = (reading
            .next_page(api, &list.list_id, MemberLimits::default())
            .await)
            .map_err(|e| reason(&e))?;
        if reading.gone {
            list.list_gone = true;
            list.missing = Some(ours.contacts.len() as u64);
            return Ok(());
        }
        list.pages = reading.pages as u32;
        for member in members {
            let key = email::dedupe_key(&member.email);
            if !seen.insert(key.clone()) {
                continue;
            }
            list.members += 1;
            if !ours.contacts.contains(&key) {
                list.foreign += 1;
            } else if member.unsubscribed {
                list.unsubscribed += 1;
            }
        }
        if reading.done {
            list.whole_list = true;
            let present = ours.contacts.keys().filter(|k| seen.contains(*k)).count();
            list.missing = Some((ours.contacts.len() - present) as u64);
        }
    }
    Ok(())
}

/// Why a list was not checked: the error's kind and its message, unless the message holds
/// anything like an address (then the kind alone).
fn reason(error: &JobError) -> String {
    let message = error.to_string();
    if message.contains('@') {
        format!("{}: the API could not be read", error.type_name())
    } else {
        format!(
            "{}: {}",
            error.type_name(),
            message.chars().take(200).collect::<String>()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_never_quotes_an_address() {
        let masked = JobError::InvalidInput("ann@example.com is odd".into());
        assert_eq!(reason(&masked), "InvalidInput: the API could not be read");
        let plain = JobError::Api(crate::http_api::ApiError::Throttled {
            api: "Autopilot",
            retry_after: None,
        });
        let text = reason(&plain);
        assert!(
            text.ends_with("Autopilot throttled the request (429)"),
            "{text}"
        );
    }
}
