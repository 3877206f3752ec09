//! What the bad-input corpus runs on: the real command with a time limit and its peak memory, one
//! sandbox (or a tiny fake Autopilot) per case, and the checks every case shares.

pub mod answers;
pub mod commands;
pub mod folders;
pub mod parts;
pub mod snapshots;
pub mod tiny;

use sandbox::{Counters, Sandbox, SandboxConfig};
use serde_json::Value;
use std::cell::Cell;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const KEY: &str = "corpus-key-0123";
/// The longest any one command may take: longer is a hang, and fails the case.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The command under test: this build's, or the one `CORPUS_BIN` names (a release build, to
/// measure its memory; an older build, to see which cases it fails).
pub fn binary() -> PathBuf {
    std::env::var_os("CORPUS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_autopilot-export")))
}

/// A case: its name and what it checks; it returns the outcome for the table.
pub type Case = (&'static str, fn(&Ctx) -> String);

/// What one run of the command did.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The JSON document on stdout (a report, or `{"error": …}` with `--json`).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", self.stdout, self.stderr))
    }

    /// The error line on stderr, without `error: `.
    pub fn error(&self) -> String {
        let line = self.stderr.lines().rev().find(|l| l.starts_with("error: "));
        line.map(|l| l["error: ".len()..].to_string())
            .unwrap_or_else(|| panic!("no error line: {}{}", self.stdout, self.stderr))
    }
}

/// One case's folder, sandbox handle and the peak memory of the commands it ran.
pub struct Ctx {
    pub dir: PathBuf,
    handle: tokio::runtime::Handle,
    peak_kb: Cell<u64>,
}

impl Ctx {
    pub fn new(dir: &Path, handle: tokio::runtime::Handle) -> Self {
        Self {
            dir: dir.to_path_buf(),
            handle,
            peak_kb: Cell::new(0),
        }
    }

