//! Each segment's audience (its list): created when missing; for an existing one this connector
//! has not written to yet, who was on it before (those members are never removed). The candidate
//! baseline is built from what the scan found.

use super::scan::SegmentScan;
use super::segment::VALID;
use crate::audience_api::paging::{member_emails, MemberLimits};
use crate::audience_api::AudienceApi;
use crate::baseline::{Baseline, ForeignMembers, Members, SegmentBaseline};
use crate::email;
use crate::jobs::JobError;
use rustc_hash::FxHashMap;
use std::collections::{BTreeSet, HashMap};

/// Resolves every segment's audience and fills `next` with what this export leaves on it.
/// `base` gives a segment's baseline (none when its audience was recreated); `existing` is
/// audience name → id.
pub(super) async fn resolve<'a>(
    api: &dyn AudienceApi,
    segments: &mut [SegmentScan],
    base: impl Fn(usize, &str) -> Option<&'a SegmentBaseline>,
    existing: &HashMap<&str, &str>,
    mut next: Baseline,
) -> Result<Baseline, JobError> {
    for (index, segment) in segments.iter_mut().enumerate() {
        let name = segment.plan.name.clone();
        let base = base(index, &name);
        let (audience_id, foreign) = match existing.get(name.as_str()) {
            Some(id) => {
                let foreign = match base {
                    Some(base) => base.foreign.clone(),
                    None => members_before(api, id).await?,
                };
                (id.to_string(), foreign)
            }
            None => {
                segment.plan.audience_created = true;
                (api.create_audience(&name).await?, ForeignMembers::default())
            }
        };
        segment.plan.audience_id = audience_id.clone();
        let contacts = candidate(segment, base.map(|b| &b.contacts));
        next.segments.insert(
            name,
            SegmentBaseline {
                audience_id,
                contacts,
                foreign,
            },
        );
    }
    Ok(next)
}

/// What the segment's list holds from us after this export: every valid contact found, with the
/// fingerprint sent (or kept, when unchanged); and with `base` (its list still the same), the
/// people still in the segment on rows that are now refused, as they were.
fn candidate(segment: &mut SegmentScan, base: Option<&Members>) -> Members {
    let changed = std::mem::take(&mut segment.changed);
    let added = std::mem::take(&mut segment.added);
    let Some(scanned) = segment.base.as_ref() else {
        return Members::default().rebuilt(|_| None, added);
    };
    let floor = if base.is_some() {
        super::segment::NAMED
    } else {
        VALID
    };
    let state = &segment.state;
    if changed.is_empty() && added.is_empty() && state.iter().all(|s| *s >= floor) {
        // An unchanged refresh: the baseline as it was, shared.
        return scanned.clone();
    }
    let mut new_fp: FxHashMap<u32, u64> = changed.into_iter().collect();
    scanned.rebuilt(
        |i| {
            (state[i] >= floor).then(|| {
                new_fp
                    .remove(&(i as u32))
                    .unwrap_or_else(|| scanned.fingerprint_at(i))
            })
        },
        added,
    )
}

/// Who was on an audience before this connector first wrote to it (lower-cased, hashed).
async fn members_before(api: &dyn AudienceApi, id: &str) -> Result<ForeignMembers, JobError> {
    let members = member_emails(api, id, MemberLimits::default()).await?;
    let keys: BTreeSet<String> = members.iter().map(|e| email::dedupe_key(e)).collect();
    Ok(ForeignMembers::from_emails(keys.iter().map(String::as_str)))
}
