//! `autopilot-export demo`: the whole product in one command with nothing to prepare. It starts
//! the sandbox in-process, writes two overlapping sample segments (one gzip-compressed, one with a
//! BOM, CRLF line ends and quoted commas; both with invalid and duplicate rows, and a few addresses
//! Autopilot refuses), connects, configures, exports, then reads the sandbox back and checks that
//! every valid profile is in its list, and nothing else is (`check`).

mod check;

use super::Context;
use crate::args::DemoArgs;
use crate::failure::{BoxError, Outcome};
use flate2::write::GzEncoder;
use secrecy::SecretString;
use shared::app::local_export;
use shared::destination::{DataMatching, Segment};
use shared::jobs::{configure, connect};
use shared::Deps;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

const FIRST: [&str; 8] = [
    "Ann", "Bo", "Chloé", "Dev", "Eun-ji", "Femi", "Greta", "Hiro",
];
const LAST: [&str; 6] = ["Lee, Jr.", "O'Brien", "Nguyen", "Müller", "Smith", "Okafor"];
const TIERS: [&str; 3] = ["gold", "silver", "bronze"];

/// One sample segment: people `from..to`, and what the sandbox should end up holding for it.
struct SampleSegment {
    name: &'static str,
    file: &'static str,
    from: u64,
    to: u64,
}

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
    let sandbox =
        sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(&key).rate(rate), 0).await?;
    say(format!(
        "1. Autopilot sandbox running at {} with a rate limit of {rate} requests/second",
        sandbox.base_url()
    ));

    let segments = sample_segments(profiles);
    let refused = refused_profiles(profiles);
    write_samples(&work, &segments, &refused, profiles, &say)?;

    let deps = crate::data_folder::local_deps(&work.join("data"));
    let dest = connect_sandbox(&deps, key, sandbox.base_url(), rate).await?;
    say(format!(
        "3. connected destination '{dest}' (key validated and stored in {})",
        work.join("data/secrets").display()
    ));
    configure_samples(&deps, &dest, &work, &segments, profiles).await?;
    say("4. configured data matching: email, names, Company, integer--Age, string--Loyalty--Tier, date--Signup--Date".into());
    say("5. exporting…".into());

    let options = local_export::Options::new(&dest);
    let report = crate::runner::export(&deps, &options, ctx.json).await?;
    crate::output::report(&report, &work.join("data"), ctx.json)?;

    say("6. reading the sandbox back:".into());
    let all_there = check::check_lists(&sandbox, &segments, &refused, &say);
    let counters = sandbox.counters();
    say(format!(
        "   sandbox: {} requests, {} throttled (429), peak {} accepted in one second, {} consent fields received",
        counters.requests, counters.throttled, counters.peak_accepted_per_second, counters.consent_fields_received
    ));
    say(format!(
        "Export took {:.1}s against a rate-limit floor of {:.1}s ({:.0}% of the floor); the whole demo {:.1}s.",
        report.duration_seconds,
        report.rate_limit_floor_seconds,
        100.0 * report.duration_seconds / report.rate_limit_floor_seconds.max(f64::EPSILON),
        started.elapsed().as_secs_f64()
    ));
    if !all_there {
        sandbox.stop().await;
        return Err("the sandbox does not hold exactly the valid profiles of each segment".into());
    }
    say("Every valid profile is in its list. Try your own segments next: see the README.".into());
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

/// Two overlapping segments: 0–60% and 40–100% of the profiles.
fn sample_segments(profiles: u64) -> [SampleSegment; 2] {
    [
        SampleSegment {
            name: "VIP Customers",
            file: "vip-customers.csv.gz",
            from: 0,
            to: profiles * 6 / 10,
        },
        SampleSegment {
            name: "Lapsed Buyers",
            file: "lapsed-buyers.csv",
            from: profiles * 4 / 10,
            to: profiles,
        },
    ]
}

/// The profiles whose addresses Autopilot refuses (in the reserved `.invalid` domain).
fn refused_profiles(profiles: u64) -> HashSet<u64> {
    [profiles / 4 + 7, profiles / 2 + 7, profiles * 3 / 4 + 7]
        .into_iter()
        .collect()
}

