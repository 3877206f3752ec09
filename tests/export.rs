//! Whole exports through the jobs against a real sandbox: awkward snapshots, every row accounted
//! for, bad input refused before the first request, idempotent chunks, interrupted runs resumed.

use integration_tests::{sandbox, KEY};
use sandbox::Sandbox;
use secrecy::SecretString;
use shared::destination::{DataMatching, Segment};
use shared::jobs::finalize::{Report, Status};
use shared::jobs::{configure, connect, plan, progress, upload_chunk, ClientSettings, Clients};
use shared::local_export::{self, Progress};
use shared::store::LocalStore;
use shared::{csv_snapshot::LocalFiles, secrets::FileSecrets, Deps, JobError};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn deps(dir: &Path) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir.join("data"))),
        secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
        snapshots: Arc::new(LocalFiles),
        clients: Arc::new(Clients::new(ClientSettings {
            timeout: Duration::from_secs(2),
            max_attempts: 6,
            max_elapsed: Duration::from_secs(20),
            ..ClientSettings::default()
        })),
    }
}

async fn connect(deps: &Deps, sandbox: &Sandbox, rate: f64) -> String {
    connect::run(
        connect::Input {
            display_name: "Test Account".into(),
            api_key: SecretString::from(KEY.to_string()),
            consent: true,
            export_user: Some("tester".into()),
            autopilot_url: Some(sandbox.base_url()),
            requests_per_second: Some(rate),
        },
        deps,
    )
    .await
    .expect("connects")
    .destination_id
}

fn matching() -> DataMatching {
    DataMatching {
        email: "Email".into(),
        first_name: Some("First Name".into()),
        last_name: None,
        fields: BTreeMap::new(),
        custom: BTreeMap::from([("integer--Age".into(), "age".into())]),
    }
}

async fn configure(
    deps: &Deps,
    dest: &str,
    segments: &[(&str, &Path)],
    limit: Option<u64>,
) -> Result<(), JobError> {
    configure::run(
        configure::Input {
            destination_id: dest.into(),
            data_matching: matching(),
            segments: segments
                .iter()
                .map(|(name, path)| Segment {
                    name: name.to_string(),
                    source: path.display().to_string(),
                })
                .collect(),
            profile_limit: limit,
            requests_per_second: None,
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        },
        deps,
    )
    .await
    .map(drop)
}

async fn export(deps: &Deps, dest: &str, chunk_size: usize) -> Result<Report, JobError> {
    let options = local_export::Options {
        concurrency: 3,
        chunk_size: Some(chunk_size),
        ..local_export::Options::new(dest)
    };
    local_export::run(deps, &options, &|_: Progress| {}).await
}

