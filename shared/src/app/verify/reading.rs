//! A list (a segment's audience) read back page by page through the audience port's one paging
//! loop ([`crate::audience_api::paging`]), within a budget of pages and time, so that a
//! verification can stop after a step and go on from the cursor it kept. Reading stops at the
//! end of the list, when the list does not exist, or past the [`MemberLimits`] (too many members,
//! too many pages).

use crate::audience_api::paging::{MemberLimits, Reading};
use crate::audience_api::{AudienceApi, MemberStatus};
use crate::baseline::SegmentBaseline;
use crate::JobError;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// How far one list has been read, as a verification's record keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListReading {
    pub segment: String,
    /// The segment's audience (stored as `list_id` before there was a choice of API).
    #[serde(alias = "list_id")]
    pub audience_id: String,
    /// Where the next page starts, pages and members read so far, whether the list is read to
    /// its end (`done`) or does not exist (`gone`).
    #[serde(flatten)]
    pub read: Reading,
    /// Requests and seconds this list took so far (reading, then repairing).
    pub requests: u64,
    pub seconds: f64,
}

impl ListReading {
    /// A list not read yet.
    pub fn new(segment: &str, base: &SegmentBaseline) -> Self {
        Self {
            segment: segment.to_string(),
            audience_id: base.audience_id.clone(),
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
    #[cfg(test)]
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
/// answers the members read (the list's reading and counts are updated).
pub async fn read_pages(
    api: &dyn AudienceApi,
    list: &mut ListReading,
    budget: &mut Budget,
    limits: MemberLimits,
) -> Result<Vec<MemberStatus>, JobError> {
    let started = Instant::now();
    let before = api.stats().requests;
    let mut members = Vec::new();
    let mut read = Ok(());
    while !list.read.done && budget.left() {
        match list.read.next_page(api, &list.audience_id, limits).await {
            Ok(page) => members.extend(page),
            Err(e) => {
                read = Err(e);
                break;
            }
        }
        budget.spend(1);
    }
    list.requests += api.stats().requests - before;
    list.seconds += started.elapsed().as_secs_f64();
    read.map(|()| members)
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
