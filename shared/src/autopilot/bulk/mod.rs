//! Bulk upserts that write every good contact even when Autopilot refuses a whole request.
//!
//! Autopilot answers 400 to a bulk request holding any contact it will not take (413 for a body
//! too large), and its documentation does not promise to say which one. The contacts of a
//! refused batch are isolated ([`isolate`]): every refused contact comes back as a [`Rejection`]
//! with Autopilot's message, every other contact is written.
//!
//! - **The answer names the contact** ([`Named`]): the named contacts are set aside as suspects
//!   and the rest is sent once; refused again, it is named again or split. A name is believed only
//!   when proved: the rest being taken proves the last suspect refused (it was refused with it,
//!   taken without); any other suspect is sent alone once. So an answer that names the wrong
//!   contact (counting from 1, say) costs requests, never a good contact. One extra request per
//!   refused contact when each batch holds one; 2k − 1 for k in one batch.
//! - **It names nobody**: the request is split in halves, sent one after the other. When the first
//!   half is taken, the second holds the refused contact: it is split without being sent whole,
//!   and a single contact known refused that way is rejected unsent, with the message of the
//!   smallest refused request that held it. When the first half is refused, the second is probably
//!   clean: it is put aside, and everything put aside is sent together in one request at the end
//!   (parts of one batch, so at most 100 contacts). That request, refused, is a refused batch of
//!   its own, isolated the same way; after four of those the halves are sent as they come (many
//!   refused contacts in one batch, where setting halves aside no longer pays).
//!
//! What it costs, in requests beyond the batch's own, for n = 100 (⌈log2 n⌉ = 7): one refused
//! contact at most ⌈log2 n⌉ + 1 = 8, 7.7 on average over its position; each of up to four refused
//! contacts in one batch at most 8 too (averages: 2 refused, 7.3 each; 4 refused, 7.0 each); any
//! number at most 4·8 + 2n (all 100 refused: about 2.2 each). Sending both halves of every
//! refused range would cost about 2·log2(n) for one. `tests/bisection_property.rs` checks these
//! bounds for random refused positions.
//!
//! What Autopilot's error bodies say is not documented: its API reference (apiary) shows only the
//! 200 answer of `POST /contacts` (`{"contact_ids": [...]}`), and no public client, issue or guide
//! found quotes a 400 body of a bulk upsert. Other contact APIs name the culprit either by a JSON
//! path into the request (`contacts[1].email`) or by address, so both are read; a message that
//! names no contact of the request leads to the halving above. Addresses found in an answer are
//! only compared with the request's; the message kept for each rejected contact (in the
//! refused-rows file) has them masked (see `answer.rs`), and none reaches a log or an error.

mod isolate;
mod named;

pub use named::Named;

use super::{contact_json, AutopilotClient, LIMITS};
use crate::contact::Contact;
use crate::http_api::{ApiError, RefusedAnswer, Request};
use reqwest::Method;
use serde_json::Value;

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
    /// Upserts at most 100 `contacts` (onto `list`, when given), isolating contacts Autopilot
    /// refuses. Any other error (a rejected key, retries exhausted) ends the call; contacts
    /// already written stay written, and sending the batch again is safe.
    pub async fn upsert_contacts(
        &self,
        list: Option<&str>,
        contacts: &[Contact],
    ) -> Result<BulkOutcome, ApiError> {
        isolate::run(self, list, contacts).await
    }

    /// One bulk `POST /contacts`, with retries but no splitting: a batch Autopilot refuses
    /// comes back as [`ApiError::BatchRefused`]; so does, unsent, one whose body would be over
    /// Autopilot's 2 MB (as a 413 would).
    async fn post_contacts<'a>(
        &self,
        list: Option<&str>,
        contacts: impl ExactSizeIterator<Item = &'a Contact>,
    ) -> Result<(), ApiError> {
        debug_assert!(contacts.len() <= LIMITS.batch_size);
        let contacts: Vec<Value> = contacts.map(|c| contact_json(c, list)).collect();
        let body = serde_json::json!({ "contacts": contacts });
        let size = serde_json::to_vec(&body).map_or(0, |b| b.len());
        if size > LIMITS.max_body_bytes {
            return Err(ApiError::BatchRefused {
                api: self.http.api(),
                status: 413,
                message: format!(
                    "the request would be {} bytes, more than Autopilot's {} MB",
                    crate::text::thousands(size as u64),
                    LIMITS.max_body_bytes / (1024 * 1024)
                ),
                answer: RefusedAnswer::default(),
            });
        }
        let request = Request::new(Method::POST, &["contacts"], "contact")
            .with_body(&body)
            .batch();
        self.http.send::<Value>(&request).await.map(drop)
    }
}
