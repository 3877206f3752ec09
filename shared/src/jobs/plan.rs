//! `plan` (the export function): reads every segment snapshot as a stream, maps and checks each
//! row, drops duplicates, compares each contact with the baseline of the last export, writes chunk
//! objects (adds, updates, removals) and the plan, and makes sure every segment's list exists.
//!
//! Anything that makes the export unusable (unknown destination, missing snapshot or column, more
//! distinct profiles than the limit) fails before the first request to Autopilot; a run that would
//! remove or shrink too much fails before anything is sent (the guardrails). A dry run stops
//! after counting and writes nothing anywhere.

use super::{Deps, JobError};
use crate::autopilot::{AutopilotClient, Contact};
use crate::baseline::{self, Baseline, SegmentBaseline};
use crate::csv_snapshot::{SnapshotReader, SnapshotRows};
use crate::destination::{self, keys, DataMatching, Destination};
use crate::email;
use crate::field_mapping::RowMapper;
use crate::store::put_json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Contacts per chunk object when nothing else is asked for.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;
/// Removals per chunk: each costs a request of its own.
const REMOVALS_PER_CHUNK: usize = 200;
/// The most chunks one export is cut into. On AWS each chunk costs about a dozen events of the
/// Step Functions execution's history, which holds 25,000; chunks grow to stay within this.
pub const MAX_CHUNKS: usize = 1_500;
/// The share of [`MAX_CHUNKS`] kept for contacts; the rest is for removals.
const CONTACT_CHUNKS: usize = MAX_CHUNKS * 3 / 4;

/// Contacts per chunk: as asked, or larger when the destination could hold more contacts than
/// [`CONTACT_CHUNKS`] chunks of that size. At most `profile_limit` profiles per segment can be
/// sent (a larger export is refused), and each segment may end in three part-filled chunks (adds,
/// updates, and the resend of a list that was recreated).
fn contact_chunk_size(asked: usize, profile_limit: u64, segments: usize) -> usize {
    let most_contacts = profile_limit.saturating_mul(segments as u64);
    let chunks = CONTACT_CHUNKS.saturating_sub(3 * segments).max(100) as u64;
    let needed = most_contacts.div_ceil(chunks);
    asked.max(usize::try_from(needed).unwrap_or(usize::MAX))
}

/// Removals per chunk, so that `removals` fit in the chunks left after `contact_chunks`.
fn removal_chunk_size(removals: usize, contact_chunks: usize) -> usize {
    let left = MAX_CHUNKS.saturating_sub(contact_chunks).max(1);
    REMOVALS_PER_CHUNK.max(removals.div_ceil(left))
}

/// Sample payloads shown per segment by a dry run.
const SAMPLES: usize = 3;

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
    /// Send every contact, whatever the baseline says.
    #[serde(default)]
    pub full: bool,
    /// Count and show, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Let a run through that trips a guardrail.
    #[serde(default)]
    pub override_guardrails: bool,
}

/// Small by design: it travels through the state machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub export_id: String,
    /// Chunk numbers to upload, 0..chunk_count (none for a dry run).
    pub chunks: Vec<u32>,
    /// Contacts to send.
    pub contacts: u64,
    pub removals: u64,
    pub distinct_profiles: u64,
    /// The destination's requests/second for this export, shared by all its uploads.
    #[serde(default)]
    pub requests_per_second: f64,
    /// What a dry run found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Vec<SegmentPreview>>,
}

