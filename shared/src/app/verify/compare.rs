//! A list as read back compared with its baseline: [`Tally`] gathers what was read ([`Seen`], no
//! address of anyone who is not ours) and answers who is present, missing and unsubscribed (the
//! addresses of ours from the baseline itself, matched by its key hash of each address, so a case
//! change is the same person), how many members are foreign, and the masked samples of each
//! finding.

use super::seen::{first_samples, Seen, SAMPLES};
use crate::baseline::SegmentBaseline;
use crate::email;
use std::collections::{HashMap, HashSet};

/// A list compared with its baseline: our members on it, the addresses (dedupe keys) of ours
/// missing or unsubscribed, sorted, and the foreign members' count and masked samples.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Comparison {
    pub present: u64,
    pub missing: Vec<String>,
    pub unsubscribed: Vec<String>,
    pub foreign: u64,
    pub foreign_samples: Vec<String>,
}

/// The members read from one list so far, each once (the first read of a member counts).
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Ours by key hash: whether unsubscribed.
    ours: HashMap<u64, bool>,
    /// The others by keyed hash.
    foreign: HashSet<String>,
    samples: Vec<(String, String)>,
}

impl Tally {
    /// Adds members read (in the order they were read).
    pub fn add(&mut self, seen: Seen) {
        for (hash, unsubscribed) in seen.ours {
            self.ours.entry(hash).or_insert(unsubscribed);
        }
        self.foreign.extend(seen.foreign);
        let mut samples = std::mem::take(&mut self.samples);
        samples.extend(seen.samples);
        self.samples = first_samples(samples);
    }

    /// Compares the members read with the baseline of the list's segment.
    pub fn compare(&self, base: &SegmentBaseline) -> Comparison {
        let mut found = Comparison {
            foreign: self.foreign.len() as u64,
            foreign_samples: self.samples.iter().map(|(m, _)| m.clone()).collect(),
            ..Comparison::default()
        };
        for (i, (address, _)) in base.contacts.iter().enumerate() {
            match self.ours.get(&base.contacts.hash_at(i)) {
                None => found.missing.push(address.to_string()),
                Some(unsubscribed) => {
                    found.present += 1;
                    if *unsubscribed {
                        found.unsubscribed.push(address.to_string());
                    }
                }
            }
        }
        found.missing.sort_unstable();
        found.unsubscribed.sort_unstable();
        found
    }
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
    use super::super::seen::MemberHasher;
    use super::*;
    use crate::audience_api::MemberStatus;
    use crate::baseline::ForeignMembers;

    fn member(email: &str, unsubscribed: bool) -> MemberStatus {
        MemberStatus {
            email: email.into(),
            unsubscribed,
        }
    }

    fn base(ours: &[&str], before: &[&str]) -> SegmentBaseline {
        SegmentBaseline {
            audience_id: "contactlist_1".into(),
            contacts: ours.iter().map(|e| (e.to_string(), 1)).collect(),
            foreign: ForeignMembers::from_emails(before.iter().copied()),
        }
    }

    /// The list read in reads of `per_read` members, compared.
    fn compare(base: &SegmentBaseline, members: &[MemberStatus], per_read: usize) -> Comparison {
        let hasher = MemberHasher::random();
        let mut tally = Tally::default();
        for read in members.chunks(per_read.max(1)) {
            tally.add(Seen::of(base, read, &hasher));
        }
        tally.compare(base)
    }

    /// A name, our members, the list as read, and what should be found: present, missing,
    /// unsubscribed, foreign samples (one per foreign member).
    type Case<'a> = (
        &'a str,
        &'a [&'a str],
        &'a [MemberStatus],
        (u64, &'a [&'a str], &'a [&'a str], &'a [&'a str]),
    );

    #[test]
    fn a_list_is_compared_member_by_member() {
        let cases: [Case; 6] = [
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
                (2, &["a@x.io"], &["b@x.io"], &["z***@x.io"]),
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
                (1, &[], &[], &["z***@x.io"]),
            ),
            (
                "a member read twice counts once, as first read",
                &["a@x.io"],
                &[
                    member("a@x.io", true),
                    member("z@x.io", false),
                    member("A@x.io", false),
                    member("Z@x.io", false),
                ],
                (1, &[], &["a@x.io"], &["z***@x.io"]),
            ),
            (
                "an empty list misses everyone",
                &["b@x.io", "a@x.io"],
                &[],
                (0, &["a@x.io", "b@x.io"], &[], &[]),
            ),
        ];
        for (name, ours, members, (present, missing, unsubscribed, foreign)) in cases {
            for per_read in [1, 2, 100] {
                let found = compare(&base(ours, &[]), members, per_read);
                let expected = Comparison {
                    present,
                    missing: missing.iter().map(|e| e.to_string()).collect(),
                    unsubscribed: unsubscribed.iter().map(|e| e.to_string()).collect(),
                    foreign: foreign.len() as u64,
                    foreign_samples: foreign.iter().map(|e| e.to_string()).collect(),
                };
                assert_eq!(found, expected, "{name}, {per_read} a read");
                assert_eq!(
                    found.present + found.missing.len() as u64,
                    ours.len() as u64,
                    "{name}: expected = present + missing"
                );
            }
        }
    }

    #[test]
    fn a_segment_member_who_was_on_the_list_before_is_expected_there() {
        let before = ["old@x.io", "boss@x.io"];
        let found = compare(&base(&["old@x.io"], &before), &[], 10);
        assert_eq!(found.missing, ["old@x.io"]);
        let found = compare(
            &base(&["old@x.io"], &before),
            &[member("old@x.io", false), member("boss@x.io", false)],
            10,
        );
        assert_eq!((found.present, found.foreign), (1, 1));
    }

    #[test]
    fn foreign_samples_are_the_first_masked_addresses_across_reads() {
        let members: Vec<MemberStatus> = ["q@y.io", "zed@x.io", "bo@x.io", "al@x.io", "b@x.io"]
            .iter()
            .map(|e| member(e, false))
            .collect();
        for per_read in [1, 2, 5] {
            let found = compare(&base(&[], &[]), &members, per_read);
            assert_eq!(found.foreign, 5);
            assert_eq!(
                found.foreign_samples,
                ["a***@x.io", "b***@x.io", "b***@x.io"],
                "{per_read} a read"
            );
        }
    }

    #[test]
    fn samples_are_few_and_masked() {
        let sorted: Vec<String> = (0..10).map(|i| format!("person{i}@example.com")).collect();
        let shown = samples(&sorted);
        assert_eq!(shown.len(), SAMPLES);
        assert!(shown.iter().all(|s| s == "p***@example.com"), "{shown:?}");
    }
}
