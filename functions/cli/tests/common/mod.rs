//! Running the real `autopilot-export` binary in tests, and reading what it said.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const KEY: &str = "cli-test-key-42";

fn command(data: &Path, args: &[&str], key: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("AUTOPILOT_API_KEY")
        .env_remove("AUTOPILOT_EXPORT_LOG");
    if let Some(key) = key {
        command.env("AUTOPILOT_API_KEY", key);
    }
    command
}

/// Runs the command with stdout and stderr captured (so neither is a terminal).
pub fn cli(data: &Path, args: &[&str], key: Option<&str>) -> Output {
    command(data, args, key).output().expect("the command runs")
}

/// Runs the command with `input` on its standard input.
pub fn cli_with_stdin(data: &Path, args: &[&str], input: &[u8]) -> Output {
    let mut child = command(data, args, None)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn fails_with(out: Output, expect: &str) {
    let all = text(&out);
    assert!(!out.status.success(), "should fail: {all}");
    assert!(all.contains(expect), "expected {expect:?} in: {all}");
    assert!(!all.contains("panicked"), "{all}");
    assert!(!all.contains(KEY), "the key is never printed: {all}");
}

/// Connects the sandbox at `url` as destination `main` (at `rate` requests/second) and
/// configures one segment `name` read from `snapshot`.
pub fn main_destination(data: &Path, url: &str, rate: &str, name: &str, snapshot: &Path) {
    let connect = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        url,
        "--requests-per-second",
        rate,
    ];
    let out = cli(data, &connect, Some(KEY));
    assert!(out.status.success(), "{}", text(&out));
    configure_segment(data, name, snapshot);
}

/// Configures destination `main` with its email from `email` and one segment `name` read from
/// `snapshot`.
pub fn configure_segment(data: &Path, name: &str, snapshot: &Path) {
    let segment = format!("{name}={}", snapshot.display());
    let configure = [
        "configure",
        "main",
        "--email-field",
        "email",
        "--segment",
        &segment,
    ];
    let out = cli(data, &configure, None);
    assert!(out.status.success(), "{}", text(&out));
}
