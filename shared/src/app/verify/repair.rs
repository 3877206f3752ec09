//! What a list read back means ([`checked`]: the comparison's counts and masked samples), putting
//! missing members back within a budget ([`put_back`]: the port's add-members call alone, never
//! an upsert, a contact's field or a subscription), and lists recreated under another id.

use super::compare::{samples, Comparison};
use super::reading::{Budget, ListReading};
use super::{ListCheck, Samples};
use crate::audience_api::{Added, AudienceApi};
use crate::baseline::SegmentBaseline;
use crate::JobError;

/// Members put back between two looks at the budget.
const REPAIRS_PER_BATCH: usize = 32;

/// A list as read compared with its baseline (`found`, `None` when it is gone): its check, and
/// the addresses of its missing members (sorted) for a repair.
pub(super) fn checked(
    list: &ListReading,
    base: &SegmentBaseline,
    found: Option<Comparison>,
) -> (ListCheck, Vec<String>) {
    let mut check = ListCheck {
        segment: list.segment.clone(),
        list_id: list.audience_id.clone(),
        expected: base.contacts.len() as u64,
        ..ListCheck::default()
    };
    let Some(found) = found else {
        check.list_gone = true;
        check.missing = check.expected;
        return (check, Vec::new());
    };
    check.present = found.present;
    check.missing = found.missing.len() as u64;
    check.unsubscribed = found.unsubscribed.len() as u64;
    check.foreign = found.foreign;
    check.samples = Samples {
        missing: samples(&found.missing),
        unsubscribed: samples(&found.unsubscribed),
        foreign: found.foreign_samples,
    };
    (check, found.missing)
}

/// Puts `missing` back on the list, membership alone, batch by batch while `budget` lasts;
/// answers how many it went through and, of those, how many could not be put back (no such
/// contact of the account any more: that would take an upsert, which a repair never sends).
pub async fn put_back(
    api: &dyn AudienceApi,
    list_id: &str,
    missing: &[String],
    budget: &mut Budget,
) -> Result<(usize, u64), JobError> {
    let (mut through, mut failed) = (0, 0);
    while through < missing.len() && budget.left() {
        let batch = &missing[through..missing.len().min(through + REPAIRS_PER_BATCH)];
        let added = api.add_members(list_id, batch).await?;
        failed += added.iter().filter(|a| **a == Added::NoSuchContact).count() as u64;
        budget.spend(batch.len() as u64);
        through += batch.len();
    }
    Ok((through, failed))
}

/// For each list that is gone, a list of the segment's name under another id, if the account
/// has one (one request for all of them).
pub async fn find_recreated(
    api: &dyn AudienceApi,
    lists: &mut [ListCheck],
) -> Result<(), JobError> {
    if !lists.iter().any(|l| l.list_gone) {
        return Ok(());
    }
    let existing = api.audiences().await?;
    for check in lists.iter_mut().filter(|l| l.list_gone) {
        check.recreated_as = existing
            .iter()
            .find(|a| a.name == check.segment && a.id != check.list_id)
            .map(|a| a.id.clone());
    }
    Ok(())
}
