//! The report built from the plan and the chunks' results, and what it adds up to: requests to
//! the destination's API, counted by the cost model the plan recorded
//! ([`crate::audience_api::Limits`]), and the estimated AWS cost ([`crate::cost`]).

use super::{Counts, Failure, Input, Report, SegmentReport, Status};
use crate::audience_api::Limits;
use crate::cost;
use crate::jobs::plan::{ChunkInfo, ChunkKind, Plan};
use crate::jobs::upload_chunk::ChunkResult;
use chrono::{DateTime, Utc};

pub(super) fn report(
    input: &Input,
    plan: Option<&Plan>,
    results: &[&ChunkResult],
    finished_at: DateTime<Utc>,
) -> Report {
    let mut segments = Vec::new();
    let mut totals = Counts::default();
    let mut to_send = 0;
    let mut removals_pending = 0;
    if let Some(plan) = plan {
        for (index, segment) in plan.segments.iter().enumerate() {
            let mut counts = Counts {
                rows_read: segment.rows_read,
                unchanged: segment.unchanged,
                invalid: segment.invalid.values().sum(),
                invalid_by_reason: segment.invalid.clone(),
                duplicates: segment.duplicates,
                ..Counts::default()
            };
            let mut accounted = 0;
            for result in results.iter().filter(|r| r.segment == index) {
                match result.kind {
                    ChunkKind::Add => counts.added += result.sent,
                    ChunkKind::Update => counts.updated += result.sent,
                    ChunkKind::Remove => counts.removed += result.removed,
                }
                counts.sent += result.sent;
                for r in &result.rejected {
                    let (bucket, messages) = if r.suppressed {
                        (&mut counts.suppressed, &mut counts.suppressed_by_message)
                    } else {
                        (&mut counts.rejected, &mut counts.rejected_by_message)
                    };
                    *bucket += 1;
                    *messages.entry(r.message.clone()).or_default() += 1;
                }
                accounted += result.sent + result.rejected.len() as u64;
            }
            counts.unsent = segment.contacts.saturating_sub(accounted);
            removals_pending += segment.removals.saturating_sub(counts.removed);
            to_send += segment.contacts;
            totals.add(&counts);
            segments.push(SegmentReport {
                name: segment.name.clone(),
                list_id: segment.audience_id.clone(),
                list_created: segment.audience_created,
                counts,
            });
        }
    }
    let failure = input.failure.clone().or_else(|| {
        (plan.is_some() && (totals.unsent > 0 || removals_pending > 0)).then(|| Failure {
            error_type: "Incomplete".into(),
            message: format!(
                "{} contacts were not sent and {removals_pending} members not removed: run the export again to finish",
                totals.unsent
            ),
        })
    });
    let status = match (&failure, totals.sent, totals.rejected) {
        (None, _, 0) => Status::Succeeded,
        (None, _, _) => Status::PartiallySucceeded,
        (Some(_), 0, _) => Status::Failed,
        (Some(_), _, _) => Status::PartiallySucceeded,
    };
    let rate = plan.map_or(0.0, |p| p.requests_per_second);
    let removals: u64 = plan.map_or(0, |p| p.segments.iter().map(|s| s.removals).sum());
    let requests = plan.map_or(0, |p| p.limits.requests(removals, to_send));
    let sends = plan.map_or(0, |p| {
        p.chunks.iter().map(|c| chunk_requests(c, &p.limits)).sum()
    });
    Report {
        destination_id: input.destination_id.clone(),
        api: plan.map(|p| p.api).unwrap_or_default(),
        export_id: input.export_id.clone(),
        status,
        failure,
        trigger: plan.map(|p| p.trigger),
        started_at: plan.map(|p| p.started_at),
        finished_at,
        duration_seconds: plan.map_or(0.0, |p| {
            (finished_at - p.started_at).num_milliseconds() as f64 / 1000.0
        }),
        requests_per_second: rate,
        rate_limit_floor_seconds: if rate > 0.0 {
            requests as f64 / rate
        } else {
            0.0
        },
        distinct_profiles: plan.map_or(0, |p| p.distinct_profiles),
        segments,
        totals,
        rejected_file: None,
        requests: sends,
        chunks: plan.map_or(0, |p| p.chunks.len() as u64),
        lists_created: plan.map_or(0, |p| {
            p.segments.iter().filter(|s| s.audience_created).count() as u64
        }),
        light_verify: None,
        cost: None,
    }
}

/// Requests a chunk is sent in at `limits`.
fn chunk_requests(chunk: &ChunkInfo, limits: &Limits) -> u64 {
    let items = u64::from(chunk.contacts);
    match chunk.kind {
        ChunkKind::Remove => limits.requests(items, 0),
        _ => limits.requests(0, items),
    }
}

/// Adds the light verify's requests to the report's and estimates the export's AWS cost.
pub(super) fn costs(report: &mut Report) {
    let (verify_requests, verify_seconds) = report
        .light_verify
        .as_ref()
        .map_or((0, 0.0), |l| (l.requests, l.seconds));
    let usage = cost::Usage {
        rows_read: report.totals.rows_read,
        chunks: report.chunks,
        send_requests: report.requests,
        plan_requests: report.lists_created,
        requests_per_second: report.requests_per_second,
        light_verify_seconds: verify_seconds,
        succeeded: report.status == Status::Succeeded,
    };
    report.requests += verify_requests;
    report.cost = Some(cost::estimate(&usage));
}
