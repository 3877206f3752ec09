//! Data folders written by the release before the audience-API port
//! (`tests/fixtures/release-before-port`, see its README) work unchanged: their history reads as
//! it was written, a verification stopped mid-way resumes and finishes, an
//! interrupted export resumes where it stopped and sends only what it had not sent, and the next
//! export is incremental against the old baseline.

use integration_tests::jobs::export_deps;
use integration_tests::sandbox;
use sandbox::Sandbox;
use shared::app::exports;
use shared::app::in_process::InProcess;
use shared::app::local_export;
use shared::app::verify::job::{VerificationStatus, VerifyRequest};
use shared::app::verify::{self, runs};
use shared::baseline;
use shared::jobs::finalize::Status;
use shared::Deps;
use std::path::{Path, PathBuf};
use std::time::Duration;

const FINISHED: [&str; 2] = ["20261206T203838Z-08d586", "20261206T203839Z-ec4ab1"];
const INTERRUPTED: &str = "20261206T203839Z-3ef081";
const STRANGER: &str = "stranger@example.com";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/release-before-port")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The fixture folder `name` copied into `dir`, pointed at `sandbox`: the one file that says
/// where things are (the destination) gets the sandbox's URL and the copy's path back, and the
/// secrets folder is made private again (git keeps no folder permissions).
fn install(name: &str, dir: &Path, sandbox: &Sandbox) -> Deps {
    copy_dir(&fixture(name), dir);
    let destination = dir.join("data/destinations/shop.json");
    let text = std::fs::read_to_string(&destination).unwrap();
    let text = text
        .replace("{SANDBOX_URL}", &sandbox.base_url())
        .replace("{FIXTURE_DIR}", &dir.display().to_string());
    std::fs::write(&destination, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let secrets = dir.join("data/secrets");
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(
            secrets.join("shop.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
    }
    export_deps(dir)
}

/// The sandbox as the old exports left it: each list of the baseline, created in id order so it
/// gets the id the baseline records, holding the members the baseline records, and the member
/// someone added to VIP by hand; plus `landed` (addresses an interrupted export already sent).
async fn rebuild(deps: &Deps, sandbox: &Sandbox, landed: &[String]) {
    let base = baseline::load(deps.store.as_ref(), "shop")
        .await
        .unwrap()
        .expect("the old baseline reads");
    let mut lists: Vec<(&String, &baseline::SegmentBaseline)> = base.segments.iter().collect();
    lists.sort_by(|a, b| a.1.audience_id.cmp(&b.1.audience_id));
    for (name, segment) in lists {
        let id = sandbox.create_list(name);
        assert_eq!(id, segment.audience_id, "{name}");
        for email in segment.contacts.keys() {
            sandbox.add_member_by_hand(&id, email).unwrap();
        }
        if name == "VIP" {
            sandbox.add_member_by_hand(&id, STRANGER).unwrap();
            for email in landed {
                sandbox.add_member_by_hand(&id, email).unwrap();
            }
        }
    }
}

/// An export of `shop` that keeps every past export (the fixtures' are older than the default
/// retention period by the time the test runs).
async fn export(deps: &Deps) -> shared::jobs::finalize::Report {
    let options = local_export::Options {
        keep_exports_days: 100 * 365,
        ..local_export::Options::new("shop")
    };
    local_export::run(deps, &options, &|_| {}).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finished_data_folder_shows_its_history_resumes_its_verification_and_exports() {
    let server = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = install("finished", dir.path(), &server);
    rebuild(&deps, &server, &[]).await;

    let history = exports::history(&deps, "shop").await.unwrap();
    let ids: Vec<&str> = history.iter().map(|r| r.export_id.as_str()).collect();
    assert_eq!(ids, [FINISHED[1], FINISHED[0]]);
    let totals: Vec<(Status, u64, u64, u64, u64)> = history
        .iter()
        .map(|r| {
            let t = &r.totals;
            (r.status, t.sent, t.unchanged, t.removed, t.rejected)
        })
        .collect();
    assert_eq!(
        totals,
        [
            (Status::PartiallySucceeded, 11, 261, 9, 2),
            (Status::PartiallySucceeded, 281, 0, 0, 2)
        ]
    );
    assert_eq!(history[0].requests, 16);
    assert_eq!(history[1].segments[0].list_id, "contactlist_00000001");

    // The verification the old release left after its first page resumes under its own id.
    let launcher = InProcess::new(deps.clone(), dir.path().join("data"));
    let request = VerifyRequest {
        destination_id: "shop".into(),
        ..VerifyRequest::default()
    };
    let id = runs::start(&deps, &launcher, &request).await.unwrap();
    assert_eq!(id, "20261206T203839Z-823681-verify");
    let record = loop {
        let record = runs::status(&deps, &launcher, "shop", &id).await.unwrap();
        if record.status != VerificationStatus::Running {
            break record;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Its first step read Lapsed's first page from the old server; a bookmark is the server's
    // own, so on this rebuilt one the rest of Lapsed only has to add up. VIP, not read yet, is
    // read whole.
    let found = record.result.expect("the verification finished");
    let lapsed = &found.lists[0];
    assert_eq!((lapsed.segment.as_str(), lapsed.expected), ("Lapsed", 131));
    assert_eq!(lapsed.present + lapsed.missing, lapsed.expected);
    let vip = &found.lists[1];
    assert_eq!(
        (vip.segment.as_str(), vip.expected, vip.present, vip.foreign),
        ("VIP", 141, 141, 1)
    );

    // Nothing changed: only the contacts refused every time are sent again.
    let unchanged = export(&deps).await;
    assert_eq!(
        (
            unchanged.totals.sent,
            unchanged.totals.rejected,
            unchanged.totals.unchanged
        ),
        (0, 2, 272)
    );
    // Three VIPs leave: taken off their list; the member added by hand stays.
    let vip = dir.path().join("snapshots/vip.csv");
    let text = std::fs::read_to_string(&vip).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| {
            !["person020", "person021", "person022"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&vip, kept).unwrap();
    let refreshed = export(&deps).await;
    assert_eq!(refreshed.totals.removed, 3);
    let members = integration_tests::jobs::members(&server, "VIP");
    assert!(members.contains(STRANGER));
    assert!(!members.contains("person020@example.com"));
    assert_eq!(members.len(), 141 - 3 + 1);
    let ids: Vec<String> = exports::history(&deps, "shop")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.export_id)
        .collect();
    assert_eq!(&ids[2..], [FINISHED[1], FINISHED[0]]);
    let verified = verify::foreground::run(&deps, "shop", false).await.unwrap();
    assert!(verified.in_place(), "{verified:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_export_resumes_where_the_old_release_stopped() {
    let server = sandbox(|c| c).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = install("interrupted", dir.path(), &server);
    // What the old run sent before it stopped: the first request of chunk 0 (its first 100
    // contacts); chunk 1 renamed VIPs already on the list.
    let chunk: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(format!(
            "data/exports/shop/{INTERRUPTED}/chunks/000000.json"
        )))
        .unwrap(),
    )
    .unwrap();
    let landed: Vec<String> = chunk["contacts"].as_array().unwrap()[..100]
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    rebuild(&deps, &server, &landed).await;
    let before = server.counters().contacts_written;

    let report = export(&deps).await;
    assert_eq!(report.export_id, INTERRUPTED);
    assert_eq!(report.status, Status::PartiallySucceeded);
    let t = &report.totals;
    assert_eq!((t.sent, t.rejected, t.removed, t.unsent), (165, 2, 5, 0));
    // Only the rest of chunk 0 was written (51 contacts, one of them refused); chunk 2's one
    // contact is refused too.
    assert_eq!(server.counters().contacts_written - before, 50);
    let members = integration_tests::jobs::members(&server, "VIP");
    assert!(members.contains("person449@example.com"));
    assert!(!members.contains("person010@example.com"));
    let verified = verify::foreground::run(&deps, "shop", false).await.unwrap();
    assert!(verified.in_place(), "{verified:?}");
    let history = exports::history(&deps, "shop").await.unwrap();
    assert_eq!(history.len(), 3);
}
