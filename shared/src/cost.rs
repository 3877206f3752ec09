//! What an export costs on AWS, estimated from its report: Lambda GB-seconds and invocations
//! (the export function, one upload-chunk invocation per chunk, finalize), Step Functions state
//! transitions and S3 requests, at list prices. An estimate, not a bill: every number it rests on
//! is a named constant below with where it comes from, and [`Cost::assumptions`] says them.
//!
//! The report holds no per-function timings, so durations are estimated: the plan from the rows
//! it read, each upload from its requests at its share of the rate (as the state machine paces
//! them), finalize from a fixed time plus the light verify's measured seconds.

use serde::{Deserialize, Serialize};

/// When the prices below were read from AWS's public price pages (us-east-1).
pub const PRICES_AS_OF: &str = "2024-06";
/// Lambda on arm64 (the template's default architecture), per GB-second, first 6 billion a month.
pub const LAMBDA_USD_PER_GB_SECOND: f64 = 0.000_013_333_4;
/// Lambda, per invocation ($0.20 per million).
pub const LAMBDA_USD_PER_INVOCATION: f64 = 0.20 / 1_000_000.0;
/// Step Functions standard workflows, per state transition ($0.025 per 1,000).
pub const USD_PER_STATE_TRANSITION: f64 = 0.025 / 1_000.0;
/// S3 Standard PUT, COPY, POST and LIST requests ($0.005 per 1,000).
pub const S3_USD_PER_PUT: f64 = 0.005 / 1_000.0;
/// S3 Standard GET requests ($0.0004 per 1,000); DELETE is free.
pub const S3_USD_PER_GET: f64 = 0.0004 / 1_000.0;

/// Memory of each function in `infra/template.yaml`, in MB.
pub const EXPORT_MEMORY_MB: f64 = 1024.0;
pub const UPLOAD_CHUNK_MEMORY_MB: f64 = 256.0;
pub const FINALIZE_MEMORY_MB: f64 = 512.0;
/// The template's `MaxConcurrency` default: each upload runs at this share of the rate.
pub const MAX_CONCURRENCY: f64 = 4.0;

/// `infra/statemachine/export.asl.json`, states entered by a succeeded export outside the Map:
/// Start, Plan, Upload chunks, Finalize, Notify, Exported?, Exported.
pub const FIXED_TRANSITIONS_SUCCEEDED: u64 = 7;
/// The same for any other ending, at most: a partial success or a failure found by Finalize
/// ends in "Partial cause"/"Failed cause" and a Fail state instead of Exported (8); a failure
/// recorded by "Record failure" enters 5 or 6.
pub const FIXED_TRANSITIONS_OTHER: u64 = 8;
/// States each chunk enters inside the Map: Upload, Chunk finished?, Chunk done.
pub const TRANSITIONS_PER_CHUNK: u64 = 3;

/// S3 requests per chunk (`shared/src/jobs`): PUTs of the chunk object (plan) and of its
/// result (upload); GETs of its result, the plan, the chunk, its progress and the destination
/// (upload) and of its result again (finalize). Each answered API request also PUTs the
/// chunk's progress.
pub const S3_PUTS_PER_CHUNK: u64 = 2;
pub const S3_GETS_PER_CHUNK: u64 = 6;
/// S3 requests of every export: PUTs of the lock, the plan, the candidate baseline, the report,
/// the baseline and rejected.csv, and the LISTs of finalize and retention (priced as PUTs); GETs
/// of the destination, the baselines, the lock and the plan.
pub const S3_FIXED_PUTS: u64 = 10;
pub const S3_FIXED_GETS: u64 = 8;

/// The plan's reading speed, rows per second: 1.1 M rows in 5.3 s on one core (the benchmark's 1M-profile plan).
pub const PLAN_ROWS_PER_SECOND: f64 = 200_000.0;
/// A function's own time besides its API requests and rows (start, S3 reads and writes).
pub const INVOCATION_OVERHEAD_SECONDS: f64 = 0.2;
/// Finalize's time besides the light verify: reading results, writing the report and baseline.
pub const FINALIZE_SECONDS: f64 = 1.0;

/// What the estimate is made from (all in the report).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub rows_read: u64,
    /// Chunks, one upload invocation each.
    pub chunks: u64,
    /// API requests the uploads send, by the plan's cost model (Autopilot: one per 100 contacts,
    /// one per removal).
    pub send_requests: u64,
    /// API requests of the plan (lists created).
    pub plan_requests: u64,
    pub requests_per_second: f64,
    /// The light verify's measured time, in finalize.
    pub light_verify_seconds: f64,
    pub succeeded: bool,
}

/// An export's estimated AWS cost, each component and the total in US dollars.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub lambda_gb_seconds: f64,
    pub lambda_invocations: u64,
    pub lambda_usd: f64,
    pub state_transitions: u64,
    pub step_functions_usd: f64,
    pub s3_puts: u64,
    pub s3_gets: u64,
    pub s3_usd: f64,
    pub total_usd: f64,
    /// When the prices were read.
    pub prices_as_of: String,
    pub assumptions: Vec<String>,
}

/// Seconds `requests` take at `rate` requests/second (none when the rate is unknown).
fn at_rate(requests: u64, rate: f64) -> f64 {
    if rate > 0.0 {
        requests as f64 / rate
    } else {
        0.0
    }
}

