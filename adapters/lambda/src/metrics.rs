//! CloudWatch metrics in the Embedded Metric Format: one JSON line on standard output, which
//! Lambda's log pipeline turns into metrics (no API call, no permission beyond the logs). The
//! namespace is `METRICS_NAMESPACE` (the template sets `autopilot-export/{stack}`), the one
//! dimension the destination's id. Counts and durations only: never an address or a value.

use serde_json::{json, Map, Value};
use shared::jobs::finalize::ExportFinished;
use shared::jobs::finalize::Status;
use shared::jobs::upload_chunk;

/// The namespace when `METRICS_NAMESPACE` is not set.
pub const DEFAULT_NAMESPACE: &str = "autopilot-export";

/// One EMF document: `metrics` are (name, unit, value), all under the dimension `DestinationId`.
pub fn document(namespace: &str, destination: &str, metrics: &[(&str, &str, f64)]) -> Value {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    let mut body = Map::new();
    body.insert(
        "_aws".into(),
        json!({
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["DestinationId"]],
                "Metrics": definitions,
            }],
        }),
    );
    body.insert("DestinationId".into(), json!(destination));
    for (name, _, value) in metrics {
        body.insert((*name).into(), json!(value));
    }
    Value::Object(body)
}

/// What a finished export adds to the destination's metrics.
pub fn export_finished(namespace: &str, event: &ExportFinished) -> Value {
    let c = &event.counts;
    let flag = |status: Status| f64::from(u8::from(event.status == status));
    document(
        namespace,
        &event.destination_id,
        &[
            ("ContactsSent", "Count", c.sent as f64),
            ("ContactsRejected", "Count", c.rejected as f64),
            ("ContactsSuppressed", "Count", c.suppressed as f64),
            ("ContactsUnsent", "Count", c.unsent as f64),
            ("MembersRemoved", "Count", c.removed as f64),
            ("RowsInvalid", "Count", c.invalid as f64),
            ("ExportDuration", "Seconds", event.duration_seconds),
            ("ExportsSucceeded", "Count", flag(Status::Succeeded)),
            (
                "ExportsPartiallySucceeded",
                "Count",
                flag(Status::PartiallySucceeded),
            ),
            ("ExportsFailed", "Count", flag(Status::Failed)),
        ],
    )
}

/// What one run of a chunk upload adds: the API's 429 answers.
pub fn chunk_uploaded(namespace: &str, destination: &str, out: &upload_chunk::Output) -> Value {
    document(
        namespace,
        destination,
        &[("ThrottledResponses", "Count", out.throttled as f64)],
    )
}

/// The namespace this deployment's metrics go to.
pub fn namespace() -> String {
    std::env::var("METRICS_NAMESPACE")
        .ok()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_string())
}

/// Writes one document for Lambda's log pipeline.
pub fn emit(document: &Value) {
    println!("{document}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_declares_each_metric_it_carries_under_the_destination() {
        let doc = document("ns", "marketing", &[("ContactsSent", "Count", 7.0)]);
        let declared = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "ns");
        assert_eq!(declared["Dimensions"], json!([["DestinationId"]]));
        assert_eq!(declared["Metrics"][0]["Name"], "ContactsSent");
        assert_eq!(doc["ContactsSent"], 7.0);
        assert_eq!(doc["DestinationId"], "marketing");
        assert!(doc["_aws"]["Timestamp"].as_i64().unwrap() > 0);
    }

    #[test]
    fn a_finished_export_counts_once_by_its_status() {
        let event: ExportFinished = serde_json::from_value(json!({
            "destination_id": "d", "destination_name": "D", "export_id": "e", "trigger": null,
            "status": "partially_succeeded", "duration_seconds": 12.5, "report_key": "k",
            "counts": {"rows_read": 10, "sent": 8, "added": 8, "updated": 0, "unchanged": 0,
                       "removed": 1, "invalid": 1, "duplicates": 0, "rejected": 1, "unsent": 0},
        }))
        .unwrap();
        let doc = export_finished("ns", &event);
        assert_eq!(doc["ContactsSent"], 8.0);
        // An event written before suppressed contacts were counted reads as none suppressed.
        assert_eq!(doc["ContactsSuppressed"], 0.0);
        assert_eq!(doc["ExportDuration"], 12.5);
        assert_eq!(
            (
                doc["ExportsSucceeded"].as_f64(),
                doc["ExportsPartiallySucceeded"].as_f64(),
                doc["ExportsFailed"].as_f64()
            ),
            (Some(0.0), Some(1.0), Some(0.0))
        );
        let declared = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), 10, "every value is declared");
    }
}
