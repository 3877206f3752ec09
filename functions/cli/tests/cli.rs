//! The `autopilot-export` command as a user runs it: exit codes and messages for bad input, and a
//! full connect → configure → export → status → remove round against a real sandbox.

mod common;

use common::{cli, fails_with, text, KEY};
use std::path::Path;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_round_and_every_refusal() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let url = server.base_url();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("vip.csv");
    std::fs::write(
        &snapshot,
        "email,first,tier\na@example.com,Ann,gold\nb@example.com,Bo,silver\nbad,Cy,gold\n",
    )
    .unwrap();
    let segment = format!("VIP={}", snapshot.display());

    let connect = ["connect", "--name", "Main", "--autopilot-url", &url];
    let agreed = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        &url,
    ];
    // The sandbox's URL without its path: Autopilot's API is under /v1.
    let root = url
        .strip_suffix("/v1")
        .expect("the sandbox's API URL ends in /v1");
    let at_root = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        root,
    ];
    let refusals: [(&[&str], Option<&str>, &str); 4] = [
        (&connect, Some(KEY), "pass --agree"),
        (&agreed, None, "AUTOPILOT_API_KEY"),
        (&agreed, Some("wrong"), "rejected the API key"),
        (&at_root, Some(KEY), "GET /account answered 404 (not found), which Autopilot's API does not: the destination's API URL is probably wrong"),
    ];
    for (args, key, expect) in refusals {
        fails_with(cli(&data, args, key), expect);
    }

    let out = cli(
        &data,
        &[
            "--json",
            "connect",
            "--name",
            "Main",
            "--agree",
            "--autopilot-url",
            &url,
        ],
        Some(KEY),
    );
    assert!(out.status.success(), "{}", text(&out));
    let connected: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(connected["destination_id"], "main");

    let configure = ["configure", "main", "--email-field", "email", "--segment"];
    let with = |extra: &[&'static str]| -> Vec<String> {
        configure
            .iter()
            .chain([segment.as_str()].iter())
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let refusals: Vec<(Vec<String>, &str)> = vec![
        (
            configure
                .iter()
                .chain(&["VIP"])
                .map(|s| s.to_string())
                .collect(),
            "NAME=VALUE",
        ),
        (with(&["--field", "Company"]), "NAME=VALUE"),
        (with(&["--custom", "colour--Eyes=tier"]), "unknown type"),
        (with(&["--profile-limit", "0"]), "at least 1"),
        (
            vec![
                "configure".into(),
                "nowhere".into(),
                "--email-field".into(),
                "email".into(),
                "--segment".into(),
                segment.clone(),
            ],
            "no destination 'nowhere'",
        ),
        (
            vec!["export".into(), "nowhere".into()],
            "no destination 'nowhere'",
        ),
    ];
    for (args, expect) in refusals {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(cli(&data, &args, None), expect);
    }

    let out = cli(
        &data,
        &[
            "configure",
            "main",
            "--email-field",
            "email",
            "--first-name-field",
            "first",
            "--custom",
            "string--Loyalty--Tier=tier",
            "--segment",
            &segment,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    // The notification URL alone changes only that, and is shown by its host: its path can be a
    // chat webhook's secret.
    let hook = "https://hooks.example.com/services/T0/B0/secret-token";
    let out = cli(&data, &["configure", "main", "--notify-url", hook], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("https://hooks.example.com/"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("secret-token"), "{}", text(&out));
    // The posts are signed with a secret shown this once and kept in the secret store only.
    let stored = || std::fs::read_to_string(data.join("secrets/main.webhook-signing.key")).ok();
    let first = stored().expect("the signing secret is in the secret store");
    assert!(first.starts_with("whsec_"), "{first}");
    assert!(text(&out).contains(&first), "shown once: {}", text(&out));
    let listed = cli(&data, &["--json", "destinations"], None);
    assert!(!text(&listed).contains("secret-token"), "{}", text(&listed));
    assert!(!text(&listed).contains(&first), "{}", text(&listed));
    let out = cli(
        &data,
        &["--json", "configure", "main", "--rotate-notify-secret"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let rotated: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one document");
    let second = stored().unwrap();
    assert_ne!(first, second);
    assert_eq!(rotated["signing_secret"], second.as_str());
    fails_with(
        cli(
            &data,
            &["configure", "main", "--notify-url", "hooks.example.com"],
            None,
        ),
        "not a URL",
    );
    let out = cli(&data, &["configure", "main", "--no-notify"], None);
    assert!(text(&out).contains("no longer posted"), "{}", text(&out));
    assert_eq!(stored(), None, "no URL, no signing secret");
    fails_with(
        cli(
            &data,
            &["configure", "main", "--rotate-notify-secret"],
            None,
        ),
        "--notify-url URL",
    );
    // Before the first export, --json still prints one document.
    let out = cli(&data, &["--json", "status", "main"], None);
    let never: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON document");
    assert_eq!(never["status"], "not_exported", "{never}");
    let out = cli(&data, &["--json", "export", "main"], None);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["totals"]["sent"], 2);
    assert_eq!(report["totals"]["invalid"], 1);
    let members = &server.state().list("VIP").unwrap().members.clone();
    assert_eq!(members.len(), 2);

    let out = cli(&data, &["status", "main"], None);
    assert!(
        text(&out).contains("succeeded") && text(&out).contains("VIP"),
        "{}",
        text(&out)
    );
    summary_fits(&data);
    let out = cli(&data, &["destinations"], None);
    assert!(text(&out).contains("main"), "{}", text(&out));
    for entry in walk(&data) {
        let content = std::fs::read_to_string(&entry).unwrap_or_default();
        if !entry.to_string_lossy().contains("secrets") {
            assert!(
                !content.contains(KEY),
                "the key leaked into {}",
                entry.display()
            );
        }
    }

    let out = cli(&data, &["remove", "main"], None);
    assert!(out.status.success(), "{}", text(&out));
    fails_with(
        cli(&data, &["export", "main"], None),
        "no destination 'main'",
    );
}

/// The summary `status` prints fits 80 and 100 columns (and 100 when `COLUMNS` is not set and
/// stdout is not a terminal), with the note that the list was created on a line of its own.
fn summary_fits(data: &Path) {
    for columns in [Some("80"), Some("100"), None] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
        command.arg("--data-dir").arg(data).args(["status", "main"]);
        match columns {
            Some(c) => command.env("COLUMNS", c),
            None => command.env_remove("COLUMNS"),
        };
        let out = command.output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let shown = String::from_utf8_lossy(&out.stdout).to_string();
        let width: usize = columns.unwrap_or("100").parse().unwrap();
        let table: Vec<&str> = shown
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("segment"))
            .take_while(|l| !l.contains("distinct profiles"))
            .collect();
        assert!(table.len() >= 4, "no table in:\n{shown}");
        for line in &table {
            assert!(
                line.chars().count() <= width,
                "wider than {width}: {line:?} in\n{shown}"
            );
        }
        assert!(
            table.iter().any(|l| l.trim_start().starts_with("VIP")),
            "{shown}"
        );
        assert!(
            table.iter().any(|l| l.trim_start().starts_with("total")),
            "{shown}"
        );
        assert!(shown.contains("\n  lists created: VIP\n"), "{shown}");
        assert!(!shown.contains("(list created)"), "{shown}");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_export_of_one_destination_is_refused_while_the_first_runs() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY).rate(20.0), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("all.csv");
    let mut rows = String::from("email\n");
    for i in 0..6000 {
        rows.push_str(&format!("p{i}@example.com\n"));
    }
    std::fs::write(&snapshot, rows).unwrap();
    let url = server.base_url();
    let connect = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        &url,
        "--requests-per-second",
        "20",
    ];
    assert!(cli(&data, &connect, Some(KEY)).status.success());
    let segment = format!("All={}", snapshot.display());
    let configure = ["configure", "main", "--email-field", "email", "--segment"];
    let args: Vec<&str> = configure
        .iter()
        .copied()
        .chain([segment.as_str()])
        .collect();
    assert!(cli(&data, &args, None).status.success());

    // About three seconds of sending at 20 requests/second.
    let mut first = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "main"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while server.counters().contacts_written == 0 {
        assert!(started.elapsed().as_secs() < 30, "the first export sends");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    fails_with(
        cli(&data, &["export", "main"], None),
        "another autopilot-export process is exporting 'main'",
    );
    let out = cli(&data, &["status", "main"], None);
    assert!(text(&out).contains("is running"), "{}", text(&out));

    // Killed part-way: the lock goes with it and the next run finishes the job.
    first.kill().unwrap();
    first.wait().unwrap();
    let written = server.counters().contacts_written;
    assert!(written < 6000, "killed before the end: {written}");
    let out = cli(&data, &["--json", "status", "main"], None);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["status"], "interrupted", "{status}");
    assert_eq!(status["progress"]["contacts"], 6000);
    assert!(status["progress"]["contacts_done"].as_u64().unwrap() < 6000);
    let out = cli(&data, &["--json", "export", "main"], None);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "succeeded");
    assert_eq!(server.state().list("All").unwrap().members.len(), 6000);
}