/// The estimate for `usage`.
pub fn estimate(usage: &Usage) -> Cost {
    let rate = usage.requests_per_second;
    let plan_seconds = INVOCATION_OVERHEAD_SECONDS
        + usage.rows_read as f64 / PLAN_ROWS_PER_SECOND
        + at_rate(usage.plan_requests, rate);
    let upload_seconds = usage.chunks as f64 * INVOCATION_OVERHEAD_SECONDS
        + at_rate(usage.send_requests, rate / MAX_CONCURRENCY);
    let finalize_seconds = FINALIZE_SECONDS + usage.light_verify_seconds;
    let gb_seconds = (plan_seconds * EXPORT_MEMORY_MB
        + upload_seconds * UPLOAD_CHUNK_MEMORY_MB
        + finalize_seconds * FINALIZE_MEMORY_MB)
        / 1024.0;
    let invocations = 2 + usage.chunks;
    let lambda_usd =
        gb_seconds * LAMBDA_USD_PER_GB_SECOND + invocations as f64 * LAMBDA_USD_PER_INVOCATION;
    let fixed = if usage.succeeded {
        FIXED_TRANSITIONS_SUCCEEDED
    } else {
        FIXED_TRANSITIONS_OTHER
    };
    let transitions = fixed + TRANSITIONS_PER_CHUNK * usage.chunks;
    let step_functions_usd = transitions as f64 * USD_PER_STATE_TRANSITION;
    let puts = S3_FIXED_PUTS + S3_PUTS_PER_CHUNK * usage.chunks + usage.send_requests;
    let gets = S3_FIXED_GETS + S3_GETS_PER_CHUNK * usage.chunks;
    let s3_usd = puts as f64 * S3_USD_PER_PUT + gets as f64 * S3_USD_PER_GET;
    Cost {
        lambda_gb_seconds: round(gb_seconds, 3),
        lambda_invocations: invocations,
        lambda_usd: round(lambda_usd, 8),
        state_transitions: transitions,
        step_functions_usd: round(step_functions_usd, 8),
        s3_puts: puts,
        s3_gets: gets,
        s3_usd: round(s3_usd, 8),
        total_usd: round(lambda_usd + step_functions_usd + s3_usd, 8),
        prices_as_of: PRICES_AS_OF.to_string(),
        assumptions: assumptions(),
    }
}

fn assumptions() -> Vec<String> {
    vec![
        format!("us-east-1 list prices of {PRICES_AS_OF}, Lambda on arm64, no free tier"),
        format!(
            "memory as in infra/template.yaml (export {EXPORT_MEMORY_MB} MB, upload-chunk {UPLOAD_CHUNK_MEMORY_MB} MB, finalize {FINALIZE_MEMORY_MB} MB); MaxConcurrency {MAX_CONCURRENCY}"
        ),
        format!(
            "durations estimated: plan at {PLAN_ROWS_PER_SECOND} rows/s, each upload at its share of the rate, finalize {FINALIZE_SECONDS} s plus the light verify"
        ),
        "not counted: retries, chunks invoked again, bisection, the API and scheduler functions, Secrets Manager reads (one per function invocation), logs, storage, data transfer".into(),
    ]
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage() -> Usage {
        // 100,000 contacts in chunks of 1,000: 100 chunks of 10 requests at 10 req/s.
        Usage {
            rows_read: 100_000,
            chunks: 100,
            send_requests: 1_000,
            plan_requests: 2,
            requests_per_second: 10.0,
            light_verify_seconds: 0.5,
            succeeded: true,
        }
    }

    #[test]
    fn each_component_is_its_count_at_its_price() {
        let cost = estimate(&usage());
        // plan 0.2 + 0.5 + 0.2 = 0.9 s at 1 GB; uploads 100 × 0.2 + 1,000 / 2.5 = 420 s at
        // 0.25 GB; finalize 1.5 s at 0.5 GB.
        assert!(
            (cost.lambda_gb_seconds - 106.65).abs() < 1e-9,
            "{}",
            cost.lambda_gb_seconds
        );
        assert_eq!(cost.lambda_invocations, 102);
        assert_eq!(cost.state_transitions, 7 + 300);
        assert_eq!(cost.s3_puts, 10 + 200 + 1_000);
        assert_eq!(cost.s3_gets, 8 + 600);
        let lambda = 106.65 * 0.000_013_333_4 + 102.0 * 0.000_000_2;
        assert!(
            (cost.lambda_usd - lambda).abs() < 1e-8,
            "{}",
            cost.lambda_usd
        );
        assert!((cost.step_functions_usd - 307.0 * 0.000_025).abs() < 1e-8);
        assert!((cost.s3_usd - (1_210.0 * 0.000_005 + 608.0 * 0.000_000_4)).abs() < 1e-8);
        let sum = cost.lambda_usd + cost.step_functions_usd + cost.s3_usd;
        assert!(
            (cost.total_usd - sum).abs() < 1e-7,
            "{} {sum}",
            cost.total_usd
        );
        assert_eq!(cost.prices_as_of, PRICES_AS_OF);
        assert!(!cost.assumptions.is_empty());
    }

    #[test]
    fn an_export_that_did_not_succeed_counts_its_other_ending() {
        let failed = estimate(&Usage {
            succeeded: false,
            ..usage()
        });
        assert_eq!(failed.state_transitions, 8 + 300);
    }

    #[test]
    fn an_export_that_sent_nothing_costs_its_fixed_part_and_an_unknown_rate_no_time() {
        let idle = estimate(&Usage {
            requests_per_second: 0.0,
            ..Usage::default()
        });
        assert_eq!(idle.lambda_invocations, 2);
        assert_eq!(idle.state_transitions, 8);
        assert_eq!((idle.s3_puts, idle.s3_gets), (10, 8));
        assert!(
            (idle.lambda_gb_seconds - 0.7).abs() < 1e-9,
            "{}",
            idle.lambda_gb_seconds
        );
        assert!(
            idle.total_usd > 0.0 && idle.total_usd < 0.001,
            "{}",
            idle.total_usd
        );
    }
}
