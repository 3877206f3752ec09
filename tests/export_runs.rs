//! Exports through the jobs against a real sandbox of each API, by how they run: a chunk uploaded twice is
//! sent once, an interrupted export is finished by the next run, a revoked key fails clearly, a
//! key rotated elsewhere is picked up, a chunk out of time pauses and carries on (during an
//! outage too, its retries stopping at its deadline), and the
//! in-process launcher the console starts exports through runs one at a time and resumes.

use integration_tests::apis::{batch, sandbox_of, ApiKind};
use integration_tests::jobs::{configure, connect, export, export_deps, members};
use integration_tests::{for_each_api, KEY};
use sandbox::Sandbox;
use secrecy::SecretString;
use shared::app::exports::{self, ExportStatus};
use shared::app::in_process::InProcess;
use shared::app::launcher::ExportRequest;
use shared::app::local_export::{self, Progress};
use shared::jobs::finalize::{Report, Status};
use shared::jobs::plan::Trigger;
use shared::jobs::{connect, lock, plan, progress, upload_chunk};
use shared::Deps;
use std::path::Path;
use std::time::Duration;

fn people(path: &Path, n: usize) {
    let mut text = String::from("Email,First Name,age\n");
    for i in 0..n {
        text.push_str(&format!("p{i}@example.com,P{i},{}\n", i % 90));
    }
    std::fs::write(path, text).unwrap();
}

/// A destination whose one segment "P" holds `n` people, on a sandbox of `api` limited to
/// `sandbox_rate`.
async fn people_destination(
    api: ApiKind,
    n: usize,
    sandbox_rate: Option<f64>,
    rate: f64,
) -> (tempfile::TempDir, Sandbox, Deps, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    people(&path, n);
    let sandbox = sandbox_of(api, |c| match sandbox_rate {
        Some(r) => c.rate(r),
        None => c,
    })
    .await;
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &sandbox, rate).await;
    configure(&deps, &dest, &[("P", &path)], None)
        .await
        .unwrap();
    (dir, sandbox, deps, dest)
}

for_each_api!(
    uploading_a_chunk_twice_sends_it_once
    an_interrupted_export_is_finished_by_the_next_run
    a_revoked_key_fails_the_export_with_a_clear_reason
    a_key_rotated_by_another_process_is_picked_up_by_a_warm_one
    a_chunk_out_of_time_pauses_and_carries_on
    during_an_outage_a_chunk_stops_retrying_at_its_deadline_and_carries_on_after_it
    the_in_process_launcher_runs_one_export_at_a_time_and_resumes_an_interrupted_one
);

async fn uploading_a_chunk_twice_sends_it_once(api: ApiKind) {
    let (_dir, sandbox, deps, dest) = people_destination(api, 250, None, 1000.0).await;
    let planned = plan::run(
        plan::Input {
            destination_id: dest.clone(),
            chunk_size: Some(100),
            ..Default::default()
        },
        &deps,
    )
    .await
    .unwrap();
    assert_eq!(planned.chunks, [0, 1, 2]);
    let input = upload_chunk::Input {
        destination_id: dest.clone(),
        export_id: planned.export_id.clone(),
        chunk: 1,
        requests_per_second: None,
        deadline: None,
        on_request: None,
    };
    let first = upload_chunk::run(input.clone(), &deps).await.unwrap();
    let so_far = progress::of(deps.store.as_ref(), &dest, &planned.export_id)
        .await
        .unwrap();
    assert_eq!(
        (
            so_far.chunks_done,
            so_far.chunks,
            so_far.contacts_done,
            so_far.contacts
        ),
        (1, 3, 100, 250)
    );
    assert_eq!(so_far.todo, [(0, 100), (2, 50)]);
    let requests = sandbox.counters().requests;
    let second = upload_chunk::run(input, &deps).await.unwrap();
    assert_eq!((first.sent, second.sent), (100, 100));
    assert_eq!(
        sandbox.counters().requests,
        requests,
        "the second run sent nothing"
    );
    assert_eq!(sandbox.counters().contacts_written, 100);
}

