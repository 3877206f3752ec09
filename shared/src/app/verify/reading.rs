//! A list read back page by page (`GET /list/{id}/contacts[/{bookmark}]`, 100 members a page in
//! Autopilot), within a budget of pages and time, so that a verification can stop after a step
//! and go on from the bookmark it kept. Reading stops at the end of the list (an empty page, no
//! bookmark, or the bookmark it was given again), when the list does not exist, or past the
//! [`ListLimits`] (too many members, too many pages).

use crate::autopilot::api::{MemberStatus, MemberStatusPage};
use crate::autopilot::{AutopilotClient, ListLimits};
use crate::baseline::SegmentBaseline;
use crate::http_api::ApiError;
use crate::JobError;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How far one list has been read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListReading {
    pub segment: String,
    pub list_id: String,
    /// Where the next page starts (`None`: at the first page, or the list is read).
    #[serde(default)]
    pub bookmark: Option<String>,
    /// Pages and members read so far.
    pub pages: u64,
    pub members: u64,
    /// The list is read to its end (or is gone).
    pub done: bool,
    /// The list does not exist in Autopilot.
    pub gone: bool,
    /// Requests and seconds this list took so far (reading, then repairing).
    pub requests: u64,
    pub seconds: f64,
}

impl ListReading {
    /// A list not read yet.
    pub fn new(segment: &str, base: &SegmentBaseline) -> Self {
        Self {
            segment: segment.to_string(),
            list_id: base.list_id.clone(),
            ..Self::default()
        }
    }
}

/// How much one step may read: pages, and time from when it was made.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pages: Option<u64>,
    until: Option<Instant>,
}

impl Budget {
    /// No limit: everything in one go.
    pub fn unlimited() -> Self {
        Self {
            pages: None,
            until: None,
        }
    }

    /// At most `pages` pages (if given), and no page started after `time`.
    pub fn new(pages: Option<u64>, time: Duration) -> Self {
        Self {
            pages,
            until: Instant::now().checked_add(time),
        }
    }

    /// Whether another request may start.
    pub fn left(&self) -> bool {
        self.pages.is_none_or(|p| p > 0) && self.until.is_none_or(|t| Instant::now() < t)
    }

    /// Counts one request against the page budget.
    pub fn spend(&mut self, requests: u64) {
        if let Some(pages) = self.pages.as_mut() {
            *pages = pages.saturating_sub(requests);
        }
    }
}

/// Reads pages of `list` from where it stopped until it is done or `budget` is spent, and
/// answers the members read (the list's `done`, `gone`, bookmark and counts are updated).
pub async fn read_pages(
    client: &AutopilotClient,
    list: &mut ListReading,
    budget: &mut Budget,
    limits: ListLimits,
) -> Result<Vec<MemberStatus>, JobError> {
    let started = Instant::now();
    let before = client.stats().requests;
    let read = read_within(client, list, budget, limits).await;
    list.requests += client.stats().requests - before;
    list.seconds += started.elapsed().as_secs_f64();
    read
}

async fn read_within(
    client: &AutopilotClient,
    list: &mut ListReading,
    budget: &mut Budget,
    limits: ListLimits,
) -> Result<Vec<MemberStatus>, JobError> {
    let mut members = Vec::new();
    while !list.done && budget.left() {
        if list.pages >= limits.pages as u64 {
            return Err(JobError::Api(ApiError::invalid_response(
                "Autopilot",
                format!(
                    "the Autopilot list went on for more than {} pages: stopped reading it",
                    limits.pages
                ),
            )));
        }
        let page = match client
            .list_member_statuses_page(&list.list_id, list.bookmark.as_deref())
            .await
        {
            Ok(page) => page,
            Err(ApiError::NotFound { .. }) => {
                (list.gone, list.done, list.bookmark) = (true, true, None);
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        budget.spend(1);
        let MemberStatusPage {
            members: read,
            bookmark: next,
        } = page;
        list.pages += 1;
        list.members += read.len() as u64;
        if list.members > limits.members as u64 {
            return Err(ApiError::AudienceTooLarge {
                api: "Autopilot",
                audience: format!("list {}", list.list_id.chars().take(80).collect::<String>()),
                limit: limits.members,
            }
            .into());
        }
        let empty = read.is_empty();
        members.extend(read);
        match next {
            Some(next) if !empty && list.bookmark.as_deref() != Some(next.as_str()) => {
                list.bookmark = Some(next)
            }
            _ => (list.done, list.bookmark) = (true, None),
        }
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_budget_runs_out_after_its_pages() {
        let mut budget = Budget::new(Some(2), Duration::from_secs(60));
        assert!(budget.left());
        budget.spend(1);
        assert!(budget.left());
        budget.spend(1);
        assert!(!budget.left());
        let mut unlimited = Budget::unlimited();
        unlimited.spend(1_000_000);
        assert!(unlimited.left());
        assert!(
            !Budget::new(None, Duration::ZERO).left(),
            "no time, no page"
        );
    }
}