fn members(sandbox: &Sandbox, list: &str) -> HashSet<String> {
    sandbox
        .state()
        .list(list)
        .map(|l| l.members.iter().map(|m| m.to_lowercase()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn awkward_snapshots_end_in_exactly_the_right_lists() {
    let dir = tempfile::tempdir().unwrap();
    // BOM, CRLF, a quoted comma, a quoted newline, a duplicate in other case, a wrong column
    // count, an invalid email, an empty email, a bad integer, an address Autopilot refuses.
    let a = dir.path().join("a.csv");
    std::fs::write(
        &a,
        "\u{feff}Email,First Name,age\r\n\
         ann@example.com,\"Lee, Ann\",41\r\n\
         bob@example.com,\"Bob\nBobson\",\r\n\
         ANN@EXAMPLE.COM,Ann again,41\r\n\
         cat@example.com,Cat\r\n\
         not-an-email,Dan,30\r\n\
         ,Nobody,30\r\n\
         eve@example.com,Eve,forty\r\n\
         fay@host.invalid,Fay,22\r\n\
         \u{20}gus@example.com ,Gus,50\r\n",
    )
    .unwrap();
    // Gzip without a .gz name, LF line ends, overlapping with segment A.
    let b = dir.path().join("b.csv");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"age,Email,First Name\n7,bob@example.com,Bob\n8,hal@example.com,Hal\n")
        .unwrap();
    std::fs::write(&b, gz.finish().unwrap()).unwrap();
    // Semicolons and Windows-1252 text, as an older spreadsheet export writes them.
    let c = dir.path().join("c.csv");
    std::fs::write(&c, b"Email;First Name;age\r\nzoe@example.com;Zo\xeb;33\r\n").unwrap();
    // A spreadsheet's "Unicode text": UTF-16 with a BOM, tabs, an email wrapped in invisible spaces.
    let d = dir.path().join("d.txt");
    let text = "\u{feff}Email\tFirst Name\tage\r\n\u{a0}ivy@example.com\u{200b}\tIvy\t29\r\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(&d, utf16).unwrap();

    let sandbox = sandbox(|c| c.rate(200.0)).await;
    let deps = deps(dir.path());
    let dest = connect(&deps, &sandbox, 200.0).await;
    let segments: [(&str, &Path); 4] = [
        ("Segment A", &a),
        ("Segment B", &b),
        ("Segment C", &c),
        ("Segment D", &d),
    ];
    configure(&deps, &dest, &segments, None).await.unwrap();
    let report = export(&deps, &dest, 2).await.unwrap();

    assert_eq!(
        members(&sandbox, "Segment A"),
        HashSet::from(["ann@example.com", "bob@example.com", "gus@example.com"].map(String::from))
    );
    assert_eq!(
        members(&sandbox, "Segment B"),
        HashSet::from(["bob@example.com", "hal@example.com"].map(String::from))
    );
    assert_eq!(report.status, Status::PartiallySucceeded);
    let seg_a = &report.segments[0].counts;
    assert_eq!(
        (
            seg_a.rows_read,
            seg_a.sent,
            seg_a.invalid,
            seg_a.duplicates,
            seg_a.rejected,
            seg_a.unsent
        ),
        (9, 3, 4, 1, 1, 0)
    );
    assert_eq!(
        seg_a.invalid_by_reason,
        BTreeMap::from([
            ("invalid_email".to_string(), 1),
            ("invalid_value".to_string(), 1),
            ("missing_email".to_string(), 1),
            ("wrong_column_count".to_string(), 1)
        ])
    );
    for s in &report.segments {
        assert!(s.counts.adds_up(), "{s:?}");
        assert!(s.list_created);
    }
    assert_eq!(report.distinct_profiles, 7);
    assert_eq!(
        members(&sandbox, "Segment C"),
        HashSet::from(["zoe@example.com".to_string()])
    );
    assert_eq!(
        members(&sandbox, "Segment D"),
        HashSet::from(["ivy@example.com".to_string()])
    );
    // Nothing sent twice: every contact write in the sandbox is one sent contact.
    assert_eq!(sandbox.counters().contacts_written, report.totals.sent);
    assert_eq!(sandbox.counters().consent_fields_received, 0);
    // Custom fields arrive typed; empty values are not sent.
    let state = sandbox.state();
    let ann = state
        .contacts
        .iter()
        .find(|c| c["Email"] == "ann@example.com")
        .unwrap();
    assert_eq!(ann["custom"]["integer--Age"], 41);
    let zoe = state
        .contacts
        .iter()
        .find(|c| c["Email"] == "zoe@example.com")
        .unwrap();
    assert_eq!(zoe["FirstName"], "Zoë");
    assert_eq!(ann["FirstName"], "Lee, Ann");
    let bob = state
        .contacts
        .iter()
        .find(|c| c["Email"] == "bob@example.com")
        .unwrap();
    assert_eq!(bob["custom"]["integer--Age"], 7);

    let rejected =
        std::fs::read_to_string(dir.path().join("data").join(report.rejected_file.unwrap()))
            .unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "segment,row,email,reason");
    assert_eq!(lines.len(), 6, "{rejected}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Segment A,5,cat@example.com,\"wrong_column_count")),
        "{rejected}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Segment A,9,fay@host.invalid,rejected_by_autopilot")),
        "{rejected}"
    );
    // Chunks are gone, the report stays.
    let keys = deps.store.list(&format!("exports/{dest}/")).await.unwrap();
    assert!(!keys.iter().any(|k| k.contains("/chunks/")), "{keys:?}");
    assert!(keys.iter().any(|k| k.ends_with("report.json")));
}

async fn refused_before_sending(dir: &Path, snapshot: &[u8], limit: Option<u64>, expect: &str) {
    let path = dir.join(format!("s{}.csv", fastrand::u32(..)));
    std::fs::write(&path, snapshot).unwrap();
    let sandbox = sandbox(|c| c).await;
    let deps = deps(dir);
    let dest = connect(&deps, &sandbox, 100.0).await;
    configure(&deps, &dest, &[("S", &path)], limit)
        .await
        .unwrap();
    let before = sandbox.counters().requests;
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert!(err.to_string().contains(expect), "{err}");
    assert_eq!(
        sandbox.counters().requests,
        before,
        "no request reached Autopilot"
    );
    assert!(sandbox.state().lists.is_empty());
    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: dest,
        },
        &deps,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn unusable_input_fails_before_the_first_request() {
    let dir = tempfile::tempdir().unwrap();
    refused_before_sending(dir.path(), b"", None, "is empty").await;
    refused_before_sending(
        dir.path(),
        b"mail,First Name,age\na@x.io,A,1\n",
        None,
        "no column 'Email'",
    )
    .await;
    let three = b"Email,First Name,age\na@x.io,A,1\nb@x.io,B,2\nc@x.io,C,3\nA@X.IO,A,1\n";
    let err_text = "3 distinct profiles, more than this destination's limit of 2";
    refused_before_sending(dir.path(), three, Some(2), err_text).await;
}

