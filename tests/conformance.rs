//! The audience port's conformance suite ([`integration_tests::conformance`]) against each
//! implementation's sandbox: one line per implementation.

use integration_tests::conformance::{Harness, Settings, TestServer};
use integration_tests::{conformance_suite, quick_config, KEY};
use sandbox::{Faults, RefusalNaming, Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::audience_api::{ApiKind, AudienceApi};
use std::collections::BTreeSet;
use std::sync::Arc;

conformance_suite!(autopilot, AutopilotSandbox);

/// The Autopilot-compatible sandbox, started for each case.
struct AutopilotSandbox;

#[async_trait::async_trait]
impl Harness for AutopilotSandbox {
    async fn start(&self, settings: Settings) -> Box<dyn TestServer> {
        let mut config = SandboxConfig::with_key(KEY);
        config.rate = settings.rate;
        let server = Sandbox::start(config, 0).await.expect("the sandbox starts");
        Box::new(Running(server))
    }
}

struct Running(Sandbox);

impl TestServer for Running {
    fn client(&self, rate: f64, key: Option<&str>) -> Arc<dyn AudienceApi> {
        let config = quick_config(&self.0.base_url(), rate);
        let key = SecretString::from(key.unwrap_or(KEY).to_string());
        ApiKind::Autopilot.client(config, key, None).unwrap()
    }

    fn name_refusals(&self, named: bool) {
        let naming = if named {
            RefusalNaming::Position
        } else {
            RefusalNaming::None
        };
        self.0.set_refusal_naming(naming);
    }

    fn members(&self, audience: &str) -> BTreeSet<String> {
        let state = self.0.state();
        let list = state.lists.iter().find(|l| l.list_id == audience);
        list.map(|l| l.members.iter().map(|m| m.to_lowercase()).collect())
            .unwrap_or_default()
    }

    fn add_by_hand(&self, audience: &str, email: &str) {
        self.0.add_member_by_hand(audience, email).unwrap();
    }

    fn remove_by_hand(&self, audience: &str, email: &str) {
        assert!(self.0.remove_member_by_hand(audience, email));
    }

    fn unsubscribe_by_hand(&self, email: &str) {
        assert!(self.0.unsubscribe_by_hand(email));
    }

    fn delete_audience_by_hand(&self, audience: &str) {
        assert!(self.0.delete_list_by_hand(audience));
    }

    fn requests(&self) -> u64 {
        self.0.counters().requests
    }

    fn throttled(&self) -> u64 {
        self.0.counters().throttled
    }

    fn written(&self) -> u64 {
        self.0.counters().contacts_written
    }

    fn outage(&self, ms: u64) {
        self.0.set_faults(Faults {
            outage_after_ms: Some(0),
            outage_ms: ms,
            ..Faults::default()
        });
    }
}
