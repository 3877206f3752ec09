//! A verification run in steps (as the state machine's Verify task and the in-process launcher
//! run it) against a real sandbox of each API (sizes in pages of its own, 100 or 500 members): stopped after a budget of two pages and resumed from the
//! bookmarks kept in the store, it finds exactly what the one-go verification finds, a repair
//! spread over steps puts every missing member back, and what it keeps between steps holds no
//! address of a member who is not ours.

use integration_tests::apis::{self, audience_id, member_page, pages, sandbox_of, ApiKind};
use integration_tests::for_each_api;
use integration_tests::jobs::{configure, connect, export, export_deps};
use shared::app::verify::job::{self, VerificationStatus, VerifyRequest};
use shared::app::verify::{self, Verified};
use shared::destination::keys;
use shared::Deps;
use std::path::Path;

/// Writes a snapshot of `n` people `prefix-i@example.com`.
fn snapshot(dir: &Path, prefix: &str, n: usize) -> std::path::PathBuf {
    let path = dir.join(format!("{prefix}.csv"));
    let rows: String = (0..n)
        .map(|i| format!("{prefix}-{i:04}@example.com,P{i},{}\n", 20 + i % 50))
        .collect();
    std::fs::write(&path, format!("Email,First Name,age\n{rows}")).unwrap();
    path
}

/// Runs verification `id` step by step, each within `pages` requests; the result and the steps.
async fn in_steps(deps: &Deps, request: &VerifyRequest, id: &str) -> (Verified, u64) {
    loop {
        let progress = job::step(deps, request, id, request.budget())
            .await
            .expect("a step runs");
        if progress.done {
            let record = job::load(deps, &request.destination_id, id)
                .await
                .unwrap()
                .expect("the record is kept");
            assert_eq!(record.status, VerificationStatus::Succeeded, "{record:?}");
            return (record.result.expect("its result"), progress.steps);
        }
    }
}

/// Every object under the destination's verifications, as text: what the store holds at rest.
async fn at_rest(deps: &Deps, dest: &str) -> Vec<(String, String)> {
    let mut objects = Vec::new();
    for key in deps
        .store
        .list(&keys::verification_dir(dest))
        .await
        .unwrap()
    {
        let bytes = deps.store.get(&key).await.unwrap();
        objects.push((key, String::from_utf8_lossy(&bytes).into_owned()));
    }
    objects
}

/// The result without its timings, which differ from run to run.
fn untimed(mut verified: Verified) -> Verified {
    verified.seconds = 0.0;
    for list in &mut verified.lists {
        list.seconds = 0.0;
    }
    verified
}

for_each_api!(
    a_verification_stopped_after_each_two_pages_finds_what_one_go_finds
    a_failed_step_is_recorded_without_an_address_and_a_finished_one_stays_finished
    the_in_process_launcher_runs_a_started_verification_to_its_result
    a_verification_in_steps_keeps_no_foreign_address_and_finds_what_one_go_finds
    a_verification_that_fails_midway_deletes_what_it_read_and_its_key
    a_verification_begun_before_hashing_finishes_with_the_same_result
);

