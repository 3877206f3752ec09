//! The demo's read-back: the sandbox must hold exactly the valid profiles of each sample segment,
//! nothing more. Each list's members are visited in place in the sandbox and matched against the
//! rule the samples were written by, one flag per profile of the segment, so the check keeps no
//! copy of either side: a million-profile demo checks 1.2 million members in about a megabyte.

use super::{email, SampleSegment};
use std::collections::HashSet;

/// One list's members against what its segment should put in it.
#[derive(Debug, PartialEq, Eq)]
struct Tally {
    /// Valid profiles of the segment.
    wanted: u64,
    /// Of those, the ones in the list.
    found: u64,
    /// Members that are not a valid profile of the segment, or one already counted.
    unexpected: u64,
}

/// Counts a list's members, one at a time, against a segment.
struct ListCheck<'a> {
    segment: &'a SampleSegment,
    refused: &'a HashSet<u64>,
    /// Whether each profile of the segment (from `segment.from`) was found.
    seen: Vec<bool>,
    found: u64,
    unexpected: u64,
}

impl<'a> ListCheck<'a> {
    fn new(segment: &'a SampleSegment, refused: &'a HashSet<u64>) -> Self {
        let len = usize::try_from(segment.to - segment.from).unwrap_or(0);
        Self {
            segment,
            refused,
            seen: vec![false; len],
            found: 0,
            unexpected: 0,
        }
    }

    /// One member's address, as the sandbox holds it.
    fn member(&mut self, address: &str) {
        let slot = self
            .profile_of(address)
            .and_then(|i| usize::try_from(i - self.segment.from).ok())
            .and_then(|at| self.seen.get_mut(at));
        match slot {
            Some(seen) if !*seen => {
                *seen = true;
                self.found += 1;
            }
            _ => self.unexpected += 1,
        }
    }

    /// The valid profile of the segment with this address (in any case), if it is one.
    fn profile_of(&self, address: &str) -> Option<u64> {
        let lower = address.to_lowercase();
        let number = lower.strip_prefix("person")?.strip_suffix("@example.com")?;
        let i: u64 = number.parse().ok()?;
        let valid = (self.segment.from..self.segment.to).contains(&i)
            && !self.refused.contains(&i)
            && email(i, self.refused).to_lowercase() == lower;
        valid.then_some(i)
    }

    fn tally(self) -> Tally {
        let range = self.segment.from..self.segment.to;
        let refused = self.refused.iter().filter(|i| range.contains(i)).count() as u64;
        Tally {
            wanted: range.end - range.start - refused,
            found: self.found,
            unexpected: self.unexpected,
        }
    }
}

/// Says for each list (by name) whether the sandbox holds exactly its valid profiles; true when
/// all do. A missing list holds nothing.
pub(super) fn check_lists(
    sandbox: &sandbox::Sandbox,
    segments: &[SampleSegment],
    refused: &HashSet<u64>,
    words: &shared::audience_api::Vocabulary,
    say: &dyn Fn(String),
) -> bool {
    let mut by_name: Vec<&SampleSegment> = segments.iter().collect();
    by_name.sort_by_key(|s| s.name);
    let mut all_there = true;
    for segment in by_name {
        let mut check = ListCheck::new(segment, refused);
        sandbox.for_each_member(segment.name, |address| check.member(address));
        let tally = check.tally();
        let missing = tally.wanted.saturating_sub(tally.found);
        let exact = missing == 0 && tally.unexpected == 0;
        all_there &= exact;
        say(format!(
            "   {} {}: {} of {} valid profiles in the {}, {missing} missing, {} unexpected",
            if exact { "✓" } else { "✗" },
            segment.name,
            tally.found,
            tally.wanted,
            words.audience,
            tally.unexpected
        ));
    }
    all_there
}

#[cfg(test)]
mod tests {
    use super::super::{refused_profiles, sample_segments};

    use super::*;
    use std::cell::RefCell;

