//! The fault table at full size: an export of PROFILES distinct profiles (default 100,000) at RATE
//! requests/second (default 50) against a sandbox limited to that rate, under no fault, each of
//! the faults a real API shows (5% 500s, 2% dropped connections, 2% answers later than the default client
//! timeout after the work is done, a 15 s outage in the uploads) and all of them at once, with the
//! command's default client settings. Each row gives the wall time of the export and its reruns
//! against the rate limit's floor (⌈contacts/100⌉/rate), the writes per contact and the worst
//! contact, and whether the list ended exact with its repeats explained.
//!
//!     cargo bench -p autopilot-export --bench faults -- [PROFILES] [RATE] [CASE...]
//!
//! CASE is one or more of none, errors, drops, slow, outage, combined (all of these when left
//! out), so slow cases can be measured one at a time: `-- 100000 50 combined`; and long-outage,
//! only when named: a 150 s outage, which the export waits out (the default retry budget is 15
//! minutes).

#[path = "../tests/support/mod.rs"]
mod support;

use shared::audience_api::ClientSettings;
use std::time::{Duration, Instant};
use support::{cases, long_outage, publish, run_case, write_snapshot};

const OUTAGE_MS: u64 = 15_000;
/// The long outage, waited out within the default retry budget (only when asked for:
/// `long-outage`).
const LONG_OUTAGE_MS: u64 = 150_000;

fn usage(problem: &str) -> ! {
    eprintln!(
        "{problem}\nusage: cargo bench -p autopilot-export --bench faults -- [PROFILES] [RATE] \
         [none|errors|drops|slow|outage|combined|long-outage ...]"
    );
    std::process::exit(2)
}

fn main() {
    // `cargo bench` adds `--bench`; flags are not ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let profiles: u64 = args.first().map_or(100_000, |a| {
        a.parse()
            .ok()
            .filter(|p| *p > 0)
            .unwrap_or_else(|| usage(&format!("PROFILES must be a positive number, not {a}")))
    });
    let rate: f64 = args.get(1).map_or(50.0, |a| {
        a.parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r > 0.0)
            .unwrap_or_else(|| usage(&format!("RATE must be a positive number, not {a}")))
    });
    let settings = ClientSettings::default();
    let timeout = settings.timeout;
    let after_bulk = (profiles / 100 / 5).max(1);
    let mut all = cases(timeout, OUTAGE_MS, after_bulk);
    let standard = all.len();
    all.push(long_outage(LONG_OUTAGE_MS, after_bulk));
    let wanted = &args[args.len().min(2)..];
    if let Some(unknown) = wanted.iter().find(|w| !all.iter().any(|c| c.key == *w)) {
        usage(&format!("no case {unknown}"));
    }
    let chosen: Vec<_> = all
        .into_iter()
        .enumerate()
        .filter(|(i, c)| {
            if wanted.is_empty() {
                *i < standard
            } else {
                wanted.iter().any(|w| w == c.key)
            }
        })
        .map(|(_, c)| c)
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let snapshot = dir.path().join("segment.csv");
    let expected = write_snapshot(&snapshot, profiles);
    let floor = profiles.div_ceil(100) as f64 / rate;
    println!(
        "{profiles} profiles at {rate} req/s (floor {floor:.1} s), client timeout {timeout:?}, \
         outage {} s (long-outage {} s); cases: {}",
        OUTAGE_MS / 1000,
        LONG_OUTAGE_MS / 1000,
        chosen.iter().map(|c| c.key).collect::<Vec<_>>().join(", ")
    );
    let mut rows = Vec::new();
    for case in &chosen {
        let row = runtime.block_on(run_case(
            case,
            &snapshot,
            &expected,
            settings.clone(),
            Some(rate),
            rate,
        ));
        println!(
            "{}: {} in {:.1} s ({:.1}× the floor), {} reruns, {:.3} writes/contact{}",
            row.fault,
            row.first,
            row.wall,
            row.wall / row.floor,
            row.reruns,
            row.writes_per_contact,
            if row.problems.is_empty() {
                String::new()
            } else {
                format!("; NOT converged: {}", row.problems.join("; "))
            }
        );
        rows.push(row);
    }
    let title = format!(
        "Fault benchmark: {profiles} profiles at {rate} req/s, timeout {timeout:?}, outage {} s \
         (long-outage {} s; {:.0} s in all)",
        OUTAGE_MS / 1000,
        LONG_OUTAGE_MS / 1000,
        started.elapsed().as_secs_f64()
    );
    publish(&title, &rows, "fault-bench-table.txt");
    runtime.shutdown_timeout(Duration::from_secs(1));
}
