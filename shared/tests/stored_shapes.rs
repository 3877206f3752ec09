//! Every document the release before the audience-API port stored reads through today's types
//! (`tests/fixtures/release-before-port`: a destination, a baseline, a plan, a chunk, a chunk's
//! partial progress and its result, a report, a verification in progress), means what it meant
//! then, and is written back in today's neutral names.

use shared::app::verify::job::{Verification, VerificationStatus};
use shared::audience_api::ApiKind;
use shared::baseline::Baseline;
use shared::destination::Destination;
use shared::jobs::finalize::{Report, Status};
use shared::jobs::plan::{ChunkFile, ChunkKind, Plan};
use shared::jobs::upload_chunk::{self, ChunkResult, Partial, Request};
use std::path::{Path, PathBuf};

const INTERRUPTED: &str = "20261206T203839Z-3ef081";
const SECOND: &str = "20261206T203839Z-ec4ab1";

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/release-before-port")
        .join(path)
}

fn read<T: serde::de::DeserializeOwned>(path: &str) -> T {
    let bytes = std::fs::read(fixture(path)).unwrap();
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn written(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn a_destination_speaks_autopilot_at_the_url_it_stored() {
    let destination: Destination = read("finished/data/destinations/shop.json");
    assert_eq!(destination.api, ApiKind::Autopilot);
    assert_eq!(destination.api_url, "{SANDBOX_URL}");
    assert_eq!(destination.account_id.as_deref(), Some("1"));
    assert_eq!(destination.account_name.as_deref(), Some("Sandbox Inc."));
    assert_eq!(destination.segments.len(), 2);
    let text = written(&destination);
    assert!(
        text.contains(r#""api":"autopilot""#) && text.contains(r#""api_url":"{SANDBOX_URL}""#),
        "{text}"
    );
    assert!(!text.contains("autopilot_url"), "{text}");
    let back: Destination = serde_json::from_str(&text).unwrap();
    assert_eq!(back, destination);
}

#[test]
fn a_baseline_records_each_segments_audience() {
    let baseline: Baseline = read("finished/data/state/shop/baseline.json");
    assert_eq!(baseline.export_id, SECOND);
    let vip = &baseline.segments["VIP"];
    assert_eq!(vip.audience_id, "contactlist_00000001");
    assert_eq!(vip.contacts.len(), 141);
    assert!(vip.added_by_us("person010@example.com"));
    assert!(
        !vip.added_by_us("person000@example.com"),
        "left in the second export"
    );
    assert!(vip.foreign.contains("stranger@example.com"));
    assert!(!vip.added_by_us("stranger@example.com"));
    assert_eq!(
        baseline.segments["Lapsed"].audience_id,
        "contactlist_00000002"
    );
    let text = written(&baseline);
    assert!(
        text.contains(r#""audience_id":"contactlist_00000001""#),
        "stored anew"
    );
    assert!(!text.contains("list_id"));
    assert_eq!(serde_json::from_str::<Baseline>(&text).unwrap(), baseline);
}

#[test]
fn a_plan_is_cut_into_requests_as_autopilot_always_cut_them() {
    let plan: Plan = read(&format!(
        "interrupted/data/exports/shop/{INTERRUPTED}/plan.json"
    ));
    assert_eq!(plan.limits, ApiKind::Autopilot.limits());
    let vip = &plan.segments[0];
    assert_eq!(
        (vip.audience_id.as_str(), vip.audience_created),
        ("contactlist_00000001", false)
    );
    assert_eq!((vip.adds, vip.updates, vip.removals), (151, 15, 5));
    let kinds: Vec<(ChunkKind, u32)> = plan.chunks.iter().map(|c| (c.kind, c.contacts)).collect();
    assert_eq!(
        kinds,
        [
            (ChunkKind::Add, 151),
            (ChunkKind::Update, 15),
            (ChunkKind::Add, 1),
            (ChunkKind::Remove, 5)
        ]
    );
    let text = written(&plan);
    assert!(
        text.contains(r#""audience_id""#) && text.contains(r#""limits""#),
        "{text}"
    );
}

#[test]
fn a_chunk_stopped_mid_way_goes_on_from_its_progress() {
    let export = format!("interrupted/data/exports/shop/{INTERRUPTED}");
    let plan: Plan = read(&format!("{export}/plan.json"));
    let chunk: ChunkFile = read(&format!("{export}/chunks/000000.json"));
    assert_eq!((chunk.kind, chunk.contacts.len()), (ChunkKind::Add, 151));
    let requests = upload_chunk::requests(&chunk, &plan.limits);
    assert_eq!(
        requests,
        [
            Request {
                removals: 0..0,
                contacts: 0..100
            },
            Request {
                removals: 0..0,
                contacts: 100..151
            }
        ]
    );
    let partial: Partial = read(&format!("{export}/partial/000000.json"));
    assert_eq!(
        partial
            .done_requests(&requests)
            .into_iter()
            .collect::<Vec<_>>(),
        [0]
    );
    assert_eq!(
        (partial.result.sent, partial.result.kind),
        (100, ChunkKind::Add)
    );
    let removals: ChunkFile = read(&format!("{export}/chunks/000003.json"));
    assert_eq!(upload_chunk::requests(&removals, &plan.limits).len(), 5);
    let result: ChunkResult = read(&format!("{export}/results/000001.json"));
    assert_eq!(
        (result.kind, result.sent, result.removed),
        (ChunkKind::Update, 15, 0)
    );
}

#[test]
fn a_report_reads_as_it_was_written() {
    let report: Report = read(&format!("finished/data/exports/shop/{SECOND}/report.json"));
    assert_eq!(report.status, Status::PartiallySucceeded);
    assert_eq!(
        (report.totals.sent, report.totals.removed, report.requests),
        (11, 9, 16)
    );
    assert_eq!(report.segments[0].list_id, "contactlist_00000001");
    let removed: ChunkResult = read(&format!(
        "finished/data/exports/shop/{SECOND}/results/000003.json"
    ));
    assert_eq!((removed.kind, removed.removed), (ChunkKind::Remove, 9));
}

#[test]
fn a_verification_in_progress_keeps_its_cursor_and_counts() {
    let record: Verification =
        read("finished/data/state/shop/verification/20261206T203839Z-823681-verify.json");
    assert_eq!(record.status, VerificationStatus::Running);
    assert_eq!(record.export_id, SECOND);
    let lapsed = &record.lists[0];
    assert_eq!(
        (lapsed.segment.as_str(), lapsed.audience_id.as_str()),
        ("Lapsed", "contactlist_00000002")
    );
    assert_eq!(lapsed.read.cursor.as_deref(), Some("person_000000000200"));
    assert_eq!((lapsed.read.pages, lapsed.read.members), (1, 100));
    assert!(!lapsed.read.done && !lapsed.read.gone);
    let vip = &record.lists[1];
    assert_eq!((vip.read.cursor.as_deref(), vip.read.pages), (None, 0));
    assert!(!record.member_key.is_empty());
    let progress = record.progress();
    assert_eq!(
        (progress.lists, progress.lists_read, progress.pages),
        (2, 0, 1)
    );
    let text = written(&record);
    assert!(text.contains(r#""cursor":"person_000000000200""#), "{text}");
    let back: Verification = serde_json::from_str(&text).unwrap();
    assert_eq!(back, record);
}