/// A dry run's view of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPreview {
    pub name: String,
    pub list_exists: bool,
    pub full: bool,
    pub adds: u64,
    pub updates: u64,
    pub unchanged: u64,
    pub removals: u64,
    /// Rows refused before sending.
    pub rejects: u64,
    pub duplicates: u64,
    /// A few payloads as they would be sent, emails masked.
    pub samples: Vec<serde_json::Value>,
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
    /// Every contact was sent, not only the changed ones.
    pub full: bool,
    /// Data rows read (the header and blank lines not counted).
    pub rows_read: u64,
    /// Contacts to send: `adds + updates`.
    pub contacts: u64,
    pub adds: u64,
    pub updates: u64,
    /// Contacts whose fields are as the last export left them: not sent.
    pub unchanged: u64,
    /// Members this connector added who left the segment: taken off the list.
    pub removals: u64,
    /// Rows whose email (ignoring case) came earlier in the same snapshot.
    pub duplicates: u64,
    /// Rows refused before sending, by reason code.
    pub invalid: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkKind {
    Add,
    Update,
    Remove,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkInfo {
    pub segment: usize,
    pub kind: ChunkKind,
    /// Contacts (or removals) in the chunk.
    pub contacts: u32,
}

/// A chunk object: contacts of one segment and the rows they came from, or emails to take off
/// the segment's list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkFile {
    pub segment: usize,
    pub kind: ChunkKind,
    #[serde(default)]
    pub rows: Vec<u64>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub removals: Vec<String>,
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

/// What one segment's scan found, beyond its counts.
struct SegmentScan {
    plan: SegmentPlan,
    /// Every lower-cased email the snapshot names, on valid rows or not: people still in it.
    present: HashSet<String>,
    /// Lower-cased email → fingerprint of every valid distinct contact.
    fingerprints: HashMap<String, u64>,
    samples: Vec<serde_json::Value>,
    /// Rows refused before sending.
    invalid: Vec<InvalidRow>,
}

struct Scan {
    segments: Vec<SegmentScan>,
    invalid: Vec<InvalidRow>,
    distinct: u64,
}

/// How a segment is compared with its baseline during a scan.
#[derive(Clone, Copy)]
struct Compare<'a> {
    base: Option<&'a SegmentBaseline>,
    /// Send everything, changed or not.
    full: bool,
    /// Send only what is unchanged against the baseline (its list was recreated).
    only_unchanged: bool,
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    let matching = destination.data_matching.clone().filter(|_| !destination.segments.is_empty()).ok_or_else(|| {
        JobError::InvalidInput(format!(
            "the destination '{}' has no data matching or segments yet: run `autopilot-export configure {} --email-field COLUMN --segment 'NAME=PATH'`",
            destination.id, destination.id
        ))
    })?;
    let asked = input.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE);
    if asked == 0 {
        return Err(JobError::InvalidInput(
            "the chunk size must be at least 1".into(),
        ));
    }
    let chunk_size =
        contact_chunk_size(asked, destination.profile_limit, destination.segments.len());
    if chunk_size > asked {
        tracing::info!(
            asked,
            chunk_size,
            "chunks enlarged so that the export stays within {MAX_CHUNKS} chunks"
        );
    }
    let export_id = input.export_id.clone().unwrap_or_else(new_export_id);
    let mut writer = ChunkWriter::new(deps, &destination.id, &export_id, input.dry_run);
    // Whatever fails from here on, the chunks written so far are taken back.
    match plan_export(
        &input,
        deps,
        &destination,
        &matching,
        chunk_size,
        &export_id,
        &mut writer,
    )
    .await
    {
        Ok(output) => Ok(output),
        Err(e) => Err(writer.discard(e).await),
    }
}

