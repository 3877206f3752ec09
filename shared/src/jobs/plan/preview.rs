//! What a dry run shows.

use super::scan::Scan;
use super::types::{Output, SegmentPreview};
use crate::audience_api::AudienceApi;
use crate::destination::Destination;
use serde_json::Value;

/// A dry run's answer: counts per segment and a few payloads as `api` would be sent them,
/// masked.
pub(super) fn output(
    destination: &Destination,
    export_id: &str,
    scan: &Scan,
    api: &dyn AudienceApi,
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
            samples: (s.samples.iter())
                .map(|c| masked(api.payload(c), c.email()))
                .collect(),
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

/// A contact's payload (addressed to `email`) as a preview shows it: every field by name, no
/// value — text as its first character and `***` (the address keeps its domain), numbers as `#`,
/// true/false as `*`. Names, phones and custom values are personal data as much as the email is
/// (and the API's dry-run answer carries them too).
pub(super) fn masked(payload: Value, email: &str) -> Value {
    match payload {
        Value::String(text) if text == email => Value::String(match email.split_once('@') {
            Some((local, domain)) => {
                format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
            }
            None => "***".into(),
        }),
        Value::String(text) => Value::String(match text.chars().next() {
            Some(first) => format!("{first}***"),
            None => String::new(),
        }),
        Value::Number(_) => Value::String("#".into()),
        Value::Bool(_) => Value::String("*".into()),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| masked(v, email)).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name, masked(value, email)))
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
        let shown = masked(
            json!({"Email": "jane.doe@example.com"}),
            "jane.doe@example.com",
        );
        assert_eq!(shown["Email"], "j***@example.com");
        let nested = json!({"fields": {"str::email": "jane.doe@example.com"}});
        let shown = masked(nested, "jane.doe@example.com");
        assert_eq!(shown["fields"]["str::email"], "j***@example.com");
    }

    #[test]
    fn masked_samples_show_field_names_and_no_value() {
        let payload = json!({
            "Email": "jane.doe@example.com",
            "FirstName": "Janette",
            "LastName": "Doe-Smith",
            "Phone": "+1 555 0100",
            "custom": {
                "integer--Age": 42,
                "float--Score": 1.5,
                "boolean--VIP": true,
                "date--Signup": "2026-01-31T00:00:00Z",
                "string--Loyalty--Tier": "gold",
            }
        });
        let shown = masked(payload, "jane.doe@example.com");
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
