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