/// The body of [`run`]: scan, check, resolve lists, store the plan.
async fn plan_export(
    input: &Input,
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    chunk_size: usize,
    export_id: &str,
    writer: &mut ChunkWriter<'_>,
) -> Result<Output, JobError> {
    let started_at = Utc::now();
    let rate = input
        .requests_per_second
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(destination.requests_per_second);
    let matching_fp = baseline::matching_fingerprint(matching, &destination.segments);
    let old = baseline::load(deps.store.as_ref(), &destination.id).await?;
    let full_all = input.full
        || old
            .as_ref()
            .is_none_or(|b| b.matching_fingerprint != matching_fp);
    let old_segment = |name: &str| old.as_ref().and_then(|b| b.segments.get(name));

    let modes: Vec<(usize, Compare)> = destination
        .segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let base = old_segment(&s.name);
            (
                i,
                Compare {
                    base,
                    full: full_all || base.is_none(),
                    only_unchanged: false,
                },
            )
        })
        .collect();
    let mut scan = scan(deps, destination, matching, &modes, chunk_size, writer).await?;
    if scan.distinct > destination.profile_limit {
        return Err(JobError::LimitExceeded {
            distinct: scan.distinct,
            limit: destination.profile_limit,
        });
    }

    if !input.dry_run {
        let problem = scan
            .segments
            .iter()
            .enumerate()
            .find_map(|(index, segment)| {
                let rows = scan.invalid.iter().filter(|r| r.segment == index);
                nothing_valid(&segment.plan, rows)
            });
        if let Some(problem) = problem {
            return Err(JobError::InvalidInput(format!(
                "{problem}: nothing was sent. Check the data matching and the snapshot (`autopilot-export export {} --dry-run` counts the rows without sending)",
                destination.id
            )));
        }
    }

    // From here on Autopilot is asked, read-only until every check has passed; at this export's
    // rate, like every other request.
    let client = deps
        .clients
        .for_destination(destination, &deps.secrets, rate)
        .await?;
    let lists = client.lists().await?;
    let existing: HashMap<&str, &str> = lists
        .iter()
        .map(|l| (l.title.as_str(), l.list_id.as_str()))
        .collect();

    // A segment whose list is gone (or was recreated) gets everything sent again, and nothing
    // removed: its members left with the old list.
    let recreated: HashSet<usize> = destination
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            old_segment(&s.name)
                .is_some_and(|b| existing.get(s.name.as_str()) != Some(&b.list_id.as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    let rescans: Vec<(usize, Compare)> = modes
        .iter()
        .filter(|(i, mode)| recreated.contains(i) && !mode.full)
        .map(|(i, mode)| {
            (
                *i,
                Compare {
                    only_unchanged: true,
                    ..*mode
                },
            )
        })
        .collect();
    if !rescans.is_empty() {
        let again = scan_only(deps, destination, matching, &rescans, chunk_size, writer).await?;
        for ((index, _), resent) in rescans.iter().zip(again) {
            let plan = &mut scan.segments[*index].plan;
            plan.updates += resent;
            plan.unchanged -= resent;
            plan.contacts += resent;
            plan.full = true;
        }
    }

    // Removals and guardrails.
    let mut removals: Vec<Vec<String>> = Vec::new();
    let mut tripped = Vec::new();
    let guardrails = destination.guardrails;
    for (index, segment) in scan.segments.iter_mut().enumerate() {
        let mut gone = Vec::new();
        if let Some(base) = old_segment(&segment.plan.name).filter(|_| !recreated.contains(&index))
        {
            gone = base
                .contacts
                .keys()
                .filter(|email| !segment.present.contains(*email) && base.added_by_us(email))
                .cloned()
                .collect();
            gone.sort();
            let ours = base.contacts.keys().filter(|e| base.added_by_us(e)).count();
            let percent = 100.0 * gone.len() as f64 / ours.max(1) as f64;
            if percent > guardrails.max_removal_percent {
                tripped.push(format!(
                    "segment '{}' would take {} of the {ours} members this connector added off its list ({percent:.0}%, more than {}%)",
                    segment.plan.name, gone.len(), guardrails.max_removal_percent
                ));
            }
            let before = base.contacts.len();
            let now = segment.fingerprints.len();
            let shrink = 100.0 * before.saturating_sub(now) as f64 / before.max(1) as f64;
            if shrink > guardrails.max_shrink_percent {
                tripped.push(format!(
                    "segment '{}' shrank from {before} to {now} profiles since the last export (more than {}%)",
                    segment.plan.name, guardrails.max_shrink_percent
                ));
            }
        }
        segment.plan.removals = gone.len() as u64;
        removals.push(gone);
    }
    if !tripped.is_empty() && !input.override_guardrails && !input.dry_run {
        let message = format!(
            "stopped before sending anything: {}. If the snapshot is right, run the export again with --override-guardrails (API: override_guardrails: true), or change the thresholds with `autopilot-export configure {} --max-removal-percent P --max-shrink-percent P`",
            tripped.join("; "),
            destination.id
        );
        return Err(JobError::GuardrailTripped(message));
    }

    if input.dry_run {
        let preview = scan
            .segments
            .iter()
            .map(|s| SegmentPreview {
                name: s.plan.name.clone(),
                list_exists: existing.contains_key(s.plan.name.as_str()),
                full: s.plan.full,
                adds: s.plan.adds,
                updates: s.plan.updates,
                unchanged: s.plan.unchanged,
                removals: s.plan.removals,
                rejects: s.plan.invalid.values().sum(),
                duplicates: s.plan.duplicates,
                samples: s.samples.clone(),
            })
            .collect();
        return Ok(Output {
            destination_id: destination.id.clone(),
            export_id: export_id.to_string(),
            chunks: Vec::new(),
            contacts: scan.segments.iter().map(|s| s.plan.contacts).sum(),
            removals: scan.segments.iter().map(|s| s.plan.removals).sum(),
            distinct_profiles: scan.distinct,
            requests_per_second: rate,
            preview: Some(preview),
        });
    }

    let per_chunk = removal_chunk_size(removals.iter().map(Vec::len).sum(), writer.chunks.len());
    for (index, gone) in removals.into_iter().enumerate() {
        for part in gone.chunks(per_chunk) {
            let chunk = ChunkFile {
                segment: index,
                kind: ChunkKind::Remove,
                rows: Vec::new(),
                contacts: Vec::new(),
                removals: part.to_vec(),
            };
            writer.write(chunk).await?;
        }
    }

    // Lists: create the missing ones; note who was on an existing list before we first wrote to it.
    let mut next = Baseline {
        export_id: export_id.to_string(),
        matching_fingerprint: matching_fp,
        segments: BTreeMap::new(),
    };
    for (index, segment) in scan.segments.iter_mut().enumerate() {
        let name = segment.plan.name.clone();
        let base = old_segment(&name).filter(|_| !recreated.contains(&index));
        let (list_id, foreign) = match existing.get(name.as_str()) {
            Some(id) => {
                let foreign = match base {
                    Some(base) => base.foreign.clone(),
                    None => members_before(&client, id).await?,
                };
                (id.to_string(), foreign)
            }
            None => {
                segment.plan.list_created = true;
                (client.create_list(&name).await?, BTreeSet::new())
            }
        };
        segment.plan.list_id = list_id.clone();
        let mut contacts = std::mem::take(&mut segment.fingerprints);
        if let Some(base) = base {
            // People still in the segment on rows that are now refused stay on the list as they were.
            for (email, fp) in &base.contacts {
                if segment.present.contains(email) && !contacts.contains_key(email) {
                    contacts.insert(email.clone(), *fp);
                }
            }
        }
        next.segments.insert(
            name,
            SegmentBaseline {
                list_id,
                contacts,
                foreign,
            },
        );
    }

    let plan = Plan {
        destination_id: destination.id.clone(),
        export_id: export_id.to_string(),
        started_at,
        requests_per_second: rate,
        distinct_profiles: scan.distinct,
        segments: scan.segments.into_iter().map(|s| s.plan).collect(),
        chunks: writer.chunks.clone(),
    };
    let store = deps.store.as_ref();
    put_json(
        store,
        &baseline::candidate_key(&destination.id, export_id),
        &next,
    )
    .await?;
    put_json(
        store,
        &keys::invalid(&destination.id, export_id),
        &scan.invalid,
    )
    .await?;
    put_json(store, &keys::plan(&destination.id, export_id), &plan).await?;
    let contacts = plan.segments.iter().map(|s| s.contacts).sum();
    let removals = plan.segments.iter().map(|s| s.removals).sum();
    tracing::info!(destination = %destination.id, export = %export_id, chunks = plan.chunks.len(), contacts, removals, distinct = scan.distinct, "export planned");
    Ok(Output {
        destination_id: destination.id.clone(),
        export_id: export_id.to_string(),
        chunks: (0..plan.chunks.len() as u32).collect(),
        contacts,
        removals,
        distinct_profiles: scan.distinct,
        requests_per_second: plan.requests_per_second,
        preview: None,
    })
}

/// Says so when a segment has rows and every one of them was refused: a data matching that cannot
/// work (a text column mapped to a number field, say) is a failure, not an export of nothing.
fn nothing_valid<'a>(
    plan: &SegmentPlan,
    mut invalid: impl Iterator<Item = &'a InvalidRow>,
) -> Option<String> {
    let refused: u64 = plan.invalid.values().sum();
    if plan.rows_read == 0 || refused < plan.rows_read {
        return None;
    }
    let mut reasons: Vec<(&String, &u64)> = plan.invalid.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = reasons
        .iter()
        .take(3)
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    // The mapping's own words (they name columns and fields, never values).
    let example = invalid
        .find(|r| {
            r.reason.starts_with("invalid_value") || r.reason.starts_with("wrong_column_count")
        })
        .map(|r| format!("; row {}: {}", r.row, r.reason))
        .unwrap_or_default();
    Some(format!(
        "segment '{}': every one of its {} rows was refused ({}){example}",
        plan.name,
        plan.rows_read,
        top.join(", ")
    ))
}

