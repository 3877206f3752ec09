//! Concurrent senders sharing one client against a rate-limited sandbox: every contact is written
//! exactly once and the sandbox's limit holds.

use integration_tests::{batches, client, contacts, sandbox};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_write_every_contact_once() {
    let sandbox = sandbox(|c| c.rate(40.0)).await;
    // Configured 50% too fast: the shared pacer must find the limit.
    let client = client(&sandbox, 60.0);
    let senders: Vec<_> = (0..8)
        .map(|s| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut written = 0;
                for batch in batches(contacts(&format!("sender{s}"), 1000)) {
                    let outcome = client.upsert_contacts(None, &batch).await.expect("written");
                    written += outcome.written;
                }
                written
            })
        })
        .collect();
    let mut written = 0;
    for sender in senders {
        written += sender.await.unwrap();
    }
    assert_eq!(written, 8000);
    let counters = sandbox.counters();
    assert_eq!(counters.contacts_written, 8000, "{counters:?}");
    assert_eq!(sandbox.state().contacts.len(), 8000);
    // Burst (one second's worth) plus one second at the rate.
    assert!(counters.peak_accepted_per_second <= 80, "{counters:?}");
}