#[tokio::test]
async fn bad_setup_is_refused_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox(|c| c).await;
    let deps = deps(dir.path());
    let input = |consent: bool, key: &str| connect::Input {
        display_name: "Acme".into(),
        api_key: SecretString::from(key.to_string()),
        consent,
        export_user: None,
        autopilot_url: Some(sandbox.base_url()),
        requests_per_second: None,
    };
    let err = connect::run(input(false, KEY), &deps).await.unwrap_err();
    assert!(err.to_string().contains("consent is required"), "{err}");
    let err = connect::run(input(true, "wrong-key"), &deps)
        .await
        .unwrap_err();
    assert_eq!(err.type_name(), "Unauthorized");
    assert!(
        err.to_string().contains("rejected the API key") && !err.to_string().contains("wrong-key"),
        "{err}"
    );
    assert!(
        deps.store.list("destinations/").await.unwrap().is_empty(),
        "nothing stored for a refused key"
    );

    let err = export(&deps, "nope", 10).await.unwrap_err();
    assert!(
        err.to_string().contains("there is no destination 'nope'"),
        "{err}"
    );

    let dest = connect(&deps, &sandbox, 100.0).await;
    let missing = dir.path().join("missing.csv");
    configure(&deps, &dest, &[("S", &missing)], None)
        .await
        .unwrap();
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = configure(&deps, &dest, &[("S", &missing)], Some(0))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
    let mut bad = matching();
    bad.custom.insert("colour--Eyes".into(), "eyes".into());
    let err = configure::run(
        configure::Input {
            destination_id: dest.clone(),
            data_matching: bad,
            segments: vec![Segment {
                name: "S".into(),
                source: "x.csv".into(),
            }],
            profile_limit: None,
            requests_per_second: None,
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        },
        &deps,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("unknown type 'colour'"), "{err}");

    // Removing deletes the key; later exports fail clearly.
    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: dest.clone(),
        },
        &deps,
    )
    .await
    .unwrap();
    assert!(!dir.path().join(format!("data/secrets/{dest}.key")).exists());
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert_eq!(err.type_name(), "NotFound");
}

fn people(path: &Path, n: usize) {
    let mut text = String::from("Email,First Name,age\n");
    for i in 0..n {
        text.push_str(&format!("p{i}@example.com,P{i},{}\n", i % 90));
    }
    std::fs::write(path, text).unwrap();
}

/// A destination whose one segment "P" holds `n` people, on a sandbox limited to `sandbox_rate`.
async fn people_destination(
    n: usize,
    sandbox_rate: Option<f64>,
    rate: f64,
) -> (tempfile::TempDir, Sandbox, Deps, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.csv");
    people(&path, n);
    let sandbox = sandbox(|c| match sandbox_rate {
        Some(r) => c.rate(r),
        None => c,
    })
    .await;
    let deps = deps(dir.path());
    let dest = connect(&deps, &sandbox, rate).await;
    configure(&deps, &dest, &[("P", &path)], None)
        .await
        .unwrap();
    (dir, sandbox, deps, dest)
}

#[tokio::test]
async fn uploading_a_chunk_twice_sends_it_once() {
    let (_dir, sandbox, deps, dest) = people_destination(250, None, 1000.0).await;
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

#[tokio::test]
async fn an_interrupted_export_is_finished_by_the_next_run() {
    let (_dir, sandbox, deps, dest) = people_destination(3000, Some(20.0), 20.0).await;
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

#[tokio::test]
async fn a_revoked_key_fails_the_export_with_a_clear_reason() {
    let (_dir, sandbox, deps, dest) = people_destination(500, None, 1000.0).await;
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

#[tokio::test]
async fn a_key_rotated_by_another_process_is_picked_up_by_a_warm_one() {
    let (dir, sandbox, deps, dest) = people_destination(500, None, 1000.0).await;
    assert_eq!(export(&deps, &dest, 100).await.unwrap().totals.sent, 500);

    // Another process (the API's function) rotates the key; `deps` still holds a client on the
    // old one, as a warm upload function would.
    sandbox.set_api_keys(vec![KEY.into(), "rotated-key-0123".into()]);
    let other = self::deps(dir.path());
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
        1,
        "one refusal, then the stored key"
    );
}

#[tokio::test]
async fn a_chunk_out_of_time_pauses_and_carries_on() {
    let (_dir, sandbox, deps, dest) = people_destination(450, None, 1000.0).await;
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
        // Already past: each run sends one batch of 100 and pauses.
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
        assert_eq!(out.sent, 100 * runs);
    }
    assert_eq!(runs, 5);
    assert_eq!(
        sandbox.counters().contacts_written,
        450,
        "nothing sent twice across runs"
    );
}
