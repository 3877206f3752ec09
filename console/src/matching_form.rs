//! The data matching page's posted form: the columns and segments it chose, read into
//! `configure`'s input (every other setting kept as stored), or what to say at which field.

use crate::app;
use crate::forms::Form;
use crate::pages::matching;
use shared::destination::{DataMatching, Segment};
use shared::jobs::configure;
use shared::snapshot::sources;
use std::collections::BTreeMap;

/// The data matching and segments of a posted form, or what to say at which field.
pub fn matching_input(
    form: &Form,
    snapshots: &[app::Snapshot],
) -> (
    matching::Choices,
    Result<(DataMatching, Vec<Segment>), matching::Errors>,
) {
    let pairs: Vec<(String, String)> = form
        .all("field_name")
        .into_iter()
        .zip(form.all("field_column"))
        .map(|(f, c)| (f.trim().to_string(), c.trim().to_string()))
        .filter(|(f, c)| !f.is_empty() || !c.is_empty())
        .collect();
    let choices = matching::Choices {
        email: form.text("email"),
        first_name: form.text("first_name"),
        last_name: form.text("last_name"),
        extra: pairs.clone(),
        segments: form.all("segment"),
        headerless: form.text("columns"),
    };
    let mut errors = matching::Errors::default();
    if choices.email.is_empty() {
        errors.email = Some(
            "Choose the column that holds the email address: it is how Autopilot matches contacts."
                .into(),
        );
    }
    let segments: Vec<Segment> = choices
        .segments
        .iter()
        .filter_map(|name| {
            snapshots
                .iter()
                .find(|s| &s.segment == name)
                .map(|s| Segment {
                    columns: headerless_columns(&choices.headerless, &s.path),
                    ..Segment::new(s.segment.clone(), s.path.clone())
                })
        })
        .collect();
    if segments.is_empty() {
        errors.segments = Some("Choose at least one segment to export.".into());
    } else if segments.len() < choices.segments.len() {
        errors.segments =
            Some("A chosen segment's snapshot is no longer in the snapshot folder.".into());
    }
    if pairs.iter().any(|(f, c)| f.is_empty() || c.is_empty()) {
        errors.other =
            Some("Each added field needs both an Autopilot field name and a column.".into());
    }
    if errors.email.is_some() || errors.segments.is_some() || errors.other.is_some() {
        return (choices, Err(errors));
    }
    let (custom, fields): (BTreeMap<_, _>, BTreeMap<_, _>) =
        pairs.into_iter().partition(|(f, _)| f.contains("--"));
    let matching = DataMatching {
        email: choices.email.clone(),
        first_name: Some(choices.first_name.clone()).filter(|s| !s.is_empty()),
        last_name: Some(choices.last_name.clone()).filter(|s| !s.is_empty()),
        fields,
        custom,
    };
    (choices, Ok((matching, segments)))
}

/// The column names typed for headerless files, for a segment read from `source` (a model names
/// its own).
fn headerless_columns(text: &str, source: &str) -> Option<Vec<String>> {
    let model = matches!(sources::form(source), sources::Form::Model { .. });
    let names: Vec<String> = text.split(',').map(|c| c.trim().to_string()).collect();
    (!model && !text.trim().is_empty()).then_some(names)
}

/// `configure`'s input for the matching page's choices, every other setting kept as stored.
pub fn matching_only(
    destination_id: &str,
    data_matching: DataMatching,
    segments: Vec<Segment>,
) -> configure::Input {
    configure::Input {
        destination_id: destination_id.to_string(),
        data_matching,
        segments,
        profile_limit: None,
        requests_per_second: None,
        schedule: None,
        max_removal_percent: None,
        max_shrink_percent: None,
    }
}
