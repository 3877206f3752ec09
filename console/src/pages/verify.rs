//! A destination's **Verify** card: the button, "Verifying…" while the segments' lists (Ortto:
//! tags) are read back, then per list what the API holds against what the last export left there,
//! the cost, and **Repair** when members are missing. Every word naming the API or its lists comes
//! from the destination's [`Vocabulary`], with the one-time step it needs, if any.

use super::layout::{capitalized, count, duration, notice, Notice};
use crate::checks::Check;
use maud::{html, Markup};
use shared::app::verify::{ListCheck, Verified};
use shared::audience_api::Vocabulary;

pub fn card(words: &Vocabulary, dest: &str, exported: bool, check: Option<&Check>) -> Markup {
    let running = check.is_some_and(Check::is_running);
    let (api, audience) = (words.api, words.audience);
    html! {
        section.card #verify aria-labelledby="verify-title" {
            h2 #verify-title { "What " (api) " holds" }
            p.hint { "Reads each segment's " (audience) " back from " (api) " (at the destination's rate) and compares it with what the last export left there. Members others added are counted, never touched." }
            @if let Some(step) = words.one_time_step { p.hint #one-time-step { (step) } }
            @match check {
                Some(Check { repair, outcome: None }) => {
                    p.status #verifying role="status" aria-live="polite"
                        data-verify=(format!("/destinations/{dest}/verify")) {
                        span.spinner aria-hidden="true" {}
                        @if *repair { "Repairing… putting missing members back on their " (audience) "s." }
                        @else { "Verifying… reading the " (audience) "s back from " (api) "." }
                    }
                }
                Some(Check { outcome: Some(Err(message)), .. }) => {
                    (notice(Notice::Error, &format!("Not verified: {message}")))
                }
                Some(Check { outcome: Some(Ok(found)), .. }) => { (findings(words, found)) }
                None => {
                    @if !exported { p.muted { "Export first: there is nothing to compare the " (audience) "s with yet." } }
                }
            }
            @if repairable(check) {
                p.hint #repair-hint { "Repair puts the missing members back on their " (audience) "s: " (audience) " membership only, never a contact's fields or subscription. Unsubscribed contacts stay unsubscribed." }
            }
            div.actions {
                @if repairable(check) {
                    form method="post" action=(format!("/destinations/{dest}/repair")) {
                        button.primary type="submit" aria-describedby="repair-hint" { "Repair" }
                    }
                }
                form method="post" action=(format!("/destinations/{dest}/verify")) {
                    button type="submit" disabled[running] { "Verify" }
                }
            }
        }
    }
}

/// Whether the check found members missing from lists that still exist.
fn repairable(check: Option<&Check>) -> bool {
    let Some(Check {
        outcome: Some(Ok(found)),
        ..
    }) = check
    else {
        return false;
    };
    found
        .lists
        .iter()
        .any(|l| !l.list_gone && l.missing > l.repaired)
}

/// What one check found.
fn findings(words: &Vocabulary, found: &Verified) -> Markup {
    let audience = words.audience;
    let missing: u64 = found
        .lists
        .iter()
        .map(|l| l.missing.saturating_sub(l.repaired))
        .sum();
    html! {
        @if found.in_place() {
            @let all = format!("Every {audience} holds every member the last export left on it.");
            @if found.repair { (notice(Notice::Done, &format!("{} {all}", repaired(words, found)))) }
            @else { (notice(Notice::Done, &all)) }
        } @else {
            @if found.repair { (notice(Notice::Done, &repaired(words, found))) }
            (notice(Notice::Warning, &summary(words, found, missing)))
        }
        div.table-scroll {
            table.numbers {
                caption.sr-only { (capitalized(audience)) "s read back" }
                thead { tr {
                    th scope="col" { "Segment" }
                    th scope="col" { "Expected" }
                    th scope="col" { "Present" }
                    th scope="col" { "Missing" }
                    th scope="col" { "Unsubscribed" }
                    th scope="col" { "Foreign" }
                    @if found.repair { th scope="col" { "Put back" } }
                    th scope="col" { (capitalized(audience)) }
                } }
                tbody {
                    @for l in &found.lists {
                        tr {
                            th scope="row" { (l.segment) }
                            td { (count(l.expected)) }
                            td { (count(l.present)) }
                            td { (count(l.missing)) }
                            td { (count(l.unsubscribed)) }
                            td { (count(l.foreign)) }
                            @if found.repair { td { (count(l.repaired)) } }
                            td.text { (list_state(l)) }
                        }
                    }
                }
            }
        }
        p.muted.small #verify-cost {
            (count(found.requests)) " requests to " (words.api) " in " (duration(found.seconds))
            " at up to " (found.requests_per_second) " requests/second · compared with export "
            code.export-id { (found.export_id) }
        }
    }
}

fn list_state(l: &ListCheck) -> String {
    match (&l.recreated_as, l.list_gone) {
        (Some(id), true) => format!("gone; recreated as {id}"),
        (None, true) => "gone".into(),
        _ => "in place".into(),
    }
}

