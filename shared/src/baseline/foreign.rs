//! Members a list had before this connector first wrote to it, kept as keyed hashes: the baseline
//! must know them (they are never removed), but has no reason to hold the addresses of people who
//! are not in any of the customer's segments. Each set has its own random key; a member is found
//! by hashing the lower-cased address with it (HMAC-SHA-256, first 16 bytes in hex).
//!
//! Baselines written before hashing hold a plain list of addresses: it is read as such and hashed
//! on load, so the next baseline written holds hashes only.

use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::sync::OnceLock;

/// Hex characters kept of each digest (16 bytes: no collision among any list's members).
const DIGEST_HEX_CHARS: usize = 32;

#[derive(Debug, Clone, Default, Serialize)]
pub struct ForeignMembers {
    /// The random key of this set's hashes, in hex; empty while the set is empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    key: String,
    hashes: BTreeSet<String>,
    /// `key` made ready for signing, once: a plan checks every row of a segment against the set.
    #[serde(skip)]
    signer: OnceLock<hmac::Key>,
}

impl PartialEq for ForeignMembers {
    fn eq(&self, other: &Self) -> bool {
        (&self.key, &self.hashes) == (&other.key, &other.hashes)
    }
}

impl Eq for ForeignMembers {}

impl ForeignMembers {
    /// The set of `emails` (lower-cased addresses), hashed with a new random key.
    pub fn from_emails<'a>(emails: impl IntoIterator<Item = &'a str>) -> Self {
        let mut members = Self::default();
        for email in emails {
            if members.key.is_empty() {
                members.key = random_key();
            }
            let hash = members.hash(email);
            members.hashes.insert(hash);
        }
        members
    }

    /// Whether `email` (lower-cased) was on the list before.
    pub fn contains(&self, email: &str) -> bool {
        !self.hashes.is_empty() && self.hashes.contains(&self.hash(email))
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    fn hash(&self, email: &str) -> String {
        let key = self
            .signer
            .get_or_init(|| hmac::Key::new(hmac::HMAC_SHA256, &decode_hex(&self.key)));
        let tag = hmac::sign(key, email.as_bytes());
        let mut hex = String::with_capacity(DIGEST_HEX_CHARS);
        for byte in &tag.as_ref()[..DIGEST_HEX_CHARS / 2] {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}

fn random_key() -> String {
    let mut bytes = [0u8; 32];
    // The system's random source; should it ever fail, a key from the clock and a counter still
    // hides the addresses from anyone without the baseline.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        bytes[..16].copy_from_slice(&fastrand::u128(..).to_le_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .filter_map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

impl<'de> Deserialize<'de> for ForeignMembers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Hashed {
                #[serde(default)]
                key: String,
                hashes: BTreeSet<String>,
            },
            /// Written before hashing: the addresses themselves.
            Plain(BTreeSet<String>),
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Hashed { key, hashes } => Self {
                key,
                hashes,
                signer: OnceLock::new(),
            },
            Stored::Plain(emails) => Self::from_emails(emails.iter().map(String::as_str)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_found_by_address_and_no_address_is_stored() {
        let members = ForeignMembers::from_emails(["old@x.io", "boss@x.io"]);
        assert!(members.contains("old@x.io") && members.contains("boss@x.io"));
        assert!(!members.contains("new@x.io"));
        assert_eq!(members.len(), 2);
        let json = serde_json::to_string(&members).unwrap();
        assert!(!json.contains("x.io"), "{json}");
        let read: ForeignMembers = serde_json::from_str(&json).unwrap();
        assert_eq!(read, members);
        assert!(read.contains("old@x.io"));
    }

    #[test]
    fn each_set_has_its_own_key() {
        let a = ForeignMembers::from_emails(["old@x.io"]);
        let b = ForeignMembers::from_emails(["old@x.io"]);
        assert_ne!(
            a.hashes, b.hashes,
            "the same address hashes differently in two sets"
        );
    }

    #[test]
    fn a_plain_list_from_an_older_baseline_is_hashed_on_load() {
        let read: ForeignMembers = serde_json::from_str(r#"["old@x.io", "boss@x.io"]"#).unwrap();
        assert!(read.contains("old@x.io") && !read.contains("new@x.io"));
        assert!(!serde_json::to_string(&read).unwrap().contains("x.io"));
    }

    #[test]
    fn an_empty_set_contains_nothing_and_writes_no_key() {
        let empty = ForeignMembers::from_emails([]);
        assert!(empty.is_empty() && !empty.contains(""));
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"hashes":[]}"#);
        let old_empty: ForeignMembers = serde_json::from_str("[]").unwrap();
        assert!(old_empty.is_empty());
    }
}
