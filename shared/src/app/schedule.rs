//! The scheduled refresh: on each schedule event, start an export of every destination that has
//! scheduling on, segments to export and no export running. Exports are started through an
//! [`ExportLauncher`] under a name made from the destination and the event (its time, then its
//! id, so that scheduled exports sort among the others by when they started), and a name is never
//! started twice, so a duplicated event starts no second export.

use super::destinations;
pub use super::launcher::{ExportLauncher, ExportRequest, Launch};
use crate::jobs::lock;
use crate::jobs::plan::Trigger;
use crate::{Deps, JobError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The schedule event (an EventBridge scheduled event): its id and time.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
}

/// What one schedule event did, by destination (and by export name for those started).
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Scheduled {
    pub started: Vec<String>,
    pub skipped_running: Vec<String>,
    pub already_started: Vec<String>,
}

/// Runs the schedule for `event`.
pub async fn run(
    deps: &Deps,
    launcher: &dyn ExportLauncher,
    event: &Event,
) -> Result<Scheduled, JobError> {
    let time = match event.time {
        Some(time) if !event.id.trim().is_empty() => time,
        _ => {
            return Err(JobError::InvalidInput(
                "the event has no id or time: expected an EventBridge scheduled event".into(),
            ))
        }
    };
    let mut out = Scheduled::default();
    for destination in destinations::list(deps).await? {
        if !destination.schedule.enabled || destination.segments.is_empty() {
            continue;
        }
        if lock::holder(deps, &destination.id).await?.is_some() {
            out.skipped_running.push(destination.id);
            continue;
        }
        let name = export_name(&destination.id, time, &event.id);
        let request = ExportRequest::new(&destination.id, Trigger::Schedule);
        match launcher.start(&name, &request).await? {
            Launch::Started => out.started.push(name),
            Launch::AlreadyStarted => out.already_started.push(name),
        }
    }
    tracing::info!(
        started = out.started.len(),
        skipped = out.skipped_running.len(),
        duplicates = out.already_started.len(),
        "scheduled exports"
    );
    Ok(out)
}

/// An export name from a destination and an event: `{destination}-{time}-sched-{event id}` in
/// `[A-Za-z0-9-]`, at most 80 characters (what Step Functions allows for an execution name). The
/// time is written as export ids write it, so names sort with the other exports' ids.
pub fn export_name(destination: &str, time: DateTime<Utc>, event_id: &str) -> String {
    let clean: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let time = time.format("%Y%m%dT%H%M%SZ");
    let mut name = format!("{destination}-{time}-sched-{clean}");
    name.truncate(80);
    name
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::app::launcher::RunState;
    use crate::destination::{self, Destination};
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    /// Remembers the names it started, as Step Functions does.
    #[derive(Default)]
    struct Names(Mutex<BTreeSet<String>>);

    #[async_trait::async_trait]
    impl ExportLauncher for Names {
        async fn start(&self, name: &str, request: &ExportRequest) -> Result<Launch, JobError> {
            assert_eq!(request.trigger, Trigger::Schedule, "{name}");
            Ok(if self.0.lock().unwrap().insert(name.to_string()) {
                Launch::Started
            } else {
                Launch::AlreadyStarted
            })
        }

        async fn state(&self, _: &str) -> Result<RunState, JobError> {
            Ok(RunState::Unknown)
        }
    }

    /// Saves a destination `id` with `segments` segments (and an email column when it has any),
    /// scheduled or not.
    pub(crate) async fn destination(deps: &Deps, id: &str, scheduled: bool, segments: usize) {
        let mut d: Destination = serde_json::from_value(serde_json::json!({
            "id": id, "display_name": id, "api_url": "https://api2.autopilothq.com/v1",
            "account_name": null, "created_at": "2026-01-01T00:00:00Z",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
        }))
        .unwrap();
        d.schedule.enabled = scheduled;
        if segments > 0 {
            d.data_matching = serde_json::from_value(serde_json::json!({"email": "email"})).ok();
        }
        d.segments = (0..segments)
            .map(|i| destination::Segment::new(format!("S{i}"), format!("/tmp/s{i}.csv")))
            .collect();
        destination::save(deps.store.as_ref(), &d).await.unwrap();
    }

    #[tokio::test]
    async fn scheduled_destinations_start_once_per_event_and_running_ones_wait() {
        let dir = tempfile::tempdir().unwrap();
        let deps = crate::jobs::connect::tests::deps(dir.path());
        destination(&deps, "on", true, 1).await;
        destination(&deps, "off", false, 1).await;
        destination(&deps, "empty", true, 0).await;
        destination(&deps, "busy", true, 2).await;
        lock::acquire(&deps, "busy", "20260101T000000Z-000001")
            .await
            .unwrap();
        let launcher = Names::default();

        let event = Event {
            id: "event-1".into(),
            time: "2026-11-30T17:00:00Z".parse().ok(),
        };
        let first = run(&deps, &launcher, &event).await.unwrap();
        assert_eq!(first.started, ["on-20261130T170000Z-sched-event-1"]);
        assert_eq!(first.skipped_running, ["busy"]);
        assert!(first.already_started.is_empty());

        let again = run(&deps, &launcher, &event).await.unwrap();
        assert!(
            again.started.is_empty(),
            "a duplicated event starts nothing"
        );
        assert_eq!(again.already_started, ["on-20261130T170000Z-sched-event-1"]);

        let no_id = Event {
            id: " ".into(),
            ..event.clone()
        };
        let no_time = Event {
            time: None,
            ..event.clone()
        };
        for odd in [no_id, no_time] {
            let err = run(&deps, &launcher, &odd).await.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn names_are_valid_and_stable() {
        let time = "2026-11-30T17:00:00Z".parse().unwrap();
        let name = export_name("marketing", time, "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
        assert_eq!(
            name,
            "marketing-20261130T170000Z-sched-53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
        );
        let api_started = format!("marketing-{}", crate::jobs::plan::new_export_id());
        assert!(name < api_started, "an older scheduled export sorts first");
        let long = export_name(&"d".repeat(60), time, "e/v:e n t");
        assert!(long.len() <= 80 && long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
}
