//! Whole exports through the jobs: a destination connected to a sandbox (of either API) and
//! configured, and an export run to its report.

pub use crate::apis::members;
use crate::{apis, local_deps};
use sandbox::Sandbox;
use shared::app::local_export::{self, Progress};
use shared::audience_api::ClientSettings;
use shared::jobs::finalize::Report;
use shared::test_support::TestDestination;
use shared::{Deps, JobError};
use std::path::Path;
use std::time::Duration;

/// The jobs' dependencies on a data folder in `dir`, with short timeouts and few retries.
pub fn export_deps(dir: &Path) -> Deps {
    let settings = ClientSettings {
        timeout: Duration::from_secs(2),
        max_attempts: 6,
        max_elapsed: Duration::from_secs(20),
        ..ClientSettings::default()
    };
    local_deps(dir, settings)
}

/// "Test Account" on `sandbox` (with its API), paced at `rate` and exported as `tester`, its
/// email from `Email`, first name from `First Name`, `integer--Age` from `age`; no segments yet.
pub fn account(sandbox: &Sandbox, rate: f64) -> TestDestination {
    matched(apis::destination(sandbox).rate(rate).export_user("tester"))
}

/// Email from `Email`, first name from `First Name`, `integer--Age` from `age`.
fn matched(destination: TestDestination) -> TestDestination {
    destination
        .columns("Email", "First Name")
        .custom("integer--Age", "age")
}

/// Connects `sandbox` as a destination paced at `rate`; its id.
pub async fn connect(deps: &Deps, sandbox: &Sandbox, rate: f64) -> String {
    account(sandbox, rate)
        .connect(deps)
        .await
        .expect("connects")
}

/// Configures `dest` with the columns of [`account`] and `segments` (name, snapshot).
pub async fn configure(
    deps: &Deps,
    dest: &str,
    segments: &[(&str, &Path)],
    limit: Option<u64>,
) -> Result<(), JobError> {
    // Configuring does not reach the API: no URL is needed.
    let destination = segments
        .iter()
        .fold(matched(TestDestination::new("")), |d, (name, path)| {
            d.segment(name, path)
        });
    destination.profile_limit(limit).configure(deps, dest).await
}

/// Runs an export of `dest` to its report, three chunks at a time.
pub async fn export(deps: &Deps, dest: &str, chunk_size: usize) -> Result<Report, JobError> {
    let options = local_export::Options {
        concurrency: 3,
        chunk_size: Some(chunk_size),
        ..local_export::Options::new(dest)
    };
    local_export::run(deps, &options, &|_: Progress| {}).await
}