    pub fn peak_kb(&self) -> u64 {
        self.peak_kb.get()
    }

    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn sandbox(&self) -> Sandbox {
        self.handle
            .block_on(Sandbox::start(SandboxConfig::with_key(KEY), 0))
            .expect("the sandbox starts")
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Writes a file in the case's folder.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The command on the case's data folder.
    pub fn command(&self, args: &[&str], key: Option<&str>) -> Command {
        let mut command = Command::new(binary());
        command
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env_remove("AUTOPILOT_API_KEY")
            .env_remove("AUTOPILOT_EXPORT_LOG");
        if let Some(key) = key {
            command.env("AUTOPILOT_API_KEY", key);
        }
        command
    }

    pub fn run(&self, args: &[&str], key: Option<&str>) -> Ran {
        self.spawn(self.command(args, key))
    }

    /// Runs a command to its end, failing the case if it outlives [`TIMEOUT`]; notes its peak
    /// memory as Linux counts it (the resident high-water mark, read while it runs).
    pub fn spawn(&self, mut command: Command) -> Ran {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts");
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.read_to_end(&mut text);
                String::from_utf8_lossy(&text).into_owned()
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let started = Instant::now();
        let status = loop {
            if let Some(kb) = high_water_kb(child.id()) {
                self.peak_kb.set(self.peak_kb.get().max(kb));
            }
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("hung: {command:?} ran for more than {TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let ran = Ran {
            code: status.code(),
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
        };
        let all = format!("{}{}", ran.stdout, ran.stderr);
        assert!(!all.contains("panicked"), "a panic: {all}");
        assert!(!all.contains(KEY), "the key is never printed: {all}");
        ran
    }

    /// Connects the destination `main` to `url`.
    pub fn connect(&self, url: &str) {
        let args = [
            "connect",
            "--name",
            "Main",
            "--agree",
            "--autopilot-url",
            url,
        ];
        let ran = self.run(&args, Some(KEY));
        assert_eq!(ran.code, Some(0), "{}{}", ran.stdout, ran.stderr);
    }

    /// Configures `main` with the email column `email` and one segment `S` from `snapshot`.
    pub fn configure(&self, snapshot: &Path, extra: &[&str]) {
        let segment = format!("S={}", snapshot.display());
        let mut args = vec!["configure", "main", "--email-field", "email"];
        args.extend(["--segment", &segment]);
        args.extend(extra);
        let ran = self.run(&args, None);
        assert_eq!(ran.code, Some(0), "{}{}", ran.stdout, ran.stderr);
    }

    /// A sandbox, `main` connected to it and configured over `bytes` as `name`, and the
    /// `--json export` of it, with the sandbox's counters from just before the export.
    pub fn export(&self, name: &str, bytes: impl AsRef<[u8]>, extra: &[&str]) -> Exported {
        let snapshot = self.file(name, bytes);
        self.export_of(&snapshot, extra)
    }

    /// As [`Ctx::export`], for a snapshot path that is already there (or not).
    pub fn export_of(&self, snapshot: &Path, extra: &[&str]) -> Exported {
        let sandbox = self.sandbox();
        self.connect(&sandbox.base_url());
        self.configure(snapshot, extra);
        let before = sandbox.counters();
        let ran = self.run(&["--json", "export", "main"], None);
        Exported {
            ran,
            sandbox,
            before,
        }
    }
}

/// An export against a sandbox, and what the sandbox saw.
pub struct Exported {
    pub ran: Ran,
    pub sandbox: Sandbox,
    before: Counters,
}

impl Exported {
    /// Requests the export made.
    pub fn requests(&self) -> u64 {
        self.sandbox.counters().requests - self.before.requests
    }

    /// Fails unless the export stopped with `type` and a message starting with `start`, before
    /// a single request to Autopilot; returns the message.
    pub fn refused(&self, type_name: &str, start: &str) -> String {
        let (kind, message) = error_of(&self.ran);
        assert_eq!(kind, type_name, "{message}");
        assert!(
            message.starts_with(start),
            "expected {start:?}, got: {message}"
        );
        assert_eq!(self.requests(), 0, "nothing is asked of Autopilot");
        assert!(self.sandbox.state().lists.is_empty());
        assert_eq!(self.ran.code, Some(1));
        message
    }

    /// The report of an export that succeeded.
    pub fn report(&self) -> Value {
        assert_eq!(
            self.ran.code,
            Some(0),
            "{}{}",
            self.ran.stdout,
            self.ran.stderr
        );
        let report = self.ran.json();
        assert_eq!(report["status"], "succeeded", "{report}");
        report
    }

    /// The members of the segment's list.
    pub fn members(&self) -> Vec<String> {
        let state = self.sandbox.state();
        let mut members = state
            .list("S")
            .map(|l| l.members.clone())
            .unwrap_or_default();
        members.sort();
        members
    }
}

/// The `(type, message)` of a `--json` failure, checking the exit status and stderr agree.
pub fn error_of(ran: &Ran) -> (String, String) {
    assert_eq!(ran.code, Some(1), "{}{}", ran.stdout, ran.stderr);
    let doc = ran.json();
    let message = doc["error"]["message"].as_str().unwrap().to_string();
    assert_eq!(ran.error(), message);
    (doc["error"]["type"].as_str().unwrap().to_string(), message)
}

/// The totals of a report, in the order the table prints them: rows, sent, invalid, duplicates.
pub fn totals(report: &Value) -> [u64; 4] {
    let t = &report["totals"];
    ["rows_read", "sent", "invalid", "duplicates"].map(|k| t[k].as_u64().unwrap())
}

/// The rows of an export's rejected.csv (header left out): segment, file, row, email, reason.
pub fn rejected(report: &Value, data: &Path) -> Vec<Vec<String>> {
    let key = report["rejected_file"].as_str().expect("a rejected.csv");
    let file = std::fs::File::open(data.join(key)).unwrap();
    let mut rows = shared::snapshot::SnapshotRows::open(key, Box::new(file)).unwrap();
    assert_eq!(rows.header(), ["segment", "file", "row", "email", "reason"]);
    let mut out = Vec::new();
    while let Some(row) = rows.next_row().unwrap() {
        out.push(row.fields);
    }
    out
}

/// The resident high-water mark of a running process, in kB (Linux).
fn high_water_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
