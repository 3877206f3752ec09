//! What an export that did not finish leaves in the baseline.
//!
//! A failed or incomplete export does not commit its candidate baseline (it describes contacts
//! that never landed), but what did land must be recorded all the same: otherwise the next run
//! sends it again, and — worse — finds the members this connector added on the list, takes them
//! for members someone else added, and never removes them. Each chunk's result (or, for a chunk
//! under way, its stored progress) says exactly which requests the API answered; with the chunk
//! file that names the contacts and removals of each request, the old baseline is brought up to
//! date with exactly those.

use super::plan::{ChunkFile, Plan};
use super::upload_chunk::{self, ChunkResult, Request};
use super::JobError;
use crate::audience_api::Limits;
use crate::baseline::{Baseline, SegmentBaseline};
use crate::destination::keys;
use crate::email;
use crate::store::{get_json, ObjectStore};
use std::collections::{BTreeSet, HashMap, HashSet};

/// A fingerprint no contact has: a contact recorded with it is sent again by the next export.
const RESEND: u64 = 0;

/// What one chunk did: its result, and which of its requests were answered (`None`: all).
#[derive(Debug, Clone)]
pub struct ChunkOutcome {
    pub result: ChunkResult,
    pub done: Option<BTreeSet<u32>>,
}

/// Contacts (lower-cased emails) that landed and members taken off, per segment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Landed {
    pub sent: Vec<String>,
    pub removed: Vec<String>,
}

/// Reads the chunk files of `outcomes` and says what landed, per segment of `plan`.
pub async fn landed(
    store: &dyn ObjectStore,
    plan: &Plan,
    outcomes: &[ChunkOutcome],
) -> Result<Vec<Landed>, JobError> {
    let (dest, export) = (&plan.destination_id, &plan.export_id);
    let mut landed = vec![Landed::default(); plan.segments.len()];
    for outcome in outcomes {
        let key = keys::chunk(dest, export, outcome.result.chunk);
        let Some(chunk) = get_json::<ChunkFile>(store, &key).await? else {
            continue;
        };
        if let Some(into) = landed.get_mut(chunk.segment) {
            landed_in_chunk(&chunk, &plan.limits, outcome, into);
        }
    }
    Ok(landed)
}

fn landed_in_chunk(chunk: &ChunkFile, limits: &Limits, outcome: &ChunkOutcome, into: &mut Landed) {
    let refused: HashSet<String> = outcome
        .result
        .rejected
        .iter()
        .map(|r| email::dedupe_key(&r.email))
        .collect();
    for (position, request) in upload_chunk::requests(chunk, limits)
        .into_iter()
        .enumerate()
    {
        if !outcome
            .done
            .as_ref()
            .is_none_or(|done| done.contains(&(position as u32)))
        {
            continue;
        }
        let Request { removals, contacts } = request;
        (into.removed).extend(
            chunk.removals[removals]
                .iter()
                .map(|e| email::dedupe_key(e)),
        );
        into.sent.extend(
            chunk.contacts[contacts]
                .iter()
                .map(|c| email::dedupe_key(c.email()))
                .filter(|k| !refused.contains(k)),
        );
    }
}

