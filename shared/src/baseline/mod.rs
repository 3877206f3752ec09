//! The baseline of a destination: what the last export confirmed in Autopilot, per segment — each
//! contact's fingerprint (a hash of the fields sent) and so the membership ledger (which contacts
//! this connector put on the segment's list). Incremental exports send only what differs from it,
//! and remove from a list only members the ledger says this connector added.
//!
//! Stored as `state/{destination}/baseline.json`, each segment's contacts in compact form (an
//! older baseline's plain object is read and rewritten compact by the next export); it only ever
//! records what Autopilot confirmed, and a failed export never replaces it.

mod compact;
mod foreign;
pub use foreign::ForeignMembers;

use crate::autopilot::Contact;
use crate::destination::{DataMatching, Segment};
use crate::store::{get_json, put_json, ObjectStore, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
    pub list_id: String,
    /// Lower-cased email → fingerprint of the contact as Autopilot has it from us. Stored in
    /// compact form ([`compact`]: 16-byte records sorted by key hash, then the addresses).
    #[serde(with = "compact")]
    pub contacts: HashMap<String, u64>,
    /// Members the list had before this connector first wrote to it: never removed by us. Kept
    /// as keyed hashes ([`ForeignMembers`]).
    #[serde(default, skip_serializing_if = "ForeignMembers::is_empty")]
    pub foreign: ForeignMembers,
}

impl SegmentBaseline {
    /// Whether this connector put `email` (lower-cased) on the list.
    pub fn added_by_us(&self, email: &str) -> bool {
        self.contacts.contains_key(email) && !self.foreign.contains(email)
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

/// A stable 64-bit hash of what would be sent for a contact (its list excluded).
pub fn fingerprint(contact: &Contact) -> u64 {
    let mut text = String::with_capacity(128);
    text.push_str(contact.email());
    for (k, v) in contact.fields() {
        text.push('\u{1}');
        text.push_str(k);
        text.push('\u{2}');
        text.push_str(v);
    }
    for (k, v) in contact.custom() {
        text.push('\u{3}');
        text.push_str(k);
        text.push('\u{2}');
        text.push_str(&v.to_string());
    }
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
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
    fn fingerprints_follow_content_not_list_or_order() {
        let a = Contact::new("a@x.io")
            .unwrap()
            .with_field("FirstName", "Ann")
            .unwrap();
        let b = a.clone().with_list("l1");
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let c = a.clone().with_field("LastName", "Lee").unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&c));
        let d = a.clone().with_custom("integer--Age", json!(30)).unwrap();
        let e = a.clone().with_custom("integer--Age", json!(31)).unwrap();
        assert_ne!(fingerprint(&d), fingerprint(&e));
        // Fixed value: a change of hash function would silently force full resends everywhere.
        assert_eq!(
            fingerprint(&Contact::new("a@x.io").unwrap()),
            xxhash_rust::xxh3::xxh3_64(b"a@x.io")
        );
    }

    #[test]
    fn hundred_thousand_entries_round_trip_quickly() {
        let mut segment = SegmentBaseline::default();
        for i in 0..100_000u64 {
            segment.contacts.insert(
                format!("person{i}@example.com"),
                i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            );
        }
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
