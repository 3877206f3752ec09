//! `configure`: data matching, segments, the profile limit and the guardrails of a destination.

use super::{Deps, JobError};
use crate::destination::{self, DataMatching, Segment};
use crate::field_mapping;
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

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let mut destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    field_mapping::validate(&input.data_matching).map_err(JobError::InvalidInput)?;
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
                "the segment '{}' is given twice: each segment becomes one Autopilot list",
                segment.name.trim()
            )));
        }
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
        if !(rate.is_finite() && rate > 0.0) {
            return Err(JobError::InvalidInput(
                "requests per second must be a positive number".into(),
            ));
        }
        destination.requests_per_second = rate;
    }
    destination.data_matching = Some(input.data_matching);
    destination.segments = input
        .segments
        .into_iter()
        .map(|s| Segment {
            name: s.name.trim().to_string(),
            source: s.source.trim().to_string(),
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
