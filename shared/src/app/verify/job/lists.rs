//! The work of a verification's step on its lists: reading them on within the budget and
//! storing what each read sorted against the baseline ([`Seen`]: ours by key hash, the others by
//! the record's keyed hash, no address of anyone who is not ours), comparing every list once all
//! are read, and putting missing members back.

use super::super::compare::Tally;
use super::super::reading::{self, Budget, ListReading};
use super::super::seen::{MemberHasher, Seen, Stored};
use super::super::{last_baseline, repair, rounded};
use super::Verification;
use crate::audience_api::paging::MemberLimits;
use crate::audience_api::AudienceApi;
use crate::baseline::{Baseline, SegmentBaseline};
use crate::destination::keys;
use crate::store::{get_json, put_json, StoreError};
use crate::{Deps, JobError};
use std::time::Instant;

/// The destination's baseline, which must still be the one the verification began with.
pub(super) async fn same_baseline(
    deps: &Deps,
    record: &Verification,
) -> Result<Baseline, JobError> {
    let dest = &record.destination_id;
    let base = last_baseline(deps, dest).await?;
    if base.export_id != record.export_id {
        return Err(JobError::Conflict(format!(
            "export {} of '{dest}' finished while the lists were read: verify again",
            base.export_id
        )));
    }
    Ok(base)
}

/// The baseline of `list`'s segment.
fn segment<'a>(base: &'a Baseline, list: &ListReading) -> Result<&'a SegmentBaseline, JobError> {
    (base.segments.get(&list.segment))
        .ok_or_else(|| JobError::internal("the baseline lost a segment while verifying"))
}

/// Reads the lists on, in order, while the budget lasts; what each read is stored at once, sorted
/// against the baseline ([`Seen`]: no address of a member who is not ours).
pub(super) async fn read_lists(
    deps: &Deps,
    api: &dyn AudienceApi,
    record: &mut Verification,
    base: &Baseline,
    budget: &mut Budget,
) -> Result<(), JobError> {
    let (dest, id) = (&record.destination_id, &record.verification_id);
    let hasher = MemberHasher::with_key(&record.member_key);
    for (i, list) in record.lists.iter_mut().enumerate() {
        if list.read.done {
            continue;
        }
        if !budget.left() {
            break;
        }
        let segment = segment(base, list)?;
        let members = reading::read_pages(api, list, budget, MemberLimits::default()).await?;
        if !members.is_empty() {
            let seen = Seen::of(segment, &members, &hasher);
            let key = keys::verification_members(dest, id, i, list.read.pages as u32);
            put_json(deps.store.as_ref(), &key, &seen).await?;
        }
    }
    Ok(())
}

/// A part of what the steps read, in either form [`Stored`] reads. One in neither (damaged)
/// fails the verification, which then deletes what it read, so the next one starts afresh.
async fn read_part(deps: &Deps, key: &str) -> Result<Option<Stored>, JobError> {
    let bytes = match deps.store.get(key).await {
        Ok(bytes) => bytes,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|_| {
        JobError::internal(
            "what this verification read could not be read back: start a verification again",
        )
    })
}

/// Every list compared with the baseline; the missing members of each kept for a repair, the
/// members read deleted.
pub(super) async fn compare_lists(
    deps: &Deps,
    record: &mut Verification,
    base: &Baseline,
) -> Result<(), JobError> {
    let dest = record.destination_id.clone();
    let hasher = MemberHasher::with_key(&record.member_key);
    let store = deps.store.as_ref();
    let parts = keys::verification_parts(&dest, &record.verification_id);
    let mut found = store.list(&parts).await?;
    found.sort();
    for (i, list) in record.lists.iter().enumerate() {
        let segment = segment(base, list)?;
        let prefix = keys::verification_list_members(&dest, &record.verification_id, i);
        let mut tally = Tally::default();
        for key in found.iter().filter(|k| k.starts_with(&prefix)) {
            if let Some(stored) = read_part(deps, key).await? {
                tally.add(stored.seen(segment, &hasher));
            }
        }
        let compared = (!list.read.gone).then(|| tally.compare(segment));
        let (mut check, missing) = repair::checked(list, segment, compared);
        (check.requests, check.seconds) = (list.requests, rounded(list.seconds));
        if record.repair && !missing.is_empty() {
            let key = keys::verification_missing(&dest, &record.verification_id, i);
            put_json(store, &key, &missing).await?;
        }
        record.checks.push(check);
    }
    record.repaired_through = vec![0; record.checks.len()];
    for key in found {
        store.delete(&key).await?;
    }
    Ok(())
}

/// Puts missing members back, list by list, from where the last step stopped.
pub(super) async fn repair_lists(
    deps: &Deps,
    api: &dyn AudienceApi,
    record: &mut Verification,
    budget: &mut Budget,
) -> Result<(), JobError> {
    let (dest, id) = (&record.destination_id, &record.verification_id);
    for (i, check) in record.checks.iter_mut().enumerate() {
        let through = record.repaired_through[i];
        if check.list_gone || through >= check.missing || !budget.left() {
            continue;
        }
        let key = keys::verification_missing(dest, id, i);
        let missing: Vec<String> = get_json(deps.store.as_ref(), &key)
            .await?
            .unwrap_or_default();
        let rest = missing.get(through as usize..).unwrap_or_default();
        let (started, before) = (Instant::now(), api.stats().requests);
        let (done, failed) = repair::put_back(api, &check.list_id, rest, budget).await?;
        record.repaired_through[i] = through + done as u64;
        check.not_repaired += failed;
        check.repaired += done as u64 - failed;
        check.requests += api.stats().requests - before;
        check.seconds = rounded(check.seconds + started.elapsed().as_secs_f64());
    }
    Ok(())
}
