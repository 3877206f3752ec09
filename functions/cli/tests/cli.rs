//! The `autopilot-export` command as a user runs it: exit codes and messages for bad input, and a
//! full connect → configure → export → status → remove round against a real sandbox.

use std::path::Path;
use std::process::{Command, Output};

const KEY: &str = "cli-test-key-42";

fn cli(data: &Path, args: &[&str], key: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("AUTOPILOT_API_KEY");
    if let Some(key) = key {
        command.env("AUTOPILOT_API_KEY", key);
    }
    command.output().expect("the command runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn fails_with(out: Output, expect: &str) {
    let all = text(&out);
    assert!(!out.status.success(), "should fail: {all}");
    assert!(all.contains(expect), "expected {expect:?} in: {all}");
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains(KEY), "the key is never printed: {all}");
}

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
    let refusals: [(&[&str], Option<&str>, &str); 3] = [
        (&connect, Some(KEY), "pass --agree"),
        (&agreed, None, "AUTOPILOT_API_KEY"),
        (&agreed, Some("wrong"), "rejected the API key"),
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
