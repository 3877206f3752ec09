//! Property: whatever contacts of a batch Autopilot refuses, exactly those come back rejected and
//! every other contact is written exactly once.

use integration_tests::{client, contacts, sandbox};
use proptest::prelude::*;
use shared::autopilot::{Contact, ContactBatch};
use std::collections::BTreeSet;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn bisection_rejects_exactly_the_bad_contacts(
        size in 1usize..=100,
        bad in proptest::collection::btree_set(0usize..100, 0..8),
    ) {
        let bad: BTreeSet<usize> = bad.into_iter().filter(|i| *i < size).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let sandbox = sandbox(|c| c).await;
            let client = client(&sandbox, 10_000.0);
            let mut all = contacts("prop", size);
            for &i in &bad {
                // Alternate between a syntax error and an address Autopilot refuses.
                let email = if i % 2 == 0 { format!("bad {i}@example.com") } else { format!("p{i}@host.invalid") };
                all[i] = Contact::new(&email).unwrap();
            }
            let outcome = client.upsert_contacts(&ContactBatch::new(all).unwrap()).await.unwrap();
            let rejected: BTreeSet<usize> = outcome.rejected.iter().map(|r| r.index).collect();
            prop_assert_eq!(&rejected, &bad);
            prop_assert_eq!(outcome.written, size - bad.len());
            let counters = sandbox.counters();
            prop_assert_eq!(counters.contacts_written as usize, size - bad.len());
            prop_assert_eq!(sandbox.state().contacts.len(), size - bad.len());
            Ok(())
        })?;
    }
}
