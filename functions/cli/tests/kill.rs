//! SIGKILL converges: the real `autopilot-export export` of 20,000 profiles is killed at several
//! seeded-random points (one during start-up and planning, the others part-way through the
//! uploads), then run again until it exits successfully. Each run resumes the one before. The list
//! must then hold exactly the snapshot's people, the report must add up, and the contacts sent
//! again must be bounded by what was in flight at each kill: at most
//! `kills × MAX_IN_FLIGHT_REQUESTS × 100` repeated writes. `--nocapture` shows the table row;
//! target/kill-table.txt keeps it.

mod support;

use shared::jobs::finalize::Report;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::{converged, publish, reports_add_up, Row, Runs, KEY, PER_REQUEST, SEGMENT};

const PROFILES: u64 = 20_000;
/// The command's rate: 200 bulk upserts take four seconds, so kills land mid-export.
const RATE: f64 = 50.0;
const KILLS: usize = 4;
/// Requests the command may have in flight at once (`export --concurrency`, by default the
/// client's limit), so the most a kill can leave sent but not recorded: progress is stored after
/// every answered request.
const MAX_IN_FLIGHT_REQUESTS: u64 = shared::http_api::DEFAULT_MAX_IN_FLIGHT as u64;
const DEST: &str = "kill-account";

fn command(data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
    command
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("AUTOPILOT_API_KEY", KEY)
        .env_remove("AUTOPILOT_EXPORT_LOG")
        .env_remove("AUTOPILOT_EXPORT_DATA_DIR");
    command
}

/// Runs a command to its end off the runtime's threads, so the sandbox keeps answering.
async fn finish(mut command: Command) -> (ExitStatus, String, String) {
    let out = tokio::task::spawn_blocking(move || command.output().expect("the command runs"))
        .await
        .expect("the command's thread");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status, text(&out.stdout), text(&out.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_exports_resume_to_the_exact_list_resending_only_what_was_in_flight() {
    let server = support::sandbox(None).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("segment.csv");
    let expected = support::write_snapshot(&snapshot, PROFILES);
    let url = server.base_url();
    let rate = RATE.to_string();
    let connect = [
        "connect",
        "--name",
        "Kill Account",
        "--agree",
        "--autopilot-url",
        &url,
        "--requests-per-second",
        &rate,
    ];
    let segment = format!("{SEGMENT}={}", snapshot.display());
    let limit = PROFILES.to_string();
    let configure = [
        "configure",
        DEST,
        "--email-field",
        "Email",
        "--first-name-field",
        "First Name",
        "--segment",
        &segment,
        "--profile-limit",
        &limit,
    ];
    for args in [&connect[..], &configure[..]] {
        let (status, out, err) = finish(command(&data, args)).await;
        assert!(status.success(), "{args:?}: {out}{err}");
    }

    let mut rng = fastrand::Rng::with_seed(6);
    let started = Instant::now();
    let mut kills = 0u64;
    let mut points = Vec::new();
    for k in 0..KILLS {
        let mut child = command(&data, &["--json", "export", DEST])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the export starts");
        let base = server.counters().bulk_requests;
        let point = if k == 0 {
            let ms = rng.u64(50..400);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            format!("{ms} ms after start")
        } else {
            let after = rng.u64(5..=40);
            while server.counters().bulk_requests < base + after
                && child.try_wait().expect("the child's state").is_none()
            {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            format!("at {after} bulk upserts")
        };
        if child.try_wait().expect("the child's state").is_some() {
            points.push(format!("(exited before {point})"));
            break;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("the killed child is reaped");
        kills += 1;
        let landed = server.counters().bulk_requests - base;
        points.push(format!("{point} ({landed} applied)"));
    }

    let mut runs = Runs {
        first: "killed".into(),
        reruns: kills.saturating_sub(1) as u32,
        wall: Duration::ZERO,
        reports: Vec::new(),
        last_error: None,
        history: vec!["killed".to_string(); kills as usize],
    };
    loop {
        runs.reruns += 1;
        let (status, out, err) = finish(command(&data, &["--json", "export", DEST])).await;
        let parsed = serde_json::from_str::<Report>(&out).map_err(|_| format!("{out}{err}"));
        runs.note(&parsed);
        match parsed {
            Ok(report) => {
                runs.reports.push(report);
                runs.last_error = None;
            }
            Err(text) => runs.last_error = Some(format!("exit {status}: {text}")),
        }
        if !status.success() && runs.last_error.is_none() {
            runs.last_error = Some(format!("exit {status}: {err}"));
        }
        if status.success() || runs.reruns >= kills as u32 + support::MAX_RERUNS {
            break;
        }
    }
    runs.wall = started.elapsed();

    let counters = server.counters();
    let allowed = kills * MAX_IN_FLIGHT_REQUESTS * PER_REQUEST;
    let mut problems = converged(&server, &expected, &counters, allowed);
    problems.extend(reports_add_up(&runs, PROFILES));
    let floor = PROFILES.div_ceil(PER_REQUEST) as f64 / RATE;
    let fault = format!("SIGKILL x{kills}");
    let row = Row::new(&fault, &runs, floor, &counters, allowed, problems);
    let title = format!(
        "Kills: {PROFILES} profiles at {RATE} req/s, killed {}; {} bulk upserts in all",
        points.join(", "),
        counters.bulk_requests
    );
    let text = publish(&title, std::slice::from_ref(&row), "kill-table.txt");
    assert!(kills >= 2, "too few kills landed: {text}");
    assert!(row.problems.is_empty(), "kills did not converge:\n{text}");
}
