//! `autopilot-export demo`: the whole product in one command with nothing to prepare. It starts
//! the sandbox in-process, writes two overlapping sample segments (`samples`: CSV files, one
//! gzip-compressed, one with a BOM, CRLF line ends and quoted commas; or folders of parts, or
//! Parquet; all with invalid and duplicate rows, and a few addresses the API refuses), connects,
//! configures, exports, then reads the sandbox back and checks that every valid profile is in its
//! list (Ortto: has its tag), and nothing else is (`check`); that no consent field reached the
//! sandbox; and that exporting again, unchanged, sends nothing. `--api ortto` runs it all against
//! the sandbox's Ortto mode.

mod check;
mod samples;

pub use samples::Format;
use samples::{email, refused_profiles, sample_segments, SampleSegment};

use super::Context;
use crate::args::DemoArgs;
use crate::failure::{BoxError, Outcome};
use secrecy::SecretString;
use shared::app::local_export;
use shared::audience_api::ApiKind;
use shared::destination::{DataMatching, Segment};
use shared::jobs::{configure, connect};
use shared::Deps;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

pub async fn run(ctx: &Context, args: DemoArgs) -> Result<Outcome, BoxError> {
    let started = Instant::now();
    let (profiles, rate) = (args.profiles, args.rate);
    let say = |text: String| {
        if !ctx.json {
            println!("{text}");
        }
    };
    let work = ctx.data_dir.join("demo");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(work.join("snapshots"))?;

    let key = format!("demo-{:016x}", fastrand::u64(..));
    let api = args.api;
    let config = match api {
        ApiKind::Ortto => sandbox::SandboxConfig::ortto(&key),
        _ => sandbox::SandboxConfig::with_key(&key),
    };
    let sandbox = sandbox::Sandbox::start(config.rate(rate), 0).await?;
    let words = api.vocabulary();
    say(format!(
        "1. {} sandbox running at {} with a rate limit of {rate} requests/second",
        words.api,
        sandbox.base_url()
    ));

    let segments = sample_segments(profiles);
    let refused = refused_profiles(profiles);
    let sources = write_samples(&work, &segments, &refused, &args, &say)?;

    let deps = crate::data_folder::local_deps(&work.join("data"));
    let dest = connect_sandbox(&deps, api, key, sandbox.base_url(), rate).await?;
    say(format!(
        "3. connected destination '{dest}' (key validated and stored in {})",
        work.join("data/secrets").display()
    ));
    let company = company_field(api);
    configure_samples(&deps, &dest, &segments, &sources, profiles, company).await?;
    say(format!("4. configured data matching: email, names, {company}, integer--Age, string--Loyalty--Tier, date--Signup--Date"));
    say("5. exporting…".into());

    let options = local_export::Options::new(&dest);
    let report = crate::runner::export(&deps, &options, ctx.json).await?;
    crate::output::report(&report, &work.join("data"), ctx.json)?;

    say("6. reading the sandbox back:".into());
    let mut all_there = check::check_lists(&sandbox, &segments, &refused, words, &say);
    let counters = sandbox.counters();
    say(format!(
        "   sandbox: {} requests, {} throttled (429), peak {} accepted in one second, {} consent fields received",
        counters.requests, counters.throttled, counters.peak_accepted_per_second, counters.consent_fields_received
    ));
    all_there &= counters.consent_fields_received == 0;
    let again = crate::runner::export(&deps, &options, true).await?;
    let sent = sandbox.counters().bulk_requests - counters.bulk_requests;
    say(format!(
        "7. exported again, unchanged: {sent} write requests sent ({} requests in all, reads only)",
        again.requests
    ));
    all_there &= sent == 0;
    say(format!(
        "Export took {:.1}s against a rate-limit floor of {:.1}s ({:.0}% of the floor); the whole demo {:.1}s.",
        report.duration_seconds,
        report.rate_limit_floor_seconds,
        100.0 * report.duration_seconds / report.rate_limit_floor_seconds.max(f64::EPSILON),
        started.elapsed().as_secs_f64()
    ));
    if !all_there {
        sandbox.stop().await;
        return Err("the sandbox does not hold exactly the valid profiles of each segment, or received consent fields, or a second export sent something".into());
    }
    say(format!(
        "Every valid profile is in its {}. Try your own segments next: see the README.",
        words.audience
    ));
    if args.console {
        say(format!(
            "The sandbox stays at {} while the console runs; to change it by hand, its /admin routes \
             take the header \"Authorization: Bearer {}\".",
            sandbox.base_url(),
            sandbox.admin_token()
        ));
        let served = super::console::serve(deps, &work, sandbox.base_url(), 0).await;
        sandbox.stop().await;
        served?;
    } else {
        sandbox.stop().await;
        say(
            "See it in the web console, with the demo's sandbox: autopilot-export demo --console"
                .into(),
        );
    }
    Ok(Outcome::Done)
}

