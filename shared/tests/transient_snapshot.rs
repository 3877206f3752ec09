//! A snapshot read that fails in a way that may pass (a timeout, a lost connection) is retried
//! and the export succeeds; one that keeps failing stops after a few attempts; a missing snapshot
//! fails at once, with its clear message.

use sandbox::{Sandbox, SandboxConfig};
use shared::audience_api::ClientSettings;
use shared::jobs::finalize::Status;
use shared::local_export::{self, Options};
use shared::snapshot::{LocalFiles, SnapshotError, SnapshotReader};
use shared::test_support::{local_deps, write_people, TestDestination, KEY};
use shared::{Deps, ErrorKind};
use std::io::Read;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

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
    let snapshot = dir.path().join("segment.csv");
    if let Some(n) = people {
        write_people(&snapshot, n).unwrap();
    }
    let sandbox = Sandbox::start(SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let deps = Deps {
        snapshots: reader,
        ..local_deps(dir.path(), ClientSettings::default())
    };
    let dest = TestDestination::new(sandbox.base_url())
        .named("Flaky")
        .rate(500.0)
        .segment("Members", &snapshot)
        .create(&deps)
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        sandbox,
        deps,
        dest,
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
