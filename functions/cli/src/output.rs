//! What the commands print: readable summaries, or with `--json` one JSON document.

use crate::failure::BoxError;
use shared::destination::Destination;
use shared::jobs::finalize::{Counts, Report, Status};
use shared::jobs::progress::ChunkProgress;
use shared::jobs::{configure, connect, lock, remove};
use shared::store::keys;
use std::path::Path;

type CliResult = Result<(), BoxError>;

pub fn connected(out: &connect::Output, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({"destination_id": out.destination_id, "account_name": out.account_name})
        );
    } else {
        println!(
            "Connected {} (Autopilot account: {}). The key is stored; next: autopilot-export configure {} --email-field COLUMN --segment 'NAME=PATH'",
            out.destination_id,
            out.account_name.as_deref().unwrap_or("unnamed"),
            out.destination_id
        );
    }
}

pub fn configured(out: &configure::Output, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
    } else {
        println!(
            "Configured {} with {} segment(s). Export with: autopilot-export export {}",
            out.destination_id, out.segments, out.destination_id
        );
    }
    Ok(())
}

pub fn removed(out: &remove::Output, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
    } else {
        println!(
            "Removed {}: its API key is deleted and no further export runs.",
            out.destination_id
        );
    }
    Ok(())
}

pub fn destinations(found: &[Destination], json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(found)?);
        return Ok(());
    }
    if found.is_empty() {
        println!(
            "No destinations yet: connect one with `autopilot-export connect --name NAME --agree`."
        );
    }
    for d in found {
        println!(
            "{:<24} {:<28} {} segment(s), limit {}, {} req/s, account {}",
            d.id,
            d.display_name,
            d.segments.len(),
            d.profile_limit,
            d.requests_per_second,
            d.account_name.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// Prints where an export that has no report yet stands: running in another process, or
/// interrupted and waiting for `export` to finish it.
pub fn unfinished(
    dest: &str,
    running: &lock::Running,
    progress: &ChunkProgress,
    active: bool,
    json: bool,
) -> CliResult {
    if json {
        let state = if active { "running" } else { "interrupted" };
        let body = serde_json::json!({
            "export_id": running.export_id,
            "started_at": running.started_at,
            "status": state,
            "progress": progress,
        });
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    let state = if active {
        "is running"
    } else {
        "was interrupted"
    };
    let done = if progress.planned {
        format!(
            "{} of {} contacts and removals done ({} of {} chunks)",
            progress.contacts_done, progress.contacts, progress.chunks_done, progress.chunks
        )
    } else {
        "reading the snapshots".to_string()
    };
    println!(
        "Export {} of {dest} (started {}) {state}: {done}.",
        running.export_id,
        running.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if !active {
        println!("Run `autopilot-export export {dest}` to finish it: what Autopilot confirmed is not sent again.");
    }
    Ok(())
}

/// Prints a report: a table per segment, the status, time against the floor, and where files are.
pub fn report(report: &Report, data_dir: &Path, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let status = match report.status {
        Status::Succeeded => "succeeded",
        Status::PartiallySucceeded => "partially succeeded",
        Status::Failed => "FAILED",
    };
    println!(
        "Export {} of {}: {status}",
        report.export_id, report.destination_id
    );
    if let Some(failure) = &report.failure {
        println!("  reason ({}): {}", failure.error_type, failure.message);
    }
    if !report.segments.is_empty() {
        println!(
            "  {:<24} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>8}",
            "segment",
            "rows",
            "added",
            "updated",
            "unchanged",
            "invalid",
            "duplicate",
            "rejected",
            "unsent",
            "removed"
        );
        for s in &report.segments {
            println!(
                "  {}{}",
                row(&s.name, &s.counts),
                if s.list_created {
                    "  (list created)"
                } else {
                    ""
                }
            );
        }
        println!("  {}", row("total", &report.totals));
        for (reason, n) in &report.totals.invalid_by_reason {
            println!("    invalid: {reason}: {n}");
        }
        for (message, n) in &report.totals.rejected_by_message {
            println!("    rejected by Autopilot: {message}: {n}");
        }
        println!(
            "  {} distinct profiles · {:.1}s against a rate-limit floor of {:.1}s at {} req/s",
            report.distinct_profiles,
            report.duration_seconds,
            report.rate_limit_floor_seconds,
            report.requests_per_second
        );
    }
    let base = keys::report(&report.destination_id, &report.export_id);
    println!("  report: {}", data_dir.join(base).display());
    if let Some(rejected) = &report.rejected_file {
        println!("  refused rows: {}", data_dir.join(rejected).display());
    }
    Ok(())
}

/// The one line said on stderr after an export that partially succeeded: how many contacts did
/// not land, why, and what to do about them. Counts and paths only: no address, no value.
pub fn partial_line(report: &Report, data_dir: &Path) -> String {
    let totals = &report.totals;
    let dest = &report.destination_id;
    let were = |n: u64| {
        if n == 1 {
            "1 contact was".to_string()
        } else {
            format!("{} contacts were", shared::autopilot::thousands(n))
        }
    };
    let mut parts = Vec::new();
    if totals.unsent > 0 {
        let why = match report.failure.as_ref().map(|f| f.error_type.as_str()) {
            Some("Transient") => "Autopilot did not answer".to_string(),
            Some("Throttled") => "Autopilot kept throttling the requests".to_string(),
            Some("Unauthorized") => "Autopilot rejected the API key".to_string(),
            Some(other) => format!("the export stopped: {other}"),
            None => "the export stopped".to_string(),
        };
        parts.push(format!(
            "{} not sent ({why}): run `autopilot-export export {dest}` to send them; what already landed is not sent again",
            were(totals.unsent)
        ));
    }
    if totals.rejected > 0 {
        let place = report.rejected_file.as_ref().map_or_else(
            || "the report".to_string(),
            |file| data_dir.join(file).display().to_string(),
        );
        parts.push(format!(
            "{} refused by Autopilot: their rows and reasons are in {place}",
            were(totals.rejected)
        ));
    }
    if parts.is_empty() {
        let reason = report
            .failure
            .as_ref()
            .map_or_else(String::new, |f| format!(" ({})", f.message));
        parts.push(format!(
            "the export did not finish{reason}: run `autopilot-export export {dest}` to finish it"
        ));
    }
    parts.join("; ")
}

fn row(name: &str, c: &Counts) -> String {
    let name: String = name.chars().take(24).collect();
    format!(
        "{:<24} {:>8} {:>8} {:>8} {:>9} {:>8} {:>9} {:>8} {:>6} {:>8}",
        name,
        c.rows_read,
        c.added,
        c.updated,
        c.unchanged,
        c.invalid,
        c.duplicates,
        c.rejected,
        c.unsent,
        c.removed
    )
}

/// Prints what a dry run found.
pub fn preview(out: &shared::jobs::plan::Output, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
        return Ok(());
    }
    println!(
        "Dry run of {}: nothing was written to Autopilot.",
        out.destination_id
    );
    println!(
        "  {:<24} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9}",
        "segment", "adds", "updates", "unchanged", "removals", "rejects", "duplicate"
    );
    for s in out.preview.iter().flatten() {
        let name: String = s.name.chars().take(24).collect();
        println!(
            "  {:<24} {:>8} {:>8} {:>9} {:>8} {:>8} {:>9}{}{}",
            name,
            s.adds,
            s.updates,
            s.unchanged,
            s.removals,
            s.rejects,
            s.duplicates,
            if s.list_exists {
                ""
            } else {
                "  (list would be created)"
            },
            if s.full { "  (full resend)" } else { "" }
        );
        for sample in &s.samples {
            println!("      {sample}");
        }
    }
    println!(
        "  {} contacts to send, {} removals, {} distinct profiles",
        out.contacts, out.removals, out.distinct_profiles
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::jobs::finalize::Failure;

    fn partial(unsent: u64, rejected: u64, failure: Option<&str>) -> Report {
        Report {
            destination_id: "marketing".into(),
            export_id: "e1".into(),
            status: Status::PartiallySucceeded,
            failure: failure.map(|t| Failure {
                error_type: t.into(),
                message: "gave up after 10 attempts".into(),
            }),
            started_at: None,
            finished_at: chrono::Utc::now(),
            duration_seconds: 1.0,
            requests_per_second: 10.0,
            rate_limit_floor_seconds: 1.0,
            distinct_profiles: 110_000,
            segments: Vec::new(),
            totals: Counts {
                unsent,
                rejected,
                ..Counts::default()
            },
            rejected_file: (rejected > 0).then(|| "exports/marketing/e1/rejected.csv".into()),
        }
    }

    #[test]
    fn a_partial_export_says_in_one_line_what_did_not_land_and_what_to_run() {
        let data = Path::new("/data");
        let line = partial_line(&partial(74_000, 0, Some("Transient")), data);
        assert_eq!(
            line,
            "74,000 contacts were not sent (Autopilot did not answer): run `autopilot-export export marketing` to send them; what already landed is not sent again"
        );
        let line = partial_line(&partial(0, 1, None), data);
        assert_eq!(
            line,
            "1 contact was refused by Autopilot: their rows and reasons are in /data/exports/marketing/e1/rejected.csv"
        );
        let line = partial_line(&partial(5, 1_234_567, Some("Unauthorized")), data);
        assert!(line.starts_with("5 contacts were not sent (Autopilot rejected the API key)"));
        assert!(line.contains("; 1,234,567 contacts were refused by Autopilot"));
        assert!(!line.contains('\n'));
        let line = partial_line(&partial(0, 0, Some("Incomplete")), data);
        assert!(line.starts_with("the export did not finish (gave up after 10 attempts): run `autopilot-export export marketing`"), "{line}");
    }
}
