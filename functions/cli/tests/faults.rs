//! Exports converge under the sandbox's faults: 5% 500s, 2% dropped connections, 2% answers that
//! arrive after the client's timeout (the work done first), a short outage in the middle of the
//! uploads, and all of them at once. Each case runs an export of 20,000 profiles in this process
//! at a high rate with timeouts scaled down, reruns it (it resumes) while it does not succeed, and
//! then requires the list to hold exactly the snapshot's people, every report to add up, and no
//! more repeated writes than the slow answers explain: a 500, a drop or an outage 503 comes
//! before any work, so only a request that did its work and answered late can be repeated, and
//! it rewrites at most 100 contacts. A last case makes the outage outlast the client's retry
//! budget, so the first run stops part-way and the reruns must finish sending only what is left. `--nocapture` shows the table; target/fault-table.txt keeps it.
//! The 100,000-profile table at 50 requests/second is `cargo bench -p autopilot-export --bench faults`.

mod support;

use shared::audience_api::ClientSettings;
use std::time::{Duration, Instant};
use support::{cases, long_outage, publish, run_case, write_snapshot};

const PROFILES: u64 = 20_000;
/// Requests/second the client paces at; the sandbox has no limit of its own.
const RATE: f64 = 1_000.0;
/// The client's timeout per request; slow answers come half as late again.
const TIMEOUT: Duration = Duration::from_secs(1);
/// The outage, started once a fifth of the bulk upserts are applied.
const OUTAGE_MS: u64 = 1_500;
const OUTAGE_AFTER_BULK: u64 = PROFILES / 100 / 5;

/// The retry budget of the last case, and its outage that outlasts it.
const SHORT_BUDGET: Duration = Duration::from_secs(2);
const LONG_OUTAGE_MS: u64 = 4_000;

/// The product's retries with the timeout and the outage budget scaled down: a case takes
/// seconds, and a run still outlasts the short outage.
fn settings() -> ClientSettings {
    ClientSettings {
        timeout: TIMEOUT,
        max_elapsed: Duration::from_secs(10),
        ..ClientSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_converges_to_the_exact_list_with_explained_repeats() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("segment.csv");
    let expected = write_snapshot(&snapshot, PROFILES);
    let mut rows = Vec::new();
    let short_budget = ClientSettings {
        max_elapsed: SHORT_BUDGET,
        ..settings()
    };
    let all = cases(TIMEOUT, OUTAGE_MS, OUTAGE_AFTER_BULK)
        .into_iter()
        .map(|case| (case, settings()))
        .chain([(long_outage(LONG_OUTAGE_MS, OUTAGE_AFTER_BULK), short_budget)]);
    for (case, settings) in all {
        let row = run_case(&case, &snapshot, &expected, settings, None, RATE).await;
        println!(
            "{}: {} in {:.1}s, {} reruns",
            row.fault, row.first, row.wall, row.reruns
        );
        rows.push(row);
    }
    let title = format!(
        "Faults: {PROFILES} profiles at {RATE} req/s, timeout {TIMEOUT:?}, outage {OUTAGE_MS} ms \
         (then {LONG_OUTAGE_MS} ms against a {SHORT_BUDGET:?} retry budget; {:.0} s in all)",
        started.elapsed().as_secs_f64()
    );
    let text = publish(&title, &rows, "fault-table.txt");
    assert!(
        rows.iter().all(|r| r.problems.is_empty()),
        "some fault cases did not converge exactly:\n{text}"
    );
}
