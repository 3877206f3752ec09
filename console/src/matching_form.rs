//! The data matching page's posted form: the columns and segments it chose, read into
//! `configure`'s input (every other setting kept as stored), or what to say at which field — in
//! the destination's API's words, refusing at the field a standard field that API lacks.

use crate::app;
use crate::forms::Form;
use crate::pages::matching;
use shared::audience_api::Vocabulary;
use shared::destination::{DataMatching, Segment};
use shared::jobs::configure;
use shared::snapshot::sources;
use std::collections::BTreeMap;

/// The data matching and segments of a posted form, or what to say at which field.
pub fn matching_input(
    words: &Vocabulary,
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
        escapes: form.checked("escapes"),
    };
    let mut errors = matching::Errors::default();
    if choices.email.is_empty() {
        errors.email = Some(format!(
            "Choose the column that holds the email address: it is how {} matches contacts.",
            words.api
        ));
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
                    backslash_escapes: choices.escapes && !sources::names_model(&s.path),
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
        errors.other = Some(format!(
            "Each added field needs both {} field name and a column.",
            crate::pages::matching::with_article(words.api)
        ));
    }
    errors.fields = lacking_standard_field(words, &pairs);
    let refused = [
        &errors.email,
        &errors.segments,
        &errors.fields,
        &errors.other,
    ];
    if refused.iter().any(|e| e.is_some()) {
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
    let names: Vec<String> = text.split(',').map(|c| c.trim().to_string()).collect();
    (!sources::names_model(source) && !text.trim().is_empty()).then_some(names)
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

/// What to say about the first added field that is neither a custom field (`type--Name`) nor a
/// standard field of the API, if any.
fn lacking_standard_field(words: &Vocabulary, pairs: &[(String, String)]) -> Option<String> {
    let (field, _) = pairs.iter().find(|(field, _)| {
        !field.is_empty()
            && !field.contains("--")
            && !words.standard_fields.contains(&field.as_str())
    })?;
    let api = words.api;
    Some(format!(
        "{api} has no standard field '{field}': type it as a custom field, string--{field} (or integer--, float--, boolean--, date--), and {api} gets a field of that name. Its standard fields: {}.",
        words.standard_fields.join(", ")
    ))
}
