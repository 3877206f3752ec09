//! The lines a report ends with after its table: what the light verify read back from each list
//! (an Ortto destination's tag; the API's own word is used), a warning on stderr for one that is
//! gone, and the export's estimated AWS cost. With `--json` the report document holds both
//! (`light_verify`, `cost`); only the warning is printed.

use shared::cost::Cost;
use shared::jobs::finalize::{LightVerify, Report, SampledList};
use shared::text::thousands;

/// Prints the report's closing lines (text) and its warnings (stderr, also with `--json`).
pub fn print(report: &Report, json: bool) {
    for warning in warnings(report) {
        eprintln!("warning: {warning}");
    }
    if json {
        return;
    }
    if let Some(light) = &report.light_verify {
        let audience = report.api.vocabulary().audience;
        for line in light_verify(light, &report.destination_id, audience) {
            println!("{line}");
        }
    }
    if let Some(cost) = &report.cost {
        println!("{}", cost_line(cost));
    }
}

/// One line per list gone: the segment and the list's id only.
fn warnings(report: &Report) -> Vec<String> {
    let dest = &report.destination_id;
    let words = report.api.vocabulary();
    report
        .light_verify
        .iter()
        .flat_map(LightVerify::gone)
        .map(|l| {
            format!(
                "the {} {} of {} ({}) is gone: the next export creates it again; run `autopilot-export verify {dest}` to see what else changed",
                words.api, words.audience, l.segment, l.list_id
            )
        })
        .collect()
}

/// The light verify's lines; `audience` is the API's word for a segment's list ("list", "tag").
fn light_verify(light: &LightVerify, dest: &str, audience: &str) -> Vec<String> {
    let mut lines = vec![format!(
        "  light verify ({} a {audience}, {} requests):",
        pages(u64::from(light.pages_per_list)),
        light.requests
    )];
    lines.extend(
        light
            .lists
            .iter()
            .map(|l| format!("    {}", list(l, audience))),
    );
    lines.push(format!(
        "    {} (`autopilot-export verify {dest}`)",
        light.note
    ));
    lines
}

fn list(l: &SampledList, audience: &str) -> String {
    if let Some(why) = &l.not_checked {
        return format!("{}: not checked ({why})", l.segment);
    }
    if l.list_gone {
        return format!("{}: the {audience} is gone", l.segment);
    }
    let mut text = format!(
        "{}: {} read, {} members, {} of ours unsubscribed, {} foreign",
        l.segment,
        pages(u64::from(l.pages)),
        thousands(l.members),
        thousands(l.unsubscribed),
        thousands(l.foreign)
    );
    if let (true, Some(missing)) = (l.whole_list, l.missing) {
        text.push_str(&format!(
            "; whole {audience} read: {} of ours missing",
            thousands(missing)
        ));
    }
    text
}

fn pages(n: u64) -> String {
    if n == 1 {
        "1 page".into()
    } else {
        format!("{} pages", thousands(n))
    }
}

/// `  AWS cost (estimate): $0.0123 = Lambda … + Step Functions … + S3 …; us-east-1 list prices of …`
fn cost_line(cost: &Cost) -> String {
    format!(
        "  AWS cost (estimate): ${:.4} = Lambda {:.1} GB-s, {} invocations ${:.4} + Step Functions {} transitions ${:.4} + S3 {} PUT/LIST, {} GET ${:.4}; us-east-1 list prices of {}, arm64 (assumptions in --json)",
        cost.total_usd,
        cost.lambda_gb_seconds,
        cost.lambda_invocations,
        cost.lambda_usd,
        thousands(cost.state_transitions),
        cost.step_functions_usd,
        thousands(cost.s3_puts),
        thousands(cost.s3_gets),
        cost.s3_usd,
        cost.prices_as_of
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sampled(segment: &str) -> SampledList {
        SampledList {
            segment: segment.into(),
            list_id: format!("contactlist_{segment}"),
            pages: 2,
            members: 151,
            unsubscribed: 2,
            foreign: 4,
            whole_list: true,
            missing: Some(3),
            ..SampledList::default()
        }
    }

    #[test]
    fn each_list_says_what_was_read_and_a_gone_one_is_a_warning() {
        let gone = SampledList {
            list_gone: true,
            ..sampled("Lapsed")
        };
        let not_checked = SampledList {
            not_checked: Some("Transient: Autopilot failed to answer (500)".into()),
            ..sampled("Other")
        };
        let light = LightVerify {
            pages_per_list: 2,
            lists: vec![sampled("VIP"), gone, not_checked],
            requests: 5,
            seconds: 0.4,
            note: "a sample cannot count missing members: run `verify` for a full count".into(),
        };
        let lines = light_verify(&light, "marketing", "list");
        assert_eq!(lines[0], "  light verify (2 pages a list, 5 requests):");
        assert_eq!(
            lines[1],
            "    VIP: 2 pages read, 151 members, 2 of ours unsubscribed, 4 foreign; whole list read: 3 of ours missing"
        );
        assert_eq!(lines[2], "    Lapsed: the list is gone");
        assert!(lines[3].starts_with("    Other: not checked (Transient"));
        assert!(lines[4].contains("full count"), "{}", lines[4]);
        // An Ortto destination's segments are tags.
        let tags = light_verify(&light, "marketing", "tag");
        assert_eq!(tags[0], "  light verify (2 pages a tag, 5 requests):");
        assert!(tags[1].ends_with("; whole tag read: 3 of ours missing"));
        assert_eq!(tags[2], "    Lapsed: the tag is gone");
        let report: Report = serde_json::from_value(serde_json::json!({
            "destination_id": "marketing", "export_id": "e", "status": "succeeded",
            "started_at": null, "finished_at": "2026-01-01T00:00:00Z", "duration_seconds": 1.0,
            "requests_per_second": 10.0, "rate_limit_floor_seconds": 1.0, "distinct_profiles": 0,
            "segments": [], "totals": {"rows_read": 0, "sent": 0, "added": 0, "updated": 0,
                "unchanged": 0, "removed": 0, "invalid": 0, "invalid_by_reason": {}, "duplicates": 0,
                "rejected": 0, "rejected_by_message": {}, "unsent": 0},
            "light_verify": light,
        }))
        .unwrap();
        let warned = warnings(&report);
        assert_eq!(warned.len(), 1);
        assert!(warned[0].starts_with("the Autopilot list of Lapsed (contactlist_Lapsed) is gone"));
    }

    #[test]
    fn the_cost_is_one_line_with_its_total_and_components() {
        let cost = shared::cost::estimate(&shared::cost::Usage {
            rows_read: 100_000,
            chunks: 100,
            send_requests: 1_000,
            requests_per_second: 10.0,
            succeeded: true,
            ..shared::cost::Usage::default()
        });
        let line = cost_line(&cost);
        assert!(line.starts_with(&format!(
            "  AWS cost (estimate): ${:.4} = Lambda ",
            cost.total_usd
        )));
        assert!(line.contains("307 transitions"), "{line}");
        assert!(!line.contains('\n'));
    }
}
