//! `autopilot-export verify DEST [--repair]`: reads each segment's list (Ortto: tag) back from the
//! destination's API and compares it with what the last export left there
//! ([`shared::app::verify`]); prints a table per list, masked samples and the cost against the
//! rate, in the API's words (its [`Vocabulary`]: Autopilot's lists, Ortto's tags). Ends 0 when every list holds every member
//! it should (after a repair), 3 when something is missing or a list is gone, 1 when the
//! verification itself failed.

use super::Context;
use crate::args::VerifyArgs;
use crate::failure::{BoxError, Outcome};
use crate::table::{self, Column};
use shared::app::audit::Action;
use shared::app::verify::{self, ListCheck, Verified};
use shared::audience_api::Vocabulary;

pub async fn run(ctx: &Context, args: VerifyArgs) -> Result<Outcome, BoxError> {
    // A repair writes to the lists: no export of this data folder may start meanwhile.
    let _held = if args.repair {
        Some(shared::local_lock::hold(&ctx.data_dir, &args.dest)?)
    } else {
        None
    };
    let verified = verify::foreground::run(&ctx.deps, &args.dest, args.repair).await?;
    let details = if args.repair {
        "verified, repair"
    } else {
        "verified"
    };
    let recorded = ctx.record(Action::Verify, &args.dest, details, None);
    recorded.await?;
    let destination = shared::destination::load(ctx.deps.store.as_ref(), &args.dest);
    let words = destination.await?.api.vocabulary();
    if ctx.json {
        println!("{}", serde_json::to_string_pretty(&verified)?);
    } else {
        print(&verified, words);
    }
    if verified.in_place() {
        Ok(Outcome::Done)
    } else {
        eprintln!("error: {}", gaps_line(&verified, words));
        Ok(Outcome::Partial)
    }
}

fn print(verified: &Verified, words: &Vocabulary) {
    println!(
        "Verified {} against export {}{}:",
        verified.destination_id,
        verified.export_id,
        if verified.repair {
            ", putting missing members back"
        } else {
            ""
        }
    );
    if !verified.lists.is_empty() {
        println!("{}", lists_table(&verified.lists, table::width()));
    }
    for list in &verified.lists {
        for line in findings(list, words) {
            println!("  {}: {line}", list.segment);
        }
    }
    println!("  {}", cost_line(verified));
}

/// One row per list.
fn lists_table(lists: &[ListCheck], width: u16) -> String {
    let names: Vec<&str> = lists.iter().map(|l| l.segment.as_str()).collect();
    let column =
        |header, count: fn(&ListCheck) -> u64| Column::new(header, lists.iter().map(count));
    let columns = vec![
        column("expected", |l| l.expected),
        column("present", |l| l.present),
        column("missing", |l| l.missing),
        column("unsubscribed", |l| l.unsubscribed),
        column("foreign", |l| l.foreign),
        column("repaired", |l| l.repaired),
        column("not repaired", |l| l.not_repaired),
    ];
    let keep = ["expected", "present", "missing", "unsubscribed", "foreign"];
    table::counts("segment", &names, columns, &keep, width)
}

/// What to say about one list beside its counts: a list that is gone, masked samples.
fn findings(list: &ListCheck, words: &Vocabulary) -> Vec<String> {
    let mut lines = Vec::new();
    let audience = words.audience;
    if list.list_gone {
        lines.push(match &list.recreated_as {
            Some(id) => format!(
                "the {audience} {} is gone; a {audience} of that name exists as {id}: the next export fills it",
                list.list_id
            ),
            None => format!(
                "the {audience} {} is gone: the next export creates it again",
                list.list_id
            ),
        });
    }
    let samples = &list.samples;
    for (what, shown) in [
        ("missing", &samples.missing),
        ("unsubscribed", &samples.unsubscribed),
        ("foreign (never touched)", &samples.foreign),
    ] {
        if !shown.is_empty() {
            lines.push(format!("{what}, e.g. {}", shown.join(", ")));
        }
    }
    lines
}

