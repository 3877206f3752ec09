//! Bulk upserts that write every good contact even when Autopilot refuses a whole request.
//!
//! Autopilot answers 400 to a bulk request holding any contact it will not take (413 for a body
//! too large), without saying which one. Such a batch is split in halves, sent one after the
//! other, until the refused contacts stand alone: each of them comes back as a [`Rejection`] with
//! Autopilot's message, every other contact is written. When the first half of a refused range is
//! taken, the refused contact is in the second: that half is split again without being sent
//! whole. One refused contact among n costs about 1.5·log2(n) extra requests (2·log2(n) when
//! both halves are always sent).

use super::transport::Request;
use super::{AutopilotClient, AutopilotError};
use crate::contact::{Contact, ContactBatch, MAX_CONTACTS_PER_BULK};
use reqwest::Method;
use serde_json::Value;
use std::sync::atomic::Ordering;

/// A contact Autopilot refused, by its position in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: usize,
    pub message: String,
}

/// What became of a batch: everything not rejected was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkOutcome {
    pub written: usize,
    pub rejected: Vec<Rejection>,
}

impl AutopilotClient {
    /// One bulk `POST /contacts` of at most 100 contacts, with retries but no splitting: a batch
    /// Autopilot refuses comes back as [`AutopilotError::BatchRefused`].
    pub async fn upsert_batch(&self, batch: &[Contact]) -> Result<(), AutopilotError> {
        debug_assert!(batch.len() <= MAX_CONTACTS_PER_BULK);
        let contacts: Vec<Value> = batch.iter().map(Contact::to_autopilot_json).collect();
        let body = serde_json::json!({ "contacts": contacts });
        self.send::<Value>(&Request {
            method: Method::POST,
            path: &["contacts"],
            body: Some(&body),
            what: "contact",
            bulk: true,
        })
        .await
        .map(drop)
    }

    /// Upserts a batch, isolating contacts Autopilot refuses. Any other error (a rejected key,
    /// retries exhausted) ends the call; contacts already written stay written, and sending the
    /// batch again is safe.
    pub async fn upsert_contacts(
        &self,
        batch: &ContactBatch,
    ) -> Result<BulkOutcome, AutopilotError> {
        let contacts = batch.contacts();
        let mut outcome = BulkOutcome::default();
        // Ranges still to send, last one first; splitting keeps contacts in their original order.
        let mut pending = vec![Range::whole(contacts.len())];
        while let Some(range) = pending.pop() {
            if range.start == range.end {
                continue;
            }
            if range.known_refused && range.len() > 1 {
                // Its sibling was taken, so it holds a refused contact: no need to send it whole.
                self.split(&mut pending, range, true);
                continue;
            }
            match self.upsert_batch(&contacts[range.start..range.end]).await {
                Ok(()) => {
                    outcome.written += range.len();
                    if let Some(second) = range.sibling {
                        pending[second].known_refused = true;
                    }
                }
                Err(AutopilotError::BatchRefused { status, message }) => {
                    if range.len() == 1 {
                        outcome.rejected.push(Rejection {
                            index: range.start,
                            message,
                        });
                    } else {
                        // A body too large (413) says nothing of where a refused contact is.
                        self.split(&mut pending, range, status != 413);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }

    /// Puts the halves of a refused range on the stack: the first on top, sent next; the second
    /// below it, told when the first is taken if the range is known to hold a refused contact.
    fn split(&self, pending: &mut Vec<Range>, range: Range, holds_refused: bool) {
        self.inner.stats.splits.fetch_add(1, Ordering::Relaxed);
        let mid = range.start + range.len() / 2;
        pending.push(Range {
            start: mid,
            end: range.end,
            sibling: None,
            known_refused: false,
        });
        let second = pending.len() - 1;
        pending.push(Range {
            start: range.start,
            end: mid,
            sibling: holds_refused.then_some(second),
            known_refused: false,
        });
    }
}

/// Contacts `start..end` of a batch still to send.
#[derive(Debug, Clone, Copy)]
struct Range {
    start: usize,
    end: usize,
    /// For the first half of a refused range: where its second half waits on the stack.
    sibling: Option<usize>,
    /// Set when the first half was taken: this half holds a refused contact.
    known_refused: bool,
}

impl Range {
    fn whole(len: usize) -> Self {
        Self {
            start: 0,
            end: len,
            sibling: None,
            known_refused: false,
        }
    }

    fn len(&self) -> usize {
        self.end - self.start
    }
}
