//! How a segment's contacts are written in the baseline document: the bytes of [`Members`]
//! compressed (LZ4, the size first) and written as one base64 text field of the JSON document,
//! tagged with the form's version.
//!
//! Baselines written before hold a JSON object of address → fingerprint: it is read as such, and
//! the next baseline written is compact.

use super::members::Members;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Serializer;
use std::fmt;

/// What starts the text of the compact form (and names its version).
const TAG: &str = "c1:";
/// LZ4 never expands data more than this: a stated size above it is damage, not data, and is
/// not allocated.
const MAX_RATIO: usize = 255;

/// Serde: contacts written compact.
pub(super) fn serialize<S: Serializer>(
    contacts: &Members,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let packed = lz4_flex::compress_prepend_size(contacts.as_bytes());
    // Written straight into the document: no copy of the text is made first.
    serializer.collect_str(&Tagged(base64::display::Base64Display::new(
        &packed, &STANDARD,
    )))
}

/// Serde: contacts read compact, or as the object of address → fingerprint of older baselines.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
    deserializer.deserialize_any(Contacts)
}

/// The compact text: the tag, then the base64 of the compressed bytes.
struct Tagged<'a>(base64::display::Base64Display<'a, 'static, base64::engine::GeneralPurpose>);

impl fmt::Display for Tagged<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TAG)?;
        self.0.fmt(f)
    }
}

/// The bytes of the compact text, or why they cannot be read.
fn unpack(text: &str) -> Result<Vec<u8>, &'static str> {
    const DAMAGED: &str = "the baseline's contacts are damaged";
    let body = text
        .strip_prefix(TAG)
        .ok_or("the baseline's contacts are in an unknown form")?;
    let packed = STANDARD.decode(body).map_err(|_| DAMAGED)?;
    let stated = packed
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or(DAMAGED)?;
    if stated > packed.len().saturating_mul(MAX_RATIO) {
        return Err(DAMAGED);
    }
    lz4_flex::decompress_size_prepended(&packed).map_err(|_| DAMAGED)
}

struct Contacts;

impl<'de> Visitor<'de> for Contacts {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a baseline's contacts")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let bytes = unpack(text).map_err(E::custom)?;
        Members::from_bytes(bytes).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut contacts = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1 << 20));
        while let Some((email, fp)) = map.next_entry::<String, u64>()? {
            contacts.push((email, fp));
        }
        Ok(contacts.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        contacts: Members,
    }

    fn contacts(n: u64) -> Members {
        (0..n)
            .map(|i| (format!("person{i}@example.com"), i.wrapping_mul(0x9e37)))
            .collect()
    }

    #[test]
    fn contacts_round_trip_compressed() {
        let holder = Holder {
            contacts: contacts(1000),
        };
        let json = serde_json::to_string(&holder).unwrap();
        assert!(json.contains("\"c1:"), "{}", &json[..40]);
        assert!(!json.contains("example.com"), "addresses are compressed");
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), holder);
        let empty = Holder {
            contacts: Members::default(),
        };
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(serde_json::from_str::<Holder>(&json).unwrap(), empty);
    }

    #[test]
    fn an_older_baseline_object_is_read() {
        let read: Holder =
            serde_json::from_str(r#"{"contacts": {"a@x.io": 7, "b@x.io": 8}}"#).unwrap();
        assert_eq!(
            read.contacts.to_map(),
            std::collections::HashMap::from([("a@x.io".into(), 7), ("b@x.io".into(), 8)])
        );
    }

    #[test]
    fn damaged_contacts_are_an_error_not_a_panic() {
        for text in [r#""c1:!!""#, r#""c1:AAAA""#, r#""other""#] {
            let json = format!(r#"{{"contacts": {text}}}"#);
            assert!(serde_json::from_str::<Holder>(&json).is_err(), "{text}");
        }
        // A stated size of 4 GB ahead of a few bytes is refused before anything is allocated.
        let mut packed = u32::MAX.to_le_bytes().to_vec();
        packed.extend_from_slice(&[0x10, b'x']);
        let text = format!("{TAG}{}", STANDARD.encode(&packed));
        assert_eq!(unpack(&text), Err("the baseline's contacts are damaged"));
    }
}