/// Writes the segments' snapshots under `work/snapshots`.
fn write_samples(
    work: &Path,
    segments: &[SampleSegment],
    refused: &HashSet<u64>,
    profiles: u64,
    say: &dyn Fn(String),
) -> std::io::Result<()> {
    for segment in segments {
        let path = work.join("snapshots").join(segment.file);
        let rows = write_snapshot(&path, segment, refused)?;
        say(format!("2. wrote {} with {rows} rows ({}…{} of {profiles} distinct profiles, plus invalid and duplicate rows)", path.display(), segment.from, segment.to - 1));
    }
    Ok(())
}

/// Connects the sandbox as a destination; returns its id.
async fn connect_sandbox(
    deps: &Deps,
    key: String,
    url: String,
    rate: f64,
) -> Result<String, BoxError> {
    let input = connect::Input {
        display_name: "Demo Autopilot".into(),
        api_key: SecretString::from(key),
        consent: true,
        export_user: Some("demo".into()),
        api: Default::default(),
        api_url: Some(url),
        requests_per_second: Some(rate),
    };
    Ok(connect::run(input, deps).await?.destination_id)
}

async fn configure_samples(
    deps: &Deps,
    dest: &str,
    work: &Path,
    segments: &[SampleSegment],
    profiles: u64,
) -> Result<(), BoxError> {
    let input = configure::Input {
        destination_id: dest.to_string(),
        data_matching: DataMatching {
            email: "email".into(),
            first_name: Some("first_name".into()),
            last_name: Some("last_name".into()),
            fields: BTreeMap::from([("Company".into(), "company".into())]),
            custom: BTreeMap::from([
                ("integer--Age".into(), "age".into()),
                ("string--Loyalty--Tier".into(), "tier".into()),
                ("date--Signup--Date".into(), "signup_date".into()),
            ]),
        },
        segments: segments
            .iter()
            .map(|s| Segment {
                name: s.name.into(),
                source: work.join("snapshots").join(s.file).display().to_string(),
            })
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

fn email(i: u64, refused: &HashSet<u64>) -> String {
    if refused.contains(&i) {
        format!("person{i}@example.invalid")
    } else if i.is_multiple_of(7) {
        format!("Person{i}@Example.com")
    } else {
        format!("person{i}@example.com")
    }
}

/// Writes a segment's snapshot; returns the data rows written.
fn write_snapshot(
    path: &Path,
    segment: &SampleSegment,
    refused: &HashSet<u64>,
) -> std::io::Result<u64> {
    let gzip = segment.file.ends_with(".gz");
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut out: Box<dyn Write> = if gzip {
        Box::new(GzEncoder::new(file, flate2::Compression::fast()))
    } else {
        Box::new(file)
    };
    let eol = if gzip { "\n" } else { "\r\n" };
    if !gzip {
        out.write_all("\u{feff}".as_bytes())?;
    }
    write!(
        out,
        "email,first_name,last_name,company,age,tier,signup_date{eol}"
    )?;
    let mut rows = 0;
    for i in segment.from..segment.to {
        let line = |email: &str, age: &str| {
            format!(
                "{email},{},\"{}\",{},{age},{},2025-{:02}-{:02}{eol}",
                FIRST[(i % 8) as usize],
                LAST[(i % 6) as usize],
                if i % 3 == 0 { "" } else { "ACME" },
                TIERS[(i % 3) as usize],
                i % 12 + 1,
                i % 28 + 1
            )
        };
        let age = (18 + i % 60).to_string();
        out.write_all(line(&email(i, refused), &age).as_bytes())?;
        rows += 1;
        if i % 400 == 1 {
            // The same person again, in capitals: a duplicate.
            out.write_all(line(&email(i, refused).to_uppercase(), &age).as_bytes())?;
            rows += 1;
        }
        if i % 500 == 3 {
            let bad = match (i / 500) % 3 {
                0 => line(&format!("person{i}.example.com"), &age),
                1 => line("", &age),
                _ => line(&format!("extra{i}@example.com"), "forty"),
            };
            out.write_all(bad.as_bytes())?;
            rows += 1;
        }
    }
    out.flush()?;
    drop(out);
    Ok(rows)
}
