//! Reading the snapshots: each is parsed on a blocking thread, row by row; rows are mapped,
//! checked, deduplicated and compared with the baseline, and full chunks are stored as they fill.
//!
//! Memory stays bounded whatever the snapshot holds: the parser's own limits (see
//! [`crate::csv_snapshot`]), the profile limit checked at each new profile, refused rows stored
//! in parts as they come ([`super::refused`]), and of the emails on refused rows only those the
//! baseline knows kept (they decide who stays on a list).
//!
//! Profiles are told apart by a 64-bit hash of their dedupe key ([`baseline::key_hash`]): the
//! sets of who was seen, who is still present and everyone across segments hold hashes, not
//! addresses, and a dry run holds no address at all. Only an export that will write a candidate
//! baseline keeps the address and fingerprint of each contact it found.

use super::preview::{masked, SAMPLES};
use super::refused::{self, Refused, MAX_CELL_CHARS, MAX_REFUSED_BYTES};
use super::types::{ChunkFile, ChunkKind, InvalidRow, SegmentPlan};
use super::writer::ChunkWriter;
use crate::baseline::{self, SegmentBaseline};
use crate::csv_snapshot::{SnapshotError, SnapshotReader, SnapshotRows};
use crate::destination::{self, DataMatching, Destination};
use crate::email;
use crate::field_mapping::RowMapper;
use crate::jobs::{Deps, JobError};
use std::collections::{HashMap, HashSet};

/// What one segment's scan found, beyond its counts.
pub(super) struct SegmentScan {
    pub(super) plan: SegmentPlan,
    /// The key hashes of the baseline's members that the snapshot still names, on valid rows or
    /// not: people still in the segment.
    pub(super) present: HashSet<u64>,
    /// How many valid distinct contacts the snapshot holds.
    pub(super) distinct: u64,
    /// Lower-cased email and fingerprint of every valid distinct contact, in the order found;
    /// empty unless the scan records (a dry run or a second scan needs only the counts).
    pub(super) fingerprints: Vec<(String, u64)>,
    pub(super) samples: Vec<serde_json::Value>,
    /// The first refused row of each reason (every refused row is in the store).
    pub(super) examples: Vec<InvalidRow>,
}

pub(super) struct Scan {
    pub(super) segments: Vec<SegmentScan>,
    pub(super) distinct: u64,
}

