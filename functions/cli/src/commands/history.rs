//! `autopilot-export history DEST [--limit N]`: the destination's past exports, newest first —
//! export id, when it started, what started it, how long it took, its status and its counts — from the reports
//! the exports left ([`shared::app::exports::recent`]). Exports older than the retention period
//! are gone from it, as they are from the data folder. Below them, the latest calls that changed
//! the destination, who made them and when ([`shared::app::audit`]).

use super::Context;
use crate::args::HistoryArgs;
use crate::failure::{BoxError, Outcome};
use serde::Serialize;
use shared::app::{audit, exports};
use shared::destination;
use shared::jobs::finalize::{Counts, Report, Status};
use shared::jobs::plan::Trigger;

/// One export as the history shows it.
#[derive(Debug, Serialize)]
struct Entry<'a> {
    export_id: &'a str,
    /// What started it (`null` when its report does not say).
    trigger: Option<Trigger>,
    status: Status,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    finished_at: chrono::DateTime<chrono::Utc>,
    duration_seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<&'a str>,
    counts: &'a Counts,
}

impl<'a> From<&'a Report> for Entry<'a> {
    fn from(report: &'a Report) -> Self {
        Self {
            export_id: &report.export_id,
            trigger: report.trigger,
            status: report.status,
            started_at: report.started_at,
            finished_at: report.finished_at,
            duration_seconds: report.duration_seconds,
            failure: report.failure.as_ref().map(|f| f.error_type.as_str()),
            counts: &report.totals,
        }
    }
}

pub async fn run(ctx: &Context, args: HistoryArgs) -> Result<Outcome, BoxError> {
    let destination = destination::load(ctx.deps.store.as_ref(), &args.dest).await?;
    let dest = destination.id.as_str();
    let reports = exports::recent(&ctx.deps, dest, 0, args.limit as usize).await?;
    let entries: Vec<Entry> = reports.iter().map(Entry::from).collect();
    let trail = audit::recent(ctx.deps.store.as_ref(), dest, args.limit as usize).await?;
    if ctx.json {
        let body = serde_json::json!({"destination_id": dest, "exports": entries, "audit": trail});
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(Outcome::Done);
    }
    if entries.is_empty() {
        println!("{dest} has not been exported yet.");
    } else {
        println!("Exports of {dest}, newest first:");
        for entry in &entries {
            println!("  {}", line(entry));
        }
    }
    if !trail.is_empty() {
        println!("Changes to {dest}, newest first:");
        for entry in &trail {
            println!("  {}", change(entry));
        }
    }
    Ok(Outcome::Done)
}

/// One recorded call on one line: when, who, what, and a name the call gave besides its caller.
fn change(entry: &audit::Entry) -> String {
    let mut line = format!(
        "{}  {:<10}  {}",
        entry.at.format("%Y-%m-%d %H:%M:%S UTC"),
        entry.action.as_str(),
        entry.caller
    );
    if !entry.details.is_empty() {
        line.push_str(&format!("  {}", entry.details));
    }
    if let Some(label) = &entry.label {
        line.push_str(&format!("  (for: {label})"));
    }
    line
}

/// One export on one line: id, start, trigger, duration, status, counts (the zero ones left out).
fn line(entry: &Entry) -> String {
    let started = entry.started_at.map_or_else(
        || "-".to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    );
    let status = match (entry.status, entry.failure) {
        (Status::Succeeded, _) => "succeeded".to_string(),
        (Status::PartiallySucceeded, _) => "partially succeeded".to_string(),
        (Status::Failed, Some(why)) => format!("FAILED ({why})"),
        (Status::Failed, None) => "FAILED".to_string(),
    };
    let c = entry.counts;
    let counts: Vec<String> = [
        ("rows", c.rows_read),
        ("added", c.added),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("removed", c.removed),
        ("invalid", c.invalid),
        ("duplicates", c.duplicates),
        ("rejected", c.rejected),
        ("unsent", c.unsent),
    ]
    .iter()
    .filter(|(name, n)| *n > 0 || *name == "rows")
    .map(|(name, n)| format!("{n} {name}"))
    .collect();
    let trigger = entry.trigger.map_or("-", Trigger::as_str);
    format!(
        "{}  {started}  {trigger:<8}  {:>7.1}s  {status:<20}  {}",
        entry.export_id,
        entry.duration_seconds,
        counts.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_when_what_who_and_a_label_apart() {
        let mut entry = audit::Entry::now("local:ana", audit::Action::Connect, "main")
            .details("API key checked and stored")
            .label(Some("marketing"));
        entry.at = "2026-11-30T17:00:00Z".parse().unwrap();
        assert_eq!(
            change(&entry),
            "2026-11-30 17:00:00 UTC  connect     local:ana  API key checked and stored  (for: marketing)"
        );
    }

    #[test]
    fn a_line_holds_id_start_duration_status_and_the_counts_that_are_not_zero() {
        let counts = Counts {
            rows_read: 12,
            sent: 10,
            added: 10,
            invalid: 2,
            ..Counts::default()
        };
        let started = "2026-11-30T17:00:00Z".parse().unwrap();
        let entry = Entry {
            export_id: "20261130T170000Z-abc123",
            trigger: Some(Trigger::Schedule),
            status: Status::Failed,
            started_at: Some(started),
            finished_at: started,
            duration_seconds: 3.25,
            failure: Some("Unauthorized"),
            counts: &counts,
        };
        assert_eq!(
            line(&entry),
            "20261130T170000Z-abc123  2026-11-30 17:00:00 UTC  schedule      3.2s  FAILED (Unauthorized)  12 rows, 10 added, 2 invalid"
        );
    }
}
