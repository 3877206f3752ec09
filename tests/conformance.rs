//! The audience port's conformance suite ([`integration_tests::conformance`]) against each
//! implementation's sandbox: one line per implementation.

use integration_tests::conformance::{Harness, Settings, TestServer};
use integration_tests::{conformance_suite, quick_config, KEY};
use sandbox::{Faults, MixedBatch, RefusalNaming, Sandbox, SandboxConfig};
use secrecy::SecretString;
use shared::audience_api::{ApiKind, AudienceApi};
use std::collections::BTreeSet;
use std::sync::Arc;

conformance_suite!(autopilot, SandboxOf(ApiKind::Autopilot));
conformance_suite!(ortto, SandboxOf(ApiKind::Ortto));

/// The sandbox in the mode of an API, started for each case.
struct SandboxOf(ApiKind);

#[async_trait::async_trait]
impl Harness for SandboxOf {
    async fn start(&self, settings: Settings) -> Box<dyn TestServer> {
        let mut config = match self.0 {
            ApiKind::Autopilot => SandboxConfig::with_key(KEY),
            ApiKind::Ortto => SandboxConfig::ortto(KEY),
        };
        config.rate = settings.rate;
        let server = Sandbox::start(config, 0).await.expect("the sandbox starts");
        Box::new(Running(server, self.0))
    }
}

struct Running(Sandbox, ApiKind);

impl Running {
    /// The sandbox's id of `audience` as the client names it (Ortto's client names a tag by its
    /// name).
    fn list_id(&self, audience: &str) -> Option<String> {
        match self.1 {
            ApiKind::Ortto => (self.0.state().lists.into_iter())
                .find(|l| l.title == audience)
                .map(|l| l.list_id),
            _ => Some(audience.to_string()),
        }
    }
}

impl TestServer for Running {
    fn client(&self, rate: f64, key: Option<&str>) -> Arc<dyn AudienceApi> {
        let config = quick_config(&self.0.base_url(), rate);
        let key = SecretString::from(key.unwrap_or(KEY).to_string());
        self.1.client(config, key, None).unwrap()
    }

    /// Autopilot: whether a refused bulk upsert names the contact. Ortto: whether a merge with
    /// some people refused answers a status per person, or refuses the whole merge.
    fn name_refusals(&self, named: bool) {
        if self.1 == ApiKind::Ortto {
            let mut settings = self.0.ortto_settings();
            settings.mixed_batch = if named {
                MixedBatch::Statuses
            } else {
                MixedBatch::Reject
            };
            self.0.set_ortto_settings(settings).unwrap();
            return;
        }
        let naming = if named {
            RefusalNaming::Position
        } else {
            RefusalNaming::None
        };
        self.0.set_refusal_naming(naming);
    }

    fn members(&self, audience: &str) -> BTreeSet<String> {
        let Some(id) = self.list_id(audience) else {
            return BTreeSet::new();
        };
        let state = self.0.state();
        let list = state.lists.iter().find(|l| l.list_id == id);
        list.map(|l| l.members.iter().map(|m| m.to_lowercase()).collect())
            .unwrap_or_default()
    }

    fn add_by_hand(&self, audience: &str, email: &str) {
        let id = (self.list_id(audience)).unwrap_or_else(|| self.0.create_list(audience));
        self.0.add_member_by_hand(&id, email).unwrap();
    }

    fn remove_by_hand(&self, audience: &str, email: &str) {
        let id = self.list_id(audience).expect("the audience exists");
        assert!(self.0.remove_member_by_hand(&id, email));
    }

    fn unsubscribe_by_hand(&self, email: &str) {
        assert!(self.0.unsubscribe_by_hand(email));
    }

    fn delete_audience_by_hand(&self, audience: &str) {
        let id = self.list_id(audience).expect("the audience exists");
        assert!(self.0.delete_list_by_hand(&id));
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