/// Writes the segments' snapshots under `work/snapshots`; returns their sources.
fn write_samples(
    work: &Path,
    segments: &[SampleSegment],
    refused: &HashSet<u64>,
    args: &DemoArgs,
    say: &dyn Fn(String),
) -> Result<Vec<String>, BoxError> {
    let mut sources = Vec::new();
    for segment in segments {
        let dir = work.join("snapshots");
        let (source, rows) = samples::write(&dir, segment, refused, args.format, args.parts)
            .map_err(|e| -> BoxError { e.to_string().into() })?;
        say(format!("2. wrote {source} with {rows} rows ({}…{} of {} distinct profiles, plus invalid and duplicate rows)", segment.from, segment.to - 1, args.profiles));
        sources.push(source);
    }
    Ok(sources)
}

/// Connects the sandbox as a destination; returns its id.
async fn connect_sandbox(
    deps: &Deps,
    api: ApiKind,
    key: String,
    url: String,
    rate: f64,
) -> Result<String, BoxError> {
    let input = connect::Input {
        display_name: format!("Demo {}", api.vocabulary().api),
        api_key: SecretString::from(key),
        consent: true,
        export_user: Some("demo".into()),
        api,
        api_url: Some(url),
        requests_per_second: Some(rate),
        region: None,
        update_only: false,
    };
    Ok(connect::run(input, deps).await?.destination_id)
}

async fn configure_samples(
    deps: &Deps,
    dest: &str,
    segments: &[SampleSegment],
    sources: &[String],
    profiles: u64,
    company: &str,
) -> Result<(), BoxError> {
    let mut fields = BTreeMap::new();
    let mut custom = BTreeMap::from([
        ("integer--Age".to_string(), "age".to_string()),
        ("string--Loyalty--Tier".into(), "tier".into()),
        ("date--Signup--Date".into(), "signup_date".into()),
    ]);
    // The company is a standard field where the API has one, a custom field where it has not.
    if company == "Company" {
        fields.insert(company.to_string(), "company".to_string());
    } else {
        custom.insert(company.to_string(), "company".to_string());
    }
    let input = configure::Input {
        destination_id: dest.to_string(),
        data_matching: DataMatching {
            email: "email".into(),
            first_name: Some("first_name".into()),
            last_name: Some("last_name".into()),
            fields,
            custom,
        },
        segments: segments
            .iter()
            .zip(sources)
            .map(|(s, source)| Segment::new(s.name, source.clone()))
            .collect(),
        profile_limit: Some(profiles.max(shared::destination::DEFAULT_PROFILE_LIMIT)),
        requests_per_second: None,
        schedule: None,
        max_removal_percent: None,
        max_shrink_percent: None,
    };
    configure::run(input, deps).await?;
    Ok(())
}

/// Where the sample's company goes: Autopilot's standard field, or a custom field in Ortto,
/// which has none.
fn company_field(api: ApiKind) -> &'static str {
    match api {
        ApiKind::Ortto => "string--Company",
        _ => "Company",
    }
}
