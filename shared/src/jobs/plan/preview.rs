//! What a dry run shows.

use super::scan::Scan;
use super::types::{Output, SegmentPreview};
use crate::autopilot::Contact;
use crate::destination::Destination;
use serde_json::Value;

/// A dry run's answer: counts per segment and a few masked payloads.
pub(super) fn output(
    destination: &Destination,
    export_id: &str,
    scan: &Scan,
    list_exists: impl Fn(&str) -> bool,
    rate: f64,
) -> Output {
    let preview = scan
        .segments
        .iter()
        .map(|s| SegmentPreview {
            name: s.plan.name.clone(),
            list_exists: list_exists(s.plan.name.as_str()),
            full: s.plan.full,
            adds: s.plan.adds,
            updates: s.plan.updates,
            unchanged: s.plan.unchanged,
            removals: s.plan.removals,
            rejects: s.plan.invalid.values().sum(),
            duplicates: s.plan.duplicates,
            samples: s.samples.clone(),
        })
        .collect();
    Output {
        destination_id: destination.id.clone(),
        export_id: export_id.to_string(),
        chunks: Vec::new(),
        contacts: scan.segments.iter().map(|s| s.plan.contacts).sum(),
        removals: scan.segments.iter().map(|s| s.plan.removals).sum(),
        distinct_profiles: scan.distinct,
        requests_per_second: rate,
        preview: Some(preview),
    }
}

/// Sample payloads shown per segment by a dry run.
pub(super) const SAMPLES: usize = 3;

/// A contact's payload as a preview shows it: every field by name, no value — text as its first
/// character and `***` (the email keeps its domain), numbers as `#`, true/false as `*`. Names,
/// phones and custom values are personal data as much as the email is (and the API's dry-run
/// answer carries them too).
pub(super) fn masked(contact: &Contact) -> Value {
    let mut value = shape(contact.to_autopilot_json());
    let shown = match contact.email().split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    };
    value["Email"] = Value::String(shown);
    value
}

/// A value's shape: objects keep their keys (field names), every value in them is masked.
fn shape(value: Value) -> Value {
    match value {
        Value::String(text) => Value::String(match text.chars().next() {
            Some(first) => format!("{first}***"),
            None => String::new(),
        }),
        Value::Number(_) => Value::String("#".into()),
        Value::Bool(_) => Value::String("*".into()),
        Value::Array(items) => Value::Array(items.into_iter().map(shape).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, shape(value)))
                .collect(),
        ),
        Value::Null => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masked_samples_hide_the_address() {
        let contact = Contact::new("jane.doe@example.com").unwrap();
        assert_eq!(masked(&contact)["Email"], "j***@example.com");
    }

    #[test]
    fn masked_samples_show_field_names_and_no_value() {
        let contact = Contact::new("jane.doe@example.com")
            .and_then(|c| c.with_field("FirstName", "Janette"))
            .and_then(|c| c.with_field("LastName", "Doe-Smith"))
            .and_then(|c| c.with_field("Phone", "+1 555 0100"))
            .and_then(|c| c.with_custom("integer--Age", json!(42)))
            .and_then(|c| c.with_custom("float--Score", json!(1.5)))
            .and_then(|c| c.with_custom("boolean--VIP", json!(true)))
            .and_then(|c| c.with_custom("date--Signup", json!("2026-01-31T00:00:00Z")))
            .and_then(|c| c.with_custom("string--Loyalty--Tier", json!("gold")))
            .unwrap();
        let shown = masked(&contact);
        assert_eq!(
            shown,
            json!({
                "Email": "j***@example.com",
                "FirstName": "J***",
                "LastName": "D***",
                "Phone": "+***",
                "custom": {
                    "integer--Age": "#",
                    "float--Score": "#",
                    "boolean--VIP": "*",
                    "date--Signup": "2***",
                    "string--Loyalty--Tier": "g***",
                }
            })
        );
        let text = shown.to_string();
        for value in [
            "Janette",
            "Doe-Smith",
            "555",
            "42",
            "1.5",
            "true",
            "2026",
            "gold",
        ] {
            assert!(!text.contains(value), "{value} in {text}");
        }
    }
}
