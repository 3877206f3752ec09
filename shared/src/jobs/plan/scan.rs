//! Reading the snapshots: each is parsed on a blocking thread ([`super::segment`]), row by row;
//! rows are mapped, checked, deduplicated and compared with the baseline, and full chunks are
//! stored here as they fill.
//!
//! Memory stays bounded whatever the snapshot holds: the parser's own limits (see
//! [`crate::snapshot`]), the profile limit checked at each new profile, refused rows stored
//! in parts as they come ([`super::refused`]), one byte per baseline record for its state, and
//! of addresses only those of profiles the baseline does not know, kept only when a candidate
//! baseline will be written. The set of everyone across segments holds 64-bit key hashes.

use super::refused::MAX_REFUSED_BYTES;
use super::segment::{self, ABSENT};
use super::types::{ChunkFile, InvalidRow, SegmentPlan};
use super::writer::ChunkWriter;
use crate::baseline::{Members, SegmentBaseline};
use crate::contact::Contact;
use crate::destination::{self, DataMatching, Destination};
use crate::jobs::{Deps, JobError};
use rustc_hash::FxHashSet;

/// What one segment's scan found, beyond its counts.
pub(super) struct SegmentScan {
    pub(super) plan: SegmentPlan,
    /// The baseline it was compared with (shared, not copied).
    pub(super) base: Option<Members>,
    /// Per record of `base`: [`ABSENT`], [`NAMED`] (only on refused rows: still in the
    /// segment) or [`VALID`].
    pub(super) state: Vec<u8>,
    /// Records of `base` whose contact changed, and its new fingerprint (when recording).
    pub(super) changed: Vec<(u32, u64)>,
    /// Key hash, fingerprint and lower-cased address of each valid contact the baseline does
    /// not know (when recording).
    pub(super) added: Vec<(u64, u64, String)>,
    /// How many valid distinct contacts the snapshot holds.
    pub(super) distinct: u64,
    pub(super) samples: Vec<Contact>,
    /// The first refused row of each reason (every refused row is in the store).
    pub(super) examples: Vec<InvalidRow>,
}

impl SegmentScan {
    /// Whether the `i`-th record of the baseline is still in the segment.
    pub(super) fn still_named(&self, i: usize) -> bool {
        self.state.get(i).is_some_and(|s| *s != ABSENT)
    }
}

pub(super) struct Scan {
    pub(super) segments: Vec<SegmentScan>,
    pub(super) distinct: u64,
}

/// What a scan counts across its segments, checked as it grows.
#[derive(Default)]
pub(super) struct Tally {
    /// The key hash of every valid distinct contact so far, all segments together.
    pub(super) everyone: FxHashSet<u64>,
    /// Refused rows stored so far, and their bytes.
    pub(super) refused_rows: u64,
    pub(super) refused_bytes: u64,
    /// The most bytes of refused rows stored ([`MAX_REFUSED_BYTES`]).
    pub(super) refused_budget: u64,
}

impl Tally {
    pub(super) fn new() -> Self {
        Self {
            refused_budget: MAX_REFUSED_BYTES,
            ..Self::default()
        }
    }
}

/// How a segment is compared with its baseline during a scan.
#[derive(Clone, Copy)]
pub(super) struct Compare<'a> {
    pub(super) base: Option<&'a SegmentBaseline>,
    /// Send everything, changed or not.
    pub(super) full: bool,
    /// Send only what is unchanged against the baseline (its list was recreated).
    pub(super) only_unchanged: bool,
}

