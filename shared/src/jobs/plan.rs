//! `plan` (the export function): reads every segment snapshot as a stream, maps and checks each
//! row, drops duplicates, writes chunk objects and the plan, and makes sure every segment's list
//! exists. Anything that makes the export unusable (unknown destination, missing snapshot or
//! column, more distinct profiles than the limit) fails here, before the first request to Autopilot.

use super::{Deps, JobError};
use crate::autopilot::Contact;
use crate::csv_snapshot::SnapshotRows;
use crate::destination::{self, keys, Destination};
use crate::email;
use crate::field_mapping::RowMapper;
use crate::store::put_json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Contacts per chunk object when nothing else is asked for.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
    /// Reuse an id (to resume an interrupted plan); a new one is made otherwise.
    #[serde(default)]
    pub export_id: Option<String>,
    #[serde(default)]
    pub chunk_size: Option<usize>,
    /// Overrides the destination's requests/second for this export.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
}

/// Small by design: it travels through the state machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub export_id: String,
    /// Chunk numbers to upload, 0..chunk_count.
    pub chunks: Vec<u32>,
    pub contacts: u64,
    pub distinct_profiles: u64,
}

/// `plan.json`: what an export will send, and everything later steps need to report on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub destination_id: String,
    pub export_id: String,
    pub started_at: DateTime<Utc>,
    pub requests_per_second: f64,
    pub distinct_profiles: u64,
    pub segments: Vec<SegmentPlan>,
    pub chunks: Vec<ChunkInfo>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SegmentPlan {
    pub name: String,
    pub list_id: String,
    pub list_created: bool,
    /// Data rows read (the header and blank lines not counted).
    pub rows_read: u64,
    /// Contacts to send.
    pub contacts: u64,
    /// Rows whose email (ignoring case) came earlier in the same snapshot.
    pub duplicates: u64,
    /// Rows refused before sending, by reason code.
    pub invalid: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkInfo {
    pub segment: usize,
    pub contacts: u32,
}

/// A chunk object: contacts of one segment and the snapshot rows they came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkFile {
    pub segment: usize,
    pub rows: Vec<u64>,
    pub contacts: Vec<Contact>,
}

/// A row refused before sending, for `rejected.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvalidRow {
    pub segment: usize,
    pub row: u64,
    pub email: String,
    pub reason: String,
}

/// A new export id: sortable by time, unique enough for one destination.
pub fn new_export_id() -> String {
    format!(
        "{}-{:06x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        fastrand::u32(..0x0100_0000)
    )
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    let matching = destination.data_matching.clone().filter(|_| !destination.segments.is_empty()).ok_or_else(|| {
        JobError::InvalidInput(format!(
            "the destination '{}' has no data matching or segments yet: run `autopilot-export configure {} --email-field COLUMN --segment 'NAME=PATH'`",
            destination.id, destination.id
        ))
    })?;
    let chunk_size = input.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    if chunk_size == 0 {
        return Err(JobError::InvalidInput(
            "the chunk size must be at least 1".into(),
        ));
    }
    let export_id = input.export_id.unwrap_or_else(new_export_id);
    let started_at = Utc::now();

    // Parse on a blocking thread; chunks come back over a bounded channel and are stored here.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<ChunkFile>(4);
    let snapshots = deps.snapshots.clone();
    let segments = destination.segments.clone();
    let limit = destination.profile_limit;
    let parser = tokio::task::spawn_blocking(move || {
        scan_segments(
            &segments,
            &matching,
            snapshots.as_ref(),
            chunk_size,
            limit,
            tx,
        )
    });
    let mut chunks = Vec::new();
    let mut store_error = None;
    while let Some(chunk) = rx.recv().await {
        let number = chunks.len() as u32;
        let info = ChunkInfo {
            segment: chunk.segment,
            contacts: chunk.contacts.len() as u32,
        };
        if let Err(e) = put_json(
            deps.store.as_ref(),
            &keys::chunk(&destination.id, &export_id, number),
            &chunk,
        )
        .await
        {
            store_error = Some(e);
            break;
        }
        chunks.push(info);
    }
    drop(rx);
    let scanned = parser
        .await
        .map_err(|e| JobError::InvalidInput(format!("reading the snapshots stopped: {e}")));
    let outcome = match (store_error, scanned) {
        (Some(e), _) => Err(e.into()),
        (None, Err(e)) | (None, Ok(Err(e))) => Err(e),
        (None, Ok(Ok(scan))) if scan.distinct > limit => Err(JobError::LimitExceeded {
            distinct: scan.distinct,
            limit,
        }),
        (None, Ok(Ok(scan))) => Ok(scan),
    };
    let scan = match outcome {
        Ok(scan) => scan,
        Err(e) => {
            discard_chunks(deps, &destination.id, &export_id, chunks.len()).await;
            return Err(e);
        }
    };

    let segments = match resolve_lists(&destination, scan.segments, deps).await {
        Ok(segments) => segments,
        Err(e) => {
            discard_chunks(deps, &destination.id, &export_id, chunks.len()).await;
            return Err(e);
        }
    };
    let plan = Plan {
        destination_id: destination.id.clone(),
        export_id: export_id.clone(),
        started_at,
        requests_per_second: input
            .requests_per_second
            .filter(|r| r.is_finite() && *r > 0.0)
            .unwrap_or(destination.requests_per_second),
        distinct_profiles: scan.distinct,
        segments,
        chunks,
    };
    put_json(
        deps.store.as_ref(),
        &keys::invalid(&destination.id, &export_id),
        &scan.invalid,
    )
    .await?;
    put_json(
        deps.store.as_ref(),
        &keys::plan(&destination.id, &export_id),
        &plan,
    )
    .await?;
    let contacts = plan.segments.iter().map(|s| s.contacts).sum();
    tracing::info!(destination = %destination.id, export = %export_id, chunks = plan.chunks.len(), contacts, distinct = scan.distinct, "export planned");
    Ok(Output {
        destination_id: destination.id,
        export_id,
        chunks: (0..plan.chunks.len() as u32).collect(),
        contacts,
        distinct_profiles: scan.distinct,
    })
}