async fn an_interrupted_export_is_finished_by_the_next_run(api: ApiKind) {
    let (_dir, sandbox, deps, dest) = people_destination(api, 3000, Some(20.0), 20.0).await;
    // Stop the first run part-way, as Ctrl-C or a kill would.
    let first = tokio::time::timeout(Duration::from_millis(1200), export(&deps, &dest, 200)).await;
    assert!(first.is_err(), "the first run was interrupted");
    let written_before = sandbox.counters().contacts_written;
    assert!(
        written_before > 0 && written_before < 3000,
        "{written_before}"
    );
    let report = export(&deps, &dest, 200).await.unwrap();
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(report.totals.sent, 3000);
    assert_eq!(members(&sandbox, "P").len(), 3000);
    // Only chunks that were in flight when the first run stopped can have been sent again.
    let written = sandbox.counters().contacts_written;
    assert!(written <= 3000 + 3 * 200, "{written}");
    assert_eq!(sandbox.state().contacts.len(), 3000);
}

async fn a_revoked_key_fails_the_export_with_a_clear_reason(api: ApiKind) {
    let (_dir, sandbox, deps, dest) = people_destination(api, 500, None, 1000.0).await;
    sandbox.set_api_keys(vec!["another-key".into()]);
    let err = export(&deps, &dest, 100).await.unwrap_err();
    assert_eq!(err.type_name(), "Unauthorized");
    let reports: Vec<String> = deps
        .store
        .list(&format!("exports/{dest}/"))
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.ends_with("report.json"))
        .collect();
    let report: Report =
        serde_json::from_slice(&deps.store.get(&reports[0]).await.unwrap()).unwrap();
    assert_eq!(report.status, Status::Failed);
    assert_eq!(report.failure.unwrap().error_type, "Unauthorized");
    assert!(
        sandbox.counters().requests <= 3,
        "no retry loop on a revoked key"
    );
}

async fn a_key_rotated_by_another_process_is_picked_up_by_a_warm_one(api: ApiKind) {
    let (dir, sandbox, deps, dest) = people_destination(api, 500, None, 1000.0).await;
    assert_eq!(export(&deps, &dest, 100).await.unwrap().totals.sent, 500);

    // Another process (the API's function) rotates the key; `deps` still holds a client on the
    // old one, as a warm upload function would.
    sandbox.set_api_keys(vec![KEY.into(), "rotated-key-0123".into()]);
    let other = export_deps(dir.path());
    connect::rotate_key(
        connect::RotateInput {
            destination_id: dest.clone(),
            api_key: SecretString::from("rotated-key-0123".to_string()),
        },
        &other,
    )
    .await
    .unwrap();
    sandbox.set_api_keys(vec!["rotated-key-0123".into()]);

    let options = local_export::Options {
        full: true,
        chunk_size: Some(100),
        ..local_export::Options::new(&dest)
    };
    let report = local_export::run(&deps, &options, &|_: Progress| {})
        .await
        .unwrap();
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(report.totals.sent, 500);
    assert_eq!(sandbox.counters().contacts_written, 1000);
    assert_eq!(
        sandbox.counters().unauthorized,
        0,
        "the client of a run is made with the key stored when it starts"
    );
}

async fn a_chunk_out_of_time_pauses_and_carries_on(api: ApiKind) {
    let (_dir, sandbox, deps, dest) = people_destination(api, 450, None, 1000.0).await;
    let planned = plan::run(
        plan::Input {
            destination_id: dest.clone(),
            chunk_size: Some(450),
            ..Default::default()
        },
        &deps,
    )
    .await
    .unwrap();
    let input = upload_chunk::Input {
        destination_id: dest.clone(),
        export_id: planned.export_id.clone(),
        chunk: 0,
        requests_per_second: None,
        // Already past: each run sends one batch (100 people) and pauses.
        deadline: Some(tokio::time::Instant::now()),
        on_request: None,
    };
    let mut runs = 0;
    loop {
        runs += 1;
        let out = upload_chunk::run(input.clone(), &deps).await.unwrap();
        if out.done {
            assert_eq!(out.sent, 450);
            break;
        }
        assert_eq!(out.sent, (batch(api) * runs) as u64);
    }
    assert_eq!(runs, 450usize.div_ceil(batch(api)));
    assert_eq!(
        sandbox.counters().contacts_written,
        450,
        "nothing sent twice across runs"
    );
}

