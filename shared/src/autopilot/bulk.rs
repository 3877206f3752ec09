//! Bulk upserts that write every good contact even when Autopilot refuses a whole request.
//!
//! Autopilot answers 400 to a bulk request holding any contact it will not take (413 for a body
//! too large), without saying which one. Such a batch is split in halves and each half is sent
//! again, until the refused contacts stand alone: each of them comes back as a [`Rejection`] with
//! Autopilot's message, every other contact is written. k bad contacts among n cost about
//! 2·k·log2(n/k) extra requests.

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
        let mut pending = vec![(0, contacts.len())];
        while let Some((start, end)) = pending.pop() {
            if start == end {
                continue;
            }
            match self.upsert_batch(&contacts[start..end]).await {
                Ok(()) => outcome.written += end - start,
                Err(AutopilotError::BatchRefused { message, .. }) => {
                    if end - start == 1 {
                        outcome.rejected.push(Rejection {
                            index: start,
                            message,
                        });
                    } else {
                        self.inner.stats.splits.fetch_add(1, Ordering::Relaxed);
                        let mid = start + (end - start) / 2;
                        pending.push((mid, end));
                        pending.push((start, mid));
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(outcome)
    }
}
