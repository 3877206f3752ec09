//! The members of a list as a verification keeps them between its steps ([`Seen`]): no address
//! of anyone who is not ours. A member the baseline records (ours) is kept by the baseline's own
//! key hash of the address ([`crate::baseline::key_hash`]: the baseline holds the address beside
//! it, so nothing new is at rest); any other member (foreign) by a hash keyed with the
//! verification's own random key ([`MemberHasher`], HMAC-SHA-256 as the baseline's foreign
//! members are), which tells two reads of one member apart from two members and nothing more,
//! and, for the first few only, the masked address the report shows (`j***@example.com`).
//!
//! Step files written before members were hashed hold each member's address and status: they
//! are read ([`Stored`]) and sorted the same way when the lists are compared, so a verification
//! running across the upgrade finishes.

use crate::audience_api::MemberStatus;
use crate::baseline::{key_hash, SegmentBaseline};
use crate::email;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Hex characters kept of each keyed hash (16 bytes: no collision among any list's members).
const DIGEST_HEX_CHARS: usize = 32;

/// Hashes the addresses of members who are not ours with one verification's key.
pub struct MemberHasher(hmac::Key);

impl MemberHasher {
    /// A new random key, in hex: a verification keeps it in its record while it runs.
    pub fn new_key() -> String {
        let mut bytes = [0u8; 32];
        // The system's random source; should it ever fail, a key from a seeded generator still
        // hides the addresses from anyone without the record.
        if SystemRandom::new().fill(&mut bytes).is_err() {
            bytes[..16].copy_from_slice(&fastrand::u128(..).to_le_bytes());
        }
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The hasher of `key` (as [`MemberHasher::new_key`] gives it).
    pub fn with_key(key: &str) -> Self {
        let bytes: Vec<u8> = (0..key.len() / 2)
            .filter_map(|i| u8::from_str_radix(key.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        Self(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
    }

    /// A hasher with a key of its own.
    #[cfg(test)]
    pub fn random() -> Self {
        Self::with_key(&Self::new_key())
    }

    /// The keyed hash of `address` (a dedupe key), in hex.
    pub fn hash(&self, address: &str) -> String {
        let tag = hmac::sign(&self.0, address.as_bytes());
        let mut hex = String::with_capacity(DIGEST_HEX_CHARS);
        for byte in &tag.as_ref()[..DIGEST_HEX_CHARS / 2] {
            let _ = write!(hex, "{byte:02x}");
        }
        hex
    }
}

/// Members read from a list, sorted into ours and the others, without an address of the others.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// Ours, in the order read: the baseline's key hash of the address, and whether unsubscribed.
    #[serde(default)]
    pub ours: Vec<(u64, bool)>,
    /// The others, in the order read: their keyed hash.
    #[serde(default)]
    pub foreign: Vec<String>,
    /// The first [`SAMPLES`] others by masked address: the masked address and the keyed hash.
    #[serde(default)]
    pub samples: Vec<(String, String)>,
}

impl Seen {
    /// `members` as read from the list of `base`'s segment, sorted against it.
    pub fn of(base: &SegmentBaseline, members: &[MemberStatus], hasher: &MemberHasher) -> Self {
        let mut seen = Self::default();
        let mut samples = Vec::new();
        for member in members {
            let address = email::dedupe_key(&member.email);
            let hash = key_hash(&address);
            if base.contacts.position(hash).is_some() {
                seen.ours.push((hash, member.unsubscribed));
            } else {
                let keyed = hasher.hash(&address);
                samples.push((email::masked(&address), keyed.clone()));
                seen.foreign.push(keyed);
            }
        }
        seen.samples = first_samples(samples);
        seen
    }
}

/// Masked addresses shown per kind of finding and list.
pub const SAMPLES: usize = 3;

/// The first [`SAMPLES`] of `samples` in order, one per member.
pub fn first_samples(mut samples: Vec<(String, String)>) -> Vec<(String, String)> {
    samples.sort_unstable();
    samples.dedup();
    samples.truncate(SAMPLES);
    samples
}

/// A step's members as stored: [`Seen`], or each member's address and status as steps stored
/// them before members were hashed.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Stored {
    Plain(Vec<(String, bool)>),
    Seen(Seen),
}

impl Stored {
    /// The members as [`Seen`]: a plain part is sorted against `base` now.
    pub fn seen(self, base: &SegmentBaseline, hasher: &MemberHasher) -> Seen {
        match self {
            Stored::Seen(seen) => seen,
            Stored::Plain(read) => {
                let members: Vec<MemberStatus> = read
                    .into_iter()
                    .map(|(email, unsubscribed)| MemberStatus {
                        email,
                        unsubscribed,
                    })
                    .collect();
                Seen::of(base, &members, hasher)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::ForeignMembers;

    fn base(ours: &[&str]) -> SegmentBaseline {
        SegmentBaseline {
            audience_id: "contactlist_1".into(),
            contacts: ours.iter().map(|e| (e.to_string(), 1)).collect(),
            foreign: ForeignMembers::default(),
        }
    }

    fn read(members: &[(&str, bool)]) -> Vec<MemberStatus> {
        (members.iter())
            .map(|(email, unsubscribed)| MemberStatus {
                email: email.to_string(),
                unsubscribed: *unsubscribed,
            })
            .collect()
    }

    #[test]
    fn ours_are_kept_by_key_hash_and_the_others_by_keyed_hash_with_no_address() {
        let hasher = MemberHasher::random();
        let members = read(&[
            ("Ann@X.io", true),
            ("bob@x.io", false),
            ("stranger@elsewhere.example", false),
            ("Stranger@Elsewhere.example", false),
        ]);
        let seen = Seen::of(&base(&["ann@x.io", "bob@x.io"]), &members, &hasher);
        assert_eq!(
            seen.ours,
            [(key_hash("ann@x.io"), true), (key_hash("bob@x.io"), false)]
        );
        let stranger = hasher.hash("stranger@elsewhere.example");
        assert_eq!(seen.foreign, [stranger.clone(), stranger.clone()]);
        assert_eq!(
            seen.samples,
            [("s***@elsewhere.example".to_string(), stranger)],
            "one sample per member"
        );
        let json = serde_json::to_string(&seen).unwrap();
        assert!(!json.contains("stranger"), "{json}");
        let back: Stored = serde_json::from_str(&json).unwrap();
        assert_eq!(back.seen(&base(&[]), &hasher), seen);
    }

    #[test]
    fn a_verification_hashes_with_its_own_key() {
        let key = MemberHasher::new_key();
        assert_eq!(key.len(), 64);
        let (a, b) = (MemberHasher::with_key(&key), MemberHasher::with_key(&key));
        assert_eq!(
            a.hash("z@x.io"),
            b.hash("z@x.io"),
            "the same key, step after step"
        );
        assert_eq!(a.hash("z@x.io").len(), DIGEST_HEX_CHARS);
        assert_ne!(a.hash("z@x.io"), a.hash("y@x.io"));
        assert_ne!(a.hash("z@x.io"), MemberHasher::random().hash("z@x.io"));
    }

    #[test]
    fn a_part_stored_before_hashing_is_read_and_sorted_the_same_way() {
        let hasher = MemberHasher::random();
        let base = base(&["a@x.io"]);
        let members = [("a@x.io", true), ("z@x.io", false)];
        let old = serde_json::to_string(&members).unwrap();
        let stored: Stored = serde_json::from_str(&old).unwrap();
        assert_eq!(
            stored.seen(&base, &hasher),
            Seen::of(&base, &read(&members), &hasher)
        );
        let empty: Stored = serde_json::from_str("[]").unwrap();
        assert_eq!(empty.seen(&base, &hasher), Seen::default());
        assert!(serde_json::from_str::<Stored>(r#"{"ours": "broken"}"#).is_err());
    }

    #[test]
    fn samples_are_the_first_few_masked_addresses_one_per_member() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            (list.iter())
                .map(|(m, h)| (m.to_string(), h.to_string()))
                .collect()
        };
        let found = first_samples(pairs(&[
            ("z***@x.io", "1"),
            ("a***@x.io", "2"),
            ("a***@x.io", "2"),
            ("a***@x.io", "3"),
            ("b***@x.io", "4"),
        ]));
        assert_eq!(
            found,
            pairs(&[("a***@x.io", "2"), ("a***@x.io", "3"), ("b***@x.io", "4")])
        );
    }
}
