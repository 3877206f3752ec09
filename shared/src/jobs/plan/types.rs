//! The plan's types: its input and output (the Step Functions payload), `plan.json` and the
//! chunk objects.

use crate::audience_api::{ApiKind, Limits};
use crate::contact::Contact;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What started an export: recorded in its plan and report, shown in the history.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The command line, or an execution started by hand.
    #[default]
    Manual,
    /// The scheduled refresh.
    Schedule,
    /// The HTTP API.
    Api,
    /// The web console's Export now.
    Console,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
            Self::Api => "API",
            Self::Console => "console",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
    /// Reuse an id (to resume an interrupted plan); a new one is made otherwise.
    #[serde(default)]
    pub export_id: Option<String>,
    #[serde(default)]
    pub chunk_size: Option<usize>,
    /// Overrides the destination's requests/second for this export.
    #[serde(default)]
    pub requests_per_second: Option<f64>,
    /// Send every contact, whatever the baseline says.
    #[serde(default)]
    pub full: bool,
    /// Count and show, write nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// Let a run through that trips a guardrail.
    #[serde(default)]
    pub override_guardrails: bool,
    #[serde(default)]
    pub trigger: Trigger,
}

/// Small by design: it travels through the state machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub export_id: String,
    /// Chunk numbers to upload, 0..chunk_count (none for a dry run).
    pub chunks: Vec<u32>,
    /// Contacts to send.
    pub contacts: u64,
    pub removals: u64,
    pub distinct_profiles: u64,
    /// The destination's requests/second for this export, shared by all its uploads.
    #[serde(default)]
    pub requests_per_second: f64,
    /// What a dry run found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Vec<SegmentPreview>>,
}

/// A dry run's view of one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentPreview {
    pub name: String,
    pub list_exists: bool,
    pub full: bool,
    pub adds: u64,
    pub updates: u64,
    pub unchanged: u64,
    pub removals: u64,
    /// Rows refused before sending.
    pub rejects: u64,
    pub duplicates: u64,
    /// A few payloads as they would be sent, every value masked to its shape.
    pub samples: Vec<serde_json::Value>,
}

/// `plan.json`: what an export will send, and everything later steps need to report on it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub destination_id: String,
    pub export_id: String,
    pub started_at: DateTime<Utc>,
    pub requests_per_second: f64,
    pub distinct_profiles: u64,
    pub segments: Vec<SegmentPlan>,
    pub chunks: Vec<ChunkInfo>,
    /// Parts of the refused rows stored by the plan ([`super::refused`]); older plans stored
    /// them in one `invalid.json` instead.
    #[serde(default)]
    pub refused_parts: u32,
    /// What started the export (plans written before it was recorded say `manual`).
    #[serde(default)]
    pub trigger: Trigger,
    /// The export leaves the baseline as it found it (nothing to send or remove, the same lists
    /// and data matching): no candidate was written, and `finalize` keeps the baseline there.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub baseline_unchanged: bool,
    /// The API's limits the chunks are cut into requests by (plans written before they were
    /// recorded went to Autopilot).
    #[serde(default = "autopilot_limits")]
    pub limits: Limits,
    /// The API the export speaks (plans written before it was recorded went to Autopilot): what
    /// the report and rejected.csv name when the destination is gone by the time it finishes.
    #[serde(default)]
    pub api: ApiKind,
}

fn autopilot_limits() -> Limits {
    ApiKind::Autopilot.limits()
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SegmentPlan {
    pub name: String,
    /// The segment's audience (its list), and whether this export created it (stored as
    /// `list_id` and `list_created` before there was a choice of API).
    #[serde(alias = "list_id")]
    pub audience_id: String,
    #[serde(alias = "list_created")]
    pub audience_created: bool,
    /// Every contact was sent, not only the changed ones.
    pub full: bool,
    /// Data rows read (the header and blank lines not counted).
    pub rows_read: u64,
    /// Contacts to send: `adds + updates`.
    pub contacts: u64,
    pub adds: u64,
    pub updates: u64,
    /// Contacts whose fields are as the last export left them: not sent.
    pub unchanged: u64,
    /// Members this connector added who left the segment: taken off the list.
    pub removals: u64,
    /// Rows whose email (ignoring case) came earlier in the same snapshot.
    pub duplicates: u64,
    /// Rows refused before sending, by reason code.
    pub invalid: BTreeMap<String, u64>,
    /// The files its rows came from, in order, with where their row numbers begin (plans
    /// written before segments could have several files have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileRows>,
}

/// One file of a segment, and what is added to its own row numbers to number its rows within the
/// segment (0 for the first file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRows {
    pub name: String,
    pub offset: u64,
}

impl SegmentPlan {
    /// The file a row of the segment came from, and its row number there (the row number
    /// itself, and no file, for a plan that did not record its files).
    pub fn place(&self, row: u64) -> (Option<&str>, u64) {
        let at = self.files.partition_point(|f| f.offset < row);
        match at.checked_sub(1).and_then(|i| self.files.get(i)) {
            Some(file) => (Some(file.name.as_str()), row - file.offset),
            None => (None, row),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkKind {
    Add,
    Update,
    Remove,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkInfo {
    pub segment: usize,
    pub kind: ChunkKind,
    /// Contacts (or removals) in the chunk.
    pub contacts: u32,
}

/// A chunk object: contacts of one segment and the rows they came from, or emails to take off
/// the segment's list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChunkFile {
    pub segment: usize,
    pub kind: ChunkKind,
    #[serde(default)]
    pub rows: Vec<u64>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub removals: Vec<String>,
}

/// A row refused before sending, for `rejected.csv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InvalidRow {
    pub segment: usize,
    pub row: u64,
    pub email: String,
    pub reason: String,
}

/// A new export id: sortable by time, unique enough for one destination.
pub fn new_export_id() -> String {
    format!(
        "{}-{:06x}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        fastrand::u32(..0x0100_0000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::plan::MAX_CHUNKS;

    #[test]
    fn a_million_profile_plan_fits_a_state_many_times_over() {
        // 1,000,000 profiles in chunks of 1,000: the Plan output is the largest state payload.
        let output = Output {
            destination_id: "d".repeat(48),
            export_id: format!("{}-{}", "d".repeat(48), new_export_id()),
            chunks: (0..MAX_CHUNKS as u32).collect(),
            contacts: 1_000_000,
            removals: 0,
            distinct_profiles: 1_000_000,
            requests_per_second: 10.0,
            preview: None,
        };
        let size = serde_json::to_vec(&output).unwrap().len();
        assert!(
            size < 16 * 1024,
            "{size} bytes, against Step Functions' 256 KB"
        );
    }
}
