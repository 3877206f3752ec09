//! Chunk sizes, and the writer that stores chunk objects and parts of the refused rows as the
//! scan fills them.

use super::refused;
use super::types::{ChunkFile, ChunkInfo};
use crate::audience_api::Limits;
use crate::destination::keys;
use crate::jobs::{Deps, JobError};
use crate::store::put_json;
use bytes::Bytes;

/// Contacts per chunk object when nothing else is asked for.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;
/// Requests' worth of removals per chunk: 200 removals where each costs a request of its own.
const REMOVAL_REQUESTS_PER_CHUNK: usize = 200;
/// The most chunks one export is cut into. On AWS each chunk costs about a dozen events of the
/// Step Functions execution's history, which holds 25,000; chunks grow to stay within this.
pub const MAX_CHUNKS: usize = 1_500;
/// The share of [`MAX_CHUNKS`] kept for contacts; the rest is for removals.
const CONTACT_CHUNKS: usize = MAX_CHUNKS * 3 / 4;

/// Contacts per chunk: as asked, or larger when the destination could hold more contacts than
/// [`CONTACT_CHUNKS`] chunks of that size. At most `profile_limit` profiles per segment can be
/// sent (a larger export is refused), and each segment may end in three part-filled chunks (adds,
/// updates, and the resend of a list that was recreated).
pub(super) fn contact_chunk_size(asked: usize, profile_limit: u64, segments: usize) -> usize {
    let most_contacts = profile_limit.saturating_mul(segments as u64);
    let chunks = CONTACT_CHUNKS.saturating_sub(3 * segments).max(100) as u64;
    let needed = most_contacts.div_ceil(chunks);
    asked.max(usize::try_from(needed).unwrap_or(usize::MAX))
}

/// Removals per chunk: [`REMOVAL_REQUESTS_PER_CHUNK`] requests' worth at the API's `limits`, or
/// more so that `removals` fit in the chunks left after `contact_chunks`.
pub(super) fn removal_chunk_size(removals: usize, contact_chunks: usize, limits: &Limits) -> usize {
    let left = MAX_CHUNKS.saturating_sub(contact_chunks).max(1);
    let per_request = limits.removals_per_request.max(1);
    (REMOVAL_REQUESTS_PER_CHUNK * per_request).max(removals.div_ceil(left))
}

/// Stores chunk objects and parts of the refused rows as they come, numbering them; forgets
/// them all when the plan fails. A dry run's writer stores nothing.
pub(super) struct ChunkWriter<'a> {
    deps: &'a Deps,
    destination: &'a str,
    export: &'a str,
    dry_run: bool,
    pub(super) chunks: Vec<ChunkInfo>,
    pub(super) refused_parts: u32,
}

impl<'a> ChunkWriter<'a> {
    pub(super) fn new(
        deps: &'a Deps,
        destination: &'a str,
        export: &'a str,
        dry_run: bool,
    ) -> Self {
        Self {
            deps,
            destination,
            export,
            dry_run,
            chunks: Vec::new(),
            refused_parts: 0,
        }
    }

    pub(super) fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// Stores the next part of the refused rows.
    pub(super) async fn write_refused(&mut self, part: Vec<u8>) -> Result<(), JobError> {
        if !self.dry_run {
            let key = refused::part_key(self.destination, self.export, self.refused_parts);
            self.deps.store.put(&key, Bytes::from(part)).await?;
            self.refused_parts += 1;
        }
        Ok(())
    }

    pub(super) async fn write(&mut self, chunk: ChunkFile) -> Result<(), JobError> {
        let info = ChunkInfo {
            segment: chunk.segment,
            kind: chunk.kind,
            contacts: (chunk.contacts.len() + chunk.removals.len()) as u32,
        };
        if !self.dry_run {
            let key = keys::chunk(self.destination, self.export, self.chunks.len() as u32);
            put_json(self.deps.store.as_ref(), &key, &chunk).await?;
        }
        self.chunks.push(info);
        Ok(())
    }

    pub(super) async fn discard(&mut self, error: JobError) -> JobError {
        if !self.dry_run {
            for number in 0..self.chunks.len() as u32 {
                let _ = self
                    .deps
                    .store
                    .delete(&keys::chunk(self.destination, self.export, number))
                    .await;
            }
            for part in 0..self.refused_parts {
                let key = refused::part_key(self.destination, self.export, part);
                let _ = self.deps.store.delete(&key).await;
            }
        }
        self.chunks.clear();
        self.refused_parts = 0;
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_grow_so_that_any_export_stays_within_max_chunks() {
        assert_eq!(contact_chunk_size(1000, 100_000, 2), 1000);
        assert_eq!(contact_chunk_size(50, 100_000, 1), 90);
        for (limit, segments) in [(1_000_000, 1), (1_000_000, 3), (5_000_000, 2), (100, 400)] {
            let size = contact_chunk_size(1000, limit, segments) as u64;
            // Every segment full to the limit, each with three part-filled chunks.
            let chunks = segments as u64 * (limit / size + 3);
            assert!(
                chunks <= CONTACT_CHUNKS.max(100 + 3 * segments) as u64,
                "{limit} × {segments}: {chunks}"
            );
        }
        let one_each = Limits {
            batch_size: 100,
            max_body_bytes: 2 << 20,
            removals_per_request: 1,
            removals_share_requests: false,
        };
        assert_eq!(removal_chunk_size(1_000, 10, &one_each), 200);
        let size = removal_chunk_size(1_000_000, CONTACT_CHUNKS, &one_each);
        assert!(1_000_000usize.div_ceil(size) + CONTACT_CHUNKS <= MAX_CHUNKS);
        let by_the_hundred = Limits {
            removals_per_request: 100,
            removals_share_requests: true,
            ..one_each
        };
        assert_eq!(removal_chunk_size(1_000, 10, &by_the_hundred), 20_000);
    }
}