/// The demo with its segments as folders of Parquet parts, then as folders of CSV parts: every
/// valid profile ends in its list (the demo's own read-back), and rejected.csv names the parts.
#[test]
fn the_demo_writes_and_exports_parquet_and_parts() {
    for format in ["parquet", "csv"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let args = [
            "demo",
            "--profiles",
            "2000",
            "--rate",
            "2000",
            "--format",
            format,
            "--parts",
            "3",
        ];
        let out = cli(&data, &args, None);
        assert!(out.status.success(), "{format}: {}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("Every valid profile is in its list."),
            "{format}: {stdout}"
        );
        let parts = data.join("demo/snapshots/vip-customers");
        let mut names: Vec<String> = std::fs::read_dir(&parts)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let extension = if format == "parquet" {
            "parquet"
        } else {
            "csv.gz"
        };
        let expected: Vec<String> = (0..3)
            .map(|k| format!("part-{k:05}.{extension}"))
            .chain(["_SUCCESS".to_string()])
            .collect();
        let mut expected = expected;
        expected.sort();
        assert_eq!(names, expected, "{format}");
        let exports = data.join("demo/data/exports/demo-autopilot");
        let export = std::fs::read_dir(&exports)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let rejected = std::fs::read_to_string(export.path().join("rejected.csv")).unwrap();
        assert!(
            rejected.starts_with("segment,file,row,email,reason\n")
                && rejected.contains(&format!("VIP Customers,part-00000.{extension},")),
            "{format}: {rejected}"
        );
    }
}

/// A dry run asks the API which lists exist: when it stops answering, a line says the dry run
/// waits (and for how long at most) instead of a silence of up to 15 minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_says_it_waits_for_an_api_that_does_not_answer() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("all.csv");
    std::fs::write(&snapshot, "email\nsomeone@example.com\n").unwrap();
    common::main_destination(&data, &server.base_url(), "10", "All", &snapshot);
    server.stop().await;

    let mut dry_run = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "main", "--dry-run", "--max-outage-minutes", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = dry_run.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let line = rx.recv_timeout(std::time::Duration::from_secs(20));
    dry_run.kill().unwrap();
    dry_run.wait().unwrap();
    let line = line.expect("a line on stderr within 20 seconds");
    assert!(
        line.starts_with("Autopilot is not answering (")
            && line.contains("of up to 2m, then the dry run stops"),
        "{line}"
    );
    assert!(
        !line.contains(KEY) && !line.contains("@example.com"),
        "{line}"
    );
}
