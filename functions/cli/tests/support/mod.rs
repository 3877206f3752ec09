//! What the fault test, the kill test and the fault benchmark share: a sandbox, a snapshot of
//! distinct profiles, exports in this process run until they succeed, the checks that a run
//! converged (exact list, reports that add up, repeats explained) and the table they print.

// Each test binary uses a part of this module.
#![allow(dead_code)]

use sandbox::{Counters, Faults, Sandbox, SandboxConfig};
use shared::app::local_export::{self, Progress};
use shared::audience_api::ClientSettings;
use shared::jobs::finalize::{Report, Status};
use shared::jobs::{configure, connect};
use shared::Deps;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

mod table;
pub use table::{publish, Row};

pub const KEY: &str = "faults-test-key-0123456789";
/// The segment (and list) every run exports.
pub const SEGMENT: &str = "Fault Segment";
/// Contacts per bulk upsert: Autopilot's cap, so one repeated request rewrites at most this many.
pub const PER_REQUEST: u64 = 100;
/// Runs after the first one before a case is called stuck.
pub const MAX_RERUNS: u32 = 3;

/// Starts a sandbox accepting [`KEY`] at `rate` requests/second (`None`: no limit), no faults.
pub async fn sandbox(rate: Option<f64>) -> Sandbox {
    let config = SandboxConfig {
        rate,
        ..SandboxConfig::with_key(KEY)
    };
    Sandbox::start(config, 0)
        .await
        .expect("the sandbox starts on a free port")
}

/// Writes a snapshot of `profiles` distinct profiles and returns their emails (lower case).
pub fn write_snapshot(path: &Path, profiles: u64) -> BTreeSet<String> {
    let mut text = String::with_capacity(profiles as usize * 40 + 20);
    text.push_str("Email,First Name\n");
    let mut emails = BTreeSet::new();
    for i in 0..profiles {
        let email = format!("person{i:06}@example.com");
        let _ = writeln!(text, "{email},Name{i}");
        emails.insert(email);
    }
    std::fs::write(path, text).expect("the snapshot is written");
    emails
}

/// The members of `list` in the sandbox, lower case.
pub fn members(sandbox: &Sandbox, list: &str) -> BTreeSet<String> {
    sandbox
        .state()
        .list(list)
        .map(|l| l.members.iter().map(|m| m.to_lowercase()).collect())
        .unwrap_or_default()
}

/// The jobs' dependencies in `dir`, with clients built from `settings`.
pub use shared::test_support::local_deps as deps;

/// Connects a destination to `sandbox` at `rate` and configures `snapshot` as [`SEGMENT`].
/// Inputs are built from JSON so that optional fields added later keep their defaults.
pub async fn connect_and_configure(
    deps: &Deps,
    sandbox: &Sandbox,
    rate: f64,
    snapshot: &Path,
    profile_limit: u64,
) -> String {
    let input: connect::Input = serde_json::from_value(serde_json::json!({
        "display_name": "Fault Account",
        "api_key": KEY,
        "consent": true,
        "export_user": "tester",
        "api_url": sandbox.base_url(),
        "requests_per_second": rate,
    }))
    .expect("a connect input");
    let dest = connect::run(input, deps)
        .await
        .expect("connects")
        .destination_id;
    let input: configure::Input = serde_json::from_value(serde_json::json!({
        "destination_id": dest,
        "data_matching": {"email": "Email", "first_name": "First Name"},
        "segments": [{"name": SEGMENT, "source": snapshot.display().to_string()}],
        "profile_limit": profile_limit,
    }))
    .expect("a configure input");
    configure::run(input, deps).await.expect("configures");
    dest
}

/// One fault case: the faults from the start of the export, and an outage started once the
/// export has applied `after_bulk` bulk upserts (so it lands in the uploads however long the plan
/// took on this machine).
#[derive(Debug, Clone)]
pub struct Case {
    /// A short name to pick the case by (`none`, `errors`, `drops`, `slow`, `outage`, `combined`).
    pub key: &'static str,
    pub name: &'static str,
    pub faults: Faults,
    pub outage: Option<Outage>,
}

