//! Benchmark (not a test): concurrent senders push contacts through one client into a
//! rate-limited sandbox. Prints, per scenario, accepted requests/second as a fraction of the
//! sandbox's rate R, the share of 429s, and the wall time against the floor ⌈N/100⌉/R.
//!
//! cargo bench -p integration-tests --bench client_throughput -- [CONTACTS] [SENDERS] [R:FACTOR]...
//! Defaults: 100000 contacts, 4 senders, scenarios 10:1 10:2 50:1 50:2 (FACTOR = client rate / R).

use integration_tests::{batches, client, contacts, sandbox};
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let total: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let senders: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(4);
    let mut scenarios: Vec<(f64, f64)> = args
        .iter()
        .skip(2)
        .filter_map(|a| {
            let (r, f) = a.split_once(':')?;
            Some((r.parse().ok()?, f.parse().ok()?))
        })
        .collect();
    if scenarios.is_empty() {
        scenarios = vec![(10.0, 1.0), (10.0, 2.0), (50.0, 1.0), (50.0, 2.0)];
    }
    println!("contacts={total} senders={senders}");
    println!(
        "{:>6} {:>8} {:>9} {:>10} {:>8} {:>9} {:>9} {:>7}",
        "R", "client", "accepted", "of R", "429s", "wall s", "floor s", "wall/floor"
    );
    for (rate, factor) in scenarios {
        let sandbox = sandbox(|c| c.rate(rate)).await;
        let client = client(&sandbox, rate * factor);
        let queue = Arc::new(Mutex::new(batches(contacts("bench", total))));
        let started = Instant::now();
        let tasks: Vec<_> = (0..senders)
            .map(|_| {
                let client = client.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    loop {
                        let batch = queue.lock().unwrap().pop();
                        let Some(batch) = batch else { return };
                        client
                            .upsert_contacts(None, &batch)
                            .await
                            .expect("batch written");
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let wall = started.elapsed().as_secs_f64();
        let counters = sandbox.counters();
        assert_eq!(
            sandbox.state().contacts.len(),
            total,
            "every contact written"
        );
        let accepted_rate = counters.accepted as f64 / wall;
        let floor = total.div_ceil(100) as f64 / rate;
        println!(
            "{:>6} {:>8} {:>9.2} {:>9.1}% {:>7.2}% {:>9.1} {:>9.1} {:>7.3}",
            rate,
            rate * factor,
            accepted_rate,
            100.0 * accepted_rate / rate,
            100.0 * counters.throttled as f64 / counters.requests as f64,
            wall,
            floor,
            wall / floor
        );
    }
}
