//! The APIs a destination can export to, and the one place each is wired to its
//! implementation: its words, limits, default URL and hosts, and its client.

use super::{AudienceApi, Limits, Vocabulary};
use crate::http_api::{ApiError, ClientConfig, KeySource};
use crate::{autopilot, ortto};

/// An Ortto account's region (the one API with regions), named here so nothing above the port
/// imports an implementation.
pub use crate::ortto::Region;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Which API a destination's audience tool speaks. Stored in the destination (`"api"`); a
/// destination stored before there was a choice speaks Autopilot's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    /// Autopilot's REST API v1 (legacy Autopilot Journeys accounts).
    #[default]
    Autopilot,
    /// Ortto's public API (`/v1/…`, one host per region).
    Ortto,
}

impl ApiKind {
    /// Every API, in the order the command and the console offer them.
    pub const ALL: [ApiKind; 2] = [ApiKind::Autopilot, ApiKind::Ortto];

    /// Its stored name, as `--api` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Autopilot => "autopilot",
            Self::Ortto => "ortto",
        }
    }

    /// The kind of a stored name; `None` for a name that is not one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(name.trim()))
    }

    /// Its words and the fields it never receives.
    pub fn vocabulary(self) -> &'static Vocabulary {
        match self {
            Self::Autopilot => &autopilot::VOCABULARY,
            Self::Ortto => &ortto::VOCABULARY,
        }
    }

    /// Its limits and cost model (Ortto's when its merges may create people; a client may
    /// answer better, [`AudienceApi::limits`]).
    pub fn limits(self) -> Limits {
        match self {
            Self::Autopilot => autopilot::LIMITS,
            Self::Ortto => ortto::LIMITS_CREATING,
        }
    }

    /// Where its API is unless a destination says otherwise (Ortto: its global region).
    pub fn default_url(self) -> &'static str {
        match self {
            Self::Autopilot => autopilot::DEFAULT_BASE_URL,
            Self::Ortto => ortto::DEFAULT_BASE_URL,
        }
    }

    /// The hosts of its public API: a deployment on AWS sends to these (over https) without
    /// being told.
    pub fn api_hosts(self) -> &'static [&'static str] {
        match self {
            Self::Autopilot => &[autopilot::API_HOST],
            Self::Ortto => &ortto::API_HOSTS,
        }
    }

    /// A client of this API at `config.base_url` with `key`; with a `key_source`, it reads the
    /// key again from there when the API refuses it.
    pub fn client(
        self,
        config: ClientConfig,
        key: SecretString,
        key_source: Option<Arc<dyn KeySource>>,
    ) -> Result<Arc<dyn AudienceApi>, ApiError> {
        match self {
            Self::Autopilot => Ok(Arc::new(autopilot::AutopilotClient::build(
                config, key, key_source,
            )?)),
            Self::Ortto => Ok(Arc::new(ortto::OrttoClient::build(
                config, key, key_source,
            )?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_and_write_by_their_names() {
        for kind in ApiKind::ALL {
            assert_eq!(ApiKind::from_name(kind.as_str()), Some(kind));
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(text, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<ApiKind>(&text).unwrap(), kind);
            assert!(kind.default_url().starts_with("https://"));
        }
        assert_eq!(ApiKind::from_name(" Autopilot "), Some(ApiKind::Autopilot));
        assert_eq!(ApiKind::from_name("ORTTO"), Some(ApiKind::Ortto));
        assert_eq!(ApiKind::from_name("mailchimp"), None);
        assert_eq!(ApiKind::default(), ApiKind::Autopilot);
    }
}
