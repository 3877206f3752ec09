//! Members to take off each list, and the guardrails that stop a run removing or shrinking too
//! much.

use super::scan::SegmentScan;
use crate::baseline::SegmentBaseline;
use crate::destination::Guardrails;

/// Per segment, the members this connector added who left it (sorted), and what tripped a
/// guardrail. `base` gives a segment's baseline (none when its list was recreated).
pub(super) fn find<'a>(
    segments: &mut [SegmentScan],
    base: impl Fn(usize, &str) -> Option<&'a SegmentBaseline>,
    guardrails: Guardrails,
) -> (Vec<Vec<String>>, Vec<String>) {
    let mut removals: Vec<Vec<String>> = Vec::new();
    let mut tripped = Vec::new();
    for (index, segment) in segments.iter_mut().enumerate() {
        let mut gone = Vec::new();
        if let Some(base) = base(index, &segment.plan.name) {
            // Members who were on the list before this connector are never ours to remove.
            let mut ours = 0usize;
            for (i, email) in base.contacts.keys().enumerate() {
                if base.foreign.contains(email) {
                    continue;
                }
                ours += 1;
                if !segment.still_named(i) {
                    gone.push(email.to_string());
                }
            }
            gone.sort();
            let percent = 100.0 * gone.len() as f64 / ours.max(1) as f64;
            if percent > guardrails.max_removal_percent {
                tripped.push(format!(
                    "segment '{}' would take {} of the {ours} members this connector added off its list ({percent:.0}%, more than {}%)",
                    segment.plan.name, gone.len(), guardrails.max_removal_percent
                ));
            }
            let before = base.contacts.len();
            let now = segment.distinct as usize;
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
    (removals, tripped)
}
