//! `plan` (the export function): reads every segment snapshot as a stream, maps and checks each
//! row, drops duplicates, compares each contact with the baseline of the last export, writes chunk
//! objects (adds, updates, removals) and the plan, and makes sure every segment's audience exists
//! (through the audience port: the destination's API is never named here).
//!
//! Anything that makes the export unusable (unknown destination, missing snapshot or column, more
//! distinct profiles than the limit — the reading stops at the first profile over it) fails
//! before the first request to the API; a run that would remove or shrink too much fails before
//! anything is sent (the guardrails), and only then does the API prepare for the export
//! ([`crate::audience_api::AudienceApi::prepare`]). A dry run stops after counting and writes
//! nothing anywhere. The plan records the API's limits, which cut its chunks into requests.

mod lists;
mod preview;
pub mod refused;
mod removals;
mod scan;
mod segment;
mod types;
mod writer;

#[cfg(test)]
mod tests;

pub use types::*;
pub use writer::{DEFAULT_CHUNK_SIZE, MAX_CHUNKS};

use super::{Deps, JobError};
use crate::baseline::{self, Baseline};
use crate::destination::{self, keys, DataMatching, Destination};
use crate::store::put_json;
use chrono::Utc;
use scan::{scan, scan_only, Compare, Tally};
use std::collections::{BTreeMap, HashMap, HashSet};
use writer::{contact_chunk_size, removal_chunk_size, ChunkWriter};

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
    // The scan stops with `LimitExceeded` as soon as it finds one profile over the limit.
    let mut tally = Tally::new();
    let mut scan = scan(
        deps,
        destination,
        matching,
        &modes,
        chunk_size,
        writer,
        &mut tally,
    )
    .await?;

    if !input.dry_run {
        let problem = scan
            .segments
            .iter()
            .find_map(|segment| nothing_valid(&segment.plan, &segment.examples));
        if let Some(problem) = problem {
            return Err(JobError::InvalidInput(format!(
                "{problem}: nothing was sent. Check the data matching and the snapshot (`autopilot-export export {} --dry-run` counts the rows without sending)",
                destination.id
            )));
        }
    }

    // From here on the API is asked, read-only until every check has passed; at this export's
    // rate, like every other request.
    let api = deps
        .apis
        .for_destination(destination, &deps.secrets, rate)
        .await?;
    let audiences = api.audiences().await?;
    let existing: HashMap<&str, &str> = audiences
        .iter()
        .map(|a| (a.name.as_str(), a.id.as_str()))
        .collect();

    // A segment whose audience is gone (or was recreated) gets everything sent again, and
    // nothing removed: its members left with the old audience.
    let recreated: HashSet<usize> = destination
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            old_segment(&s.name)
                .is_some_and(|b| existing.get(s.name.as_str()) != Some(&b.audience_id.as_str()))
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
        let again = scan_only(
            deps,
            destination,
            matching,
            &rescans,
            chunk_size,
            writer,
            &mut tally,
        )
        .await?;
        for ((index, _), resent) in rescans.iter().zip(again) {
            let plan = &mut scan.segments[*index].plan;
            plan.updates += resent;
            plan.unchanged -= resent;
            plan.contacts += resent;
            plan.full = true;
        }
    }
    // The set of every profile seen (a 1,000,000-profile refresh's largest structure after the
    // baseline) is not needed past the scans.
    drop(tally);

    let (removals, tripped) = removals::find(
        &mut scan.segments,
        |index, name| old_segment(name).filter(|_| !recreated.contains(&index)),
        destination.guardrails,
    );
    if !tripped.is_empty() && !input.override_guardrails && !input.dry_run {
        let message = format!(
            "stopped before sending anything: {}. If the snapshot is right, run the export again with --override-guardrails (API: override_guardrails: true), or change the thresholds with `autopilot-export configure {} --max-removal-percent P --max-shrink-percent P`",
            tripped.join("; "),
            destination.id
        );
        return Err(JobError::GuardrailTripped(message));
    }

    if input.dry_run {
        return Ok(preview::output(
            destination,
            export_id,
            &scan,
            api.as_ref(),
            |name| existing.contains_key(name),
            rate,
        ));
    }

    let limits = api.limits();
    let per_chunk = removal_chunk_size(
        removals.iter().map(Vec::len).sum(),
        writer.chunks.len(),
        &limits,
    );
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

    api.prepare(matching).await?;
    let next = lists::resolve(
        api.as_ref(),
        &mut scan.segments,
        |index, name| old_segment(name).filter(|_| !recreated.contains(&index)),
        &existing,
        Baseline {
            export_id: export_id.to_string(),
            matching_fingerprint: matching_fp,
            segments: BTreeMap::new(),
        },
    )
    .await?;
    // An export that changes nothing leaves the baseline as it is: no candidate is written (for
    // a large destination, tens of megabytes encoded, stored, read back and stored again).
    let baseline_unchanged = old.as_ref().is_some_and(|old| same_baseline(old, &next));
    // What is left of the old baseline is what `next` shares of it: the rest goes before the
    // candidate is written, its largest moment.
    drop(old);

    let plan = Plan {
        destination_id: destination.id.clone(),
        export_id: export_id.to_string(),
        started_at,
        requests_per_second: rate,
        distinct_profiles: scan.distinct,
        segments: scan.segments.into_iter().map(|s| s.plan).collect(),
        chunks: writer.chunks.clone(),
        refused_parts: writer.refused_parts,
        trigger: input.trigger,
        baseline_unchanged,
        limits,
        api: destination.api,
    };
    let store = deps.store.as_ref();
    if !baseline_unchanged {
        put_json(
            store,
            &baseline::candidate_key(&destination.id, export_id),
            &next,
        )
        .await?;
    }
    drop(next);
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

/// Whether `next` says what `old` says (its export aside): the same data matching and, segment by
/// segment, the same list, contacts and members from before.
fn same_baseline(old: &Baseline, next: &Baseline) -> bool {
    old.matching_fingerprint == next.matching_fingerprint && old.segments == next.segments
}

/// Says so when a segment has rows and every one of them was refused: a data matching that cannot
/// work (a text column mapped to a number field, say) is a failure, not an export of nothing.
fn nothing_valid(plan: &SegmentPlan, examples: &[InvalidRow]) -> Option<String> {
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
    let example = examples
        .iter()
        .find(|r| {
            r.reason.starts_with("invalid_value") || r.reason.starts_with("wrong_column_count")
        })
        .map(|r| match plan.place(r.row) {
            (Some(file), row) if plan.files.len() > 1 => {
                format!("; row {row} of {file}: {}", r.reason)
            }
            (_, row) => format!("; row {row}: {}", r.reason),
        })
        .unwrap_or_default();
    Some(format!(
        "segment '{}': every one of its {} rows was refused ({}){example}",
        plan.name,
        plan.rows_read,
        top.join(", ")
    ))
}
