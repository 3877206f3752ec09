//! The conventions of a command-line tool, on the real binary: completion scripts the shells
//! accept, manual pages, and `--version` naming the commit.

use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn bash_accepts_the_completion_script() {
    let script = run(&["completions", "bash"]).stdout;
    let text = String::from_utf8_lossy(&script);
    for command in ["export", "verify", "--dry-run", "--segment"] {
        assert!(text.contains(command), "{command} is completed");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("autopilot-export.bash");
    std::fs::write(&file, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // Sourced, it registers the completion function for the command.
    let sourced = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {} && complete -p autopilot-export",
            file.display()
        ))
        .output()
        .unwrap();
    assert!(
        sourced.status.success(),
        "{}",
        String::from_utf8_lossy(&sourced.stderr)
    );
}

#[test]
fn zsh_and_fish_scripts_name_the_commands() {
    for shell in ["zsh", "fish"] {
        let text = String::from_utf8(run(&["completions", shell]).stdout).unwrap();
        assert!(
            text.contains("history") && text.contains("keep-exports-days"),
            "{shell}"
        );
    }
    let wrong = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_cover_every_command() {
    let page = String::from_utf8(run(&["man"]).stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH autopilot-export 1"),
        "{page}"
    );
    assert!(page.contains("export") && page.contains("verify"));
    let dir = tempfile::tempdir().unwrap();
    run(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    for command in [
        "autopilot-export",
        "autopilot-export-export",
        "autopilot-export-verify",
    ] {
        let file = dir.path().join(format!("{command}.1"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|_| panic!("{command}.1"));
        assert!(text.contains(".SH"), "{command}.1 is a manual page");
    }
    let export = std::fs::read_to_string(dir.path().join("autopilot-export-export.1")).unwrap();
    assert!(
        export.contains("dry\\-run"),
        "the export page lists its flags"
    );
}

#[test]
fn version_names_the_commit() {
    let text = String::from_utf8(run(&["--version"]).stdout).unwrap();
    assert!(text.starts_with(&format!("autopilot-export {}", env!("CARGO_PKG_VERSION"))));
    let commit = text.split("(commit ").nth(1).expect("(commit …)");
    let id = commit.trim_end().trim_end_matches(')');
    // In a repository the short id of HEAD; outside one, `unknown`.
    assert!(
        id == "unknown" || (id.len() == 12 && id.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}
