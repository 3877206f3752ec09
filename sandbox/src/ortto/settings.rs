//! Ortto's settings for what its documentation leaves open: one per unknown a client's behaviour
//! depends on, each defaulting to the answer the sandbox finds most likely, each changed at run
//! time with `PUT /admin/settings` (the table is in the crate's `ortto` module doc). Retry-After on
//! 429s is the sandbox-wide `retry_after_header`, off by default in Ortto mode.

use crate::limits::{BanRule, WindowRule, ORTTO_IP_RULES};
use serde::{Deserialize, Serialize};

/// How a merge answers when some people in it are refused (invalid or suppressed) and some are
/// not. A merge where every person is refused is answered 400 either way, as recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixedBatch {
    /// 200, one entry per person: the valid ones written, the refused ones with their status.
    #[default]
    Statuses,
    /// 400 for the whole batch, nothing written, `details` holding the refused people's entries
    /// (in request order, without positions).
    Reject,
}

/// What a field sent as `""` does to a stored value under merge strategy 2.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmptyStrings {
    /// The stored value becomes `""` (a sent value replaces the stored one).
    #[default]
    Overwrite,
    /// The stored value stays, as if the field were left out.
    Keep,
    /// The field is cleared, as `null` clears it.
    Clear,
}

/// The answers that depend on what Ortto's documentation leaves open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OrttoSettings {
    pub mixed_batch: MixedBatch,
    pub empty_strings: EmptyStrings,
    /// The status of a person a merge neither created nor changed: not found with
    /// `skip_non_existing`, or found with `merge_strategy` 3 (`"skipped"`; `"ignored"` is as
    /// plausible).
    pub skipped_status: String,
    /// Custom person fields the account may create (100; plans allow 150 or 200).
    pub custom_field_limit: usize,
    /// The bad-request ban (15 bad requests in 15 s ban the address for 15 s); `null` for none.
    pub ban: Option<BanRule>,
    /// What a banned address is answered: 429 (with `try-in-seconds` the ban's remaining time) or
    /// 403.
    pub ban_status: u16,
    /// Requests one address may make per window (2,000 per 10 s and 6,000 per 60 s); empty for
    /// none.
    pub address_limits: Vec<WindowRule>,
    /// Merges one key may have in progress at once, beyond which a merge is answered 429; `null`
    /// for no limit (Ortto says synchronous merges "can hit a concurrency limit", value unknown).
    pub merge_concurrency: Option<usize>,
}

impl Default for OrttoSettings {
    fn default() -> Self {
        Self {
            mixed_batch: MixedBatch::default(),
            empty_strings: EmptyStrings::default(),
            skipped_status: "skipped".into(),
            custom_field_limit: 100,
            ban: Some(BanRule::default()),
            ban_status: 429,
            address_limits: ORTTO_IP_RULES.to_vec(),
            merge_concurrency: None,
        }
    }
}

impl OrttoSettings {
    /// What is wrong with these settings, if anything.
    pub fn check(&self) -> Result<(), String> {
        if ![429, 403].contains(&self.ban_status) {
            return Err(format!(
                "ban_status must be 429 or 403, not {}",
                self.ban_status
            ));
        }
        if self.skipped_status.trim().is_empty() {
            return Err("skipped_status must be a word such as \"skipped\"".into());
        }
        let windows = self.address_limits.iter().map(|r| (r.limit, r.window_secs));
        let bans = self.ban.iter().map(|b| (b.threshold, b.window_secs));
        if windows.chain(bans).any(|(n, secs)| n == 0 || secs == 0) {
            return Err("limits and windows must be at least 1".into());
        }
        if self.merge_concurrency == Some(0) {
            return Err("merge_concurrency must be at least 1 (or null for no limit)".into());
        }
        Ok(())
    }
}