async fn a_verification_stopped_after_each_two_pages_finds_what_one_go_finds(api: ApiKind) {
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    let page = member_page(api);
    let n = 4 * page + 50;
    let vip = snapshot(dir.path(), "vip", n);
    let lapsed = snapshot(dir.path(), "lapsed", page + 20);
    let gone = snapshot(dir.path(), "gone", 30);
    let segments = [("VIP", vip.as_path()), ("Lapsed", &lapsed), ("Gone", &gone)];
    configure(&deps, &dest, &segments, None).await.unwrap();
    export(&deps, &dest, 200).await.expect("exported");

    // By hand: 5 VIP members removed, 3 unsubscribed, a stranger added, a list deleted.
    let vip_list = audience_id(&server, "VIP");
    for i in 0..5 {
        assert!(server.remove_member_by_hand(&vip_list, &format!("vip-{:04}@example.com", i * 90)));
    }
    for i in 0..3 {
        assert!(server.unsubscribe_by_hand(&format!("vip-{:04}@example.com", 7 + i * 100)));
    }
    server
        .add_member_by_hand(&vip_list, "stranger@elsewhere.example")
        .unwrap();
    assert!(server.delete_list_by_hand(&audience_id(&server, "Gone")));

    let one_go = verify::foreground::run(&deps, &dest, false)
        .await
        .expect("verifies");
    let vip_check = one_go.lists.iter().find(|l| l.segment == "VIP").unwrap();
    assert_eq!(
        (
            vip_check.present,
            vip_check.missing,
            vip_check.unsubscribed,
            vip_check.foreign
        ),
        (n as u64 - 5, 5, 3, 1)
    );
    assert!(one_go.lists.iter().any(|l| l.list_gone));

    let request = VerifyRequest {
        destination_id: dest.clone(),
        step_pages: Some(2),
        ..VerifyRequest::default()
    };
    let (stepped, steps) = in_steps(&deps, &request, "v-read").await;
    // 5 pages of VIP, 2 of Lapsed, 1 request for the deleted list: at two a step, at least 4.
    assert!(steps >= 4, "{steps} steps");
    assert_eq!(untimed(stepped), untimed(one_go.clone()));
    let left = deps
        .store
        .list(&keys::verification_parts(&dest, "v-read"))
        .await
        .unwrap();
    assert!(left.is_empty(), "what the steps read is deleted: {left:?}");

    // A repair over several steps (two requests each) puts the 5 back, and nothing else changes.
    let writes = server.counters().contacts_written;
    let repair = VerifyRequest {
        repair: true,
        ..request.clone()
    };
    let (repaired, _) = in_steps(&deps, &repair, "v-repair").await;
    let vip_check = repaired.lists.iter().find(|l| l.segment == "VIP").unwrap();
    assert_eq!((vip_check.missing, vip_check.repaired), (5, 5));
    let gone_check = repaired.lists.iter().find(|l| l.segment == "Gone").unwrap();
    assert_eq!(
        (gone_check.list_gone, gone_check.repaired),
        (true, 0),
        "a repair never creates a list"
    );
    assert_eq!(
        server.counters().contacts_written - writes,
        apis::membership_writes(api, 5),
        "no contact written but for its membership"
    );
    assert_eq!(
        apis::field(&server, "vip-0090@example.com", "FirstName"),
        "P90"
    );
    let after = verify::foreground::run(&deps, &dest, false).await.unwrap();
    let vip_check = after.lists.iter().find(|l| l.segment == "VIP").unwrap();
    assert_eq!(
        (vip_check.present, vip_check.missing, vip_check.unsubscribed),
        (n as u64, 0, 3)
    );
}

async fn a_failed_step_is_recorded_without_an_address_and_a_finished_one_stays_finished(
    api: ApiKind,
) {
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    let vip = snapshot(dir.path(), "vip", 20);
    configure(&deps, &dest, &[("VIP", vip.as_path())], None)
        .await
        .unwrap();
    export(&deps, &dest, 200).await.expect("exported");
    let request = VerifyRequest {
        destination_id: dest.clone(),
        ..VerifyRequest::default()
    };
    server.set_api_keys(vec!["another-key".into()]);
    let err = job::step(&deps, &request, "v1", request.budget())
        .await
        .unwrap_err();
    let kind = err.kind().as_str();
    job::fail(&deps, &dest, "v1", kind, &err.to_string())
        .await
        .unwrap();
    let record = job::load(&deps, &dest, "v1").await.unwrap().unwrap();
    assert_eq!(record.status, VerificationStatus::Failed);
    let failure = record.failure.unwrap();
    assert_eq!(failure.error_type, "Unauthorized");
    assert!(!failure.message.contains('@'), "{}", failure.message);
    // Asked again (a retried task), an ended verification answers as it ended.
    server.set_api_keys(vec![integration_tests::KEY.into()]);
    let again = job::step(&deps, &request, "v1", request.budget())
        .await
        .unwrap();
    assert_eq!(
        (again.done, again.status),
        (true, VerificationStatus::Failed)
    );
}

