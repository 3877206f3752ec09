//! What the end of an export tells the world: the "Export Finished" event (on AWS put on the
//! default EventBridge bus by the state machine; its detail is this). Ids, names, counts and the
//! report's key only: never an email address, a cell value, the API's own messages or the key.

use super::{Report, Status};
use crate::audience_api::ApiKind;
use crate::jobs::plan::Trigger;
use serde::{Deserialize, Serialize};

/// The event's `source`.
pub const SOURCE: &str = "autopilot-export";
/// The event's `detail-type`.
pub const DETAIL_TYPE: &str = "Export Finished";

/// The detail of an "Export Finished" event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportFinished {
    pub destination_id: String,
    /// The destination's display name (its id when the destination was removed meanwhile).
    pub destination_name: String,
    /// The API the destination speaks (absent from events of releases that spoke only Autopilot's).
    #[serde(default)]
    pub api: ApiKind,
    pub export_id: String,
    /// What started the export, when its plan recorded it.
    pub trigger: Option<Trigger>,
    pub status: Status,
    pub duration_seconds: f64,
    pub counts: Totals,
    pub report_key: String,
}

/// The report's totals as numbers only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub rows_read: u64,
    pub sent: u64,
    pub added: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub invalid: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Contacts the API left out on purpose (Ortto's suppression list, update-only destinations).
    #[serde(default)]
    pub suppressed: u64,
    pub unsent: u64,
}

impl ExportFinished {
    /// The event for `report`, stored at `report_key`.
    pub fn of(report: &Report, destination_name: &str, report_key: &str) -> Self {
        let c = &report.totals;
        Self {
            destination_id: report.destination_id.clone(),
            destination_name: destination_name.to_string(),
            api: report.api,
            export_id: report.export_id.clone(),
            trigger: report.trigger,
            status: report.status,
            duration_seconds: report.duration_seconds,
            counts: Totals {
                rows_read: c.rows_read,
                sent: c.sent,
                added: c.added,
                updated: c.updated,
                unchanged: c.unchanged,
                removed: c.removed,
                invalid: c.invalid,
                duplicates: c.duplicates,
                rejected: c.rejected,
                suppressed: c.suppressed,
                unsent: c.unsent,
            },
            report_key: report_key.to_string(),
        }
    }

    /// One line a person reads (what chat webhooks show).
    pub fn text(&self) -> String {
        let status = match self.status {
            Status::Succeeded => "succeeded",
            Status::PartiallySucceeded => "partially succeeded",
            Status::Failed => "failed",
        };
        let c = &self.counts;
        let api = self.api.vocabulary().api;
        let suppressed = if c.suppressed > 0 {
            format!(", {} suppressed by {api}", c.suppressed)
        } else {
            String::new()
        };
        format!(
            "Export {} of {} {status} in {:.0} s: {} sent, {} unchanged, {} removed, {} invalid, {} rejected by {api}{suppressed}, {} not sent.",
            self.export_id,
            self.destination_name,
            self.duration_seconds,
            c.sent,
            c.unchanged,
            c.removed,
            c.invalid,
            c.rejected,
            c.unsent
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::finalize::Counts;

    /// A report of export `20261130T170000Z-abc123` to `api`, finished in 5 s with `totals`.
    fn report(api: &str, status: &str, totals: Counts) -> Report {
        serde_json::from_value(serde_json::json!({
            "destination_id": "marketing", "api": api, "export_id": "20261130T170000Z-abc123",
            "status": status, "trigger": "schedule", "started_at": null,
            "finished_at": "2026-11-30T17:00:05Z", "duration_seconds": 5.0,
            "requests_per_second": 10.0, "rate_limit_floor_seconds": 1.0,
            "distinct_profiles": totals.rows_read, "segments": [], "totals": totals,
        }))
        .unwrap()
    }

    #[test]
    fn the_event_holds_numbers_and_names_never_what_the_api_said_about_a_contact() {
        let totals = Counts {
            rows_read: 12,
            sent: 9,
            added: 9,
            rejected: 1,
            invalid: 2,
            rejected_by_message: [("ana@example.com bounced".to_string(), 1)].into(),
            invalid_by_reason: [("invalid_email".to_string(), 2)].into(),
            ..Counts::default()
        };
        let report = report("autopilot", "partially_succeeded", totals);
        let event = ExportFinished::of(&report, "Marketing", "exports/marketing/x/report.json");
        let json = serde_json::to_string(&event).unwrap();
        assert!(!json.contains('@'), "{json}");
        assert_eq!(event.counts.rejected, 1);
        assert_eq!(event.trigger, Some(Trigger::Schedule));
        assert_eq!(
            event.text(),
            "Export 20261130T170000Z-abc123 of Marketing partially succeeded in 5 s: 9 sent, 0 unchanged, 0 removed, 2 invalid, 1 rejected by Autopilot, 0 not sent."
        );
    }

    #[test]
    fn the_line_names_the_destinations_api_and_its_suppressed_contacts() {
        let totals = Counts {
            rows_read: 5,
            sent: 3,
            added: 3,
            suppressed: 2,
            ..Counts::default()
        };
        let report = report("ortto", "succeeded", totals);
        let event = ExportFinished::of(&report, "Ortto", "exports/ortto/x/report.json");
        assert_eq!(event.counts.suppressed, 2);
        assert_eq!(
            event.text(),
            "Export 20261130T170000Z-abc123 of Ortto succeeded in 5 s: 3 sent, 0 unchanged, 0 removed, 0 invalid, 0 rejected by Ortto, 2 suppressed by Ortto, 0 not sent."
        );
    }
}
