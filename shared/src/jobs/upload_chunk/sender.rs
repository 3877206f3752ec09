//! Sending one chunk's requests. The chunk object is read whole, but its contacts stay JSON text
//! (about 250 bytes each) until their request is sent: only the requests in flight hold
//! [`Contact`]s (over a kilobyte each once parsed), so a chunk's memory grows with its size by
//! its text alone, whatever the chunk size the plan chose.

use super::{ChunkResult, JobError, RejectedContact, Request};
use crate::autopilot::{AutopilotClient, ContactBatch};
use crate::contact::Contact;
use crate::http_api::ApiError;
use crate::jobs::plan::ChunkKind;
use serde::Deserialize;
use serde_json::value::RawValue;

/// A chunk object ([`crate::jobs::plan::ChunkFile`]) as the sender reads it: the same document,
/// each contact kept as its JSON text.
#[derive(Debug, Deserialize)]
pub(super) struct Chunk {
    pub(super) segment: usize,
    pub(super) kind: ChunkKind,
    #[serde(default)]
    rows: Vec<u64>,
    #[serde(default)]
    pub(super) contacts: Vec<Box<RawValue>>,
    #[serde(default)]
    pub(super) removals: Vec<String>,
}

/// Sends the requests of one chunk.
pub(super) struct Sender<'a> {
    pub(super) client: &'a AutopilotClient,
    pub(super) chunk: &'a Chunk,
    pub(super) list_id: &'a str,
    /// The chunk's key, named when a contact in it cannot be read.
    pub(super) key: &'a str,
}

/// What one answered request did.
pub(super) enum Answered {
    Removed,
    Upserted {
        written: u64,
        rejected: Vec<RejectedContact>,
    },
}

impl Answered {
    pub(super) fn items(&self) -> u64 {
        match self {
            Self::Removed => 1,
            Self::Upserted { written, rejected } => written + rejected.len() as u64,
        }
    }

    pub(super) fn record(self, result: &mut ChunkResult) {
        match self {
            Self::Removed => result.removed += 1,
            Self::Upserted {
                written,
                mut rejected,
            } => {
                result.sent += written;
                result.rejected.append(&mut rejected);
            }
        }
    }
}

impl Sender<'_> {
    pub(super) async fn send(&self, request: Request) -> Result<Answered, JobError> {
        match request {
            Request::Remove(position) => {
                let email = &self.chunk.removals[position];
                // Already gone (taken off by hand, or the contact deleted) is as good as removed.
                match self.client.remove_from_list(self.list_id, email).await {
                    Ok(()) | Err(ApiError::NotFound { .. }) => Ok(Answered::Removed),
                    Err(e) => Err(e.into()),
                }
            }
            Request::Upsert { start, end } => {
                let batch = self.batch(start, end)?;
                let outcome = self.client.upsert_contacts(&batch).await?;
                let rejected = outcome
                    .rejected
                    .into_iter()
                    .map(|rejection| RejectedContact {
                        row: self
                            .chunk
                            .rows
                            .get(start + rejection.index)
                            .copied()
                            .unwrap_or_default(),
                        email: batch.contacts()[rejection.index].email().to_string(),
                        message: rejection.message,
                    })
                    .collect();
                Ok(Answered::Upserted {
                    written: outcome.written as u64,
                    rejected,
                })
            }
        }
    }

    /// The contacts at `start..end` (at most a bulk request's), read from their text and put on
    /// the segment's list.
    fn batch(&self, start: usize, end: usize) -> Result<ContactBatch, JobError> {
        let contacts = self.chunk.contacts[start..end]
            .iter()
            .map(|text| {
                serde_json::from_str::<Contact>(text.get())
                    .map(|contact| contact.with_list(self.list_id))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| crate::store::StoreError::Io {
                key: self.key.to_string(),
                source: Box::new(e),
            })?;
        ContactBatch::new(contacts).map_err(|e| JobError::internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::plan::ChunkFile;

    #[test]
    fn a_chunk_reads_back_the_contacts_the_plan_wrote() {
        let written = ChunkFile {
            segment: 1,
            kind: ChunkKind::Update,
            rows: vec![7, 9],
            contacts: vec![
                Contact::new("ana@x.io")
                    .unwrap()
                    .with_field("FirstName", "Ana")
                    .unwrap(),
                Contact::new("bo@x.io").unwrap(),
            ],
            removals: vec![],
        };
        let text = serde_json::to_vec(&written).unwrap();
        let chunk: Chunk = serde_json::from_slice(&text).unwrap();
        assert_eq!(
            (chunk.segment, chunk.kind, chunk.rows.len()),
            (1, ChunkKind::Update, 2)
        );
        let read: Vec<Contact> = chunk
            .contacts
            .iter()
            .map(|c| serde_json::from_str(c.get()).unwrap())
            .collect();
        assert_eq!(read, written.contacts);
    }
}
