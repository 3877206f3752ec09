//! The product's command line as a user runs it (`connect`, `configure`, `export --json`), and
//! what it leaves in its data folder. Nothing here knows the product's internals: only its flags,
//! its report document and the size of its folders.

use crate::data::SEGMENTS;
use crate::measure::{self, BoxError, Run, Sandbox};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The release command with one data folder; every run's output is kept under `logs`.
pub struct Product {
    pub bin: PathBuf,
    pub data: PathBuf,
    pub logs: PathBuf,
}

impl Product {
    /// A fresh data folder `dir/data`, logs in `dir/logs`.
    pub fn fresh(bin: &Path, dir: &Path) -> Result<Self, BoxError> {
        let data = dir.join("data");
        if data.exists() {
            std::fs::remove_dir_all(&data)?;
        }
        Ok(Product {
            bin: bin.to_path_buf(),
            data,
            logs: dir.join("logs"),
        })
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("--data-dir")
            .arg(&self.data)
            .arg("--json")
            .args(args);
        command
    }

    fn checked(&self, command: Command, label: &str) -> Result<Run, BoxError> {
        let run = measure::run(command, &self.logs, label)?;
        if run.code != 0 {
            return Err(format!(
                "`{label}` ended with status {}: {}{}",
                run.code,
                run.stdout.trim(),
                run.stderr.trim()
            )
            .into());
        }
        Ok(run)
    }

    /// Connects the sandbox at `rate` requests/second; returns the destination's id.
    pub fn connect(&self, name: &str, sandbox: &Sandbox, rate: f64) -> Result<String, BoxError> {
        let (url, rate) = (sandbox.url(), rate.to_string());
        let mut command = self.command(&["connect", "--name", name, "--agree"]);
        command
            .args(["--autopilot-url", &url, "--requests-per-second", &rate])
            .args(["--export-user", "bench"])
            .env("AUTOPILOT_API_KEY", &sandbox.key);
        let label = format!("connect-{}", name.to_lowercase().replace(' ', "-"));
        let run = self.checked(command, &label)?;
        let answer: serde_json::Value = serde_json::from_str(&run.stdout)?;
        answer["destination_id"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("connect printed no destination id: {}", run.stdout).into())
    }

    /// Maps the sample columns and both segments' snapshots in `snapshots`.
    pub fn configure(&self, dest: &str, snapshots: &Path, limit: u64) -> Result<(), BoxError> {
        let sources: Vec<(&str, String)> = SEGMENTS
            .iter()
            .map(|(name, file)| (*name, snapshots.join(file).display().to_string()))
            .collect();
        self.configure_sources(dest, &sources, limit)
    }

    /// Maps the sample columns and the segments `sources` (name, source).
    pub fn configure_sources(
        &self,
        dest: &str,
        sources: &[(&str, String)],
        limit: u64,
    ) -> Result<(), BoxError> {
        let segments: Vec<String> = sources
            .iter()
            .map(|(name, source)| format!("{name}={source}"))
            .collect();
        let mut command = self.command(&["configure", dest, "--email-field", "email"]);
        command
            .args([
                "--first-name-field",
                "first_name",
                "--last-name-field",
                "last_name",
            ])
            .args(["--field", "Company=company", "--custom", "integer--Age=age"])
            .args(["--custom", "string--Loyalty--Tier=tier"])
            .args(["--custom", "date--Signup--Date=signup_date"])
            .args(["--profile-limit", &limit.to_string()]);
        for segment in &segments {
            command.args(["--segment", segment]);
        }
        self.checked(command, &format!("configure-{dest}"))
            .map(drop)
    }

    /// `export DEST --json [extra]`, whatever its exit status.
    pub fn export(&self, dest: &str, label: &str, extra: &[&str]) -> Result<Run, BoxError> {
        let mut command = self.command(&["export", dest]);
        command.args(extra);
        measure::run(command, &self.logs, label)
    }

    /// `export`, which must succeed (status 0, or 3 when `partial` is allowed); returns the run
    /// and its report document.
    pub fn export_report(
        &self,
        dest: &str,
        label: &str,
        partial: bool,
    ) -> Result<(Run, serde_json::Value), BoxError> {
        let run = self.export(dest, label, &[])?;
        if !(run.code == 0 || (partial && run.code == 3)) {
            return Err(format!(
                "`{label}` ended with status {}: {}",
                run.code,
                run.stdout.trim()
            )
            .into());
        }
        let report = serde_json::from_str(&run.stdout).map_err(|e| {
            format!(
                "`{label}` printed no report ({e}); see {}",
                self.logs.display()
            )
        })?;
        Ok((run, report))
    }

    /// Bytes on disk the destination keeps between exports: everything in the data folder but
    /// the exports' own folders (reports, refused rows).
    pub fn kept_bytes(&self) -> std::io::Result<u64> {
        folder_bytes(&self.data, &["exports"])
    }
}

/// Requests the light verify after the export made (its own figure in the report).
pub fn light_verify_requests(report: &serde_json::Value) -> u64 {
    report["light_verify"]["requests"].as_u64().unwrap_or(0)
}

/// A number in a report's totals.
pub fn total(report: &serde_json::Value, field: &str) -> u64 {
    report["totals"][field].as_u64().unwrap_or(0)
}

fn folder_bytes(dir: &Path, skip: &[&str]) -> std::io::Result<u64> {
    let mut bytes = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if skip.iter().any(|s| entry.file_name() == *s) {
            continue;
        }
        let meta = entry.metadata()?;
        bytes += if meta.is_dir() {
            folder_bytes(&entry.path(), &[])?
        } else {
            meta.len()
        };
    }
    Ok(bytes)
}