/// The cost: requests and time, against what the rate allows.
fn cost_line(verified: &Verified) -> String {
    let floor = verified.requests as f64 / verified.requests_per_second.max(f64::MIN_POSITIVE);
    format!(
        "{} requests in {:.1}s against a rate-limit floor of {floor:.1}s at {} req/s",
        verified.requests, verified.seconds, verified.requests_per_second
    )
}

/// The one line on stderr when something is not in place: counts only, and what to run.
fn gaps_line(verified: &Verified, words: &Vocabulary) -> String {
    let dest = &verified.destination_id;
    let (api, audience) = (words.api, words.audience);
    let gone: Vec<&str> = verified
        .lists
        .iter()
        .filter(|l| l.list_gone)
        .map(|l| l.segment.as_str())
        .collect();
    let missing: u64 = verified
        .lists
        .iter()
        .filter(|l| !l.list_gone)
        .map(|l| l.missing - l.repaired)
        .sum();
    let mut parts = Vec::new();
    if missing > 0 {
        let what = if verified.repair {
            format!("{missing} member(s) could not be put back (no longer contacts in {api}): `autopilot-export export {dest} --full` sends them again")
        } else {
            format!("{missing} member(s) are missing from their {audience}s: `autopilot-export verify {dest} --repair` puts them back")
        };
        parts.push(what);
    }
    if !gone.is_empty() {
        parts.push(format!(
            "the {audience}(s) of {} are gone: `autopilot-export export {dest}` sends their members to a {audience} of that name again",
            gone.join(", ")
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::audience_api::ApiKind;

    fn verified(lists: Vec<ListCheck>, repair: bool) -> Verified {
        Verified {
            destination_id: "main".into(),
            export_id: "e1".into(),
            lists,
            requests: 20,
            seconds: 2.1,
            requests_per_second: 10.0,
            repair,
        }
    }

    #[test]
    fn the_line_on_stderr_says_what_is_not_in_place_and_what_to_run() {
        let vip = ListCheck {
            segment: "VIP".into(),
            expected: 10,
            present: 5,
            missing: 5,
            ..ListCheck::default()
        };
        let gone = ListCheck {
            segment: "Lapsed".into(),
            list_gone: true,
            missing: 7,
            expected: 7,
            ..ListCheck::default()
        };
        let autopilot = ApiKind::Autopilot.vocabulary();
        let line = gaps_line(&verified(vec![vip.clone(), gone.clone()], false), autopilot);
        assert!(line.starts_with("5 member(s) are missing"), "{line}");
        assert!(line.contains("verify main --repair"), "{line}");
        assert!(line.contains("list(s) of Lapsed are gone"), "{line}");
        let repaired = ListCheck {
            repaired: 4,
            not_repaired: 1,
            ..vip
        };
        let line = gaps_line(&verified(vec![repaired.clone()], true), autopilot);
        assert!(
            line.starts_with("1 member(s) could not be put back (no longer contacts in Autopilot)"),
            "{line}"
        );
        let ortto = ApiKind::Ortto.vocabulary();
        let line = gaps_line(&verified(vec![repaired, gone.clone()], true), ortto);
        assert!(line.contains("(no longer contacts in Ortto)"), "{line}");
        assert!(line.contains("the tag(s) of Lapsed are gone"), "{line}");
        let gone = ListCheck {
            list_id: "VIP".into(),
            ..gone
        };
        assert_eq!(
            findings(&gone, ortto),
            ["the tag VIP is gone: the next export creates it again"]
        );
    }

    #[test]
    fn the_cost_is_set_against_the_rate() {
        let line = cost_line(&verified(Vec::new(), false));
        assert_eq!(
            line,
            "20 requests in 2.1s against a rate-limit floor of 2.0s at 10 req/s"
        );
    }
}
