//! The compact form of a segment's contacts, as the baseline stores them: fixed-width records
//! sorted by the key hash of each address ([`super::key_hash`], then the contact's fingerprint:
//! 16 bytes a profile), then the addresses in the same order, the whole compressed (LZ4) and
//! written as one base64 text field of the JSON document.
//!
//! Baselines written before hold a JSON object of address → fingerprint: it is read as such, and
//! the next baseline written is compact.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Serializer;
use std::collections::HashMap;
use std::fmt;

/// What starts the text of the compact form (and names its version).
const TAG: &str = "c1:";
/// Bytes of one record: key hash and fingerprint.
const RECORD: usize = 16;

/// The bytes of `contacts` before compression: a count, the sorted records, the addresses.
pub(super) fn encode(contacts: &HashMap<String, u64>) -> Vec<u8> {
    let mut sorted: Vec<(u64, &str, u64)> = contacts
        .iter()
        .map(|(email, fp)| (super::key_hash(email), email.as_str(), *fp))
        .collect();
    sorted.sort_unstable();
    let addresses: usize = sorted.iter().map(|(_, e, _)| e.len() + 2).sum();
    let mut out = Vec::with_capacity(8 + sorted.len() * RECORD + addresses);
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    for (hash, _, fp) in &sorted {
        out.extend_from_slice(&hash.to_le_bytes());
        out.extend_from_slice(&fp.to_le_bytes());
    }
    for (_, email, _) in &sorted {
        // An address is at most 254 bytes ([`crate::email::check`]); longer text is cut.
        let bytes = &email.as_bytes()[..email.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    out
}

/// The contacts of [`encode`]'s bytes, or why they cannot be read.
pub(super) fn decode(bytes: &[u8]) -> Result<HashMap<String, u64>, &'static str> {
    const BROKEN: &str = "the baseline's contacts are cut short or damaged";
    let count = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or(BROKEN)?;
    let count = usize::try_from(count).map_err(|_| BROKEN)?;
    let records_end = count
        .checked_mul(RECORD)
        .and_then(|n| n.checked_add(8))
        .filter(|end| *end <= bytes.len())
        .ok_or(BROKEN)?;
    let (records, mut addresses) = (&bytes[8..records_end], &bytes[records_end..]);
    let mut contacts = HashMap::with_capacity(count);
    for record in records.chunks_exact(RECORD) {
        let fp = u64::from_le_bytes(record[8..].try_into().map_err(|_| BROKEN)?);
        let len = addresses
            .get(..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
            .ok_or(BROKEN)?;
        let email = addresses.get(2..2 + len).ok_or(BROKEN)?;
        let email = std::str::from_utf8(email).map_err(|_| BROKEN)?;
        contacts.insert(email.to_string(), fp);
        addresses = &addresses[2 + len..];
    }
    Ok(contacts)
}

/// Serde: contacts written compact.
pub(super) fn serialize<S: Serializer>(
    contacts: &HashMap<String, u64>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let packed = lz4_flex::compress_prepend_size(&encode(contacts));
    let mut text = String::with_capacity(TAG.len() + packed.len() * 4 / 3 + 4);
    text.push_str(TAG);
    STANDARD.encode_string(&packed, &mut text);
    serializer.serialize_str(&text)
}

/// Serde: contacts read compact, or as the object of address → fingerprint of older baselines.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<HashMap<String, u64>, D::Error> {
    deserializer.deserialize_any(Contacts)
}

struct Contacts;

impl<'de> Visitor<'de> for Contacts {
    type Value = HashMap<String, u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a baseline's contacts")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let body = text
            .strip_prefix(TAG)
            .ok_or_else(|| E::custom("the baseline's contacts are in an unknown form"))?;
        let packed = STANDARD
            .decode(body)
            .map_err(|_| E::custom("the baseline's contacts are damaged"))?;
        let bytes = lz4_flex::decompress_size_prepended(&packed)
            .map_err(|_| E::custom("the baseline's contacts are damaged"))?;
        decode(&bytes).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut contacts = HashMap::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((email, fp)) = map.next_entry::<String, u64>()? {
            contacts.insert(email, fp);
        }
        Ok(contacts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        contacts: HashMap<String, u64>,
    }

    fn contacts(n: u64) -> HashMap<String, u64> {
        (0..n)
            .map(|i| (format!("person{i}@example.com"), i.wrapping_mul(0x9e37)))
            .collect()
    }

    #[test]
    fn contacts_round_trip_in_sorted_sixteen_byte_records() {
        let holder = Holder {
            contacts: contacts(1000),
        };
        let bytes = encode(&holder.contacts);
        let hashes: Vec<u64> = bytes[8..8 + 1000 * RECORD]
            .chunks_exact(RECORD)
            .map(|r| u64::from_le_bytes(r[..8].try_into().unwrap()))
            .collect();
        assert!(hashes.windows(2).all(|w| w[0] < w[1]), "sorted by key hash");
        let json = serde_json::to_string(&holder).unwrap();
        assert!(json.contains("\"c1:"), "{}", &json[..40]);
        assert!(!json.contains("example.com"), "addresses are compressed");
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
        let empty = Holder {
            contacts: HashMap::new(),
        };
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), empty);
    }

    #[test]
    fn an_older_baseline_object_is_read() {
        let read: Holder =
            serde_json::from_str(r#"{"contacts": {"a@x.io": 7, "b@x.io": 8}}"#).unwrap();
        assert_eq!(
            read.contacts,
            HashMap::from([("a@x.io".into(), 7), ("b@x.io".into(), 8)])
        );
    }

    #[test]
    fn damaged_contacts_are_an_error_not_a_panic() {
        let good = encode(&contacts(10));
        for cut in [0, 7, 8, 50, good.len() - 1] {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(decode(&huge).is_err());
        for text in [r#""c1:!!""#, r#""c1:AAAA""#, r#""other""#] {
            let json = format!(r#"{{"contacts": {text}}}"#);
            assert!(serde_json::from_str::<Holder>(&json).is_err(), "{text}");
        }
    }
}
