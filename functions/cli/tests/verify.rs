//! `verify` and `history` as a user runs them, against a real sandbox whose lists are tampered
//! with by hand: members removed, contacts unsubscribed, a stranger added, a list deleted and
//! recreated. Counts are asserted exactly; a repair writes list membership and nothing else. An
//! Ortto destination's export and verify speak of Ortto and its tags.

mod common;

use common::{cli, configure_segment, text, KEY};
use serde_json::Value;
use std::path::Path;

/// The first `n` addresses of a segment's snapshot.
fn emails(prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("{prefix}{i:04}@example.com"))
        .collect()
}

/// Connects the sandbox at `url` as `main` and configures `VIP` (20 profiles) and `Lapsed` (10).
fn vip_and_lapsed(dir: &Path, url: &str) -> std::path::PathBuf {
    let data = dir.join("data");
    let mut segments = Vec::new();
    for (name, prefix, n) in [("VIP", "vip", 20), ("Lapsed", "lapsed", 10)] {
        let path = dir.join(format!("{prefix}.csv"));
        let rows: String = emails(prefix, n)
            .iter()
            .map(|e| format!("{e},Name\n"))
            .collect();
        std::fs::write(&path, format!("email,first\n{rows}")).unwrap();
        segments.push(format!("{name}={}", path.display()));
    }
    let connect = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        url,
    ];
    let out = cli(&data, &connect, Some(KEY));
    assert!(out.status.success(), "{}", text(&out));
    let configure = [
        "configure",
        "main",
        "--email-field",
        "email",
        "--first-name-field",
        "first",
        "--segment",
        &segments[0],
        "--segment",
        &segments[1],
    ];
    let out = cli(&data, &configure, None);
    assert!(out.status.success(), "{}", text(&out));
    data
}

/// Runs `verify` with `--json` (and `extra`), checks its exit status, returns the document.
fn verify_json(data: &Path, extra: &[&str], status: i32) -> Value {
    let mut args = vec!["--json", "verify", "main"];
    args.extend(extra);
    let out = cli(data, &args, None);
    assert_eq!(out.status.code(), Some(status), "{}", text(&out));
    let all = text(&out);
    assert!(
        !all.contains("vip0") && !all.contains("lapsed0"),
        "addresses are masked: {all}"
    );
    assert!(!all.contains(KEY) && !all.contains("panicked"), "{all}");
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn list<'a>(verified: &'a Value, segment: &str) -> &'a Value {
    verified["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["segment"] == segment)
        .unwrap_or_else(|| panic!("{segment} in {verified}"))
}