/// The old baseline with what landed recorded: landed contacts get the fingerprint they were sent
/// with, members taken off leave the ledger, segments met for the first time (or whose list was
/// recreated) start from the candidate's list and its members from before. Contacts the export
/// did not reach keep what they had; when the data matching changed they are marked to be sent
/// again, since the fingerprint they have was made with the old one.
pub fn record(
    old: Option<Baseline>,
    candidate: &Baseline,
    landed: &[(String, Landed)],
) -> Baseline {
    let mut baseline = old.unwrap_or_default();
    if baseline.matching_fingerprint != candidate.matching_fingerprint {
        for segment in baseline.segments.values_mut() {
            segment.contacts = segment
                .contacts
                .keys()
                .map(|e| (e.to_string(), RESEND))
                .collect();
        }
        baseline.matching_fingerprint = candidate.matching_fingerprint;
    }
    baseline.export_id = candidate.export_id.clone();
    for (name, landed) in landed {
        let Some(next) = candidate.segments.get(name) else {
            continue;
        };
        let segment = baseline
            .segments
            .entry(name.clone())
            .or_insert_with(|| SegmentBaseline {
                audience_id: next.audience_id.clone(),
                ..SegmentBaseline::default()
            });
        let mut contacts = if segment.audience_id != next.audience_id {
            // A new or recreated list: what the old one held left with it.
            segment.audience_id = next.audience_id.clone();
            HashMap::new()
        } else {
            segment.contacts.to_map()
        };
        segment.foreign = next.foreign.clone();
        for key in &landed.sent {
            if let Some(fp) = next.contacts.get(key) {
                contacts.insert(key.clone(), fp);
            }
        }
        for key in &landed.removed {
            contacts.remove(key);
        }
        segment.contacts = contacts.into();
    }
    baseline
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::Contact;
    use crate::jobs::plan::ChunkKind;
    use crate::jobs::upload_chunk::RejectedContact;
    use std::collections::{BTreeMap, HashMap};

    fn segment(list: &str, contacts: &[(&str, u64)], foreign: &[&str]) -> SegmentBaseline {
        SegmentBaseline {
            audience_id: list.into(),
            contacts: contacts.iter().map(|(e, f)| (e.to_string(), *f)).collect(),
            foreign: crate::baseline::ForeignMembers::from_emails(foreign.iter().copied()),
        }
    }

    fn baseline(matching: u64, segments: &[(&str, SegmentBaseline)]) -> Baseline {
        Baseline {
            export_id: "e".into(),
            matching_fingerprint: matching,
            segments: segments
                .iter()
                .map(|(n, s)| (n.to_string(), s.clone()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn only_answered_requests_and_accepted_contacts_landed() {
        let chunk = ChunkFile {
            segment: 0,
            kind: ChunkKind::Add,
            rows: (2..252).collect(),
            contacts: (0..250)
                .map(|i| Contact::new(&format!("P{i}@x.io")).unwrap())
                .collect(),
            removals: vec!["gone@x.io".into()],
        };
        let mut result = ChunkResult {
            chunk: 0,
            segment: 0,
            kind: ChunkKind::Add,
            sent: 99,
            rejected: vec![RejectedContact {
                row: 3,
                email: "P1@x.io".into(),
                message: "bad".into(),
            }],
            removed: 1,
        };
        // Requests: the removal (0), contacts 0..100 (1), 100..200 (2), 200..250 (3).
        let outcome = ChunkOutcome {
            result: result.clone(),
            done: Some(BTreeSet::from([0, 1])),
        };
        let limits = crate::audience_api::ApiKind::Autopilot.limits();
        let mut landed = Landed::default();
        landed_in_chunk(&chunk, &limits, &outcome, &mut landed);
        assert_eq!(landed.removed, ["gone@x.io"]);
        assert_eq!(landed.sent.len(), 99);
        assert!(!landed.sent.contains(&"p1@x.io".to_string()));
        assert!(landed.sent.contains(&"p0@x.io".to_string()));
        assert!(!landed.sent.contains(&"p100@x.io".to_string()));
        result.sent = 249;
        let mut all = Landed::default();
        let all_done = ChunkOutcome { result, done: None };
        landed_in_chunk(&chunk, &limits, &all_done, &mut all);
        assert_eq!(all.sent.len(), 249);
    }

    #[test]
    fn record_keeps_what_was_not_reached_and_adds_what_landed() {
        let old = baseline(
            7,
            &[(
                "VIP",
                segment(
                    "l1",
                    &[("a@x.io", 1), ("b@x.io", 2), ("c@x.io", 3)],
                    &["f@x.io"],
                ),
            )],
        );
        let candidate = baseline(
            7,
            &[
                (
                    "VIP",
                    segment(
                        "l1",
                        &[("a@x.io", 10), ("b@x.io", 20), ("d@x.io", 40)],
                        &["f@x.io"],
                    ),
                ),
                (
                    "New",
                    segment("l2", &[("n@x.io", 50), ("m@x.io", 60)], &["old@x.io"]),
                ),
            ],
        );
        let landed = [
            (
                "VIP".to_string(),
                Landed {
                    sent: vec!["a@x.io".into(), "d@x.io".into()],
                    removed: vec!["c@x.io".into()],
                },
            ),
            (
                "New".to_string(),
                Landed {
                    sent: vec!["n@x.io".into()],
                    removed: vec![],
                },
            ),
        ];
        let next = record(Some(old), &candidate, &landed);
        let vip = &next.segments["VIP"];
        assert_eq!(
            vip.contacts.to_map(),
            HashMap::from([
                ("a@x.io".into(), 10),
                ("b@x.io".into(), 2),
                ("d@x.io".into(), 40)
            ])
        );
        assert!(vip.added_by_us("d@x.io") && !vip.added_by_us("f@x.io"));
        let new = &next.segments["New"];
        assert_eq!(new.audience_id, "l2");
        assert_eq!(
            new.contacts.to_map(),
            HashMap::from([("n@x.io".into(), 50)])
        );
        assert!(
            new.foreign.contains("old@x.io"),
            "members from before stay foreign"
        );
        assert_eq!(next.export_id, "e");
    }

    #[test]
    fn record_after_a_matching_change_resends_what_was_not_reached() {
        let old = baseline(
            1,
            &[("VIP", segment("l1", &[("a@x.io", 1), ("b@x.io", 2)], &[]))],
        );
        let candidate = baseline(2, &[("VIP", segment("l9", &[("a@x.io", 10)], &[]))]);
        let landed = [(
            "VIP".to_string(),
            Landed {
                sent: vec!["a@x.io".into()],
                removed: vec![],
            },
        )];
        let next = record(Some(old.clone()), &candidate, &landed);
        assert_eq!(next.matching_fingerprint, 2);
        // The list was recreated (l1 → l9): only what landed on the new one is recorded.
        assert_eq!(
            next.segments["VIP"].contacts.to_map(),
            HashMap::from([("a@x.io".into(), 10)])
        );
        let same_list = baseline(2, &[("VIP", segment("l1", &[("a@x.io", 10)], &[]))]);
        let next = record(Some(old), &same_list, &landed);
        assert_eq!(
            next.segments["VIP"].contacts.to_map(),
            HashMap::from([("a@x.io".into(), 10), ("b@x.io".into(), RESEND)])
        );
    }
}
