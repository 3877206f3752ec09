//! Exports that meet failures against a real sandbox of each API: an outage is waited out, a run that stops
//! records exactly what landed (so the next run sends only the rest and can still take our own
//! members off the list), a stopped chunk repeats at most its requests in flight, and a mapping
//! that refuses every row is a failure, not an empty success.

use integration_tests::apis::{self, batch, destination, member_page, pages, sandbox_of, ApiKind};
use integration_tests::{for_each_api, local_deps};
use sandbox::{Faults, Sandbox};
use shared::app::local_export::{self, Options, Progress};
use shared::audience_api::ClientSettings;
use shared::jobs::finalize::{Report, Status};
use shared::jobs::{plan, upload_chunk};
use shared::{Deps, JobError};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

struct Fixture {
    _dir: tempfile::TempDir,
    snapshot: PathBuf,
    deps: Deps,
    sandbox: Sandbox,
    dest: String,
}

impl Fixture {
    /// A destination on `api`'s sandbox paced at `rate` whose requests are retried for `budget`
    /// at most.
    async fn new(api: ApiKind, rate: f64, budget: Duration, custom: (&str, &str)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("segment.csv");
        let sandbox = sandbox_of(api, |c| c).await;
        let settings = ClientSettings {
            timeout: Duration::from_secs(2),
            min_timeout: Duration::from_millis(500),
            max_elapsed: budget,
            ..ClientSettings::default()
        };
        let deps = local_deps(dir.path(), settings);
        let dest = destination(&sandbox)
            .named("Failures")
            .rate(rate)
            .custom(custom.0, custom.1)
            .segment("Members", &snapshot)
            .profile_limit(Some(1_000_000))
            .create(&deps)
            .await
            .unwrap();
        Self {
            _dir: dir,
            snapshot,
            deps,
            sandbox,
            dest,
        }
    }

    fn write(&self, ids: impl Iterator<Item = u32>) {
        let mut text = String::from("email,first,age\n");
        for i in ids {
            text.push_str(&format!("p{i}@example.com,P{i},{}\n", 20 + i % 50));
        }
        std::fs::write(&self.snapshot, text).unwrap();
    }

