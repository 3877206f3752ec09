//! The table the fault and kill runs print: one line per case, notes on reruns and problems.

use super::Runs;
use sandbox::Counters;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub fault: String,
    pub first: String,
    pub reruns: u32,
    pub wall: f64,
    pub floor: f64,
    pub writes_per_contact: f64,
    pub worst: u64,
    pub repeats: u64,
    pub allowed: u64,
    pub problems: Vec<String>,
    pub history: Vec<String>,
}

impl Row {
    pub fn new(
        fault: &str,
        runs: &Runs,
        floor: f64,
        counters: &Counters,
        allowed: u64,
        problems: Vec<String>,
    ) -> Self {
        Self {
            fault: fault.to_string(),
            first: runs.first.clone(),
            reruns: runs.reruns,
            wall: runs.wall.as_secs_f64(),
            floor,
            writes_per_contact: counters.contacts_written as f64
                / counters.distinct_contacts_written.max(1) as f64,
            worst: counters.max_writes_per_contact,
            repeats: counters.contacts_written - counters.distinct_contacts_written,
            allowed,
            problems,
            history: runs.history.clone(),
        }
    }
}

/// The table: one line per case, then the problems of the cases that did not converge.
fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<22} | {:<21} | {:>6} | {:>7} | {:>7} | {:>14} | {:>13} | {:>15} | {}\n",
        "fault",
        "first run",
        "reruns",
        "wall s",
        "floor s",
        "writes/contact",
        "worst contact",
        "repeats/allowed",
        "converged"
    );
    out.push_str(&"-".repeat(out.len() - 1));
    out.push('\n');
    for r in rows {
        let _ = writeln!(
            out,
            "{:<22} | {:<21} | {:>6} | {:>7.1} | {:>7.1} | {:>14.3} | {:>13} | {:>15} | {}",
            r.fault,
            r.first,
            r.reruns,
            r.wall,
            r.floor,
            r.writes_per_contact,
            r.worst,
            format!("{}/{}", r.repeats, r.allowed),
            if r.problems.is_empty() { "yes" } else { "NO" }
        );
    }
    for r in rows.iter().filter(|r| r.history.len() > 1) {
        let _ = writeln!(out, "  {} runs: {}", r.fault, r.history.join(" → "));
    }
    for r in rows.iter().filter(|r| !r.problems.is_empty()) {
        for p in &r.problems {
            let _ = writeln!(out, "  {}: {p}", r.fault);
        }
    }
    out
}

/// Prints the table and keeps a copy in the target folder as `name`.
pub fn publish(title: &str, rows: &[Row], name: &str) -> String {
    let text = format!("{title}\n{}", table(rows));
    println!("\n{text}");
    let target = option_env!("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join(name), &text);
    text
}