async fn the_in_process_launcher_runs_a_started_verification_to_its_result(api: ApiKind) {
    use shared::app::in_process::InProcess;
    use shared::app::verify::runs;
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    let n = 2 * member_page(api) + 30;
    let vip = snapshot(dir.path(), "vip", n);
    configure(&deps, &dest, &[("VIP", vip.as_path())], None)
        .await
        .unwrap();
    export(&deps, &dest, 200).await.expect("exported");
    let vip_list = audience_id(&server, "VIP");
    assert!(server.remove_member_by_hand(&vip_list, "vip-0042@example.com"));

    let launcher = InProcess::new(deps.clone(), dir.path().join("data"));
    let request = VerifyRequest {
        destination_id: dest.clone(),
        repair: true,
        step_pages: Some(1),
        ..VerifyRequest::default()
    };
    let id = runs::start(&deps, &launcher, &request)
        .await
        .expect("starts");
    let mut record = runs::status(&deps, &launcher, &dest, &id).await.unwrap();
    for _ in 0..600 {
        if record.status != VerificationStatus::Running {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        record = runs::status(&deps, &launcher, &dest, &id).await.unwrap();
    }
    assert_eq!(record.status, VerificationStatus::Succeeded, "{record:?}");
    assert!(
        record.steps >= 3,
        "three pages at one a step: {}",
        record.steps
    );
    let result = record.result.unwrap();
    assert_eq!((result.lists[0].missing, result.lists[0].repaired), (1, 1));
    assert_eq!(apis::members(&server, "VIP").len(), n);
    // Ended, the destination can be verified again.
    let next = runs::start(&deps, &launcher, &request)
        .await
        .expect("starts again");
    assert_ne!(next, id);
}

async fn a_verification_in_steps_keeps_no_foreign_address_and_finds_what_one_go_finds(
    api: ApiKind,
) {
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    let n = 2 * member_page(api) + 50;
    let vip = snapshot(dir.path(), "vip", n);
    configure(&deps, &dest, &[("VIP", vip.as_path())], None)
        .await
        .unwrap();
    export(&deps, &dest, 200).await.expect("exported");
    // By hand: 130 strangers added (two of them unsubscribed), 2 of ours removed, 1 unsubscribed.
    let vip_list = audience_id(&server, "VIP");
    let strangers: Vec<String> = (0..130)
        .map(|i| format!("Stranger-{i:03}@Elsewhere.example"))
        .collect();
    for stranger in &strangers {
        server.add_member_by_hand(&vip_list, stranger).unwrap();
    }
    assert!(server.unsubscribe_by_hand(&strangers[3]));
    assert!(server.unsubscribe_by_hand(&strangers[4]));
    assert!(server.remove_member_by_hand(&vip_list, "vip-0010@example.com"));
    assert!(server.remove_member_by_hand(&vip_list, "vip-0020@example.com"));
    assert!(server.unsubscribe_by_hand("vip-0030@example.com"));
    let one_go = verify::foreground::run(&deps, &dest, false)
        .await
        .expect("verifies");
    let check = &one_go.lists[0];
    assert_eq!(
        (
            check.present,
            check.missing,
            check.unsubscribed,
            check.foreign
        ),
        (n as u64 - 2, 2, 1, 130)
    );
    assert_eq!(check.samples.foreign, ["s***@elsewhere.example"; 3]);

    // One page a step (Autopilot: 4 pages; Ortto: 3): what is at rest is read after every step.
    let read = pages(api, n - 2 + 130);
    let request = VerifyRequest {
        destination_id: dest.clone(),
        step_pages: Some(1),
        ..VerifyRequest::default()
    };
    let (mut steps, mut parts_seen) = (0, 0);
    loop {
        let progress = job::step(&deps, &request, "v-hashed", request.budget())
            .await
            .expect("a step runs");
        steps += 1;
        for (key, text) in at_rest(&deps, &dest).await {
            let lower = text.to_lowercase();
            assert!(
                !lower.contains("tranger-"),
                "{key} holds a foreign address after step {steps}"
            );
            parts_seen += usize::from(key.contains("/v-hashed/"));
        }
        if progress.done {
            break;
        }
    }
    assert!(steps >= read, "{steps} steps");
    assert!(
        parts_seen as u64 >= read - 1,
        "members read were kept between steps"
    );
    let record = job::load(&deps, &dest, "v-hashed").await.unwrap().unwrap();
    assert_eq!(record.status, VerificationStatus::Succeeded, "{record:?}");
    assert!(record.member_key.is_empty(), "the key goes with the hashes");
    assert_eq!(untimed(record.result.unwrap()), untimed(one_go));
    assert!(deps
        .store
        .list(&keys::verification_parts(&dest, "v-hashed"))
        .await
        .unwrap()
        .is_empty());
}

async fn a_verification_that_fails_midway_deletes_what_it_read_and_its_key(api: ApiKind) {
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    // Three pages: two are read before it fails.
    let vip = snapshot(dir.path(), "vip", 2 * member_page(api) + 50);
    configure(&deps, &dest, &[("VIP", vip.as_path())], None)
        .await
        .unwrap();
    export(&deps, &dest, 200).await.expect("exported");
    let vip_list = audience_id(&server, "VIP");
    server
        .add_member_by_hand(&vip_list, "stranger@elsewhere.example")
        .unwrap();
    let request = VerifyRequest {
        destination_id: dest.clone(),
        step_pages: Some(1),
        ..VerifyRequest::default()
    };
    for _ in 0..2 {
        let progress = job::step(&deps, &request, "v-cut", request.budget())
            .await
            .unwrap();
        assert!(!progress.done);
    }
    let parts = keys::verification_parts(&dest, "v-cut");
    assert_eq!(deps.store.list(&parts).await.unwrap().len(), 2);
    let running = job::load(&deps, &dest, "v-cut").await.unwrap().unwrap();
    assert_eq!(
        running.member_key.len(),
        64,
        "the key is kept while it runs"
    );

    job::fail(&deps, &dest, "v-cut", "Transient", "the API went away")
        .await
        .unwrap();
    assert!(deps.store.list(&parts).await.unwrap().is_empty());
    let record = job::load(&deps, &dest, "v-cut").await.unwrap().unwrap();
    assert_eq!(record.status, VerificationStatus::Failed);
    assert!(
        record.member_key.is_empty(),
        "the key goes with what was read"
    );
}

/// A verification that began before members were hashed: its record has no key and its first
/// part holds addresses. It goes on and finds what a verification in one go finds.
async fn a_verification_begun_before_hashing_finishes_with_the_same_result(api: ApiKind) {
    let server = sandbox_of(api, |c| c.rate(10_000.0)).await;
    let dir = tempfile::tempdir().unwrap();
    let deps = export_deps(dir.path());
    let dest = connect(&deps, &server, 10_000.0).await;
    let (page, n) = (member_page(api), member_page(api) + 150);
    let vip = snapshot(dir.path(), "vip", n);
    configure(&deps, &dest, &[("VIP", vip.as_path())], None)
        .await
        .unwrap();
    export(&deps, &dest, 200).await.expect("exported");
    let vip_list = audience_id(&server, "VIP");
    for i in 0..20 {
        let stranger = format!("stranger-{i}@elsewhere.example");
        server.add_member_by_hand(&vip_list, &stranger).unwrap();
    }
    assert!(server.unsubscribe_by_hand("vip-0005@example.com"));
    assert!(server.remove_member_by_hand(&vip_list, "vip-0200@example.com"));
    let one_go = verify::foreground::run(&deps, &dest, false).await.unwrap();

    let request = VerifyRequest {
        destination_id: dest.clone(),
        step_pages: Some(1),
        ..VerifyRequest::default()
    };
    job::step(&deps, &request, "v-old", request.budget())
        .await
        .unwrap();
    // The first page (ours only: the strangers came last) as the older steps stored it.
    let part = keys::verification_members(&dest, "v-old", 0, 1);
    let seen: serde_json::Value =
        serde_json::from_slice(&deps.store.get(&part).await.unwrap()).unwrap();
    assert_eq!(seen["foreign"], serde_json::json!([]), "{seen}");
    let by_hash: std::collections::HashMap<u64, String> = (0..n)
        .map(|i| format!("vip-{i:04}@example.com"))
        .map(|e| (shared::baseline::key_hash(&e), e))
        .collect();
    let plain: Vec<(String, bool)> = (seen["ours"].as_array().unwrap().iter())
        .map(|m| (by_hash[&m[0].as_u64().unwrap()].clone(), m[1] == true))
        .collect();
    assert_eq!(plain.len(), page);
    shared::store::put_json(deps.store.as_ref(), &part, &plain)
        .await
        .unwrap();
    let mut record = job::load(&deps, &dest, "v-old").await.unwrap().unwrap();
    record.member_key.clear();
    let key = keys::verification(&dest, "v-old");
    shared::store::put_json(deps.store.as_ref(), &key, &record)
        .await
        .unwrap();

    let (result, _) = in_steps(&deps, &request, "v-old").await;
    assert_eq!(untimed(result), untimed(one_go));
}