/// Scans the given segments, storing their chunks and refused rows.
pub(super) async fn scan(
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    modes: &[(usize, Compare<'_>)],
    chunk_size: usize,
    writer: &mut ChunkWriter<'_>,
    tally: &mut Tally,
) -> Result<Scan, JobError> {
    let mut segments = Vec::new();
    // Most of a refresh's profiles are the baseline's: room for them up front, not by doubling.
    let known: usize = modes
        .iter()
        .filter_map(|(_, m)| m.base)
        .map(|b| b.contacts.len())
        .sum();
    let limit = usize::try_from(destination.profile_limit).unwrap_or(usize::MAX);
    tally
        .everyone
        .reserve(known.min(limit).saturating_sub(tally.everyone.len()));
    for (index, mode) in modes {
        let job = Job {
            segment: destination.segments[*index].clone(),
            matching: matching.clone(),
            index: *index,
            base: mode.base.map(|b| b.contacts.clone()),
            full: mode.full,
            only_unchanged: mode.only_unchanged,
            dry_run: writer.dry_run(),
            // A second scan (of a recreated list) finds the rows the first one stored.
            record: !writer.dry_run() && !mode.only_unchanged,
            chunk_size,
            limit: destination.profile_limit,
            tally: std::mem::take(tally),
        };
        let (segment, counted) = scan_segment(deps, job, writer).await?;
        *tally = counted;
        segments.push(segment);
    }
    Ok(Scan {
        segments,
        distinct: tally.everyone.len() as u64,
    })
}

/// Scans segments again for their previously unchanged contacts; returns how many each resent.
pub(super) async fn scan_only(
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    modes: &[(usize, Compare<'_>)],
    chunk_size: usize,
    writer: &mut ChunkWriter<'_>,
    tally: &mut Tally,
) -> Result<Vec<u64>, JobError> {
    let again = scan(
        deps,
        destination,
        matching,
        modes,
        chunk_size,
        writer,
        tally,
    )
    .await?;
    Ok(again.segments.iter().map(|s| s.plan.contacts).collect())
}

/// One segment's scan, as the parsing thread gets it.
pub(super) struct Job {
    pub(super) segment: destination::Segment,
    pub(super) matching: DataMatching,
    pub(super) index: usize,
    /// The segment's baseline (shared, not copied).
    pub(super) base: Option<Members>,
    pub(super) full: bool,
    pub(super) only_unchanged: bool,
    /// Counting only: no chunk is written, so no contact is built but for the samples.
    pub(super) dry_run: bool,
    /// Whether refused rows are stored (and held to the budget) and what differs from the
    /// baseline is kept for the candidate.
    pub(super) record: bool,
    pub(super) chunk_size: usize,
    pub(super) limit: u64,
    pub(super) tally: Tally,
}

/// What the parsing thread hands on as it goes.
pub(super) enum Parsed {
    Chunk(ChunkFile),
    /// A part of the refused rows (JSON lines).
    Refused(Vec<u8>),
    Done(Box<(SegmentScan, Tally)>),
}

/// Parses one snapshot on a blocking thread; full chunks and parts are stored as they fill.
async fn scan_segment(
    deps: &Deps,
    job: Job,
    writer: &mut ChunkWriter<'_>,
) -> Result<(SegmentScan, Tally), JobError> {
    let snapshots = deps.snapshots.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(4);
    let parser = tokio::task::spawn_blocking(move || segment::parse(job, snapshots.as_ref(), &tx));
    let mut result = None;
    let mut store_error = None;
    while let Some(parsed) = rx.recv().await {
        let stored = match parsed {
            Parsed::Chunk(chunk) => writer.write(chunk).await,
            Parsed::Refused(part) => writer.write_refused(part).await,
            Parsed::Done(done) => {
                result = Some(done);
                Ok(())
            }
        };
        if let Err(e) = stored {
            store_error = Some(e);
            break;
        }
    }
    drop(rx);
    let parsed = parser
        .await
        .map_err(|e| JobError::internal(format!("reading the snapshots stopped: {e}")))?;
    if let Some(e) = store_error {
        return Err(e);
    }
    parsed?;
    let done = result.ok_or_else(|| JobError::internal("reading the snapshot stopped early"))?;
    Ok(*done)
}
