//! A data folder that cannot be written: each ends in a clear error naming the file, with
//! nothing sent, and the next export (with room again) sends the exact list.

use super::commands::{configured, fails};
use super::{binary, error_of, totals, Case, Ctx, KEY};
use std::path::Path;

pub const CASES: &[Case] = &[
    ("read-only data folder", read_only),
    ("a data folder nothing can be created in", unwritable),
    ("a file where the exports folder goes", file_in_the_way),
    ("full disk (file size limit)", full_disk),
];

fn set_mode(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_dir() {
            set_mode(&entry.path(), mode);
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read_only(ctx: &Ctx) -> String {
    use std::os::unix::fs::MetadataExt;
    let (sandbox, _) = configured(ctx);
    set_mode(&ctx.data(), 0o500);
    let ran = ctx.run(&["--json", "export", "main"], None);
    set_mode(&ctx.data(), 0o700);
    // Permission bits do not stop root (the tests' usual user here): root's export goes through.
    if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        assert_eq!(totals(&ran.json()), [2, 2, 0, 0]);
        return "as root: permission bits do not stop root, exported (2 sent)".into();
    }
    let (_, message) = error_of(&ran);
    assert!(message.contains("Permission denied"), "{message}");
    assert_eq!(sandbox.counters().bulk_requests, 0);
    "refused: Permission denied, nothing sent".into()
}

fn unwritable(ctx: &Ctx) -> String {
    use std::os::unix::fs::MetadataExt;
    // sysfs refuses new folders even to root.
    let data = Path::new("/sys/autopilot-export-corpus");
    let made = std::fs::create_dir(data);
    if made.is_ok() || !Path::new("/sys").is_dir() {
        let _ = std::fs::remove_dir(data);
        return "skipped: /sys is writable here".into();
    }
    let sandbox = ctx.sandbox();
    let url = sandbox.base_url();
    let mut command = std::process::Command::new(binary());
    command.arg("--data-dir").arg(data);
    command.args([
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        &url,
    ]);
    command.env("AUTOPILOT_API_KEY", KEY);
    let ran = ctx.spawn(command);
    let why = match std::fs::metadata("/proc/self").unwrap().uid() {
        0 => "Operation not permitted",
        _ => "Permission denied",
    };
    // The destination is written (only if absent) before its key, so storage refuses first.
    let start = format!("storage failed at destinations/main.json: {why}");
    fails(&ran, 1, &start);
    assert!(!data.exists());
    format!("refused: {start}")
}

fn file_in_the_way(ctx: &Ctx) -> String {
    let (sandbox, _) = configured(ctx);
    std::fs::write(ctx.data().join("exports"), "").unwrap();
    let before = sandbox.counters().requests;
    let ran = ctx.run(&["export", "main"], None);
    let error = fails(
        &ran,
        1,
        "storage failed at exports/main/running.json: Not a directory",
    );
    assert_eq!(sandbox.counters().requests, before);
    error
}

fn full_disk(ctx: &Ctx) -> String {
    let sandbox = ctx.sandbox();
    let rows: String = (0..3000).map(|i| format!("p{i}@x.io,Name{i}\n")).collect();
    let snapshot = ctx.file("big.csv", format!("email,name\n{rows}"));
    ctx.connect(&sandbox.base_url());
    ctx.configure(&snapshot, &["--first-name-field", "name"]);
    // Files may not grow past 10 KB: the first chunk does not fit. SIGXFSZ is ignored, so the
    // write fails (EFBIG) instead of killing the command.
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 20; exec \"$0\" \"$@\"");
    command.arg(binary());
    command
        .arg("--data-dir")
        .arg(ctx.data())
        .args(["export", "main"]);
    let ran = ctx.spawn(command);
    let error = fails(&ran, 1, "storage failed at exports/main/");
    assert!(
        error.ends_with("/chunks/000000.json: File too large (os error 27)"),
        "{error}"
    );
    assert_eq!(sandbox.counters().bulk_requests, 0, "nothing sent");
    // With room again, the next export sends the exact list.
    let ran = ctx.run(&["--json", "export", "main"], None);
    assert_eq!(totals(&ran.json()), [3000, 3000, 0, 0]);
    assert_eq!(sandbox.state().list("S").unwrap().members.len(), 3000);
    "refused: File too large, nothing sent; the next export sends all 3,000".into()
}
