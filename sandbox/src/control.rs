//! Everything about how the sandbox answers, apart from its data: the API it imitates, keys,
//! limits and their state, faults, counters and run-time settings. One lock holds it
//! ([`Shared::control`]); when a handler needs both, it takes the store's lock first.

use crate::autopilot::RefusalNaming;
use crate::boundary::AdminToken;
use crate::config::{Api, SandboxConfig};
use crate::limits::{AddressLimits, Bans, Counters, FaultState, Faults, PeakWindow, RateLimiter};
use crate::ortto::OrttoSettings;
use crate::store::{Ids, Store};
use std::sync::{Mutex, MutexGuard};

pub(crate) struct Control {
    pub api: Api,
    pub api_keys: Vec<String>,
    pub retry_after_header: bool,
    pub limiter: RateLimiter,
    pub faults: FaultState,
    pub counters: Counters,
    pub peak: PeakWindow,
    /// Autopilot: whether a refusal names the contact at fault.
    pub refusal_naming: RefusalNaming,
    /// Ortto: the answers its documentation leaves open.
    pub ortto: OrttoSettings,
    /// Ortto: requests per client address, and bad requests and bans per address.
    pub addresses: AddressLimits,
    pub bans: Bans,
    /// Ortto: merges in progress, by key.
    pub merges_in_flight: std::collections::HashMap<String, usize>,
}

impl Control {
    pub fn new(config: &SandboxConfig) -> Self {
        Self {
            api: config.api,
            api_keys: config.api_keys.clone(),
            retry_after_header: config.retry_after_header,
            limiter: RateLimiter::new(config.rate, config.burst),
            faults: FaultState::new(config.faults.clone()),
            counters: Counters::default(),
            peak: PeakWindow::default(),
            refusal_naming: RefusalNaming::None,
            ortto: config.ortto.clone(),
            addresses: AddressLimits::default(),
            bans: Bans::default(),
            merges_in_flight: Default::default(),
        }
    }

    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = FaultState::new(faults);
    }

    /// An empty store for this API.
    pub fn empty_store(&self) -> Store {
        Store::new(match self.api {
            Api::Autopilot => Ids::Autopilot,
            Api::Ortto(_) => Ids::Ortto,
        })
    }

    /// Forgets what was counted and every address's requests, bad requests and bans.
    pub fn reset(&mut self) {
        self.counters = Counters::default();
        self.peak = PeakWindow::default();
        self.addresses.clear();
        self.bans.clear();
    }
}

/// The state every route shares.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub control: Mutex<Control>,
    /// What `/admin` requires over HTTP; fixed for the sandbox's life.
    pub admin_token: AdminToken,
}

impl Shared {
    pub fn new(config: &SandboxConfig, admin_token: AdminToken) -> Self {
        let control = Control::new(config);
        Self {
            store: Mutex::new(control.empty_store()),
            control: Mutex::new(control),
            admin_token,
        }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counters, with those the store keeps.
    pub fn counters(&self) -> Counters {
        let mut counters = self.control().counters.clone();
        let store = self.store();
        counters.contacts_written = store.contacts_written;
        counters.distinct_contacts_written = store.distinct_contacts_written();
        counters.max_writes_per_contact = store.max_writes_per_contact;
        counters.consent_fields_received += store.consent_fields_received;
        counters.empty_values_received = store.empty_values_received;
        counters
    }
}
