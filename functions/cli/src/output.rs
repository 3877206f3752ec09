//! What the commands print: readable summaries, or with `--json` one JSON document.

use crate::failure::BoxError;
use crate::table::{self, Column};
use shared::audience_api::Vocabulary;
use shared::destination::Destination;
use shared::jobs::finalize::{Counts, Report, Status};
use shared::jobs::plan::SegmentPreview;
use shared::jobs::progress::ChunkProgress;
use shared::jobs::{configure, connect, lock, remove};
use shared::store::keys;
use std::path::Path;

type CliResult = Result<(), BoxError>;

/// What connect says, in the words of the destination's API (`words`).
pub fn connected(out: &connect::Output, words: &Vocabulary, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::json!({"destination_id": out.destination_id, "account_name": out.account_name})
        );
    } else {
        println!(
            "Connected {} ({} account: {}). The key is stored; next: autopilot-export configure {} --email-field COLUMN --segment 'NAME=PATH'",
            out.destination_id,
            words.api,
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
        // A notification URL's path can be a chat webhook's secret: its host only.
        let shown: Vec<Destination> = found
            .iter()
            .cloned()
            .map(|mut d| {
                d.notify_url = d.notify_url.as_deref().map(shared::app::notify::shown);
                d
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&shown)?);
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
        println!("Run `autopilot-export export {dest}` to finish it: what already landed is not sent again.");
    }
    Ok(())
}

