//! A destination: **Export now** with its progress, the latest report, **Verify** (see
//! [`super::verify`]), the history and beside it the changes (the audit trail: who changed what,
//! from any front door), the schedule and guardrails, and **Remove destination** (with a
//! confirmation page). The API and what it calls a list are named in the destination's words
//! (its API's [`shared::audience_api::Vocabulary`]). The summary names the account the key opens —
//! Autopilot's name for it; for Ortto, which answers no account name, the region the key is for.

use super::layout::{count, field_error, next_run, notice, page, when, Notice};
use super::report;
use maud::{html, Markup};
use shared::app::audit::Entry;
use shared::app::in_process::{Outcome, Run};
use shared::audience_api::{ApiKind, Region};
use shared::destination::Destination;
use shared::jobs::finalize::Report;

pub struct View<'a> {
    pub destination: &'a Destination,
    pub history: &'a [Report],
    /// The latest entries of the audit trail, newest first.
    pub changes: &'a [Entry],
    pub run: Option<&'a Run>,
    pub notice: Option<(Notice, String)>,
    pub settings_error: Option<String>,
    /// The latest Verify or Repair of the destination.
    pub check: Option<&'a crate::checks::Check>,
    pub next: crate::schedule::NextRun,
}

pub fn render(v: &View) -> Markup {
    let d = v.destination;
    let configured = d.data_matching.is_some() && !d.segments.is_empty();
    let running = v.run.is_some_and(|r| r.outcome.is_none());
    let words = d.api.vocabulary();
    page(
        &d.display_name,
        &[("Export destinations", "/")],
        html! {
            @if let Some((kind, text)) = &v.notice { (notice(*kind, text)) }
            @if let Some(Run { outcome: Some(Outcome::Stopped(message)), .. }) = v.run {
                (notice(Notice::Error, &format!("The last export stopped: {message}")))
            }
            section.card.summary {
                dl {
                    (account(d))
                    div { dt { "Export user" } dd { (d.consent.export_user) } }
                    div { dt { "Segments" } dd {
                        @if d.segments.is_empty() { span.muted { "none yet" } }
                        @else { (d.segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")) }
                    } }
                    div { dt { "Email column" } dd { (d.data_matching.as_ref().map_or("—", |m| m.email.as_str())) } }
                    div { dt { "Next scheduled run" } dd { (next_run(&v.next)) } }
                }
                div.actions {
                    @if configured {
                        form method="post" action=(format!("/destinations/{}/export", d.id)) {
                            button.primary type="submit" disabled[running] { "Export now" }
                        }
                        a.button href=(format!("/destinations/{}/preview", d.id)) { "Preview" }
                    }
                    a.button.quiet href=(format!("/destinations/{}/matching", d.id)) {
                        @if configured { "Edit data matching and segments" } @else { "Choose data matching and segments" }
                    }
                }
            }
            @if running {
                (progress(d, v.run))
            }
            section.card aria-labelledby="latest" {
                h2 #latest { "Latest export" }
                @if let Some(latest) = v.history.first() { (report::report(latest)) }
                @else { p.muted { "Not exported yet." } }
            }
            @if configured {
                (super::verify::card(words, &d.id, !v.history.is_empty(), v.check))
            }
            section.card aria-labelledby="history-title" {
                h2 #history-title { "History" }
                (report::history(v.history))
            }
            section.card aria-labelledby="changes-title" {
                h2 #changes-title { "Changes" }
                (changes(v.changes))
            }
            (settings(d, v.settings_error.as_deref()))
            section.card.danger aria-labelledby="remove-title" {
                h2 #remove-title { "Remove" }
                p { "Removing deletes the stored API key and this destination; its " (words.audience) "s and contacts stay in " (words.api) "." }
                a.button.danger href=(format!("/destinations/{}/remove", d.id)) { "Remove destination" }
            }
        },
    )
}

/// Whose account the key opens: Autopilot names it. Ortto has no call that answers an account's
/// name, so for Ortto it is the region the key is for — or, for a destination set up with another
/// API URL, that URL's host.
fn account(d: &Destination) -> Markup {
    match d.api {
        ApiKind::Ortto => html! {
            div { dt { "Ortto region" } dd { (ortto_region(&d.api_url)) } }
        },
        _ => html! {
            div { dt { (d.api.vocabulary().api) " account" } dd { (d.account_name.as_deref().unwrap_or("—")) } }
        },
    }
}

/// The Ortto region of `api_url` in words ("Europe (api.eu.ap3api.com)"), or "Custom API URL
/// (host:port)" when it is none of Ortto's hosts.
fn ortto_region(api_url: &str) -> String {
    if let Some(region) = Region::of_url(api_url) {
        return super::setup::region_label(region).to_string();
    }
    let Ok(url) = url::Url::parse(api_url) else {
        return "Custom API URL".to_string();
    };
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("Custom API URL ({host}:{port})"),
        None => format!("Custom API URL ({host})"),
    }
}

/// The audit trail's latest entries, newest first: when, who, what, and the details (a name the
/// call gave besides its caller in brackets).
fn changes(entries: &[Entry]) -> Markup {
    html! {
        @if entries.is_empty() {
            p.muted { "No change recorded yet." }
        } @else {
            div.table-scroll {
                table #changes {
                    caption.sr-only { "Changes to this destination, newest first" }
                    thead { tr {
                        th scope="col" { "When (UTC)" }
                        th scope="col" { "Who" }
                        th scope="col" { "What" }
                        th scope="col" { "Details" }
                    } }
                    tbody {
                        @for e in entries {
                            tr {
                                th scope="row" { (when(e.at)) }
                                td { (e.caller) }
                                td { (e.action.as_str()) }
                                td {
                                    (e.details)
                                    @if let Some(label) = &e.label { " (for: " (label) ")" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn progress(d: &Destination, run: Option<&Run>) -> Markup {
    let (done, total) = run.map_or((0, 0), |r| (r.done, r.total));
    html! {
        section.card #progress data-progress=(format!("/destinations/{}/progress", d.id)) aria-labelledby="progress-title" {
            h2 #progress-title { "Exporting…" }
            @if let Some(run) = run { p.muted { "Export " code.export-id { (run.export_id) } } }
            progress #progress-bar max=(total.max(1)) value=(done) aria-label="Export progress" {}
            p #progress-text aria-live="polite" {
                (count(done)) " of " (count(total)) " contacts sent"
            }
        }
    }
}

fn settings(d: &Destination, error: Option<&str>) -> Markup {
    let g = d.guardrails;
    let audience = d.api.vocabulary().audience;
    html! {
        form.card method="post" action=(format!("/destinations/{}/settings", d.id)) aria-labelledby="settings-title" {
            h2 #settings-title { "Schedule and guardrails" }
            div.check {
                input #schedule type="checkbox" name="schedule" checked[d.schedule.enabled];
                label for="schedule" { "Export on the schedule" }
            }
            p.hint { "On AWS the deployment's schedule exports every destination that has it on; the command line and this console export when you ask." }
            div.grid {
                div.field {
                    label for="max_removal_percent" { "Removal guardrail (%)" }
                    p.hint #max_removal_percent-hint { "Stop an export that would take more than this share of a " (audience) "'s members off it." }
                    input #max_removal_percent type="number" min="0" max="100" step="any" name="max_removal_percent" value=(g.max_removal_percent)
                        aria-describedby="max_removal_percent-hint settings-error";
                }
                div.field {
                    label for="max_shrink_percent" { "Shrink guardrail (%)" }
                    p.hint #max_shrink_percent-hint { "Stop an export of a segment that shrank by more than this since the last export." }
                    input #max_shrink_percent type="number" min="0" max="100" step="any" name="max_shrink_percent" value=(g.max_shrink_percent)
                        aria-describedby="max_shrink_percent-hint settings-error";
                }
            }
            (field_error("settings", error))
            div.actions { button type="submit" { "Save schedule and guardrails" } }
        }
    }
}

pub fn confirm_remove(d: &Destination) -> Markup {
    let words = d.api.vocabulary();
    page(
        &format!("Remove {}?", d.display_name),
        &[
            ("Export destinations", "/"),
            (&d.display_name, &format!("/destinations/{}", d.id)),
        ],
        html! {
            form.card.danger method="post" action=(format!("/destinations/{}/remove", d.id)) {
                p { "This deletes the stored API key of " strong { (d.display_name) } ", its configuration and its export history. No further export runs. The " (words.audience) "s and contacts already in " (words.api) " stay there." }
                div.actions {
                    button.danger type="submit" { "Remove destination" }
                    a.button.quiet href=(format!("/destinations/{}", d.id)) { "Cancel" }
                }
            }
        },
    )
}

/// A page for an id that is not (or no longer) a destination.
pub fn not_found(message: &str) -> Markup {
    page(
        "Not found",
        &[("Export destinations", "/")],
        html! { (notice(Notice::Error, message)) a.button href="/" { "All destinations" } },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(api: &str, api_url: &str, account_name: Option<&str>) -> Destination {
        serde_json::from_value(serde_json::json!({
            "id": "shop", "display_name": "Shop", "api": api, "api_url": api_url,
            "account_name": account_name, "created_at": "2026-01-01T00:00:00Z",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
        }))
        .unwrap()
    }

    /// The summary's first line: its term and its description.
    fn account_line(d: &Destination) -> String {
        let page = render(&View {
            destination: d,
            history: &[],
            changes: &[],
            run: None,
            notice: None,
            settings_error: None,
            check: None,
            next: crate::schedule::NextRun::Off,
        })
        .into_string();
        let line = page.split("<dl>").nth(1).unwrap();
        line[..line.find("</div>").unwrap()].to_string()
    }

    #[test]
    fn an_autopilot_destination_names_its_account() {
        let named = destination("autopilot", "https://api2.autopilothq.com/v1", Some("Acme"));
        assert_eq!(
            account_line(&named),
            "<div><dt>Autopilot account</dt><dd>Acme</dd>"
        );
        let unnamed = destination("autopilot", "https://api2.autopilothq.com/v1", None);
        assert_eq!(
            account_line(&unnamed),
            "<div><dt>Autopilot account</dt><dd>—</dd>"
        );
    }

    #[test]
    fn an_ortto_destination_names_the_region_its_key_is_for() {
        let eu = destination("ortto", "https://api.eu.ap3api.com", None);
        assert_eq!(
            account_line(&eu),
            "<div><dt>Ortto region</dt><dd>Europe (api.eu.ap3api.com)</dd>"
        );
        let global = destination("ortto", "https://api.ap3api.com/", None);
        assert_eq!(
            account_line(&global),
            "<div><dt>Ortto region</dt><dd>Global (api.ap3api.com)</dd>"
        );
        let custom = destination("ortto", "http://127.0.0.1:4510", None);
        assert_eq!(
            account_line(&custom),
            "<div><dt>Ortto region</dt><dd>Custom API URL (127.0.0.1:4510)</dd>"
        );
        let proxied = destination("ortto", "https://ortto.example.com/eu", None);
        assert_eq!(
            account_line(&proxied),
            "<div><dt>Ortto region</dt><dd>Custom API URL (ortto.example.com)</dd>"
        );
    }
}
