//! Property: whatever contacts of a batch Autopilot refuses, exactly those come back rejected
//! with a message, every other contact is written exactly once, and the requests stay within the
//! bound the isolation guarantees (see `shared/src/autopilot/bulk/mod.rs`). With n contacts,
//! d = ⌈log2 n⌉ and k refused, requests beyond the batch's own one are at most:
//! - when the answer names nobody: k·(d + 1) for k ≤ 4, else 4·(d + 1) + 2n;
//! - when it names the refused contact: 2k − 1 (one per refused contact for the rest; a named
//!   contact the rest being taken did not prove refused is sent alone once);
//! - when it names the wrong contact (counting from 1): no good contact is lost.

use integration_tests::{client, contacts, sandbox};
use proptest::prelude::*;
use sandbox::RefusalNaming;
use shared::contact::Contact;
use std::collections::BTreeSet;

/// The most requests the isolation of `refused` contacts among `n` may take, the batch's own
/// request included.
fn bound(n: usize, refused: usize, naming: RefusalNaming) -> u64 {
    let depth = n.next_power_of_two().trailing_zeros() as usize;
    let extra = match naming {
        RefusalNaming::None if refused <= 4 => refused * (depth + 1),
        RefusalNaming::None => 4 * (depth + 1) + 2 * n,
        // The last named of a batch is proved refused by the rest being taken; any other named
        // is sent alone once to prove it.
        RefusalNaming::Position | RefusalNaming::Email => (2 * refused).saturating_sub(1),
        // Names that point at the wrong contact are not believed: the suspects are sent alone
        // and the rest isolated as if nobody were named.
        RefusalNaming::PositionFromOne => 4 * (depth + 1) + 3 * n,
    };
    1 + extra as u64
}

fn check(size: usize, bad: BTreeSet<usize>, naming: RefusalNaming) -> Result<(), TestCaseError> {
    let bad: BTreeSet<usize> = bad.into_iter().filter(|i| *i < size).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = sandbox(|c| c).await;
        sandbox.set_refusal_naming(naming);
        let client = client(&sandbox, 10_000.0);
        let mut all = contacts("prop", size);
        for &i in &bad {
            // Alternate between a syntax error and an address Autopilot refuses.
            let email = if i % 2 == 0 {
                format!("bad {i}@example.com")
            } else {
                format!("p{i}@host.invalid")
            };
            all[i] = Contact::new(&email).unwrap();
        }
        let outcome = client.upsert_contacts(None, &all).await.unwrap();
        let rejected: BTreeSet<usize> = outcome.rejected.iter().map(|r| r.index).collect();
        prop_assert_eq!(&rejected, &bad);
        prop_assert_eq!(outcome.rejected.len(), bad.len(), "each rejected once");
        prop_assert!(outcome.rejected.iter().all(|r| !r.message.is_empty()));
        prop_assert_eq!(outcome.written, size - bad.len());
        let counters = sandbox.counters();
        prop_assert_eq!(counters.contacts_written as usize, size - bad.len());
        prop_assert_eq!(sandbox.state().contacts.len(), size - bad.len());
        let most = bound(size, bad.len(), naming);
        prop_assert!(
            counters.requests <= most,
            "{} requests for {} refused among {size} ({naming:?}), at most {most}",
            counters.requests,
            bad.len()
        );
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn bisection_rejects_exactly_the_bad_contacts(
        size in 1usize..=100,
        bad in proptest::collection::btree_set(0usize..100, 0..8),
    ) {
        check(size, bad, RefusalNaming::None)?;
    }

    #[test]
    fn any_number_refused_even_all(
        size in 1usize..=100,
        bad in proptest::collection::btree_set(0usize..100, 0..=100),
    ) {
        check(size, bad, RefusalNaming::None)?;
    }

    #[test]
    fn a_refusal_naming_the_wrong_contact_costs_no_good_one(
        size in 1usize..=100,
        bad in proptest::collection::btree_set(0usize..100, 0..8),
    ) {
        check(size, bad, RefusalNaming::PositionFromOne)?;
    }

    #[test]
    fn a_refusal_naming_the_contact_costs_one_request_per_refused(
        size in 1usize..=100,
        bad in proptest::collection::btree_set(0usize..100, 0..8),
    ) {
        check(size, bad, RefusalNaming::Position)?;
    }
}

#[test]
fn the_bound_is_the_documented_one() {
    // One refused among 100: ⌈log2 100⌉ + 1 = 8 extra, within the benchmark's target of log2(100) + 2 ≈ 8.6.
    assert_eq!(bound(100, 1, RefusalNaming::None), 1 + 8);
    assert_eq!(bound(100, 4, RefusalNaming::None), 1 + 32);
    assert_eq!(bound(100, 100, RefusalNaming::None), 1 + 32 + 200);
    assert_eq!(bound(1, 1, RefusalNaming::None), 1 + 1);
    assert_eq!(bound(100, 3, RefusalNaming::Position), 1 + 5);
    assert_eq!(bound(100, 1, RefusalNaming::Position), 1 + 1);
}