    async fn export(&self, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report, JobError> {
        local_export::run(&self.deps, &Options::new(&self.dest), progress).await
    }

    fn members(&self) -> HashSet<String> {
        apis::members(&self.sandbox, "Members")
    }

    fn written(&self) -> u64 {
        self.sandbox.counters().contacts_written
    }
}

fn outage(after_ms: u64, lasting_ms: u64) -> Faults {
    Faults {
        outage_after_ms: Some(after_ms),
        outage_ms: lasting_ms,
        ..Faults::default()
    }
}

fn people(ids: std::ops::Range<u32>) -> HashSet<String> {
    ids.map(|i| format!("p{i}@example.com")).collect()
}

/// Contacts a stopped run may have written without hearing back: its requests in flight.
fn in_flight_contacts(api: ApiKind) -> u64 {
    (local_export::DEFAULT_CONCURRENCY * upload_chunk::REQUESTS_IN_FLIGHT * batch(api)) as u64
}

for_each_api!(
    a_partly_failed_first_export_records_what_landed_and_later_removes_our_members
    an_outage_is_waited_out_and_shown_then_the_export_finishes
    a_stopped_chunk_repeats_at_most_its_requests_in_flight
    a_mapping_that_refuses_every_row_fails_with_the_reasons
    reading_an_existing_list_is_paced_at_the_exports_own_rate
);

async fn a_partly_failed_first_export_records_what_landed_and_later_removes_our_members(
    api: ApiKind,
) {
    // 6,000 contacts at 30 requests/s take 2 s; the API goes away once 2,000 have landed, for
    // longer than the 1 s the client keeps retrying.
    let f = Fixture::new(api, 30.0, Duration::from_secs(1), ("integer--Age", "age")).await;
    let list = f.sandbox.create_list("Members");
    // Two members from before: one who is also in the segment, one who is not.
    for email in ["p1@example.com", "x@example.com"] {
        f.sandbox.add_member_by_hand(&list, email).unwrap();
    }
    let theirs = HashSet::from(["x@example.com".to_string(), "p1@example.com".to_string()]);
    f.write(0..6000);
    let handled = std::sync::atomic::AtomicU64::new(0);
    let first = f
        .export(&|e| {
            if let Progress::Handled { contacts } = e {
                let before = handled.fetch_add(contacts, std::sync::atomic::Ordering::Relaxed);
                if before < 2000 && before + contacts >= 2000 {
                    f.sandbox.set_faults(outage(0, 60_000));
                }
            }
        })
        .await
        .unwrap();
    assert_eq!(first.status, Status::PartiallySucceeded, "{first:?}");
    let landed = first.totals.sent;
    assert!(landed > 500 && first.totals.unsent > 500, "{first:?}");
    assert!(first.totals.adds_up());

    // The rerun sends what had not landed (and at most what was in flight when it stopped).
    f.sandbox.set_faults(Faults::default());
    let before = f.written();
    let second = f.export(&|_| {}).await.unwrap();
    assert_eq!(second.status, Status::Succeeded, "{second:?}");
    let resent = f.written() - before;
    assert!(
        resent >= 6000 - landed && resent <= 6000 - landed + in_flight_contacts(api),
        "{resent} written for {} not landed",
        6000 - landed
    );
    assert_eq!(second.totals.unchanged + second.totals.sent, 6000);
    assert_eq!(f.members(), &people(0..6000) | &theirs);

    // 100 people leave the segment: the 99 this connector put on the list come off; the one who
    // was on it before stays, as does the member who was never in the segment.
    f.write(100..6000);
    let third = f.export(&|_| {}).await.unwrap();
    assert_eq!(third.totals.removed, 99, "{third:?}");
    assert_eq!(f.members(), &people(100..6000) | &theirs);
}

async fn an_outage_is_waited_out_and_shown_then_the_export_finishes(api: ApiKind) {
    let f = Fixture::new(api, 200.0, Duration::from_secs(60), ("integer--Age", "age")).await;
    f.write(0..6000);
    // 60 requests at 200/s: 0.3 s of work; the API goes away for 3.5 s once the first request
    // of the uploads is answered.
    let events = Mutex::new(Vec::new());
    let started = Instant::now();
    let report = f
        .export(&|e| {
            let mut events = events.lock().unwrap();
            if matches!(e, Progress::Handled { .. })
                && !events.iter().any(|e: &String| e.starts_with("Handled"))
            {
                f.sandbox.set_faults(outage(0, 3500));
            }
            events.push(format!("{e:?}"));
        })
        .await
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(report.status, Status::Succeeded, "{report:?}");
    assert_eq!(f.members(), people(0..6000));
    let events = events.into_inner().unwrap();
    assert!(
        events.iter().any(|e| e.starts_with("Waiting")),
        "the wait is shown: {events:?}"
    );
    assert!(events.iter().any(|e| e == "Resumed"), "{events:?}");
    // The outage was met: requests were refused and retried until the API was back. That a
    // waiting request goes again as soon as the API answers, not after its backoff, is shown by
    // the client's own test (tests/client.rs); the time is a figure, not a check.
    let refused = f.sandbox.counters().server_errors;
    assert!(refused > 0, "no request met the outage: {events:?}");
    println!(
        "3.5 s outage: export of 6,000 contacts took {:.1} s, {refused} requests refused while it lasted",
        wall.as_secs_f64()
    );
}

async fn a_stopped_chunk_repeats_at_most_its_requests_in_flight(api: ApiKind) {
    let f = Fixture::new(
        api,
        20.0,
        Duration::from_millis(500),
        ("integer--Age", "age"),
    )
    .await;
    f.write(0..3000);
    let planned = plan::run(
        plan::Input {
            destination_id: f.dest.clone(),
            chunk_size: Some(3000),
            ..Default::default()
        },
        &f.deps,
    )
    .await
    .unwrap();
    let input = upload_chunk::Input {
        destination_id: f.dest.clone(),
        export_id: planned.export_id.clone(),
        chunk: 0,
        requests_per_second: None,
        deadline: None,
        on_request: None,
    };
    // 30 requests at 20/s: about 16 land before the API goes away.
    f.sandbox.set_faults(outage(800, 60_000));
    let err = upload_chunk::run(input.clone(), &f.deps).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let landed = f.written();
    assert!(landed >= 500, "{landed}");
    f.sandbox.set_faults(Faults::default());
    let out = upload_chunk::run(input, &f.deps).await.unwrap();
    assert!(out.done && out.sent == 3000, "{out:?}");
    let extra = f.written() - 3000;
    assert!(
        extra <= (upload_chunk::REQUESTS_IN_FLIGHT * batch(api)) as u64,
        "{extra} contacts written twice: more than the requests in flight"
    );
}

async fn a_mapping_that_refuses_every_row_fails_with_the_reasons(api: ApiKind) {
    // A text column mapped to a whole-number field.
    let f = Fixture::new(
        api,
        500.0,
        Duration::from_secs(5),
        ("integer--Age", "first"),
    )
    .await;
    f.write(0..300);
    let err = f.export(&|_| {}).await.unwrap_err();
    assert_eq!(err.type_name(), "InvalidInput");
    let text = err.to_string();
    assert!(
        text.contains("every one of its 300 rows was refused")
            && text.contains("invalid_value: 300")
            && text.contains("column 'first'")
            && text.contains("nothing was sent"),
        "{text}"
    );
    assert!(!text.contains("P1"), "no cell values in errors: {text}");
    assert_eq!(
        f.sandbox.counters().requests,
        1,
        "only the key check of connect"
    );
}

async fn reading_an_existing_list_is_paced_at_the_exports_own_rate(api: ApiKind) {
    // The destination allows 5,000 requests/s; this export asks for 20. Reading the 30 pages of
    // an existing list's members must keep to 20 like every other request.
    let f = Fixture::new(api, 5000.0, Duration::from_secs(5), ("integer--Age", "age")).await;
    let list = f.sandbox.create_list("Members");
    let before = 30 * member_page(api);
    for i in 0..before {
        let email = format!("before{i}@example.com");
        f.sandbox.add_member_by_hand(&list, &email).unwrap();
    }
    f.write(0..10);
    let options = Options {
        requests_per_second: Some(20.0),
        ..Options::new(&f.dest)
    };
    let report = local_export::run(&f.deps, &options, &|_| {}).await.unwrap();
    assert_eq!(report.status, Status::Succeeded, "{report:?}");
    let counters = f.sandbox.counters();
    assert!(counters.requests >= pages(api, before) + 2, "{counters:?}");
    assert!(
        counters.peak_accepted_per_second <= 21,
        "{} requests in one second at 20 requests/s",
        counters.peak_accepted_per_second
    );
}
