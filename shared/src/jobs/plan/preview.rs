//! What a dry run shows.

use super::scan::Scan;
use super::types::{Output, SegmentPreview};
use crate::autopilot::Contact;
use crate::destination::Destination;

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

/// A contact's payload with its email masked, for previews.
pub(super) fn masked(contact: &Contact) -> serde_json::Value {
    let mut value = contact.to_autopilot_json();
    let email = contact.email();
    let shown = match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    };
    value["Email"] = serde_json::Value::String(shown);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_samples_hide_the_address() {
        let contact = Contact::new("jane.doe@example.com").unwrap();
        assert_eq!(masked(&contact)["Email"], "j***@example.com");
    }
}
