//! The baseline of a destination: what the last export confirmed in its audience tool, per segment — each
//! contact's fingerprint (a hash of the fields sent) and so the membership ledger (which contacts
//! this connector put on the segment's list). Incremental exports send only what differs from it,
//! and remove from a list only members the ledger says this connector added.
//!
//! Stored as `state/{destination}/baseline.json`, each segment's contacts in compact form (an
//! older baseline's plain object is read and rewritten compact by the next export); it only ever
//! records what the API confirmed, and a failed export never replaces it.

mod compact;
mod foreign;
mod members;
pub use foreign::ForeignMembers;
pub use members::{HashIndex, Members};

use crate::contact::Contact;
use crate::destination::{DataMatching, Segment};
use crate::store::{get_json, put_json, ObjectStore, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The export that produced it.
    pub export_id: String,
    /// Fingerprint of the data matching it was sent with; a different one forces a full resend.
    pub matching_fingerprint: u64,
    /// By segment name.
    pub segments: BTreeMap<String, SegmentBaseline>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentBaseline {
    /// The segment's audience (its list): stored as `list_id` before there was a choice of API.
    #[serde(alias = "list_id")]
    pub audience_id: String,
    /// Lower-cased email → fingerprint of the contact as the API has it from us, in compact
    /// form ([`Members`]: 16-byte records sorted by key hash, then the addresses).
    #[serde(with = "compact")]
    pub contacts: Members,
    /// Members the list had before this connector first wrote to it: never removed by us. Kept
    /// as keyed hashes ([`ForeignMembers`]).
    #[serde(default, skip_serializing_if = "ForeignMembers::is_empty")]
    pub foreign: ForeignMembers,
}

impl SegmentBaseline {
    /// Whether this connector put `email` (lower-cased) on the list.
    pub fn added_by_us(&self, email: &str) -> bool {
        self.contacts.contains(email) && !self.foreign.contains(email)
    }
}

pub fn key(destination: &str) -> String {
    crate::store::keys::baseline(destination)
}

/// The candidate written by `plan`, committed by `finalize` when the export did not fail.
pub fn candidate_key(destination: &str, export: &str) -> String {
    crate::store::keys::next_baseline(destination, export)
}

pub async fn load(
    store: &dyn ObjectStore,
    destination: &str,
) -> Result<Option<Baseline>, StoreError> {
    get_json(store, &key(destination)).await
}

pub async fn save(
    store: &dyn ObjectStore,
    destination: &str,
    baseline: &Baseline,
) -> Result<(), StoreError> {
    put_json(store, &key(destination), baseline).await
}

/// A stable 64-bit hash of what would be sent for a contact.
pub fn fingerprint(contact: &Contact) -> u64 {
    let mut fp = Fingerprint::new(contact.email());
    for (k, v) in contact.fields() {
        fp.field(k, v);
    }
    for (k, v) in contact.custom() {
        fp.custom(k, v);
    }
    fp.finish()
}

/// [`fingerprint`] fed part by part, so that a row can be fingerprinted without building its
/// contact: the email, then the fields and then the custom fields, each in the order of their
/// names (the contact's own order), give the same hash.
pub struct Fingerprint(xxhash_rust::xxh3::Xxh3);

impl Fingerprint {
    pub fn new(email: &str) -> Self {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(email.as_bytes());
        Self(hasher)
    }

    pub fn field(&mut self, name: &str, value: &str) {
        for part in ["\u{1}", name, "\u{2}", value] {
            self.0.update(part.as_bytes());
        }
    }

    pub fn custom(&mut self, key: &str, value: &serde_json::Value) {
        for part in ["\u{3}", key, "\u{2}"] {
            self.0.update(part.as_bytes());
        }
        // The value's JSON text, as `Value::to_string` writes it, straight into the hash.
        let _ = serde_json::to_writer(HashWriter(&mut self.0), value);
    }

    pub fn finish(&self) -> u64 {
        self.0.digest()
    }

    /// The fingerprint of `text` written whole: what the parts fed one by one give, when `text`
    /// is those parts end to end (XXH3 of a whole text is its streamed hash).
    pub fn of_text(text: &[u8]) -> u64 {
        xxhash_rust::xxh3::xxh3_64(text)
    }
}

struct HashWriter<'a>(&'a mut xxhash_rust::xxh3::Xxh3);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The 64-bit hash a scan tells profiles apart by: of the dedupe key (lower-cased email). Two of
/// a million profiles share one with a chance of about one in 36 million.
pub fn key_hash(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

/// A stable hash of the data matching and segment sources: when it changes, everything is resent.
pub fn matching_fingerprint(matching: &DataMatching, segments: &[Segment]) -> u64 {
    let text = serde_json::to_string(&(
        matching,
        segments.iter().map(|s| &s.name).collect::<Vec<_>>(),
    ))
    .unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprints_follow_content() {
        let a = Contact::new("a@x.io")
            .unwrap()
            .with_field("FirstName", "Ann")
            .unwrap();
        let c = a.clone().with_field("LastName", "Lee").unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let d = a.clone().with_custom("integer--Age", json!(30)).unwrap();
        let e = a.clone().with_custom("integer--Age", json!(31)).unwrap();
        assert_ne!(fingerprint(&d), fingerprint(&e));
        // The text form it has always hashed: a change would silently force full resends.
        let f = d.clone().with_field("Company", "Acme \"x\"").unwrap();
        let text =
            "a@x.io\u{1}Company\u{2}Acme \"x\"\u{1}FirstName\u{2}Ann\u{3}integer--Age\u{2}30";
        assert_eq!(fingerprint(&f), xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
        // Fixed value: a change of hash function would silently force full resends everywhere.
        assert_eq!(
            fingerprint(&Contact::new("a@x.io").unwrap()),
            xxhash_rust::xxh3::xxh3_64(b"a@x.io")
        );
    }

    /// The text form fingerprints were first computed from, kept to check [`Fingerprint`].
    fn text_fingerprint(contact: &Contact) -> u64 {
        let mut text = contact.email().to_string();
        for (k, v) in contact.fields() {
            text.push_str(&format!("\u{1}{k}\u{2}{v}"));
        }
        for (k, v) in contact.custom() {
            text.push_str(&format!("\u{3}{k}\u{2}{v}"));
        }
        xxhash_rust::xxh3::xxh3_64(text.as_bytes())
    }

    #[test]
    fn fingerprints_fed_in_parts_match_the_text_form() {
        let contact = Contact::new("ü@xn--bcher-kva.example")
            .unwrap()
            .with_field("FirstName", "Zoë \"Z\" \\ \u{1}")
            .unwrap()
            .with_field("Company", "Acme")
            .unwrap()
            .with_custom("string--Tier", json!("gold \"g\"\n\u{7f}é"))
            .unwrap()
            .with_custom("float--Score", json!(1.5e-7))
            .unwrap()
            .with_custom("boolean--Vip", json!(true))
            .unwrap()
            .with_custom("integer--Age", json!(-30))
            .unwrap();
        assert_eq!(fingerprint(&contact), text_fingerprint(&contact));
        let bare = Contact::new("a@x.io").unwrap();
        assert_eq!(fingerprint(&bare), text_fingerprint(&bare));
    }

    #[test]
    fn hundred_thousand_entries_round_trip_quickly() {
        let segment = SegmentBaseline {
            contacts: (0..100_000u64)
                .map(|i| {
                    (
                        format!("person{i}@example.com"),
                        i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    )
                })
                .collect(),
            ..SegmentBaseline::default()
        };
        let baseline = Baseline {
            segments: BTreeMap::from([("S".to_string(), segment)]),
            ..Baseline::default()
        };
        let bytes = serde_json::to_vec(&baseline).unwrap();
        let started = std::time::Instant::now();
        let back: Baseline = serde_json::from_slice(&bytes).unwrap();
        // Printed, not asserted: a slow machine must not fail the suite.
        println!(
            "100,000 baseline entries: {} bytes, parsed in {:?}",
            bytes.len(),
            started.elapsed()
        );
        assert_eq!(back, baseline);
    }
}