/// `expected, present, missing, unsubscribed, foreign, list_gone` of a list.
fn counts(list: &Value) -> (u64, u64, u64, u64, u64, bool) {
    let n = |k: &str| list[k].as_u64().unwrap_or_else(|| panic!("{k} in {list}"));
    let gone = list["list_gone"].as_bool().unwrap();
    (
        n("expected"),
        n("present"),
        n("missing"),
        n("unsubscribed"),
        n("foreign"),
        gone,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reports_what_was_done_by_hand_and_repair_puts_back_membership_only() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = vip_and_lapsed(dir.path(), &server.base_url());
    let out = cli(&data, &["export", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Untouched: everything in place, one page per list.
    let verified = verify_json(&data, &[], 0);
    assert_eq!(counts(list(&verified, "VIP")), (20, 20, 0, 0, 0, false));
    assert_eq!(counts(list(&verified, "Lapsed")), (10, 10, 0, 0, 0, false));
    assert_eq!(verified["requests"], 2, "{verified}");
    assert!(verified["seconds"].as_f64().is_some(), "{verified}");

    // By hand: 5 VIP members removed, 3 others unsubscribed, a stranger added.
    let vip_list = server.state().list("VIP").unwrap().list_id.clone();
    let vip = emails("vip", 20);
    for email in &vip[..5] {
        assert!(server.remove_member_by_hand(&vip_list, email));
    }
    for email in &vip[5..8] {
        assert!(server.unsubscribe_by_hand(email));
    }
    server
        .add_member_by_hand(&vip_list, "stranger@elsewhere.example")
        .unwrap();

    let verified = verify_json(&data, &[], 3);
    let found = list(&verified, "VIP");
    assert_eq!(counts(found), (20, 15, 5, 3, 1, false));
    assert_eq!(found["list_id"], vip_list.as_str());
    assert_eq!(found["samples"]["missing"][0], "v***@example.com");
    assert_eq!(found["samples"]["missing"].as_array().unwrap().len(), 3);
    assert_eq!(found["samples"]["foreign"][0], "s***@elsewhere.example");
    assert_eq!(counts(list(&verified, "Lapsed")), (10, 10, 0, 0, 0, false));

    // The text form: a table, the samples, the cost, and one line on stderr saying what to run.
    let out = cli(&data, &["verify", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "missing",
        "unsubscribed",
        "foreign",
        "VIP: missing, e.g. v***@example.com",
        "requests in",
    ] {
        assert!(said.contains(expected), "{expected} in {said}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("5 member(s) are missing") && stderr.contains("verify main --repair"),
        "{stderr}"
    );

    // Repair: the 5 are back, the 3 stay unsubscribed, no contact was written.
    let before = server.counters();
    let contacts_before = server.state().contacts;
    let verified = verify_json(&data, &["--repair"], 0);
    let found = list(&verified, "VIP");
    assert_eq!(counts(found), (20, 15, 5, 3, 1, false));
    assert_eq!(
        (found["repaired"].as_u64(), found["not_repaired"].as_u64()),
        (Some(5), Some(0))
    );
    let after = server.counters();
    assert_eq!(after.contacts_written, before.contacts_written, "no upsert");
    assert_eq!(after.consent_fields_received, 0, "no subscription field");
    assert_eq!(
        server.state().contacts,
        contacts_before,
        "no contact field changed"
    );
    let members = server.state().list("VIP").unwrap().members.clone();
    assert_eq!(members.len(), 21);
    assert!(vip[..5].iter().all(|e| members.contains(e)));
    let verified = verify_json(&data, &[], 0);
    assert_eq!(counts(list(&verified, "VIP")), (20, 20, 0, 3, 1, false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_list_is_reported_gone_and_then_recreated() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = vip_and_lapsed(dir.path(), &server.base_url());
    let out = cli(&data, &["export", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // While an export runs (its lock held, no report yet), a verification is refused, with or
    // without repair, as through the API: the lists and the baseline are changing under it.
    let running = data.join("exports/main/running.json");
    let lock = r#"{"export_id": "20261130T000000Z-000001", "started_at": "2026-11-30T00:00:00Z"}"#;
    std::fs::write(&running, lock).unwrap();
    for extra in [&["--repair"][..], &[]] {
        let mut args = vec!["--json", "verify", "main"];
        args.extend(extra);
        let out = cli(&data, &args, None);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(refused["error"]["type"], "ExportRunning", "{refused}");
    }
    std::fs::remove_file(&running).unwrap();
    verify_json(&data, &[], 0);

    let lapsed_list = server.state().list("Lapsed").unwrap().list_id.clone();
    assert!(server.delete_list_by_hand(&lapsed_list));
    let verified = verify_json(&data, &["--repair"], 3);
    let gone = list(&verified, "Lapsed");
    assert_eq!(counts(gone), (10, 0, 10, 0, 0, true));
    assert_eq!(gone["repaired"], 0, "a repair never creates a list");
    assert!(gone.get("recreated_as").is_none(), "{gone}");
    assert_eq!(counts(list(&verified, "VIP")), (20, 20, 0, 0, 0, false));
    assert!(server.state().list("Lapsed").is_none());

    let recreated = server.create_list("Lapsed");
    let out = cli(&data, &["verify", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains(&format!("a list of that name exists as {recreated}")),
        "{said}"
    );
    assert!(said.contains("list(s) of Lapsed are gone"), "{said}");
    let verified = verify_json(&data, &[], 3);
    assert_eq!(
        list(&verified, "Lapsed")["recreated_as"],
        recreated.as_str()
    );

    // The next export fills the recreated list, and then everything is in place again.
    let out = cli(&data, &["export", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let verified = verify_json(&data, &[], 0);
    let lapsed = list(&verified, "Lapsed");
    assert_eq!(counts(lapsed), (10, 10, 0, 0, 0, false));
    assert_eq!(lapsed["list_id"], recreated.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_every_export_newest_first_and_who_changed_the_destination() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = vip_and_lapsed(dir.path(), &server.base_url());

    let out = cli(&data, &["history", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("main has not been exported yet"),
        "{}",
        text(&out)
    );
    let out = cli(&data, &["--json", "verify", "main"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let refused: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(refused["error"]["type"], "NotFound", "{refused}");

    let mut ids = Vec::new();
    for args in [
        &["export", "main"][..],
        &["export", "main", "--full"],
        &["export", "main"],
    ] {
        let mut json = vec!["--json"];
        json.extend(args);
        let out = cli(&data, &json, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        ids.push(report["export_id"].as_str().unwrap().to_string());
    }
    ids.reverse();

    let out = cli(&data, &["--json", "history", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let history: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(history["destination_id"], "main");
    let exports = history["exports"].as_array().unwrap();
    let listed: Vec<&str> = exports
        .iter()
        .map(|e| e["export_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "newest first");
    for export in exports {
        assert_eq!(export["status"], "succeeded", "{export}");
        assert_eq!(export["trigger"], "manual", "the command line started it");
        assert!(export["started_at"].is_string() && export["duration_seconds"].is_number());
    }
    let sent = |e: &Value| e["counts"]["sent"].as_u64().unwrap();
    assert_eq!(
        exports.iter().map(sent).collect::<Vec<_>>(),
        [0, 30, 30],
        "the last export sent nothing new, the full one and the first sent every profile"
    );

    // Beside the exports, who changed the destination: the operating system's user.
    let trail: Vec<(&str, &str)> = history["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["caller"].as_str().unwrap()))
        .collect();
    let actions: Vec<&str> = trail.iter().map(|(action, _)| *action).collect();
    assert_eq!(
        actions,
        ["export", "export", "export", "configure", "connect"],
        "{}",
        history["audit"]
    );
    let user = shared::app::audit::local_caller();
    assert!(trail.iter().all(|(_, caller)| *caller == user), "{trail:?}");
    assert_eq!(history["audit"][0]["details"], format!("export {}", ids[0]));

    let out = cli(&data, &["--json", "history", "main", "--limit", "2"], None);
    let limited: Value = serde_json::from_slice(&out.stdout).unwrap();
    let listed: Vec<&str> = limited["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["export_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids[..2]);

    let out = cli(&data, &["history", "main"], None);
    let said = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = said.lines().filter(|l| l.contains("succeeded")).collect();
    assert_eq!(lines.len(), 3, "{said}");
    assert!(
        lines[0].contains(&ids[0]) && lines[0].contains("30 rows"),
        "{said}"
    );

    let out = cli(&data, &["history", "nobody"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = cli(&data, &["history", "main", "--limit", "0"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// An Ortto destination is spoken of in Ortto's words wherever a message is about the
/// destination: the export's tags created and its refusals, `verify`'s missing members and its
/// tag gone. Autopilot is named only in the command's own name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ortto_destination_is_spoken_of_as_ortto_and_its_tags() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::ortto(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("vip.csv");
    let rows: String = (emails("vip", 20).iter())
        .map(|e| format!("{e},Name\n"))
        .collect();
    // The sandbox refuses the reserved `.invalid` domain: Ortto marks the person invalid.
    std::fs::write(
        &snapshot,
        format!("email,first\n{rows}fay@host.invalid,Fay\n"),
    )
    .unwrap();
    let url = server.base_url();
    let connect = ["connect", "--name", "Main", "--agree", "--api", "ortto"];
    let out = cli(
        &data,
        &[&connect[..], &["--api-url", &url]].concat(),
        Some(KEY),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("(Ortto account: "), "{}", text(&out));
    configure_segment(&data, "VIP", &snapshot);

    let said = |out: &std::process::Output| {
        let all = text(out);
        let product = all.replace("autopilot-export", "");
        assert!(!product.contains("Autopilot"), "Ortto's words only: {all}");
        assert!(!all.contains(KEY) && !all.contains("panicked"), "{all}");
        all
    };
    let out = cli(&data, &["export", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = said(&out);
    assert!(all.contains("tags created: VIP"), "{all}");
    assert!(all.contains("1 contact was refused by Ortto"), "{all}");
    let rejected = std::fs::read_dir(data.join("exports/main"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rejected.csv"))
        .find(|p| p.exists())
        .expect("rejected.csv");
    let rejected = std::fs::read_to_string(rejected).unwrap();
    assert!(
        rejected.contains(",fay@host.invalid,rejected_by_ortto: "),
        "{rejected}"
    );

    let tag = server.state().list("VIP").unwrap().list_id.clone();
    assert!(server.remove_member_by_hand(&tag, "vip0003@example.com"));
    let out = cli(&data, &["verify", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = said(&out);
    assert!(
        all.contains("1 member(s) are missing from their tags"),
        "{all}"
    );

    assert!(server.delete_list_by_hand(&tag));
    let out = cli(&data, &["verify", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = said(&out);
    assert!(all.contains("the tag VIP is gone"), "{all}");
    assert!(all.contains("the tag(s) of VIP are gone"), "{all}");
}