/// Prints a report: a table per segment, the status, time against the floor, and where files are.
pub fn report(report: &Report, data_dir: &Path, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        crate::report_lines::print(report, json);
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
        println!("{}", segments_table(report, table::width()));
        let created: Vec<&str> = report
            .segments
            .iter()
            .filter(|s| s.list_created)
            .map(|s| s.name.as_str())
            .collect();
        let words = report.api.vocabulary();
        if !created.is_empty() {
            println!("  {}s created: {}", words.audience, created.join(", "));
        }
        for (reason, n) in &report.totals.invalid_by_reason {
            println!("    invalid: {reason}: {n}");
        }
        for (message, n) in &report.totals.rejected_by_message {
            println!("    rejected by {}: {message}: {n}", words.api);
        }
        for (message, n) in &report.totals.suppressed_by_message {
            println!("    suppressed by {}: {message}: {n}", words.api);
        }
        println!(
            "  {} distinct profiles · {:.1}s against a rate-limit floor of {:.1}s at {} req/s",
            report.distinct_profiles,
            report.duration_seconds,
            report.rate_limit_floor_seconds,
            report.requests_per_second
        );
    }
    crate::report_lines::print(report, json);
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
    let api = report.api.vocabulary().api;
    let were = |n: u64| {
        if n == 1 {
            "1 contact was".to_string()
        } else {
            format!("{} contacts were", shared::text::thousands(n))
        }
    };
    let mut parts = Vec::new();
    if totals.unsent > 0 {
        let why = match report.failure.as_ref().map(|f| f.error_type.as_str()) {
            Some("Transient") => format!("{api} did not answer"),
            Some("Throttled") => format!("{api} kept throttling the requests"),
            Some("Unauthorized") => format!("{api} rejected the API key"),
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
            "{} refused by {api}: their rows and reasons are in {place}",
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

/// One row per segment and the totals: what was read, sent and refused.
fn segments_table(report: &Report, width: u16) -> String {
    let rows: Vec<&Counts> = report
        .segments
        .iter()
        .map(|s| &s.counts)
        .chain([&report.totals])
        .collect();
    let names: Vec<&str> = report
        .segments
        .iter()
        .map(|s| s.name.as_str())
        .chain(["total"])
        .collect();
    let column =
        |header, count: fn(&Counts) -> u64| Column::new(header, rows.iter().map(|c| count(c)));
    let columns = vec![
        column("rows", |c| c.rows_read),
        column("added", |c| c.added),
        column("updated", |c| c.updated),
        column("unchanged", |c| c.unchanged),
        column("invalid", |c| c.invalid),
        column("duplicate", |c| c.duplicates),
        column("rejected", |c| c.rejected),
        column("suppressed", |c| c.suppressed),
        column("unsent", |c| c.unsent),
        column("removed", |c| c.removed),
    ];
    table::counts("segment", &names, columns, &["rows", "added"], width)
}

/// Prints what a dry run found, in the words of the destination's API (`words`).
pub fn preview(out: &shared::jobs::plan::Output, words: &Vocabulary, json: bool) -> CliResult {
    if json {
        println!("{}", serde_json::to_string_pretty(out)?);
        return Ok(());
    }
    println!(
        "Dry run of {}: nothing was written to {}.",
        out.destination_id, words.api
    );
    let create = format!("{} would be created", words.audience);
    let segments: Vec<&SegmentPreview> = out.preview.iter().flatten().collect();
    println!("{}", preview_table(&segments, table::width()));
    for s in &segments {
        let mut notes = Vec::new();
        if !s.list_exists {
            notes.push(create.as_str());
        }
        if s.full {
            notes.push("full resend");
        }
        if notes.is_empty() && s.samples.is_empty() {
            continue;
        }
        let mut line = format!("  {}", s.name);
        if !notes.is_empty() {
            line.push_str(&format!(" ({})", notes.join(", ")));
        }
        if !s.samples.is_empty() {
            line.push_str(", as it would be sent:");
        }
        println!("{line}");
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

/// One row per segment: what a dry run would send, remove and refuse (every column kept).
fn preview_table(segments: &[&SegmentPreview], width: u16) -> String {
    let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
    let column = |header, count: fn(&SegmentPreview) -> u64| {
        Column::new(header, segments.iter().map(|s| count(s)))
    };
    let columns = vec![
        column("adds", |s| s.adds),
        column("updates", |s| s.updates),
        column("unchanged", |s| s.unchanged),
        column("removals", |s| s.removals),
        column("rejects", |s| s.rejects),
        column("duplicate", |s| s.duplicates),
    ];
    let every: Vec<&str> = columns.iter().map(|c| c.header).collect();
    table::counts("segment", &names, columns, &every, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::jobs::finalize::{Failure, SegmentReport};

    fn partial(unsent: u64, rejected: u64, failure: Option<&str>) -> Report {
        Report {
            destination_id: "marketing".into(),
            api: Default::default(),
            export_id: "e1".into(),
            status: Status::PartiallySucceeded,
            failure: failure.map(|t| Failure {
                error_type: t.into(),
                message: "gave up after 10 attempts".into(),
            }),
            trigger: None,
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
            requests: 0,
            chunks: 0,
            lists_created: 0,
            light_verify: None,
            cost: None,
        }
    }

    fn every_count(n: u64) -> Counts {
        Counts {
            rows_read: 100_000 + n,
            added: 60_000 + n,
            updated: 20_000 + n,
            unchanged: 10_000 + n,
            invalid: 120 + n,
            duplicates: 150 + n,
            rejected: 3 + n,
            unsent: 9_000 + n,
            removed: 400 + n,
            ..Counts::default()
        }
    }

    #[test]
    fn the_summary_with_every_count_fits_80_and_100_columns() {
        let mut report = partial(1, 1, None);
        report.segments = [
            "VIP Customers",
            "Lapsed Buyers who have not bought in a year",
        ]
        .iter()
        .enumerate()
        .map(|(i, name)| SegmentReport {
            name: name.to_string(),
            list_id: format!("contactlist_{i}"),
            list_created: i == 0,
            counts: every_count(i as u64),
        })
        .collect();
        report.totals = every_count(9);
        for width in [80, 100] {
            let table = segments_table(&report, width);
            assert_eq!(
                table.lines().filter(|l| l.contains("10009")).count(),
                1,
                "{table}"
            );
            for line in table.lines() {
                assert!(
                    line.chars().count() <= width as usize,
                    "{width}: {line:?} in\n{table}"
                );
            }
            for header in [
                "rows",
                "added",
                "unchanged",
                "duplicate",
                "unsent",
                "removed",
            ] {
                assert!(table.contains(header), "{header} in\n{table}");
            }
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
