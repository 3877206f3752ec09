//! The local data folder holds every exported email (the baseline, chunks, rejected.csv): the
//! command warns, once, when other users can open it.

#![cfg(unix)]

mod common;

use common::{cli, text};
use std::os::unix::fs::PermissionsExt;

fn warnings(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains("data folder"))
        .map(String::from)
        .collect()
}

#[test]
fn a_data_folder_others_can_open_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["data", "data with space's"] {
        let data = dir.path().join(name);
        std::fs::create_dir(&data).unwrap();
        for mode in [0o755, 0o750, 0o705, 0o711] {
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(mode)).unwrap();
            let out = cli(&data, &["destinations"], None);
            assert!(out.status.success(), "{}", text(&out));
            let shown = data.display().to_string();
            let quoted = if name == "data" {
                shown.clone()
            } else {
                format!("'{}'", shown.replace('\'', r"'\''"))
            };
            assert_eq!(
                warnings(&out),
                [format!("warning: the data folder {shown} is readable by other users: it holds every exported email; run `chmod -R go= {quoted}`")],
                "{mode:o}"
            );
            // With --json, stdout stays one JSON document.
            let out = cli(&data, &["--json", "destinations"], None);
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap();
            assert_eq!(warnings(&out).len(), 1, "{mode:o}");
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
        let out = cli(&data, &["destinations"], None);
        assert!(
            out.status.success() && warnings(&out).is_empty(),
            "{}",
            text(&out)
        );
    }
    // A data folder that does not exist yet is not warned about.
    let out = cli(&dir.path().join("new"), &["destinations"], None);
    assert!(
        out.status.success() && warnings(&out).is_empty(),
        "{}",
        text(&out)
    );
}

/// Every file and folder an export leaves under `dir`, with modes others can use.
fn open_to_others(dir: &std::path::Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::symlink_metadata(&path)
            .unwrap()
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            found.push(format!("{:o} {}", mode & 0o777, path.display()));
        }
        if path.is_dir() {
            open_to_others(&path, found);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_export_into_an_open_folder_no_file_is_open_to_others() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(common::KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let snapshot = dir.path().join("vip.csv");
    std::fs::write(&snapshot, "email\na@example.com\nnot-an-email\n").unwrap();
    let (data_dir, url) = (data.clone(), server.base_url());
    let out = tokio::task::spawn_blocking(move || {
        common::main_destination(&data_dir, &url, "50", "VIP", &snapshot);
        cli(&data_dir, &["export", "main"], None)
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let mut found = Vec::new();
    open_to_others(&data, &mut found);
    assert!(found.is_empty(), "open to other users: {found:#?}");
}
