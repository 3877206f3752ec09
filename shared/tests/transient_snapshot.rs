//! A snapshot read that fails in a way that may pass (a timeout, a lost connection) is retried
//! and the export succeeds; one that keeps failing stops after a few attempts; a missing snapshot
//! fails at once, with its clear message.

use sandbox::{Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::csv_snapshot::{LocalFiles, SnapshotError, SnapshotReader};
use shared::destination::{DataMatching, Segment};
use shared::jobs::finalize::Status;
use shared::jobs::{configure, connect, ClientSettings, Clients};
use shared::local_export::{self, Options};
use shared::secrets::FileSecrets;
use shared::store::LocalStore;
use shared::{Deps, ErrorKind};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

const KEY: &str = "test-key-0123456789";

/// Local snapshots whose first `failures` opens fail as a timed-out storage read would.
struct Flaky {
    failures: AtomicU32,
    opens: AtomicU32,
}

impl Flaky {
    fn new(failures: u32) -> Arc<Self> {
        Arc::new(Self {
            failures: AtomicU32::new(failures),
            opens: AtomicU32::new(0),
        })
    }

    fn opens(&self) -> u32 {
        self.opens.load(Ordering::SeqCst)
    }
}

impl SnapshotReader for Flaky {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
        self.opens.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            return Err(SnapshotError::transient(format!(
                "the snapshot {source} cannot be read: the AWS call timed out"
            )));
        }
        LocalFiles.open(source)
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    sandbox: Sandbox,
    deps: Deps,
    dest: String,
}

/// A destination exporting one segment to a sandbox, its snapshot (`people` rows, or no file at
/// all) read through `reader`.
async fn fixture(reader: Arc<Flaky>, people: Option<u32>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let snapshot: PathBuf = dir.path().join("segment.csv");
    if let Some(n) = people {
        let mut text = String::from("email,first\n");
        for i in 0..n {
            text.push_str(&format!("p{i}@example.com,P{i}\n"));
        }
        std::fs::write(&snapshot, text).unwrap();
    }
    let sandbox = Sandbox::start(SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let deps = deps(dir.path(), reader);
    let dest = connect::run(
        connect::Input {
            display_name: "Flaky".into(),
            api_key: SecretString::from(KEY.to_string()),
            consent: true,
            export_user: None,
            autopilot_url: Some(sandbox.base_url()),
            requests_per_second: Some(500.0),
        },
        &deps,
    )
    .await
    .unwrap()
    .destination_id;
    configure::run(
        configure::Input {
            destination_id: dest.clone(),
            data_matching: DataMatching {
                email: "email".into(),
                first_name: Some("first".into()),
                last_name: None,
                fields: BTreeMap::new(),
                custom: BTreeMap::new(),
            },
            segments: vec![Segment {
                name: "Members".into(),
                source: snapshot.display().to_string(),
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
    .unwrap();
    Fixture {
        _dir: dir,
        sandbox,
        deps,
        dest,
    }
}

fn deps(dir: &Path, reader: Arc<Flaky>) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir.join("data"))),
        secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
        snapshots: reader,
        clients: Arc::new(Clients::new(ClientSettings::default())),
    }
}

#[tokio::test]
async fn a_snapshot_read_that_times_out_is_retried_and_the_export_succeeds() {
    let reader = Flaky::new(2);
    let f = fixture(reader.clone(), Some(250)).await;
    let report = local_export::run(&f.deps, &Options::new(&f.dest), &|_| {})
        .await
        .unwrap();
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(
        reader.opens(),
        3,
        "two failed opens, then the one that read"
    );
    let members = f.sandbox.state().list("Members").unwrap().members.len();
    assert_eq!(members, 250);
}

#[tokio::test]
async fn a_snapshot_that_keeps_timing_out_stops_the_export_after_a_few_attempts() {
    let reader = Flaky::new(u32::MAX);
    let f = fixture(reader.clone(), Some(10)).await;
    let err = local_export::run(&f.deps, &Options::new(&f.dest), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(reader.opens(), 3);
    assert!(f.sandbox.state().list("Members").is_none());
}

#[tokio::test]
async fn a_missing_snapshot_fails_at_once_with_its_reason() {
    let reader = Flaky::new(0);
    let f = fixture(reader.clone(), None).await;
    let err = local_export::run(&f.deps, &Options::new(&f.dest), &|_| {})
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(reader.opens(), 1, "a fatal error is not retried");
}
