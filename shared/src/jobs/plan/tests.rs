//! Plans over hostile snapshots: memory and reading stay bounded. Nothing here reaches Autopilot
//! (every case stops before the first request, or is a dry run's scan alone).

use super::refused;
use super::scan::{scan, Compare, Tally};
use super::writer::ChunkWriter;
use super::*;
use crate::destination::{Consent, Segment};
use crate::jobs::connect::tests::deps;
use crate::snapshot::SnapshotReader;
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

impl Generated {
    /// `rows` rows from `row(i)`, nobody counting them.
    fn uncounted(rows: u64, row: fn(u64) -> String) -> Self {
        Self {
            rows,
            row,
            read: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// A segment without a baseline: everything is sent.
const SEND_ALL: Compare<'static> = Compare {
    base: None,
    full: true,
    only_unchanged: false,
};

impl SnapshotReader for Generated {
    fn open(&self, _source: &str) -> Result<Box<dyn Read + Send>, crate::snapshot::SnapshotError> {
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
        api: Default::default(),
        // Nothing listens there: a test that reached the API would fail.
        api_url: "http://127.0.0.1:9/v1".into(),
        account_name: None,
        account_id: None,
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
        segments: vec![Segment::new("S", "generated.csv")],
        profile_limit: limit,
        requests_per_second: 10.0,
        schedule: Default::default(),
        guardrails: Default::default(),
        notify_url: None,
        verify_pages: 0,
        update_only: false,
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

/// An invalid email of 250 characters on every odd row, a valid one on every even row.
fn every_other_refused(i: u64) -> String {
    if i % 2 == 1 {
        format!("=bad{i:0>246},Ann\n")
    } else {
        format!("p{i}@example.com,Ann\n")
    }
}

#[tokio::test]
async fn refused_rows_are_stored_in_parts_as_they_come_and_cells_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Generated::uncounted(20_000, every_other_refused);
    let deps = fixture(dir.path(), 100_000, snapshot).await;
    let destination = destination::load(deps.store.as_ref(), "main")
        .await
        .unwrap();
    let matching = destination.data_matching.clone().unwrap();
    let mut writer = ChunkWriter::new(&deps, "main", "e1", false);
    let mode = SEND_ALL;
    let mut tally = Tally::new();
    let modes = [(0, mode)];
    let found = scan(
        &deps,
        &destination,
        &matching,
        &modes,
        1000,
        &mut writer,
        &mut tally,
    )
    .await
    .unwrap();
    let segment = &found.segments[0];
    assert_eq!(segment.plan.invalid["invalid_email"], 10_000);
    // In memory: the first row of the one reason; in the store: every row, in order, in parts.
    assert_eq!(segment.examples.len(), 1);
    assert!(writer.refused_parts >= 2, "{}", writer.refused_parts);
    let mut rows = Vec::new();
    refused::read_parts(
        deps.store.as_ref(),
        "main",
        "e1",
        writer.refused_parts,
        |part| {
            rows.extend(part);
            Ok(())
        },
    )
    .await
    .unwrap();
    let numbers: Vec<u64> = rows.iter().map(|r| r.row).collect();
    assert_eq!(numbers, (1..10_001).map(|i| 2 * i + 1).collect::<Vec<_>>());
    let cut = &rows[0].email;
    assert_eq!(cut.chars().count(), 201, "{cut}");
    assert!(cut.starts_with("=bad0") && cut.ends_with('…'), "{cut}");
    assert_eq!(rows[0].reason, "invalid_email: the email has no @");
    // Taken back when the plan fails.
    writer.discard(JobError::InvalidInput("stop".into())).await;
    let left = deps.store.list(&refused::parts_prefix("main", "e1")).await;
    assert!(left.unwrap().is_empty());
}

#[tokio::test]
async fn an_export_lists_at_most_64_mb_of_refused_rows() {
    let dir = tempfile::tempdir().unwrap();
    let read = Arc::new(AtomicU64::new(0));
    // Some 300 bytes per refused row: 64 MB is passed near row 225,000.
    let snapshot = Generated {
        rows: 260_000,
        row: |i| format!("=bad{i:0>246},Ann\n"),
        read: read.clone(),
    };
    let deps = fixture(dir.path(), 1_000_000, snapshot).await;
    let err = run(input(false), &deps).await.unwrap_err().to_string();
    assert!(
        err.starts_with("segment 'S': the snapshot generated.csv has more refused rows than one export lists: by row ")
            && err.contains("their list passed 64 MB, the most rejected.csv holds. Nothing was sent"),
        "{err}"
    );
    let rows = read.load(Ordering::Relaxed);
    assert!((200_000..250_000).contains(&rows), "{rows} rows read");
    assert!(deps
        .store
        .list("exports/main/e1/")
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_dry_run_counts_every_refused_row_past_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Generated::uncounted(20_000, every_other_refused);
    let deps = fixture(dir.path(), 100_000, snapshot).await;
    let destination = destination::load(deps.store.as_ref(), "main")
        .await
        .unwrap();
    let matching = destination.data_matching.clone().unwrap();
    let mode = SEND_ALL;
    for dry_run in [false, true] {
        let mut writer = ChunkWriter::new(&deps, "main", "e1", dry_run);
        let mut tally = Tally {
            refused_budget: 100_000,
            ..Tally::new()
        };
        let found = scan(
            &deps,
            &destination,
            &matching,
            &[(0, mode)],
            1000,
            &mut writer,
            &mut tally,
        )
        .await;
        match found {
            Ok(found) if dry_run => {
                assert_eq!(found.segments[0].plan.invalid["invalid_email"], 10_000);
                assert_eq!(writer.refused_parts, 0);
            }
            Err(e) if !dry_run => assert!(e.to_string().contains("more refused rows"), "{e}"),
            _ => panic!("dry run {dry_run}"),
        }
        writer.discard(JobError::InvalidInput("stop".into())).await;
    }
    assert!(deps.store.list("exports/").await.unwrap().is_empty());
}

/// 50 profiles, written in either case, each on several of 120 rows.
fn fifty_profiles_repeated(i: u64) -> String {
    let name = if i.is_multiple_of(3) {
        "Person"
    } else {
        "person"
    };
    format!("{name}{}@Example.COM,Ann\n", i % 50)
}

#[tokio::test]
async fn profiles_repeated_within_and_across_segments_count_once_in_each_and_overall() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = Generated::uncounted(120, fifty_profiles_repeated);
    // Exactly as many profiles as the limit allows: none may be counted twice.
    let deps = fixture(dir.path(), 50, snapshot).await;
    let mut destination = destination::load(deps.store.as_ref(), "main")
        .await
        .unwrap();
    destination
        .segments
        .push(Segment::new("T", "generated-too.csv"));
    let matching = destination.data_matching.clone().unwrap();
    let mode = SEND_ALL;
    let mut writer = ChunkWriter::new(&deps, "main", "e1", true);
    let mut tally = Tally::new();
    // The second scan starts with everyone the first one found, as a recreated list's does.
    for _ in 0..2 {
        let found = scan(
            &deps,
            &destination,
            &matching,
            &[(0, mode), (1, mode)],
            1000,
            &mut writer,
            &mut tally,
        )
        .await
        .unwrap();
        assert_eq!(found.distinct, 50);
        for segment in &found.segments {
            let plan = &segment.plan;
            assert_eq!((plan.rows_read, plan.adds, plan.duplicates), (120, 50, 70));
            assert_eq!(segment.distinct, 50);
        }
    }
}
