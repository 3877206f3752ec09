//! Plans over hostile snapshots: memory and reading stay bounded. Nothing here reaches Autopilot
//! (every case stops before the first request, or is a dry run's scan alone).

use super::*;
use crate::csv_snapshot::SnapshotReader;
use crate::destination::{Consent, Segment};
use crate::jobs::connect::tests::deps;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A snapshot made up as it is read: a header, then `rows` rows from `row(i)`. Counts the rows
/// handed out, so a test can tell how far the plan read.
struct Generated {
    rows: u64,
    row: fn(u64) -> String,
    read: Arc<AtomicU64>,
}

struct Rows {
    next: u64,
    rows: u64,
    row: fn(u64) -> String,
    pending: Vec<u8>,
    read: Arc<AtomicU64>,
}

impl Read for Rows {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.len() < buf.len() && self.next < self.rows {
            self.pending.extend((self.row)(self.next).as_bytes());
            self.next += 1;
            self.read.fetch_add(1, Ordering::Relaxed);
        }
        let n = self.pending.len().min(buf.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl SnapshotReader for Generated {
    fn open(&self, _source: &str) -> Result<Box<dyn Read + Send>, String> {
        Ok(Box::new(Rows {
            next: 0,
            rows: self.rows,
            row: self.row,
            pending: b"email,name\n".to_vec(),
            read: self.read.clone(),
        }))
    }
}

/// Deps whose snapshots are `snapshot`, and a destination `main` with one segment `S` over it
/// and `limit` profiles.
async fn fixture(dir: &std::path::Path, limit: u64, snapshot: Generated) -> Deps {
    let mut deps = deps(dir);
    deps.snapshots = Arc::new(snapshot);
    let destination = Destination {
        id: "main".into(),
        display_name: "Main".into(),
        // Nothing listens there: a test that reached Autopilot would fail.
        autopilot_url: "http://127.0.0.1:9/v1".into(),
        account_name: None,
        consent: Consent {
            agreed_at: Utc::now(),
            export_user: "test".into(),
        },
        created_at: Utc::now(),
        data_matching: Some(DataMatching {
            email: "email".into(),
            first_name: Some("name".into()),
            last_name: None,
            fields: BTreeMap::new(),
            custom: BTreeMap::new(),
        }),
        segments: vec![Segment {
            name: "S".into(),
            source: "generated.csv".into(),
        }],
        profile_limit: limit,
        requests_per_second: 10.0,
        schedule: Default::default(),
        guardrails: Default::default(),
    };
    destination::save(deps.store.as_ref(), &destination)
        .await
        .unwrap();
    deps
}

fn input(dry_run: bool) -> Input {
    Input {
        destination_id: "main".into(),
        export_id: Some("e1".into()),
        dry_run,
        ..Input::default()
    }
}

#[tokio::test]
async fn reading_stops_as_soon_as_the_profile_limit_is_passed() {
    let dir = tempfile::tempdir().unwrap();
    let read = Arc::new(AtomicU64::new(0));
    let snapshot = Generated {
        rows: 2_000_000,
        row: |i| format!("p{i}@example.com,Ann\n"),
        read: read.clone(),
    };
    let deps = fixture(dir.path(), 1000, snapshot).await;
    for dry_run in [false, true] {
        read.store(0, Ordering::Relaxed);
        let err = run(input(dry_run), &deps).await.unwrap_err();
        assert!(
            matches!(
                err,
                JobError::LimitExceeded {
                    distinct: 1001,
                    limit: 1000
                }
            ),
            "{err}"
        );
        // The parser reads ahead by its buffer (256 KB, some 10,000 rows), no further.
        let rows = read.load(Ordering::Relaxed);
        assert!(rows < 40_000, "{rows} rows read");
        assert!(
            err.to_string().contains(
                "at least 1001 distinct profiles, more than this destination's limit of 1000"
            ),
            "{err}"
        );
    }
    assert!(deps
        .store
        .list("exports/main/e1/")
        .await
        .unwrap()
        .is_empty());
}
