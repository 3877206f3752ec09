//! Each segment's list: created when missing; for an existing list this connector has not written
//! to yet, who was on it before (those members are never removed). The candidate baseline is built
//! from what the scan found.

use super::scan::SegmentScan;
use crate::autopilot::AutopilotClient;
use crate::baseline::{key_hash, Baseline, ForeignMembers, SegmentBaseline};
use crate::email;
use crate::jobs::JobError;
use std::collections::{BTreeSet, HashMap};

/// Resolves every segment's list and fills `next` with what this export leaves on it. `base`
/// gives a segment's baseline (none when its list was recreated); `existing` is list title → id.
pub(super) async fn resolve<'a>(
    client: &AutopilotClient,
    segments: &mut [SegmentScan],
    base: impl Fn(usize, &str) -> Option<&'a SegmentBaseline>,
    existing: &HashMap<&str, &str>,
    mut next: Baseline,
) -> Result<Baseline, JobError> {
    for (index, segment) in segments.iter_mut().enumerate() {
        let name = segment.plan.name.clone();
        let base = base(index, &name);
        let (list_id, foreign) = match existing.get(name.as_str()) {
            Some(id) => {
                let foreign = match base {
                    Some(base) => base.foreign.clone(),
                    None => members_before(client, id).await?,
                };
                (id.to_string(), foreign)
            }
            None => {
                segment.plan.list_created = true;
                (client.create_list(&name).await?, ForeignMembers::default())
            }
        };
        segment.plan.list_id = list_id.clone();
        let mut contacts: HashMap<String, u64> = std::mem::take(&mut segment.fingerprints)
            .into_iter()
            .collect();
        if let Some(base) = base {
            // People still in the segment on rows that are now refused stay on the list as they were.
            for (email, fp) in &base.contacts {
                if !contacts.contains_key(email) && segment.present.contains(&key_hash(email)) {
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
    Ok(next)
}

/// Who was on a list before this connector first wrote to it (lower-cased, hashed).
async fn members_before(
    client: &AutopilotClient,
    list_id: &str,
) -> Result<ForeignMembers, crate::autopilot::AutopilotError> {
    let members = client.list_member_emails(list_id).await?;
    let keys: BTreeSet<String> = members.iter().map(|e| email::dedupe_key(e)).collect();
    Ok(ForeignMembers::from_emails(keys.iter().map(String::as_str)))
}
