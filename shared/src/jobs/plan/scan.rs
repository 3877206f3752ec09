//! Reading the snapshots: each is parsed on a blocking thread, row by row; rows are mapped,
//! checked, deduplicated and compared with the baseline, and full chunks are stored as they fill.

use super::preview::{masked, SAMPLES};
use super::types::{ChunkFile, ChunkKind, InvalidRow, SegmentPlan};
use super::writer::ChunkWriter;
use crate::baseline::{self, SegmentBaseline};
use crate::csv_snapshot::{SnapshotReader, SnapshotRows};
use crate::destination::{self, DataMatching, Destination};
use crate::email;
use crate::field_mapping::RowMapper;
use crate::jobs::{Deps, JobError};
use std::collections::{HashMap, HashSet};

/// What one segment's scan found, beyond its counts.
pub(super) struct SegmentScan {
    pub(super) plan: SegmentPlan,
    /// Every lower-cased email the snapshot names, on valid rows or not: people still in it.
    pub(super) present: HashSet<String>,
    /// Lower-cased email → fingerprint of every valid distinct contact.
    pub(super) fingerprints: HashMap<String, u64>,
    pub(super) samples: Vec<serde_json::Value>,
    /// Rows refused before sending.
    pub(super) invalid: Vec<InvalidRow>,
}

pub(super) struct Scan {
    pub(super) segments: Vec<SegmentScan>,
    pub(super) invalid: Vec<InvalidRow>,
    pub(super) distinct: u64,
}

/// What a scan counts across its segments, checked as it grows.
#[derive(Default)]
pub(super) struct Tally {
    /// The lower-cased email of every valid distinct contact so far, all segments together.
    pub(super) everyone: HashSet<String>,
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

/// Scans the given segments, storing their chunks.
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
    let mut invalid = Vec::new();
    for (index, mode) in modes {
        let segment = scan_segment(
            deps,
            destination,
            matching,
            *index,
            *mode,
            chunk_size,
            writer,
            &mut invalid,
            tally,
        )
        .await?;
        segments.push(segment);
    }
    Ok(Scan {
        segments,
        invalid,
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

/// What the parsing thread hands back for each contact worth sending.
struct Parsed {
    chunk: Option<ChunkFile>,
    done: Option<Box<(SegmentScan, Tally)>>,
}

/// Parses one snapshot on a blocking thread; full chunks are stored as they fill.
#[allow(clippy::too_many_arguments)]
async fn scan_segment(
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    index: usize,
    mode: Compare<'_>,
    chunk_size: usize,
    writer: &mut ChunkWriter<'_>,
    invalid: &mut Vec<InvalidRow>,
    tally: &mut Tally,
) -> Result<SegmentScan, JobError> {
    let segment = destination.segments[index].clone();
    let matching = matching.clone();
    let snapshots = deps.snapshots.clone();
    let base = mode.base.map(|b| b.contacts.clone());
    let (full, only_unchanged) = (mode.full, mode.only_unchanged);
    let limit = destination.profile_limit;
    let counted = std::mem::take(tally);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Parsed>(4);
    let parser = tokio::task::spawn_blocking(move || {
        parse_segment(
            &segment,
            &matching,
            snapshots.as_ref(),
            index,
            base.as_ref(),
            full,
            only_unchanged,
            chunk_size,
            (counted, limit),
            &tx,
        )
    });
    let mut result = None;
    let mut store_error = None;
    while let Some(parsed) = rx.recv().await {
        if let Some(chunk) = parsed.chunk {
            if let Err(e) = writer.write(chunk).await {
                store_error = Some(e);
                break;
            }
        }
        if parsed.done.is_some() {
            result = parsed.done;
        }
    }
    drop(rx);
    let parsed = parser
        .await
        .map_err(|e| JobError::InvalidInput(format!("reading the snapshots stopped: {e}")))?;
    if let Some(e) = store_error {
        return Err(e);
    }
    parsed?;
    let (mut scan, counted) = *result
        .ok_or_else(|| JobError::InvalidInput("reading the snapshot stopped early".into()))?;
    *tally = counted;
    invalid.append(&mut scan.invalid);
    Ok(scan)
}

#[allow(clippy::too_many_arguments)]
fn parse_segment(
    segment: &destination::Segment,
    matching: &DataMatching,
    snapshots: &dyn SnapshotReader,
    index: usize,
    base: Option<&HashMap<String, u64>>,
    full: bool,
    only_unchanged: bool,
    chunk_size: usize,
    (mut tally, limit): (Tally, u64),
    tx: &tokio::sync::mpsc::Sender<Parsed>,
) -> Result<(), JobError> {
    let fail =
        |message: String| JobError::InvalidInput(format!("segment '{}': {message}", segment.name));
    let input = snapshots.open(&segment.source).map_err(fail)?;
    let mut rows = SnapshotRows::open(&segment.source, input).map_err(fail)?;
    let mapper = RowMapper::new(matching, rows.header()).map_err(fail)?;
    let mut plan = SegmentPlan {
        name: segment.name.clone(),
        full,
        ..SegmentPlan::default()
    };
    let mut present = HashSet::new();
    let mut fingerprints = HashMap::new();
    let mut invalid = Vec::new();
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
    let send = |chunk: ChunkFile| {
        tx.blocking_send(Parsed {
            chunk: Some(chunk),
            done: None,
        })
        .map_err(|_| JobError::InvalidInput("storing chunks failed".into()))
    };
    while let Some(row) = rows.next_row().map_err(fail)? {
        plan.rows_read += 1;
        let fields: Vec<&str> = row.fields.iter().map(String::as_str).collect();
        let email = mapper.email_of(&fields);
        if !email.is_empty() {
            present.insert(email::dedupe_key(email));
        }
        let mapped = mapper
            .map(&fields)
            .map_err(|problem| (problem, email.to_string()));
        let contact = match mapped {
            Ok(contact) => contact,
            Err((problem, email)) => {
                *plan.invalid.entry(problem.code.to_string()).or_default() += 1;
                invalid.push(InvalidRow {
                    segment: index,
                    row: row.number,
                    email,
                    reason: format!("{}: {}", problem.code, problem.message),
                });
                continue;
            }
        };
        let key = email::dedupe_key(contact.email());
        if fingerprints.contains_key(&key) {
            plan.duplicates += 1;
            continue;
        }
        // Past the limit the export is refused whatever follows: stop reading now.
        if !tally.everyone.contains(&key) {
            tally.everyone.insert(key.clone());
            let distinct = tally.everyone.len() as u64;
            if distinct > limit {
                return Err(JobError::LimitExceeded { distinct, limit });
            }
        }
        let fp = baseline::fingerprint(&contact);
        let before = base.and_then(|b| b.get(&key)).copied();
        fingerprints.insert(key, fp);
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
            send(std::mem::replace(target, new_chunk(kind)))?;
        }
    }
    for chunk in [adds, updates] {
        if !chunk.contacts.is_empty() {
            send(chunk)?;
        }
    }
    if !only_unchanged {
        plan.contacts = plan.adds + plan.updates;
    }
    let scan = SegmentScan {
        plan,
        present,
        fingerprints,
        samples,
        invalid,
    };
    tx.blocking_send(Parsed {
        chunk: None,
        done: Some(Box::new((scan, tally))),
    })
    .map_err(|_| JobError::InvalidInput("storing chunks failed".into()))
}