/// Lower-cased emails on a list before this connector first wrote to it.
async fn members_before(
    client: &AutopilotClient,
    list_id: &str,
) -> Result<BTreeSet<String>, crate::autopilot::AutopilotError> {
    let members = client.list_members(list_id).await?;
    Ok(members
        .iter()
        .filter_map(|m| m.get("Email").and_then(|e| e.as_str()))
        .map(email::dedupe_key)
        .collect())
}

/// Stores chunk objects as they come, numbering them; forgets them all when the plan fails.
struct ChunkWriter<'a> {
    deps: &'a Deps,
    destination: &'a str,
    export: &'a str,
    dry_run: bool,
    chunks: Vec<ChunkInfo>,
}

impl<'a> ChunkWriter<'a> {
    fn new(deps: &'a Deps, destination: &'a str, export: &'a str, dry_run: bool) -> Self {
        Self {
            deps,
            destination,
            export,
            dry_run,
            chunks: Vec::new(),
        }
    }

    async fn write(&mut self, chunk: ChunkFile) -> Result<(), JobError> {
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

    async fn discard(&mut self, error: JobError) -> JobError {
        if !self.dry_run {
            for number in 0..self.chunks.len() as u32 {
                let _ = self
                    .deps
                    .store
                    .delete(&keys::chunk(self.destination, self.export, number))
                    .await;
            }
        }
        self.chunks.clear();
        error
    }
}

/// Scans the given segments, storing their chunks.
async fn scan(
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    modes: &[(usize, Compare<'_>)],
    chunk_size: usize,
    writer: &mut ChunkWriter<'_>,
) -> Result<Scan, JobError> {
    let mut everyone: HashSet<String> = HashSet::new();
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
            &mut everyone,
        )
        .await?;
        segments.push(segment);
    }
    Ok(Scan {
        segments,
        invalid,
        distinct: everyone.len() as u64,
    })
}

/// Scans segments again for their previously unchanged contacts; returns how many each resent.
async fn scan_only(
    deps: &Deps,
    destination: &Destination,
    matching: &DataMatching,
    modes: &[(usize, Compare<'_>)],
    chunk_size: usize,
    writer: &mut ChunkWriter<'_>,
) -> Result<Vec<u64>, JobError> {
    let again = scan(deps, destination, matching, modes, chunk_size, writer).await?;
    Ok(again.segments.iter().map(|s| s.plan.contacts).collect())
}

/// What the parsing thread hands back for each contact worth sending.
struct Parsed {
    chunk: Option<ChunkFile>,
    done: Option<Box<SegmentScan>>,
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
    everyone: &mut HashSet<String>,
) -> Result<SegmentScan, JobError> {
    let segment = destination.segments[index].clone();
    let matching = matching.clone();
    let snapshots = deps.snapshots.clone();
    let base = mode.base.map(|b| b.contacts.clone());
    let (full, only_unchanged) = (mode.full, mode.only_unchanged);
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
    let mut scan = *result
        .ok_or_else(|| JobError::InvalidInput("reading the snapshot stopped early".into()))?;
    invalid.append(&mut scan.invalid);
    everyone.extend(scan.fingerprints.keys().cloned());
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
        done: Some(Box::new(scan)),
    })
    .map_err(|_| JobError::InvalidInput("storing chunks failed".into()))
}

/// A contact's payload with its email masked, for previews.
fn masked(contact: &Contact) -> serde_json::Value {
    let mut value = contact.to_autopilot_json();
    let email = contact.email();
    let shown = match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    };
    value["Email"] = serde_json::Value::String(shown);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_profile_plan_fits_a_state_many_times_over() {
        // 1,000,000 profiles in chunks of 1,000: the Plan output is the largest state payload.
        let output = Output {
            destination_id: "d".repeat(48),
            export_id: format!("{}-{}", "d".repeat(48), new_export_id()),
            chunks: (0..MAX_CHUNKS as u32).collect(),
            contacts: 1_000_000,
            removals: 0,
            distinct_profiles: 1_000_000,
            requests_per_second: 10.0,
            preview: None,
        };
        let size = serde_json::to_vec(&output).unwrap().len();
        assert!(
            size < 16 * 1024,
            "{size} bytes, against Step Functions' 256 KB"
        );
    }

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
        assert_eq!(removal_chunk_size(1_000, 10), 200);
        let size = removal_chunk_size(1_000_000, CONTACT_CHUNKS);
        assert!(1_000_000usize.div_ceil(size) + CONTACT_CHUNKS <= MAX_CHUNKS);
    }

    #[test]
    fn masked_samples_hide_the_address() {
        let contact = Contact::new("jane.doe@example.com").unwrap();
        assert_eq!(masked(&contact)["Email"], "j***@example.com");
    }
}
