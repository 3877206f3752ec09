//! `configure`: data matching, segments, the profile limit and the guardrails of a destination;
//! and, on its own, how many pages of each list the light verify after an export reads.

use super::{Deps, JobError};
use crate::destination::{self, Boundary, DataMatching, Segment};
use crate::field_mapping;
use crate::snapshot::sources;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
    pub data_matching: DataMatching,
    pub segments: Vec<Segment>,
    #[serde(default)]
    pub profile_limit: Option<u64>,
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// Turns the scheduled refresh on or off (on AWS); unchanged when absent.
    #[serde(default)]
    pub schedule: Option<destination::Schedule>,
    /// Guardrail thresholds in percent (see [`destination::Guardrails`]); unchanged when absent.
    #[serde(default)]
    pub max_removal_percent: Option<f64>,
    #[serde(default)]
    pub max_shrink_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub segments: usize,
}

/// Configures with no limit on where segments are read from: the local command.
pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    run_within(input, deps, &Boundary::anywhere()).await
}

/// Configures a destination whose segments must lie inside `boundary` (on AWS: the stack's
/// snapshot bucket and prefix). Nothing changes when one does not.
pub async fn run_within(
    input: Input,
    deps: &Deps,
    boundary: &Boundary,
) -> Result<Output, JobError> {
    let mut destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    field_mapping::validate(&input.data_matching, destination.api.vocabulary())
        .map_err(JobError::InvalidInput)?;
    if input.segments.is_empty() {
        return Err(JobError::InvalidInput(
            "choose at least one segment: --segment 'NAME=PATH_OR_S3_URL'".into(),
        ));
    }
    let mut names = HashSet::new();
    for segment in &input.segments {
        if segment.name.trim().is_empty() || segment.source.trim().is_empty() {
            return Err(JobError::InvalidInput(
                "a segment needs a name and a snapshot: --segment 'NAME=PATH_OR_S3_URL'".into(),
            ));
        }
        if !names.insert(segment.name.trim().to_string()) {
            return Err(JobError::InvalidInput(format!(
                "the segment '{}' is given twice: each segment becomes one {} {}",
                segment.name.trim(),
                destination.api.vocabulary().api,
                destination.api.vocabulary().audience
            )));
        }
        boundary.check_source(segment)?;
        check_layout(segment, &input.data_matching)?;
    }
    if input.profile_limit == Some(0) {
        return Err(JobError::InvalidInput(
            "the profile limit must be at least 1 (the default is 100,000)".into(),
        ));
    }
    for (name, value) in [
        ("max removal percent", input.max_removal_percent),
        ("max shrink percent", input.max_shrink_percent),
    ] {
        if value.is_some_and(|p| !(0.0..=100.0).contains(&p)) {
            return Err(JobError::InvalidInput(format!(
                "the {name} is a share of a list in percent: give a number from 0 to 100 (100 turns the guardrail off)"
            )));
        }
    }
    if let Some(rate) = input.requests_per_second {
        destination.requests_per_second =
            super::connect::check_rate(rate).map_err(JobError::InvalidInput)?;
    }
    destination.data_matching = Some(input.data_matching);
    destination.segments = input
        .segments
        .into_iter()
        .map(|s| Segment {
            name: s.name.trim().to_string(),
            source: s.source.trim().to_string(),
            columns: s
                .columns
                .map(|c| c.iter().map(|c| c.trim().to_string()).collect()),
            backslash_escapes: s.backslash_escapes,
        })
        .collect();
    if let Some(schedule) = input.schedule {
        destination.schedule = schedule;
    }
    if let Some(limit) = input.profile_limit {
        destination.profile_limit = limit;
    }
    if let Some(percent) = input.max_removal_percent {
        destination.guardrails.max_removal_percent = percent;
    }
    if let Some(percent) = input.max_shrink_percent {
        destination.guardrails.max_shrink_percent = percent;
    }
    destination::save(deps.store.as_ref(), &destination).await?;
    Ok(Output {
        destination_id: destination.id,
        segments: destination.segments.len(),
    })
}

/// Refuses a segment source of a form that cannot be read (a model without its entity, a glob
/// that is not one), and column names for headerless files that do not name every column the
/// data matching reads (or that a model, which names its own, is given); a model read as
/// backslash-escaped text (it says how its files are written).
fn check_layout(segment: &Segment, matching: &DataMatching) -> Result<(), JobError> {
    let name = segment.name.trim();
    sources::check_form(segment.source.trim())
        .map_err(|e| JobError::InvalidInput(format!("segment '{name}': {e}")))?;
    let model = sources::names_model(segment.source.trim());
    if model && segment.backslash_escapes {
        return Err(JobError::InvalidInput(format!(
            "segment '{name}': a data-lake model says how its files are written: backslash escapes are read only for CSV unloads"
        )));
    }
    let Some(columns) = &segment.columns else {
        return Ok(());
    };
    if model {
        return Err(JobError::InvalidInput(format!(
            "segment '{name}': a data-lake model names its own columns: give column names only for headerless CSV files"
        )));
    }
    if columns.iter().any(|c| c.trim().is_empty()) {
        return Err(JobError::InvalidInput(format!(
            "segment '{name}': a column name of the headerless files is empty: --columns email,first_name,… names each column in order"
        )));
    }
    for wanted in matching.columns() {
        if field_mapping::column_positions(columns, &wanted).len() != 1 {
            return Err(JobError::InvalidInput(format!(
                "segment '{name}': the data matching reads the column '{wanted}', which the column names of its headerless files ({}) do not name once",
                columns.join(",")
            )));
        }
    }
    Ok(())
}

