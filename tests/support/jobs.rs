//! Whole exports through the jobs: a destination connected to a sandbox and configured, and an
//! export run to its report.

use crate::KEY;
use sandbox::Sandbox;
use secrecy::SecretString;
use shared::destination::{DataMatching, Segment};
use shared::jobs::finalize::Report;
use shared::jobs::{configure, connect, ClientSettings, Clients};
use shared::local_export::{self, Progress};
use shared::store::LocalStore;
use shared::{csv_snapshot::LocalFiles, secrets::FileSecrets, Deps, JobError};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The jobs' dependencies on a data folder in `dir`, with short timeouts and few retries.
pub fn export_deps(dir: &Path) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir.join("data"))),
        secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
        snapshots: Arc::new(LocalFiles),
        clients: Arc::new(Clients::new(ClientSettings {
            timeout: Duration::from_secs(2),
            max_attempts: 6,
            max_elapsed: Duration::from_secs(20),
            ..ClientSettings::default()
        })),
    }
}

/// Connects `sandbox` as a destination paced at `rate`; its id.
pub async fn connect(deps: &Deps, sandbox: &Sandbox, rate: f64) -> String {
    connect::run(
        connect::Input {
            display_name: "Test Account".into(),
            api_key: SecretString::from(KEY.to_string()),
            consent: true,
            export_user: Some("tester".into()),
            autopilot_url: Some(sandbox.base_url()),
            requests_per_second: Some(rate),
        },
        deps,
    )
    .await
    .expect("connects")
    .destination_id
}

/// Email from `Email`, first name from `First Name`, `integer--Age` from `age`.
pub fn matching() -> DataMatching {
    DataMatching {
        email: "Email".into(),
        first_name: Some("First Name".into()),
        last_name: None,
        fields: BTreeMap::new(),
        custom: BTreeMap::from([("integer--Age".into(), "age".into())]),
    }
}

/// Configures `dest` with [`matching`] and `segments` (name, snapshot).
pub async fn configure(
    deps: &Deps,
    dest: &str,
    segments: &[(&str, &Path)],
    limit: Option<u64>,
) -> Result<(), JobError> {
    configure::run(
        configure::Input {
            destination_id: dest.into(),
            data_matching: matching(),
            segments: segments
                .iter()
                .map(|(name, path)| Segment {
                    name: name.to_string(),
                    source: path.display().to_string(),
                })
                .collect(),
            profile_limit: limit,
            requests_per_second: None,
            schedule: None,
            max_removal_percent: None,
            max_shrink_percent: None,
        },
        deps,
    )
    .await
    .map(drop)
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

/// The members of the sandbox's list `list`, lowercased.
pub fn members(sandbox: &Sandbox, list: &str) -> HashSet<String> {
    sandbox
        .state()
        .list(list)
        .map(|l| l.members.iter().map(|m| m.to_lowercase()).collect())
        .unwrap_or_default()
}
