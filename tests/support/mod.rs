//! Helpers for the integration tests: real sandboxes on free ports and clients pointed at them.

pub mod jobs;

use sandbox::{Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::autopilot::{AutopilotClient, ClientConfig, Contact, RetryPolicy};
use shared::jobs::{ClientSettings, Clients};
use shared::store::LocalStore;
use shared::{csv_snapshot::LocalFiles, secrets::FileSecrets, Deps};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const KEY: &str = "test-key-0123456789";

/// Starts a sandbox that accepts [`KEY`].
pub async fn sandbox(config: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Sandbox {
    Sandbox::start(config(SandboxConfig::with_key(KEY)), 0)
        .await
        .expect("the sandbox starts on a free port")
}

/// A client for `sandbox` at `rate` requests/second, with short timeouts and quick retries.
pub fn client(sandbox: &Sandbox, rate: f64) -> AutopilotClient {
    client_with_key(sandbox, rate, KEY)
}

pub fn client_with_key(sandbox: &Sandbox, rate: f64, key: &str) -> AutopilotClient {
    let mut config = ClientConfig::new(sandbox.base_url().parse().expect("sandbox URL"));
    config.requests_per_second = rate;
    config.timeout = Duration::from_millis(400);
    config.retry = RetryPolicy::new(12, Duration::from_secs(60))
        .with_seed(3)
        .with_delays(Duration::from_millis(20), Duration::from_secs(2));
    AutopilotClient::new(config, SecretString::from(key.to_string())).expect("client")
}

/// `n` distinct contacts `prefix-i@example.com`.
pub fn contacts(prefix: &str, n: usize) -> Vec<Contact> {
    (0..n)
        .map(|i| {
            Contact::new(&format!("{prefix}-{i}@example.com"))
                .and_then(|c| c.with_field("FirstName", &format!("Name{i}")))
                .expect("valid contact")
        })
        .collect()
}

/// The jobs' dependencies on a data folder `dir/data`, as the command builds them.
pub fn local_deps(dir: &Path, settings: ClientSettings) -> Deps {
    Deps {
        store: Arc::new(LocalStore::new(dir.join("data"))),
        secrets: Arc::new(FileSecrets::new(dir.join("data/secrets"))),
        snapshots: Arc::new(LocalFiles),
        clients: Arc::new(Clients::new(settings)),
    }
}
