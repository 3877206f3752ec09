//! The first page: the connected destinations (each with its API's name) and **Set up**, which
//! connects an account of any API the product exports to (the set-up page offers the choice).

use super::layout::{count, next_run, notice, page, when, Notice};
use super::report::status_badge;
use maud::{html, Markup};
use shared::audience_api::ApiKind;
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
                    p.muted { "No destination yet. Set up an account below to export your segments to it." }
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
                    h2 #autopilot { (apis(" or ", |w| w.api)) }
                    p.muted { "Export segments as " (apis(" or ", |w| format!("{} {}s", w.api, w.audience))) ": contacts are added or updated by email, and members who leave a segment are taken off its " (apis(" or ", |w| w.audience)) "." }
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
                div.muted.small {
                    (d.api.vocabulary().api)
                    @if let Some(account) = &d.account_name { " · " (account) }
                }
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

/// Every API's `word`, joined: "Autopilot or Ortto".
fn apis<T: AsRef<str>>(
    between: &str,
    word: impl Fn(&shared::audience_api::Vocabulary) -> T,
) -> String {
    let words: Vec<T> = ApiKind::ALL.iter().map(|k| word(k.vocabulary())).collect();
    words
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(between)
}