async fn during_an_outage_a_chunk_stops_retrying_at_its_deadline_and_carries_on_after_it(
    api: ApiKind,
) {
    let (dir, sandbox, _deps, dest) = people_destination(api, 250, None, 1000.0).await;
    // The client's own retry budget (15 minutes) is far longer than the run's.
    let settings = shared::audience_api::ClientSettings {
        timeout: Duration::from_secs(2),
        ..Default::default()
    };
    let deps = integration_tests::local_deps(dir.path(), settings);
    let planned = plan::run(
        plan::Input {
            destination_id: dest.clone(),
            chunk_size: Some(250),
            ..Default::default()
        },
        &deps,
    )
    .await
    .unwrap();
    sandbox.set_faults(sandbox::Faults {
        outage_after_ms: Some(0),
        outage_ms: 3_600_000,
        ..Default::default()
    });
    let budget = Duration::from_secs(3);
    let input = upload_chunk::Input {
        destination_id: dest.clone(),
        export_id: planned.export_id.clone(),
        chunk: 0,
        requests_per_second: None,
        deadline: Some(tokio::time::Instant::now() + budget),
        on_request: None,
    };
    let started = std::time::Instant::now();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        upload_chunk::run(input.clone(), &deps),
    )
    .await
    .expect("the run ends near its deadline, not at the retry budget")
    .unwrap();
    let took = started.elapsed();
    assert!(!out.done, "{out:?}");
    assert!(took <= budget + Duration::from_secs(1), "took {took:?}");
    println!("a run with a {budget:?} budget ended after {took:?} during the outage");

    sandbox.set_faults(sandbox::Faults::default());
    let input = upload_chunk::Input {
        deadline: Some(tokio::time::Instant::now() + Duration::from_secs(30)),
        ..input
    };
    let out = upload_chunk::run(input, &deps).await.unwrap();
    assert!(out.done && out.sent == 250, "{out:?}");
}

/// Polls the status of `export` until it has its report.
async fn finished(deps: &Deps, launcher: &InProcess, dest: &str, export: &str) -> Report {
    for _ in 0..600 {
        match exports::status(deps, launcher, dest, export).await.unwrap() {
            ExportStatus::Finished(report) => return *report,
            ExportStatus::Failed => panic!("export {export} failed"),
            ExportStatus::Running(_) | ExportStatus::Finishing => {}
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("export {export} did not finish in a minute");
}

async fn the_in_process_launcher_runs_one_export_at_a_time_and_resumes_an_interrupted_one(
    api: ApiKind,
) {
    // Two requests a second: the first export is still running when the second start comes.
    let (dir, _sandbox, deps, dest) = people_destination(api, 300, None, 2.0).await;
    let launcher = InProcess::new(deps.clone(), dir.path().join("data"));
    let request = ExportRequest::new(&dest, Trigger::Console);
    let first = exports::start(&deps, &launcher, &request).await.unwrap();
    let second = exports::start(&deps, &launcher, &request)
        .await
        .unwrap_err();
    assert_eq!(second.kind(), shared::ErrorKind::ExportRunning, "{second}");
    let report = finished(&deps, &launcher, &dest, &first).await;
    assert_eq!(
        (report.status, report.totals.sent),
        (Status::Succeeded, 300)
    );
    assert_eq!(report.trigger, Some(Trigger::Console));
    assert!(!launcher.is_running(&dest));

    // An export whose process went away holds the destination's lock but no process runs it:
    // starting again resumes it under its own id.
    let interrupted = "20260101T000000Z-0000aa";
    lock::acquire(&deps, &dest, interrupted).await.unwrap();
    let resumed = exports::start(&deps, &launcher, &request).await.unwrap();
    assert_eq!(resumed, interrupted);
    let report = finished(&deps, &launcher, &dest, interrupted).await;
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(launcher.latest(&dest).unwrap().export_id, interrupted);
}
