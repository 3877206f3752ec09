//! Helpers for the integration tests: real sandboxes on free ports and clients pointed at them;
//! the key, the jobs' local dependencies and the destinations to connect come from
//! `shared::test_support`, which `shared`'s own tests use too. `apis` runs a suite against each
//! API's sandbox.

pub mod apis;
pub mod conformance;
pub mod jobs;

use sandbox::{Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::autopilot::AutopilotClient;
use shared::contact::Contact;
use shared::http_api::{ClientConfig, RetryPolicy};
use std::time::Duration;

pub use shared::test_support::{local_deps, TestDestination, KEY};

/// Starts a sandbox that accepts [`KEY`].
pub async fn sandbox(config: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Sandbox {
    Sandbox::start(config(SandboxConfig::with_key(KEY)), 0)
        .await
        .expect("the sandbox starts on a free port")
}

/// A client's configuration for a sandbox at `url`: `rate` requests/second, short timeouts and
/// quick retries.
pub fn quick_config(url: &str, rate: f64) -> ClientConfig {
    let mut config = ClientConfig::new(url.parse().expect("sandbox URL"));
    config.requests_per_second = rate;
    config.timeout = Duration::from_millis(400);
    config.retry = RetryPolicy::new(12, Duration::from_secs(60))
        .with_seed(3)
        .with_delays(Duration::from_millis(20), Duration::from_secs(2));
    config
}

/// An Autopilot client for `sandbox` ([`quick_config`]).
pub fn client(sandbox: &Sandbox, rate: f64) -> AutopilotClient {
    let config = quick_config(&sandbox.base_url(), rate);
    AutopilotClient::new(config, SecretString::from(KEY.to_string())).expect("client")
}

/// `contacts` in batches of the most one Autopilot request takes.
pub fn batches(contacts: Vec<Contact>) -> Vec<Vec<Contact>> {
    contacts
        .chunks(shared::autopilot::MAX_CONTACTS_PER_BULK)
        .map(<[Contact]>::to_vec)
        .collect()
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