#[derive(Debug, Clone, Copy)]
pub struct Outage {
    pub after_bulk: u64,
    pub ms: u64,
}

/// The faults a real API shows: 5% 500s, 2% dropped connections, 2% answers later than `timeout` (after
/// the work is done), an outage of `outage_ms`, and all of them at once; plus a run without faults.
pub fn cases(timeout: Duration, outage_ms: u64, outage_after_bulk: u64) -> Vec<Case> {
    let slow_ms = (timeout.as_millis() as u64) * 3 / 2;
    let outage = Outage {
        after_bulk: outage_after_bulk,
        ms: outage_ms,
    };
    let case = |key, name, faults: Faults, outage| Case {
        key,
        name,
        faults: Faults {
            seed: Some(8),
            ..faults
        },
        outage,
    };
    vec![
        case("none", "none", Faults::default(), None),
        case(
            "errors",
            "5% 500s",
            Faults {
                error_rate: 0.05,
                ..Faults::default()
            },
            None,
        ),
        case(
            "drops",
            "2% drops",
            Faults {
                drop_rate: 0.02,
                ..Faults::default()
            },
            None,
        ),
        case(
            "slow",
            "2% slow > timeout",
            Faults {
                slow_rate: 0.02,
                slow_ms,
                ..Faults::default()
            },
            None,
        ),
        case("outage", "outage", Faults::default(), Some(outage)),
        case(
            "combined",
            "combined",
            Faults {
                error_rate: 0.05,
                drop_rate: 0.02,
                slow_rate: 0.02,
                slow_ms,
                ..Faults::default()
            },
            Some(outage),
        ),
    ]
}

/// A long outage. The test makes it outlast the client's scaled-down retry budget, so the first
/// run stops part-way and reruns must finish sending only what had not landed; the benchmark's is
/// 150 s, inside the default 15-minute budget, so the export waits it out (opt-in: it
/// is long at full size).
pub fn long_outage(outage_ms: u64, outage_after_bulk: u64) -> Case {
    Case {
        key: "long-outage",
        name: "long outage",
        faults: Faults {
            seed: Some(8),
            ..Faults::default()
        },
        outage: Some(Outage {
            after_bulk: outage_after_bulk,
            ms: outage_ms,
        }),
    }
}

/// How the runs of one case went.
#[derive(Debug)]
pub struct Runs {
    /// The first run's report status, or the error it returned.
    pub first: String,
    pub reruns: u32,
    pub wall: Duration,
    /// The reports of every run that produced one.
    pub reports: Vec<Report>,
    /// The error of the last run, when it returned one.
    pub last_error: Option<String>,
    /// Each run's outcome and what it sent, in order.
    pub history: Vec<String>,
}

impl Runs {
    /// Adds a run's outcome to the history.
    pub fn note<E: std::fmt::Display>(&mut self, result: &Result<Report, E>) {
        self.history.push(match result {
            Ok(r) => format!(
                "{} (sent {}, unsent {})",
                status_name(r.status),
                r.totals.sent,
                r.totals.unsent
            ),
            Err(e) => format!("error ({})", first_words(&e.to_string())),
        });
    }

    pub fn succeeded(&self) -> bool {
        self.last_error.is_none()
            && self
                .reports
                .last()
                .is_some_and(|r| r.status == Status::Succeeded)
    }
}

pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::PartiallySucceeded => "partially_succeeded",
        Status::Failed => "failed",
    }
}

/// Exports `dest` in this process, and again (it resumes) while a run does not succeed, at most
/// [`MAX_RERUNS`] more times.
pub async fn export_until_done(deps: &Deps, dest: &str) -> Runs {
    let start = Instant::now();
    let options = local_export::Options::new(dest);
    let mut runs = Runs {
        first: String::new(),
        reruns: 0,
        wall: Duration::ZERO,
        reports: Vec::new(),
        last_error: None,
        history: Vec::new(),
    };
    loop {
        let result = local_export::run(deps, &options, &|_: Progress| {}).await;
        runs.note(&result);
        let label = match &result {
            Ok(report) => status_name(report.status).to_string(),
            Err(e) => format!("error: {}", e.type_name()),
        };
        if runs.first.is_empty() {
            runs.first = label;
        }
        match result {
            Ok(report) => {
                runs.last_error = None;
                runs.reports.push(report);
            }
            Err(e) => runs.last_error = Some(e.to_string()),
        }
        if runs.succeeded() || runs.reruns == MAX_RERUNS {
            break;
        }
        runs.reruns += 1;
    }
    runs.wall = start.elapsed();
    runs
}