struct Scan {
    segments: Vec<SegmentPlan>,
    invalid: Vec<InvalidRow>,
    distinct: u64,
}

/// Reads every snapshot, sending full chunks as they fill. Once the limit is passed nothing more
/// is sent, but counting goes on so the error can say how many profiles there are.
fn scan_segments(
    segments: &[destination::Segment],
    matching: &destination::DataMatching,
    snapshots: &dyn crate::csv_snapshot::SnapshotReader,
    chunk_size: usize,
    limit: u64,
    tx: tokio::sync::mpsc::Sender<ChunkFile>,
) -> Result<Scan, JobError> {
    let mut everyone: HashSet<String> = HashSet::new();
    let mut plans = Vec::with_capacity(segments.len());
    let mut invalid = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let fail = |message: String| {
            JobError::InvalidInput(format!("segment '{}': {message}", segment.name))
        };
        let input = snapshots.open(&segment.source).map_err(fail)?;
        let mut rows = SnapshotRows::open(&segment.source, input).map_err(fail)?;
        let mapper = RowMapper::new(matching, rows.header()).map_err(fail)?;
        let mut plan = SegmentPlan {
            name: segment.name.clone(),
            ..SegmentPlan::default()
        };
        let mut seen: HashSet<String> = HashSet::new();
        let mut chunk = ChunkFile {
            segment: index,
            rows: Vec::new(),
            contacts: Vec::new(),
        };
        while let Some(row) = rows.next_row().map_err(fail)? {
            plan.rows_read += 1;
            let mapped = match row.fields {
                Err(problem) => Err((problem, String::new())),
                Ok(fields) => {
                    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                    mapper
                        .map(&fields)
                        .map_err(|problem| (problem, mapper.email_of(&fields).to_string()))
                }
            };
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
            if !seen.insert(key.clone()) {
                plan.duplicates += 1;
                continue;
            }
            everyone.insert(key);
            plan.contacts += 1;
            if everyone.len() as u64 > limit {
                continue;
            }
            chunk.rows.push(row.number);
            chunk.contacts.push(contact);
            if chunk.contacts.len() == chunk_size {
                let full = std::mem::replace(
                    &mut chunk,
                    ChunkFile {
                        segment: index,
                        rows: Vec::new(),
                        contacts: Vec::new(),
                    },
                );
                if tx.blocking_send(full).is_err() {
                    return Err(JobError::InvalidInput("storing chunks failed".into()));
                }
            }
        }
        if !chunk.contacts.is_empty() && tx.blocking_send(chunk).is_err() {
            return Err(JobError::InvalidInput("storing chunks failed".into()));
        }
        plans.push(plan);
    }
    Ok(Scan {
        segments: plans,
        invalid,
        distinct: everyone.len() as u64,
    })
}

/// Finds each segment's list by name, creating the missing ones.
async fn resolve_lists(
    destination: &Destination,
    mut segments: Vec<SegmentPlan>,
    deps: &Deps,
) -> Result<Vec<SegmentPlan>, JobError> {
    let client = deps
        .clients
        .for_destination(
            destination,
            deps.secrets.as_ref(),
            destination.requests_per_second,
        )
        .await?;
    let existing = client.lists().await?;
    for segment in &mut segments {
        match existing.iter().find(|l| l.title == segment.name) {
            Some(list) => segment.list_id = list.list_id.clone(),
            None => {
                segment.list_id = client.create_list(&segment.name).await?;
                segment.list_created = true;
            }
        }
    }
    Ok(segments)
}

async fn discard_chunks(deps: &Deps, destination: &str, export: &str, count: usize) {
    for number in 0..count as u32 {
        let _ = deps
            .store
            .delete(&keys::chunk(destination, export, number))
            .await;
    }
}