/// Sets how many pages of each segment's list are read back after every export of `destination`
/// (0 turns the light verify off); refuses more than [`destination::MAX_VERIFY_PAGES`].
pub async fn set_verify_pages(
    deps: &Deps,
    destination_id: &str,
    pages: u32,
) -> Result<(), JobError> {
    if pages > destination::MAX_VERIFY_PAGES {
        return Err(JobError::InvalidInput(format!(
            "a light verify reads at most {} pages of a list (0 turns it off): for a full count run `autopilot-export verify {destination_id}`",
            destination::MAX_VERIFY_PAGES
        )));
    }
    let mut destination = destination::load(deps.store.as_ref(), destination_id).await?;
    destination.verify_pages = pages;
    destination::save(deps.store.as_ref(), &destination).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::connect::tests::deps;

    #[tokio::test]
    async fn a_rate_outside_the_range_is_refused_and_the_destination_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let deps = deps(dir.path());
        let stored: destination::Destination = serde_json::from_value(serde_json::json!({
            "id": "main",
            "display_name": "Main",
            "api_url": "http://127.0.0.1:9/v1",
            "account_name": null,
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "test"},
            "created_at": "2026-01-01T00:00:00Z",
            "requests_per_second": 10.0,
        }))
        .unwrap();
        destination::save(deps.store.as_ref(), &stored)
            .await
            .unwrap();
        let input = |rate: f64| Input {
            destination_id: "main".into(),
            data_matching: DataMatching {
                email: "email".into(),
                first_name: None,
                last_name: None,
                fields: Default::default(),
                custom: Default::default(),
            },
            segments: vec![Segment::new("All", "all.csv")],
            profile_limit: None,
            requests_per_second: Some(rate),
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        };
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-9, 10_001.0] {
            match run(input(rate), &deps).await {
                Err(JobError::InvalidInput(message)) => {
                    assert!(message.contains("from 0.1 to 10,000"), "{rate}: {message}")
                }
                other => panic!("{rate} must be refused as invalid input: {other:?}"),
            }
        }
        let kept = destination::load(deps.store.as_ref(), "main")
            .await
            .unwrap();
        assert_eq!(kept.requests_per_second, 10.0);
        run(input(30.0), &deps).await.unwrap();
        let changed = destination::load(deps.store.as_ref(), "main")
            .await
            .unwrap();
        assert_eq!(changed.requests_per_second, 30.0);
        assert_eq!(
            changed.verify_pages,
            destination::DEFAULT_VERIFY_PAGES,
            "a destination stored before the setting reads the default"
        );
        set_verify_pages(&deps, "main", 0).await.unwrap();
        let off = destination::load(deps.store.as_ref(), "main").await;
        assert_eq!(off.unwrap().verify_pages, 0);
        let too_many = set_verify_pages(&deps, "main", destination::MAX_VERIFY_PAGES + 1).await;
        assert!(
            matches!(too_many, Err(JobError::InvalidInput(_))),
            "{too_many:?}"
        );
        let kept = destination::load(deps.store.as_ref(), "main").await;
        assert_eq!(kept.unwrap().verify_pages, 0);
    }

    #[test]
    fn layouts_are_checked_when_configured() {
        let matching = DataMatching {
            email: "email".into(),
            first_name: Some("First".into()),
            last_name: None,
            fields: Default::default(),
            custom: Default::default(),
        };
        let with = |source: &str, columns: Option<&[&str]>| Segment {
            columns: columns.map(|c| c.iter().map(|c| c.to_string()).collect()),
            ..Segment::new("S", source)
        };
        let refused = |segment: Segment| match check_layout(&segment, &matching) {
            Err(JobError::InvalidInput(message)) => message,
            other => panic!("{segment:?} must be refused: {other:?}"),
        };
        check_layout(&with("/u/vip/", Some(&["email", "first"])), &matching).unwrap();
        check_layout(&with("/lake/model.json#Vip", None), &matching).unwrap();
        assert!(refused(with("/u/vip/", Some(&["mail", "first"])))
            .contains("reads the column 'email', which the column names of its headerless files (mail,first) do not name once"));
        assert!(refused(with("/u/vip/", Some(&["email", " "]))).contains("is empty"));
        assert!(refused(with("/lake/model.json#Vip", Some(&["email"])))
            .contains("a data-lake model names its own columns"));
        assert!(refused(with("/lake/model.json#", None)).contains("names a model but no entity"));
        let escaped = |source: &str| Segment {
            backslash_escapes: true,
            ..Segment::new("S", source)
        };
        check_layout(&escaped("/u/vip/"), &matching).unwrap();
        assert!(refused(escaped("/lake/model.json#Vip"))
            .contains("backslash escapes are read only for CSV unloads"));
    }
}
