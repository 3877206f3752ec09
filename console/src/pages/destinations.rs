//! The first page: the connected destinations and the Autopilot section with **Set up**.

use super::layout::{count, next_run, notice, page, when, Notice};
use super::report::status_badge;
use maud::{html, Markup};
use shared::destination::Destination;
use shared::jobs::finalize::Report;

/// A destination and its latest export, if any.
pub struct Row {
    pub destination: Destination,
    pub latest: Option<Report>,
    pub running: bool,
    pub next: crate::schedule::NextRun,
}

pub fn render(rows: &[Row], removed: Option<&str>) -> Markup {
    page(
        "Export destinations",
        &[],
        html! {
            @if let Some(name) = removed {
                (notice(Notice::Done, &format!("Removed {name}: its API key is deleted and no further export runs.")))
            }
            section.card aria-labelledby="connected" {
                h2 #connected { "Connected" }
                @if rows.is_empty() {
                    p.muted { "No destination yet. Set up Autopilot below to export your segments to its lists." }
                } @else {
                    table {
                        thead { tr {
                            th scope="col" { "Destination" }
                            th scope="col" { "Segments" }
                            th scope="col" { "Last export" }
                            th scope="col" { "Next scheduled run" }
                        } }
                        tbody {
                            @for row in rows { (destination_row(row)) }
                        }
                    }
                }
            }
            section.card.provider aria-labelledby="autopilot" {
                div {
                    h2 #autopilot { "Autopilot" }
                    p.muted { "Export segments as Autopilot lists: contacts are added or updated by email, and members who leave a segment are taken off its list." }
                }
                a.button.primary href="/setup" { "Set up" }
            }
        },
    )
}

fn destination_row(row: &Row) -> Markup {
    let d = &row.destination;
    html! {
        tr {
            td {
                a href=(format!("/destinations/{}", d.id)) { (d.display_name) }
                @if let Some(account) = &d.account_name { div.muted.small { (account) } }
            }
            td {
                @if d.segments.is_empty() {
                    a href=(format!("/destinations/{}/matching", d.id)) { "Choose segments" }
                } @else {
                    (d.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "))
                }
            }
            td {
                @if row.running {
                    span.badge.running { "running" }
                } @else if let Some(r) = &row.latest {
                    (status_badge(r.status)) " "
                    span.small { (when(r.finished_at)) }
                    div.small.muted { (count(r.totals.sent)) " sent · " (count(r.totals.unchanged)) " unchanged · " (count(r.totals.removed)) " removed" }
                } @else {
                    span.muted { "never" }
                }
            }
            td { (next_run(&row.next)) }
        }
    }
}