fn summary(words: &Vocabulary, found: &Verified, missing: u64) -> String {
    let Vocabulary { api, audience, .. } = words;
    let gone = found.lists.iter().filter(|l| l.list_gone).count();
    let mut parts = Vec::new();
    if missing > 0 {
        parts.push(format!(
            "{} of the members the last export left are no longer on their {audience}s",
            count(missing)
        ));
    }
    if gone > 0 {
        parts.push(format!(
            "{gone} {audience}{} gone from {api} (the next export creates it again)",
            if gone == 1 { " is" } else { "s are" }
        ));
    }
    format!("{}.", parts.join("; "))
}

fn repaired(words: &Vocabulary, found: &Verified) -> String {
    let Vocabulary { api, audience, .. } = words;
    let put_back: u64 = found.lists.iter().map(|l| l.repaired).sum();
    let not: u64 = found.lists.iter().map(|l| l.not_repaired).sum();
    let mut text = format!(
        "Repaired: {} member{} put back on their {audience}s.",
        count(put_back),
        if put_back == 1 { "" } else { "s" }
    );
    if not > 0 {
        text.push_str(&format!(
            " {} could not be put back: they are no longer contacts in {api}.",
            count(not)
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::audience_api::ApiKind;

    fn list(segment: &str, expected: u64, missing: u64, repaired: u64) -> ListCheck {
        ListCheck {
            segment: segment.into(),
            list_id: format!("contactlist_{segment}"),
            expected,
            present: expected - missing,
            missing,
            repaired,
            ..ListCheck::default()
        }
    }

    fn verified(lists: Vec<ListCheck>, repair: bool) -> Verified {
        Verified {
            destination_id: "m".into(),
            export_id: "e1".into(),
            lists,
            requests: 12,
            seconds: 1.5,
            requests_per_second: 10.0,
            repair,
        }
    }

    fn shown(found: Verified) -> String {
        shown_for(ApiKind::Autopilot, found)
    }

    fn shown_for(api: ApiKind, found: Verified) -> String {
        let check = Check {
            repair: found.repair,
            outcome: Some(Ok(found)),
        };
        card(api.vocabulary(), "m", true, Some(&check)).into_string()
    }

    #[test]
    fn missing_members_offer_a_repair_and_in_place_lists_do_not() {
        let html = shown(verified(vec![list("<VIP>", 700, 5, 0)], false));
        assert!(html.contains("5 of the members the last export left are no longer"));
        assert!(html.contains("&lt;VIP&gt;"));
        assert!(html.contains(">Repair</button>"));
        assert!(html.contains("12 requests to Autopilot in 1.5 s"));
        let html = shown(verified(vec![list("VIP", 700, 0, 0)], false));
        assert!(html.contains("Every list holds every member"));
        assert!(!html.contains(">Repair</button>"));
    }

    #[test]
    fn a_repair_says_what_it_put_back() {
        let html = shown(verified(vec![list("VIP", 700, 5, 5)], true));
        assert!(html.contains("Repaired: 5 members put back on their lists."));
        assert!(html.contains("Every list holds every member"));
        assert!(!html.contains(">Repair</button>"));
    }

    #[test]
    fn a_gone_list_is_said_and_not_repaired() {
        let mut gone = list("VIP", 700, 700, 0);
        gone.list_gone = true;
        gone.recreated_as = Some("contactlist_2".into());
        let html = shown(verified(vec![gone], false));
        assert!(html.contains("gone; recreated as contactlist_2"));
        assert!(html.contains("1 list is gone from Autopilot"));
        assert!(!html.contains(">Repair</button>"));
    }

    #[test]
    fn a_running_check_says_so_and_disables_the_button() {
        let running = Check {
            repair: false,
            outcome: None,
        };
        let autopilot = ApiKind::Autopilot.vocabulary();
        let html = card(autopilot, "m", true, Some(&running)).into_string();
        assert!(html.contains("Verifying…"));
        assert!(html.contains("<button type=\"submit\" disabled>Verify</button>"));
        let failed = Check {
            repair: false,
            outcome: Some(Err("no <export>".into())),
        };
        let html = card(autopilot, "m", true, Some(&failed)).into_string();
        assert!(
            html.contains("Not verified: no &lt;export&gt;") && html.contains("role=\"alert\"")
        );
    }

    #[test]
    fn an_ortto_check_speaks_of_tags_and_the_audience_to_build() {
        let mut gone = list("Lapsed", 80, 80, 0);
        gone.list_gone = true;
        let html = shown_for(
            ApiKind::Ortto,
            verified(vec![list("VIP", 700, 5, 0), gone], false),
        );
        assert!(html.contains("What Ortto holds"));
        assert!(html.contains("no longer on their tags; 1 tag is gone from Ortto"));
        assert!(html.contains("<th scope=\"col\">Tag</th>"));
        assert!(html.contains("12 requests to Ortto in 1.5 s"));
        assert!(html.contains("Tag is &lt;segment name&gt;"));
        assert!(
            !html.contains("Autopilot") && !html.contains("list"),
            "{html}"
        );
        let html = shown(verified(vec![list("VIP", 700, 0, 0)], false));
        assert!(!html.contains("Ortto") && !html.contains("Tag is"));
    }
}
