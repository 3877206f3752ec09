//! A list as read back compared with its baseline, member by member (addresses compared by
//! their dedupe key, so a case change is the same person), and the masked samples of each finding.

use crate::autopilot::api::MemberStatus;
use crate::baseline::SegmentBaseline;
use crate::email;
use std::collections::HashSet;

/// Masked addresses shown per kind of finding and list.
pub const SAMPLES: usize = 3;

/// A list compared with its baseline: our members on it, and the addresses (dedupe keys) of
/// each finding, sorted.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Comparison {
    pub present: u64,
    pub missing: Vec<String>,
    pub unsubscribed: Vec<String>,
    pub foreign: Vec<String>,
}

/// Compares the members read from a list with the baseline of its segment.
pub(super) fn compare(base: &SegmentBaseline, members: &[MemberStatus]) -> Comparison {
    let mut found = Comparison::default();
    let mut on_list = HashSet::with_capacity(members.len());
    for member in members {
        let key = email::dedupe_key(&member.email);
        if !on_list.insert(key.clone()) {
            continue;
        }
        if base.contacts.contains(&key) {
            found.present += 1;
            if member.unsubscribed {
                found.unsubscribed.push(key);
            }
        } else {
            found.foreign.push(key);
        }
    }
    found.missing = base
        .contacts
        .keys()
        .filter(|key| !on_list.contains(*key))
        .map(str::to_string)
        .collect();
    for list in [
        &mut found.missing,
        &mut found.unsubscribed,
        &mut found.foreign,
    ] {
        list.sort();
    }
    found
}

pub(super) fn samples(sorted: &[String]) -> Vec<String> {
    sorted
        .iter()
        .take(SAMPLES)
        .map(|e| email::masked(e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::ForeignMembers;

    fn member(email: &str, unsubscribed: bool) -> MemberStatus {
        MemberStatus {
            email: email.into(),
            unsubscribed,
        }
    }

    fn base(ours: &[&str], before: &[&str]) -> SegmentBaseline {
        SegmentBaseline {
            list_id: "contactlist_1".into(),
            contacts: ours.iter().map(|e| (e.to_string(), 1)).collect(),
            foreign: ForeignMembers::from_emails(before.iter().copied()),
        }
    }

    /// A name, our members, the list as read, and what should be found: present, missing,
    /// unsubscribed, foreign.
    type Case<'a> = (
        &'a str,
        &'a [&'a str],
        &'a [MemberStatus],
        (u64, &'a [&'a str], &'a [&'a str], &'a [&'a str]),
    );

    #[test]
    fn a_list_is_compared_member_by_member() {
        let cases: [Case; 5] = [
            (
                "all in place",
                &["a@x.io", "b@x.io"],
                &[member("a@x.io", false), member("b@x.io", false)],
                (2, &[], &[], &[]),
            ),
            (
                "one removed, one unsubscribed, one added by hand",
                &["a@x.io", "b@x.io", "c@x.io"],
                &[
                    member("b@x.io", true),
                    member("c@x.io", false),
                    member("z@x.io", false),
                ],
                (2, &["a@x.io"], &["b@x.io"], &["z@x.io"]),
            ),
            (
                "addresses compared as one person whatever their case",
                &["ann@example.com"],
                &[member("Ann@EXAMPLE.com", false)],
                (1, &[], &[], &[]),
            ),
            (
                "an unsubscribed member who is not ours is foreign only",
                &["a@x.io"],
                &[member("a@x.io", false), member("z@x.io", true)],
                (1, &[], &[], &["z@x.io"]),
            ),
            (
                "an empty list misses everyone",
                &["b@x.io", "a@x.io"],
                &[],
                (0, &["a@x.io", "b@x.io"], &[], &[]),
            ),
        ];
        for (name, ours, members, (present, missing, unsubscribed, foreign)) in cases {
            let found = compare(&base(ours, &[]), members);
            let expected = Comparison {
                present,
                missing: missing.iter().map(|e| e.to_string()).collect(),
                unsubscribed: unsubscribed.iter().map(|e| e.to_string()).collect(),
                foreign: foreign.iter().map(|e| e.to_string()).collect(),
            };
            assert_eq!(found, expected, "{name}");
            assert_eq!(
                found.present + found.missing.len() as u64,
                ours.len() as u64,
                "{name}: expected = present + missing"
            );
        }
    }

    #[test]
    fn a_segment_member_who_was_on_the_list_before_is_expected_there() {
        let found = compare(&base(&["old@x.io"], &["old@x.io", "boss@x.io"]), &[]);
        assert_eq!(found.missing, ["old@x.io"]);
        let found = compare(
            &base(&["old@x.io"], &["old@x.io", "boss@x.io"]),
            &[member("old@x.io", false), member("boss@x.io", false)],
        );
        assert_eq!((found.present, found.foreign.len()), (1, 1));
    }

    #[test]
    fn samples_are_few_and_masked() {
        let sorted: Vec<String> = (0..10).map(|i| format!("person{i}@example.com")).collect();
        let shown = samples(&sorted);
        assert_eq!(shown.len(), SAMPLES);
        assert!(shown.iter().all(|s| s == "p***@example.com"), "{shown:?}");
    }
}
