//! The dry run's result: distinct profiles against the profile limit, then per segment the adds,
//! updates, unchanged contacts, removals, invalid and duplicate rows. Shown on its own page for
//! the saved choices, and above the matching form for the form's unsaved ones. What the API calls a
//! list comes from its vocabulary.

use super::layout::{capitalized, count, notice, page, Notice};
use maud::{html, Markup};
use shared::audience_api::Vocabulary;
use shared::jobs::plan;
use shared::JobError;

/// What a dry run gave.
pub enum DryRun {
    Counted(plan::Output),
    /// The segments hold more distinct profiles than the limit: the scan stopped at the first one
    /// over it, so `distinct` is a lower bound.
    OverLimit {
        distinct: u64,
    },
    /// Why it could not run.
    Failed(String),
}

impl From<Result<plan::Output, JobError>> for DryRun {
    fn from(result: Result<plan::Output, JobError>) -> Self {
        match result {
            Ok(out) => DryRun::Counted(out),
            Err(JobError::LimitExceeded { distinct, .. }) => DryRun::OverLimit { distinct },
            Err(e) => DryRun::Failed(e.to_string()),
        }
    }
}

fn over_limit(distinct: &str, limit: u64) -> Markup {
    notice(
        Notice::Warning,
        &format!("Over the limit: the segments hold {distinct} distinct profiles, more than this destination's limit of {}. An export would stop before sending anything; export fewer segments or raise the limit (at most 100,000 is recommended).", count(limit)),
    )
}

/// The result, for a page or a card.
pub fn result(words: &Vocabulary, limit: u64, dry: &DryRun) -> Markup {
    let out = match dry {
        DryRun::Failed(message) => return notice(Notice::Error, message),
        DryRun::OverLimit { distinct } => {
            return over_limit(&format!("at least {}", count(*distinct)), limit)
        }
        DryRun::Counted(out) => out,
    };
    html! {
        div.stats {
            div.stat { span.value { (count(out.distinct_profiles)) } span.label { "distinct profiles" } }
            div.stat { span.value { (count(limit)) } span.label { "profile limit" } }
            div.stat { span.value { (count(out.contacts)) } span.label { "contacts to send" } }
            div.stat { span.value { (count(out.removals)) } span.label { "removals" } }
        }
        @if out.distinct_profiles > limit {
            (over_limit(&count(out.distinct_profiles), limit))
        } @else {
            (notice(Notice::Done, "Within the profile limit. Nothing was sent: this was a dry run."))
        }
        div.table-scroll {
            table.numbers {
                caption.sr-only { "Per segment" }
                thead { tr {
                    th scope="col" { "Segment" }
                    th scope="col" { (capitalized(words.audience)) }
                    th scope="col" { "Adds" }
                    th scope="col" { "Updates" }
                    th scope="col" { "Unchanged" }
                    th scope="col" { "Removals" }
                    th scope="col" { "Invalid" }
                    th scope="col" { "Duplicates" }
                } }
                tbody {
                    @for s in out.preview.iter().flatten() {
                        tr {
                            th scope="row" { (s.name) }
                            td { @if s.list_exists { "exists" } @else { "new" } }
                            td { (count(s.adds)) }
                            td { (count(s.updates)) }
                            td { (count(s.unchanged)) }
                            td { (count(s.removals)) }
                            td { (count(s.rejects)) }
                            td { (count(s.duplicates)) }
                        }
                    }
                }
            }
        }
    }
}

/// The dry run of the saved choices, on a page of its own.
pub fn page_of(
    words: &Vocabulary,
    dest: &str,
    display_name: &str,
    limit: u64,
    dry: &DryRun,
) -> Markup {
    page(
        &format!("Preview of {display_name}"),
        &[
            ("Export destinations", "/"),
            (display_name, &format!("/destinations/{dest}")),
        ],
        html! {
            section.card { (result(words, limit, dry)) }
            div.actions {
                a.button.primary href=(format!("/destinations/{dest}")) { "Back to " (display_name) }
                a.button.quiet href=(format!("/destinations/{dest}/matching")) { "Change data matching" }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::audience_api::ApiKind;

    fn dry_run(distinct: u64) -> DryRun {
        DryRun::Counted(plan::Output {
            destination_id: "m".into(),
            export_id: "e".into(),
            chunks: Vec::new(),
            contacts: distinct,
            removals: 0,
            distinct_profiles: distinct,
            requests_per_second: 10.0,
            preview: Some(Vec::new()),
        })
    }

    #[test]
    fn the_preview_warns_over_the_profile_limit_only() {
        let words = ApiKind::Autopilot.vocabulary();
        let over = page_of(words, "m", "M", 1_000, &dry_run(1_001)).into_string();
        assert!(over.contains("Over the limit: the segments hold 1,001 distinct profiles"));
        let within = page_of(words, "m", "M", 1_000, &dry_run(1_000)).into_string();
        assert!(!within.contains("Over the limit"));
        assert!(within.contains("Within the profile limit"));
        let stopped = DryRun::from(Err(JobError::LimitExceeded {
            distinct: 1_001,
            limit: 1_000,
        }));
        let stopped = result(words, 1_000, &stopped).into_string();
        assert!(stopped.contains("hold at least 1,001 distinct profiles"));
        let failed = DryRun::Failed("no <snapshot>".into());
        let failed = page_of(words, "m", "M", 1_000, &failed).into_string();
        assert!(failed.contains("no &lt;snapshot&gt;") && failed.contains("role=\"alert\""));
    }
}
