//! How a sandbox starts: the API it imitates (Autopilot, or Ortto in one of its regions), the keys
//! it accepts, its rate limit, its faults, the Ortto settings for what Ortto's documentation
//! leaves open, and its admin token.

use crate::boundary::AdminToken;
use crate::limits::Faults;
use crate::ortto::OrttoSettings;
use serde::{Deserialize, Serialize};

/// Which API a sandbox imitates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Api {
    /// Autopilot's REST API v1 (header `autopilotapikey`, lists).
    #[default]
    Autopilot,
    /// Ortto's API (header `X-Api-Key`, people and tags), its keys belonging to this region.
    Ortto(Region),
}

/// Ortto's regions: each has its own host, and a key works only against its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    #[default]
    Global,
    Au,
    Eu,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Global, Region::Au, Region::Eu];

    /// `global`, `au` or `eu`: the region's name, and its path prefix on a sandbox.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::Global => "global",
            Region::Au => "au",
            Region::Eu => "eu",
        }
    }

    /// Ortto's host for the region.
    pub fn host(self) -> &'static str {
        match self {
            Region::Global => "api.ap3api.com",
            Region::Au => "api.au.ap3api.com",
            Region::Eu => "api.eu.ap3api.com",
        }
    }

    /// The region named `global`, `au` or `eu` (any case).
    pub fn named(name: &str) -> Option<Region> {
        Region::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
    }
}

/// How a sandbox starts.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub api: Api,
    /// Keys that are accepted; anything else is answered 401.
    pub api_keys: Vec<String>,
    /// Requests per second per key; `None` for no limit.
    pub rate: Option<f64>,
    /// Tokens a key may bank; one second's worth by default.
    pub burst: Option<f64>,
    /// Whether 429 answers carry a `Retry-After` header (the body always has `try-in-seconds`).
    pub retry_after_header: bool,
    pub faults: Faults,
    /// Ortto mode: the answers Ortto's documentation leaves open.
    pub ortto: OrttoSettings,
    /// The token `/admin` requires over HTTP; `None` for a random one made at start
    /// ([`crate::Sandbox::admin_token`] tells it).
    pub admin_token: Option<AdminToken>,
}

impl SandboxConfig {
    /// An Autopilot sandbox: one key, no rate limit, no faults, `Retry-After` on 429s, a random
    /// admin token.
    pub fn with_key(key: &str) -> Self {
        Self {
            api: Api::Autopilot,
            api_keys: vec![key.to_string()],
            rate: None,
            burst: None,
            retry_after_header: true,
            faults: Faults::default(),
            ortto: OrttoSettings::default(),
            admin_token: None,
        }
    }

    /// An Ortto sandbox in the global region: one key, no rate limit per key (the limits per
    /// address and the bad-request ban stand), no faults, no `Retry-After` on 429s (Ortto's
    /// documented 429 has only its body), the default [`OrttoSettings`].
    pub fn ortto(key: &str) -> Self {
        Self {
            api: Api::Ortto(Region::Global),
            retry_after_header: false,
            ..Self::with_key(key)
        }
    }

    /// The same sandbox as Ortto in `region`.
    pub fn region(mut self, region: Region) -> Self {
        self.api = Api::Ortto(region);
        self
    }

    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    pub fn admin_token(mut self, token: AdminToken) -> Self {
        self.admin_token = Some(token);
        self
    }
}