/// Runs one case against a fresh sandbox and data folder: connect and configure without faults,
/// then the export (and its reruns) under the case's faults.
pub async fn run_case(
    case: &Case,
    snapshot: &Path,
    expected: &BTreeSet<String>,
    settings: ClientSettings,
    sandbox_rate: Option<f64>,
    client_rate: f64,
) -> Row {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sandbox = sandbox(sandbox_rate).await;
    let deps = deps(dir.path(), settings);
    let dest = connect_and_configure(
        &deps,
        &sandbox,
        client_rate,
        snapshot,
        expected.len() as u64,
    )
    .await;
    sandbox.set_faults(case.faults.clone());
    let runs = match case.outage {
        None => export_until_done(&deps, &dest).await,
        Some(outage) => {
            let start_outage = async {
                while sandbox.counters().bulk_requests < outage.after_bulk {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                sandbox.set_faults(Faults {
                    outage_after_ms: Some(0),
                    outage_ms: outage.ms,
                    ..case.faults.clone()
                });
                std::future::pending::<()>().await
            };
            tokio::select! {
                runs = export_until_done(&deps, &dest) => runs,
                () = start_outage => unreachable!("the outage trigger never ends"),
            }
        }
    };
    let counters = sandbox.counters();
    let allowed = PER_REQUEST * counters.slow_bulk_writes;
    let mut problems = converged(&sandbox, expected, &counters, allowed);
    problems.extend(reports_add_up(&runs, expected.len() as u64));
    let floor = (expected.len() as u64).div_ceil(PER_REQUEST) as f64 / client_rate;
    Row::new(case.name, &runs, floor, &counters, allowed, problems)
}

/// The list holds exactly `expected`, and the repeated writes are within `allowed`.
pub fn converged(
    sandbox: &Sandbox,
    expected: &BTreeSet<String>,
    counters: &Counters,
    allowed: u64,
) -> Vec<String> {
    let mut problems = Vec::new();
    let list = members(sandbox, SEGMENT);
    if &list != expected {
        let missing = expected.difference(&list).count();
        let extra = list.difference(expected).count();
        problems.push(format!(
            "the list holds {} members: {missing} expected missing, {extra} unexpected",
            list.len()
        ));
    }
    let repeats = counters.contacts_written - counters.distinct_contacts_written;
    if repeats > allowed {
        problems.push(format!(
            "{repeats} repeated contact writes, more than the {allowed} the faults explain \
             ({} written, {} distinct, {} slow bulk answers)",
            counters.contacts_written,
            counters.distinct_contacts_written,
            counters.slow_bulk_writes
        ));
    }
    problems
}

/// Every report adds up, and the last run succeeded having read every row.
pub fn reports_add_up(runs: &Runs, rows: u64) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, report) in runs.reports.iter().enumerate() {
        let parts = report.segments.iter().map(|s| &s.counts);
        if !report.totals.adds_up() || parts.clone().any(|c| !c.adds_up()) {
            problems.push(format!("report {i} does not add up: {:?}", report.totals));
        }
    }
    match (runs.reports.last(), &runs.last_error) {
        (_, Some(e)) => problems.push(format!("the last run failed: {e}")),
        (Some(last), None) if last.status != Status::Succeeded => problems.push(format!(
            "the last run ended {} after {} reruns: {:?}",
            status_name(last.status),
            runs.reruns,
            last.failure
        )),
        (Some(last), None) if last.totals.rows_read != rows || last.totals.unsent != 0 => problems
            .push(format!(
                "the last report read {} rows of {rows}, {} unsent",
                last.totals.rows_read, last.totals.unsent
            )),
        _ => {}
    }
    problems
}

/// The start of a message, for a table note.
fn first_words(text: &str) -> String {
    let mut short: String = text.chars().take(100).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}
