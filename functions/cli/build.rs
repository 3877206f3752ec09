//! Gives the command its commit for `--version` (`AUTOPILOT_EXPORT_COMMIT`): the short id of the
//! checked-out commit (uncommitted changes are not noted: they do not run this again). Without git or a
//! repository (a source archive, `cargo install` from a copy) it says `commit unknown` and the
//! build goes on.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn main() {
    let commit = match git(&["rev-parse", "--short=12", "HEAD"]) {
        Some(id) => format!("commit {id}"),
        None => "commit unknown".to_string(),
    };
    println!("cargo:rustc-env=AUTOPILOT_EXPORT_COMMIT={commit}");
    // Built again when HEAD moves (a commit, a checkout) or the branch it names does; a build
    // outside a repository has nothing to watch.
    for path in ["HEAD", "packed-refs"] {
        watch(git(&["rev-parse", "--git-path", path]));
    }
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(git(&["rev-parse", "--git-path", &branch]));
    }
}

fn watch(path: Option<String>) {
    if let Some(path) = path.filter(|p| Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
}