    /// The demo's default API's words.
    fn words() -> &'static shared::audience_api::Vocabulary {
        shared::audience_api::ApiKind::Autopilot.vocabulary()
    }

    /// The addresses the segment should put in its list, as the samples write them.
    fn wanted(segment: &SampleSegment, refused: &HashSet<u64>) -> Vec<String> {
        (segment.from..segment.to)
            .filter(|i| !refused.contains(i))
            .map(|i| email(i, refused))
            .collect()
    }

    fn tally(segment: &SampleSegment, refused: &HashSet<u64>, members: &[String]) -> Tally {
        let mut check = ListCheck::new(segment, refused);
        members.iter().for_each(|m| check.member(m));
        check.tally()
    }

    #[test]
    fn exactly_the_valid_profiles_in_any_case_and_nothing_else() {
        let refused = refused_profiles(1000);
        let [vip, _] = sample_segments(1000);
        let members = wanted(&vip, &refused);
        assert!(members.contains(&"Person7@Example.com".to_string()));
        let exact = tally(&vip, &refused, &members);
        assert_eq!((exact.wanted, exact.found, exact.unexpected), (598, 598, 0));
        let upper: Vec<String> = members.iter().map(|m| m.to_uppercase()).collect();
        assert_eq!(tally(&vip, &refused, &upper), exact);

        let mut missing_one = members.clone();
        missing_one.remove(10);
        assert_eq!(tally(&vip, &refused, &missing_one).found, 597);

        for extra in [
            "person600@example.com",     // of the other segment only
            "person257@example.invalid", // refused by Autopilot
            "person257@example.com",     // a refused profile under a valid address
            "person0010@example.com",    // not how the samples write person 10
            "person+10@example.com",
            "person10@example.com.au",
            "PERSON10@EXAMPLE.COM", // person 10 again, in another case
            "ann@example.com",
        ] {
            let mut more = members.clone();
            more.push(extra.to_string());
            let t = tally(&vip, &refused, &more);
            assert_eq!((t.found, t.unexpected), (598, 1), "{extra}");
        }
    }

    #[tokio::test]
    async fn the_lists_are_read_in_the_sandbox_and_any_difference_fails() {
        let sandbox = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key("k"), 0)
            .await
            .unwrap();
        let profiles = 100;
        let refused = refused_profiles(profiles);
        let segments = sample_segments(profiles);
        let said = RefCell::new(Vec::new());
        let say = |line: String| said.borrow_mut().push(line);
        assert!(
            !check_lists(&sandbox, &segments, &refused, words(), &say),
            "no lists yet"
        );
        assert!(said.borrow()[0]
            .contains("Lapsed Buyers: 0 of 58 valid profiles in the list, 58 missing"));

        for segment in &segments {
            let list = sandbox.create_list(segment.name);
            for address in wanted(segment, &refused) {
                sandbox.add_member_by_hand(&list, &address).unwrap();
            }
        }
        said.borrow_mut().clear();
        assert!(check_lists(&sandbox, &segments, &refused, words(), &say));
        assert_eq!(
            *said.borrow(),
            [
                "   ✓ Lapsed Buyers: 58 of 58 valid profiles in the list, 0 missing, 0 unexpected",
                "   ✓ VIP Customers: 58 of 58 valid profiles in the list, 0 missing, 0 unexpected",
            ]
        );

        let vip = sandbox.create_list("VIP Customers");
        sandbox
            .add_member_by_hand(&vip, "person80@example.com")
            .unwrap();
        assert!(!check_lists(&sandbox, &segments, &refused, words(), &say));
        sandbox.remove_member_by_hand(&vip, "person80@example.com");
        assert!(check_lists(&sandbox, &segments, &refused, words(), &say));
        sandbox.remove_member_by_hand(&vip, "person3@example.com");
        assert!(!check_lists(&sandbox, &segments, &refused, words(), &say));
    }
}
