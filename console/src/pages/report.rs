//! An export's report (per segment: rows read, and each row's bucket — sent, of which added, and
//! the rest — so that a row adds up) and the history of exports, as tables.

use super::layout::{count, duration, when};
use maud::{html, Markup};
use shared::jobs::finalize::{Counts, Report, Status};

pub fn status_words(status: Status) -> &'static str {
    match status {
        Status::Succeeded => "succeeded",
        Status::PartiallySucceeded => "partially succeeded",
        Status::Failed => "failed",
    }
}

pub fn status_badge(status: Status) -> Markup {
    let class = match status {
        Status::Succeeded => "badge ok",
        Status::PartiallySucceeded => "badge partial",
        Status::Failed => "badge failed",
    };
    html! { span class=(class) { (status_words(status)) } }
}

fn rejected_link(report: &Report) -> String {
    format!(
        "/destinations/{}/exports/{}/rejected.csv",
        report.destination_id, report.export_id
    )
}

/// The report of one export: its status in words, then its counts per segment.
pub fn report(report: &Report) -> Markup {
    html! {
        div.report-head {
            p.status-line {
                "Export " (status_badge(report.status))
                span.muted { " · finished " (when(report.finished_at)) " · took " (duration(report.duration_seconds)) }
            }
            @if report.rejected_file.is_some() {
                a.button href=(rejected_link(report)) download="rejected.csv" { "Download rejected.csv" }
            }
        }
        @if let Some(failure) = &report.failure {
            p.notice.error { (failure.message) }
        }
        div.table-scroll {
            table.numbers.buckets {
                caption.sr-only { "Export report per segment" }
                thead { tr {
                    th scope="col" { "Segment" }
                    th scope="col" { "Rows" }
                    th scope="col" { "Sent" }
                    th scope="col" { "of which added" }
                    th scope="col" { "Unchanged" }
                    th scope="col" { "Invalid" }
                    th scope="col" { "Duplicates" }
                    th scope="col" { "Rejected by " (report.api.vocabulary().api) }
                    th scope="col" { "Suppressed by " (report.api.vocabulary().api) }
                    th scope="col" { "Unsent" }
                    th scope="col" { "Removed" }
                } }
                tbody {
                    @for s in &report.segments { (counts_row(&s.name, &s.counts)) }
                }
                tfoot { (counts_row("All segments", &report.totals)) }
            }
        }
    }
}

fn counts_row(name: &str, c: &Counts) -> Markup {
    html! {
        tr {
            th scope="row" { (name) }
            td { (count(c.rows_read)) }
            td { (count(c.sent)) }
            td { (count(c.added)) }
            td { (count(c.unchanged)) }
            td { (count(c.invalid)) }
            td { (count(c.duplicates)) }
            td { (count(c.rejected)) }
            td { (count(c.suppressed)) }
            td { (count(c.unsent)) }
            td { (count(c.removed)) }
        }
    }
}

/// Past exports, newest first: each one's totals (the buckets a reader looks for first — the
/// report of the latest has them all).
pub fn history(reports: &[Report]) -> Markup {
    html! {
        @if reports.is_empty() {
            p.muted { "No export yet." }
        } @else {
            div.table-scroll {
                table.numbers.buckets #history {
                    caption.sr-only { "Export history, newest first" }
                    thead { tr {
                        th scope="col" { "Finished" }
                        th scope="col" { "Status" }
                        th scope="col" { "Duration" }
                        th scope="col" { "Rows" }
                        th scope="col" { "Sent" }
                        th scope="col" { "Invalid" }
                        th scope="col" { "Rejected" }
                        th scope="col" { "Suppressed" }
                        th scope="col" { "Removed" }
                        th scope="col" { "Refused rows" }
                    } }
                    tbody {
                        @for r in reports {
                            tr {
                                th scope="row" { (when(r.finished_at)) }
                                td {
                                    (status_badge(r.status))
                                    @if let Some(trigger) = r.trigger {
                                        span.by { "by " (trigger.as_str()) }
                                    }
                                }
                                td { (duration(r.duration_seconds)) }
                                td { (count(r.totals.rows_read)) }
                                td { (count(r.totals.sent)) }
                                td { (count(r.totals.invalid)) }
                                td { (count(r.totals.rejected)) }
                                td { (count(r.totals.suppressed)) }
                                td { (count(r.totals.removed)) }
                                td {
                                    @if r.rejected_file.is_some() {
                                        a href=(rejected_link(r)) download="rejected.csv" { "rejected.csv" }
                                    } @else { span.muted { "none" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
