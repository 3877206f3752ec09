//! Sending one chunk's requests. The chunk object is read whole, but its contacts stay JSON text
//! (about 250 bytes each) until their request is sent: only the requests in flight hold
//! [`Contact`]s (over a kilobyte each once parsed), so a chunk's memory grows with its size by
//! its text alone, whatever the chunk size the plan chose.

use super::{ChunkResult, JobError, RejectedContact, Request};
use crate::audience_api::{AudienceApi, Changes, ContactOutcome};
use crate::contact::Contact;
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
    pub(super) api: &'a dyn AudienceApi,
    pub(super) chunk: &'a Chunk,
    /// The segment's audience.
    pub(super) audience: &'a str,
    /// The chunk's key, named when a contact in it cannot be read.
    pub(super) key: &'a str,
}

/// What one answered request did.
#[derive(Debug, Default)]
pub(super) struct Answered {
    written: u64,
    rejected: Vec<RejectedContact>,
    /// Members taken off (or already gone: as good as removed).
    removed: u64,
}

impl Answered {
    pub(super) fn items(&self) -> u64 {
        self.written + self.rejected.len() as u64 + self.removed
    }

    pub(super) fn record(mut self, result: &mut ChunkResult) {
        result.sent += self.written;
        result.rejected.append(&mut self.rejected);
        result.removed += self.removed;
    }
}

impl Sender<'_> {
    pub(super) async fn send(&self, request: Request) -> Result<Answered, JobError> {
        let contacts = self.contacts(request.contacts.clone())?;
        let changes = Changes {
            upserts: &contacts,
            removals: &self.chunk.removals[request.removals.clone()],
        };
        let written = self.api.write(self.audience, changes).await?;
        let mut answered = Answered {
            // A member already gone (taken off by hand, the contact deleted) is as good as
            // removed (`RemovalOutcome::NotMember`).
            removed: written.removals.len() as u64,
            ..Answered::default()
        };
        for (index, outcome) in written.contacts.into_iter().enumerate() {
            let refusal = match outcome {
                ContactOutcome::Written => {
                    answered.written += 1;
                    continue;
                }
                // Left out on purpose is not written either: it is counted with the refused
                // until the report has a bucket of its own for it.
                ContactOutcome::Refused(message) | ContactOutcome::Suppressed(message) => message,
            };
            answered.rejected.push(RejectedContact {
                row: (self.chunk.rows)
                    .get(request.contacts.start + index)
                    .copied()
                    .unwrap_or_default(),
                email: contacts[index].email().to_string(),
                message: refusal,
            });
        }
        Ok(answered)
    }

    /// The contacts at `positions`, read from their text.
    fn contacts(&self, positions: std::ops::Range<usize>) -> Result<Vec<Contact>, JobError> {
        Ok(self.chunk.contacts[positions]
            .iter()
            .map(|text| serde_json::from_str::<Contact>(text.get()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| crate::store::StoreError::Io {
                key: self.key.to_string(),
                source: Box::new(e),
            })?)
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