/// What a scan counts across its segments, checked as it grows.
#[derive(Default)]
pub(super) struct Tally {
    /// The key hash of every valid distinct contact so far, all segments together.
    pub(super) everyone: HashSet<u64>,
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
    for (index, mode) in modes {
        let job = Job {
            segment: destination.segments[*index].clone(),
            matching: matching.clone(),
            index: *index,
            base: mode.base.map(hashed),
            full: mode.full,
            only_unchanged: mode.only_unchanged,
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

/// A segment's baseline as the parsing thread compares with it: key hash → fingerprint.
fn hashed(base: &SegmentBaseline) -> HashMap<u64, u64> {
    base.contacts
        .iter()
        .map(|(email, fp)| (baseline::key_hash(email), *fp))
        .collect()
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
struct Job {
    segment: destination::Segment,
    matching: DataMatching,
    index: usize,
    base: Option<HashMap<u64, u64>>,
    full: bool,
    only_unchanged: bool,
    /// Whether refused rows are stored (and held to the budget).
    record: bool,
    chunk_size: usize,
    limit: u64,
    tally: Tally,
}

/// What the parsing thread hands on as it goes.
enum Parsed {
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
    let parser = tokio::task::spawn_blocking(move || parse_segment(job, snapshots.as_ref(), &tx));
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

fn parse_segment(
    job: Job,
    snapshots: &dyn SnapshotReader,
    tx: &tokio::sync::mpsc::Sender<Parsed>,
) -> Result<(), JobError> {
    let Job {
        segment,
        matching,
        index,
        base,
        full,
        only_unchanged,
        record,
        chunk_size,
        limit,
        mut tally,
    } = job;
    let base = base.as_ref();
    // A snapshot that cannot be read keeps its kind: a dropped connection may be retried.
    let unread = |e: SnapshotError| {
        JobError::new(
            e.kind(),
            format!("segment '{}': {}", segment.name, e.message()),
        )
    };
    let fail =
        |message: String| JobError::InvalidInput(format!("segment '{}': {message}", segment.name));
    let input = snapshots.open(&segment.source).map_err(unread)?;
    let mut rows = SnapshotRows::open(&segment.source, input).map_err(unread)?;
    let mapper = RowMapper::new(&matching, rows.header()).map_err(fail)?;
    let mut plan = SegmentPlan {
        name: segment.name.clone(),
        full,
        ..SegmentPlan::default()
    };
    let mut present = HashSet::new();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut fingerprints = Vec::new();
    let mut refused = Refused::new(record);
    let mut samples = Vec::new();
    let new_chunk = |kind| ChunkFile {
        segment: index,
        kind,
        rows: Vec::new(),
        contacts: Vec::new(),
        removals: Vec::new(),
    };
    let mut adds = new_chunk(ChunkKind::Add);
    let mut updates = new_chunk(ChunkKind::Update);
    let send = |parsed: Parsed| {
        tx.blocking_send(parsed)
            .map_err(|_| JobError::internal("storing chunks failed"))
    };
    while let Some(row) = rows.next_borrowed().map_err(unread)? {
        plan.rows_read += 1;
        let fields: Vec<&str> = row.fields.iter().map(AsRef::as_ref).collect();
        let email = mapper.email_of(&fields);
        // The key of a valid row's address is the key of the contact made of it (the domain's
        // ASCII form is its own ASCII form): computed and hashed once per row.
        let key = (!email.is_empty()).then(|| email::dedupe_key(email));
        let hash = key.as_deref().map(baseline::key_hash);
        if let (Some(base), Some(hash)) = (base, hash) {
            if base.contains_key(&hash) {
                present.insert(hash);
            }
        }
        let contact = match mapper.map(&fields) {
            Ok(contact) => contact,
            Err(problem) => {
                *plan.invalid.entry(problem.code.to_string()).or_default() += 1;
                let at = row.number;
                let row = InvalidRow {
                    segment: index,
                    row: row.number,
                    email: refused::cap(email, MAX_CELL_CHARS),
                    reason: format!("{}: {}", problem.code, problem.message),
                };
                let (part, bytes) = refused.add(row, problem.code);
                if record {
                    tally.refused_rows += 1;
                    tally.refused_bytes += bytes;
                    if tally.refused_bytes > tally.refused_budget {
                        let message = refused::too_many(&segment.source, at, tally.refused_rows);
                        return Err(fail(message));
                    }
                }
                if let Some(part) = part {
                    send(Parsed::Refused(part))?;
                }
                continue;
            }
        };
        let (Some(key), Some(hash)) = (key, hash) else {
            // A contact always has an address; never reached.
            continue;
        };
        if !seen.insert(hash) {
            plan.duplicates += 1;
            continue;
        }
        // Past the limit the export is refused whatever follows: stop reading now.
        if tally.everyone.insert(hash) {
            let distinct = tally.everyone.len() as u64;
            if distinct > limit {
                return Err(JobError::LimitExceeded { distinct, limit });
            }
        }
        let fp = baseline::fingerprint(&contact);
        let before = base.and_then(|b| b.get(&hash)).copied();
        if record {
            fingerprints.push((key, fp));
        }
        let target = match before {
            Some(old) if only_unchanged && old == fp => {
                plan.contacts += 1;
                &mut updates
            }
            _ if only_unchanged => continue,
            None => {
                plan.adds += 1;
                &mut adds
            }
            Some(old) if full || old != fp => {
                plan.updates += 1;
                &mut updates
            }
            Some(_) => {
                plan.unchanged += 1;
                continue;
            }
        };
        if samples.len() < SAMPLES {
            samples.push(masked(&contact));
        }
        target.rows.push(row.number);
        target.contacts.push(contact);
        if target.contacts.len() == chunk_size {
            let kind = target.kind;
            send(Parsed::Chunk(std::mem::replace(target, new_chunk(kind))))?;
        }
    }
    for chunk in [adds, updates] {
        if !chunk.contacts.is_empty() {
            send(Parsed::Chunk(chunk))?;
        }
    }
    if let Some(part) = refused.finish() {
        send(Parsed::Refused(part))?;
    }
    if !only_unchanged {
        plan.contacts = plan.adds + plan.updates;
    }
    let scan = SegmentScan {
        plan,
        present,
        distinct: seen.len() as u64,
        fingerprints,
        samples,
        examples: refused.examples,
    };
    send(Parsed::Done(Box::new((scan, tally))))
}
