//! The light verify after an export, against a real sandbox of each API tampered with by hand:
//! on a list (Ortto: tag) short enough to be read whole its findings are exact, a list deleted
//! while the export ran is reported gone, an API that fails leaves the lists "not checked"
//! without failing the export, and 0 pages sends nothing.

use integration_tests::apis::{audience_id, lookups, member_page, pages, sandbox_of, ApiKind};
use integration_tests::for_each_api;
use integration_tests::jobs::{configure, connect, export, export_deps};
use sandbox::{Faults, Sandbox};
use shared::app::exports;
use shared::jobs::configure::set_verify_pages;
use shared::jobs::finalize::{self, Report, Status};
use shared::jobs::{plan, upload_chunk};
use shared::Deps;
use std::path::Path;

/// `n` rows `person-i@example.com`.
fn snapshot(dir: &Path, n: usize) -> std::path::PathBuf {
    let path = dir.join("vip.csv");
    let mut text = String::from("Email,First Name,age\n");
    for i in 0..n {
        text.push_str(&format!("person-{i}@example.com,P{i},{i}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// A destination on `sandbox` with one segment `VIP` of `n` profiles.
async fn destination(deps: &Deps, sandbox: &Sandbox, dir: &Path, n: usize) -> String {
    let dest = connect(deps, sandbox, 5_000.0).await;
    let path = snapshot(dir, n);
    configure(deps, &dest, &[("VIP", &path)], None)
        .await
        .unwrap();
    dest
}

/// Plans and uploads an export of `dest`, leaving finalize to the caller; its id.
async fn upload(deps: &Deps, dest: &str) -> String {
    let planned = plan::run(
        plan::Input {
            destination_id: dest.into(),
            ..plan::Input::default()
        },
        deps,
    )
    .await
    .unwrap();
    for chunk in planned.chunks {
        upload_chunk::run(
            upload_chunk::Input {
                destination_id: dest.into(),
                export_id: planned.export_id.clone(),
                chunk,
                requests_per_second: None,
                deadline: None,
                on_request: None,
            },
            deps,
        )
        .await
        .unwrap();
    }
    planned.export_id
}

async fn finalize(deps: &Deps, dest: &str, export: &str) -> Report {
    finalize::run(
        finalize::Input {
            destination_id: dest.into(),
            export_id: export.into(),
            failure: None,
        },
        deps,
    )
    .await
    .unwrap();
    exports::report(deps, dest, export).await.unwrap()
}

for_each_api!(
    a_short_list_is_read_whole_and_its_findings_are_exact
    a_sample_of_a_long_list_counts_what_it_read_and_no_missing
    a_list_deleted_during_the_export_is_reported_gone
    an_api_that_fails_leaves_the_lists_not_checked_and_the_export_as_it_was
    no_pages_means_no_request
);

async fn a_short_list_is_read_whole_and_its_findings_are_exact(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let dest = destination(&deps, &sandbox, dir.path(), 150).await;
    let first = export(&deps, &dest, 1_000).await.unwrap();
    // Autopilot: two pages of 100; Ortto: one of 500, after looking the tag's id up.
    let (pages, reads) = (pages(api, 150), pages(api, 150) + lookups(api));
    let pages = u32::try_from(pages).unwrap();
    assert_eq!(first.status, Status::Succeeded);
    let light = first
        .light_verify
        .clone()
        .expect("a light verify by default");
    let list = &light.lists[0];
    assert_eq!(
        (list.pages, list.members, list.unsubscribed, list.foreign),
        (pages, 150, 0, 0)
    );
    assert!(list.whole_list && !list.list_gone && list.not_checked.is_none());
    assert_eq!(list.missing, Some(0));
    assert_eq!(
        light.requests, reads,
        "the pages, at a rate that throttles nothing"
    );
    assert_eq!(
        first.requests,
        2 + reads,
        "two sends of 100 and 50, then the reads"
    );
    assert!(light.note.contains("run `verify` for a full count"));

    // By hand: 3 members taken off, 2 unsubscribed, 4 added by someone else.
    let list_id = audience_id(&sandbox, "VIP");
    for i in 0..3 {
        assert!(sandbox.remove_member_by_hand(&list_id, &format!("person-{i}@example.com")));
    }
    for i in 10..12 {
        assert!(sandbox.unsubscribe_by_hand(&format!("person-{i}@example.com")));
    }
    for i in 0..4 {
        sandbox
            .add_member_by_hand(&list_id, &format!("other-{i}@example.com"))
            .unwrap();
    }
    let second = export(&deps, &dest, 1_000).await.unwrap();
    let light = second.light_verify.expect("a light verify");
    let list = &light.lists[0];
    assert_eq!(
        (list.pages, list.members, list.unsubscribed, list.foreign),
        (pages, 151, 2, 4)
    );
    assert_eq!(list.missing, Some(3), "the whole list was read");
    assert_eq!(
        second.requests, light.requests,
        "nothing changed: nothing sent"
    );
    let cost = second.cost.expect("a cost estimate");
    assert!(cost.total_usd > 0.0 && cost.total_usd < 0.01, "{cost:?}");
}

async fn a_sample_of_a_long_list_counts_what_it_read_and_no_missing(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let page = member_page(api);
    let dest = destination(&deps, &sandbox, dir.path(), page + 150).await;
    set_verify_pages(&deps, &dest, 1).await.unwrap();
    let report = export(&deps, &dest, 1_000).await.unwrap();
    let list = &report.light_verify.expect("a light verify").lists[0];
    assert_eq!((list.pages, list.members), (1, page as u64));
    assert!(!list.whole_list);
    assert_eq!(list.missing, None, "a sample cannot count missing members");
}

async fn a_list_deleted_during_the_export_is_reported_gone(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let dest = destination(&deps, &sandbox, dir.path(), 20).await;
    let export_id = upload(&deps, &dest).await;
    assert!(sandbox.delete_list_by_hand(&audience_id(&sandbox, "VIP")));
    let report = finalize(&deps, &dest, &export_id).await;
    assert_eq!(report.status, Status::Succeeded, "what was sent did land");
    let light = report.light_verify.expect("a light verify");
    assert!(light.lists[0].list_gone);
    assert_eq!(light.lists[0].missing, Some(20));
    assert_eq!(light.gone().count(), 1);
}

async fn an_api_that_fails_leaves_the_lists_not_checked_and_the_export_as_it_was(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let dest = destination(&deps, &sandbox, dir.path(), 20).await;
    let export_id = upload(&deps, &dest).await;
    sandbox.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let report = finalize(&deps, &dest, &export_id).await;
    assert_eq!(report.status, Status::Succeeded);
    assert_eq!(report.totals.sent, 20);
    let list = &report.light_verify.expect("a light verify").lists[0];
    let why = list.not_checked.as_deref().expect("not checked");
    assert!(why.starts_with("Transient"), "{why}");
    assert!(!why.contains('@'), "{why}");
    assert_eq!((list.pages, list.members), (0, 0));
}

async fn no_pages_means_no_request(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let dest = destination(&deps, &sandbox, dir.path(), 20).await;
    set_verify_pages(&deps, &dest, 0).await.unwrap();
    let export_id = upload(&deps, &dest).await;
    let before = sandbox.counters().requests;
    let report = finalize(&deps, &dest, &export_id).await;
    assert_eq!(sandbox.counters().requests, before, "finalize sent nothing");
    assert!(report.light_verify.is_none());
    assert_eq!(report.requests, 1, "the one send of 20 contacts");
}
