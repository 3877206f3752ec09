//! A contact's address and fields, held compactly: a million contacts with half a dozen fields
//! each would take gigabytes as maps of `serde_json::Value`. Field names are numbered once for the
//! whole store ([`FieldNames`]); a contact is one byte string ([`Packed`]): its address's length
//! and its address, then entries of its field's number, its value's length and its value's compact
//! JSON text, each number and length an LEB128 varint. A field is never stored as `null`: writing
//! `null` removes it.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// Whether a field is one of Autopilot's standard fields or a custom (`type--Name`) field; Ortto's
/// fields are all `Standard`, their ids saying the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Standard,
    Custom,
}

/// Every field name the store has written, numbered in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct FieldNames {
    names: Vec<(Kind, Box<str>)>,
    standard: HashMap<Box<str>, usize>,
    custom: HashMap<Box<str>, usize>,
}

impl FieldNames {
    fn numbers(&self, kind: Kind) -> &HashMap<Box<str>, usize> {
        match kind {
            Kind::Standard => &self.standard,
            Kind::Custom => &self.custom,
        }
    }

    /// The number of a field name, if it has one.
    pub fn get(&self, kind: Kind, name: &str) -> Option<usize> {
        self.numbers(kind).get(name).copied()
    }

    /// The number of a field name, numbering it if it is new.
    pub fn number(&mut self, kind: Kind, name: &str) -> usize {
        if let Some(number) = self.get(kind, name) {
            return number;
        }
        let number = self.names.len();
        self.names.push((kind, name.into()));
        let numbers = match kind {
            Kind::Standard => &mut self.standard,
            Kind::Custom => &mut self.custom,
        };
        numbers.insert(name.into(), number);
        number
    }

    fn name(&self, number: usize) -> Option<(Kind, &str)> {
        self.names.get(number).map(|(kind, name)| (*kind, &**name))
    }

    /// The custom field names any contact has had, in the order first seen.
    pub fn custom(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .filter(|(kind, _)| *kind == Kind::Custom)
            .map(|(_, name)| &**name)
    }
}

/// One contact's address and fields, encoded as the module doc says; entries are ordered by field
/// number.
#[derive(Debug)]
pub(crate) struct Packed(Box<[u8]>);

/// A contact's fields decoded, each kind by name: what Autopilot shows of a contact.
pub(crate) type Decoded = (BTreeMap<String, Value>, BTreeMap<String, Value>);

impl Packed {
    /// A contact with this address and no fields yet.
    pub fn new(email: &str) -> Self {
        let mut bytes = Vec::with_capacity(email.len() + 1);
        write_varint(&mut bytes, email.len());
        bytes.extend_from_slice(email.as_bytes());
        Self(bytes.into_boxed_slice())
    }

    /// The address and the encoded entries after it. Only [`Packed::new`] writes an address, from
    /// a `str`, so a malformed one (there is none) reads as empty.
    fn split(&self) -> (&str, &[u8]) {
        let mut rest: &[u8] = &self.0;
        let address = read_varint(&mut rest).and_then(|len| {
            let address = std::str::from_utf8(rest.get(..len)?).ok()?;
            rest = &rest[len..];
            Some(address)
        });
        (address.unwrap_or_default(), rest)
    }

    /// The address, as first written.
    pub fn email(&self) -> &str {
        self.split().0
    }

    /// Entries as (field number, value's JSON text). A malformed tail ends the entries (only this
    /// module writes them, so there is none).
    fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut rest = self.split().1;
        std::iter::from_fn(move || {
            let number = read_varint(&mut rest)?;
            let len = read_varint(&mut rest)?;
            let value = rest.get(..len)?;
            rest = &rest[len..];
            Some((number, value))
        })
    }

    /// These fields with `updates` written over them: a field given a value takes it, a field
    /// given `null` goes, the others keep theirs.
    pub fn merged(
        &self,
        names: &mut FieldNames,
        updates: [(Kind, BTreeMap<String, Value>); 2],
    ) -> Self {
        let mut entries: BTreeMap<usize, Vec<u8>> = self
            .entries()
            .map(|(number, value)| (number, value.to_vec()))
            .collect();
        for (kind, values) in updates {
            for (name, value) in values {
                if value.is_null() {
                    if let Some(number) = names.get(kind, &name) {
                        entries.remove(&number);
                    }
                } else {
                    entries.insert(names.number(kind, &name), value.to_string().into_bytes());
                }
            }
        }
        let email = self.email();
        let mut bytes = Vec::with_capacity(self.0.len() + 16);
        write_varint(&mut bytes, email.len());
        bytes.extend_from_slice(email.as_bytes());
        for (number, value) in &entries {
            write_varint(&mut bytes, *number);
            write_varint(&mut bytes, value.len());
            bytes.extend_from_slice(value);
        }
        Self(bytes.into_boxed_slice())
    }

    /// The standard fields and the custom fields, each by name.
    pub fn decode(&self, names: &FieldNames) -> Decoded {
        let (mut standard, mut custom) = (BTreeMap::new(), BTreeMap::new());
        for (number, text) in self.entries() {
            let (Some((kind, name)), Ok(value)) =
                (names.name(number), serde_json::from_slice(text))
            else {
                continue;
            };
            let map = match kind {
                Kind::Standard => &mut standard,
                Kind::Custom => &mut custom,
            };
            map.insert(name.to_string(), value);
        }
        (standard, custom)
    }
}

fn write_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn read_varint(input: &mut &[u8]) -> Option<usize> {
    let mut n: usize = 0;
    for shift in (0..usize::BITS).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        n |= usize::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(n);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn fields_merge_by_name_and_decode_as_written() {
        let mut names = FieldNames::default();
        let first = Packed::new("Ann@x.io").merged(
            &mut names,
            [
                (
                    Kind::Standard,
                    map(json!({"FirstName": "Ann", "Phone": 12})),
                ),
                (
                    Kind::Custom,
                    map(json!({"integer--Age": 30, "float--Score": 1.5})),
                ),
            ],
        );
        let second = first.merged(
            &mut names,
            [
                (
                    Kind::Standard,
                    map(json!({"FirstName": "Anne", "LastName": "Lee, Jr."})),
                ),
                (Kind::Custom, map(json!({"boolean--VIP": true}))),
            ],
        );
        let (standard, custom) = second.decode(&names);
        assert_eq!(
            json!(standard),
            json!({"FirstName": "Anne", "LastName": "Lee, Jr.", "Phone": 12})
        );
        assert_eq!(
            json!(custom),
            json!({"integer--Age": 30, "float--Score": 1.5, "boolean--VIP": true})
        );
        assert_eq!(
            first.decode(&names).0["FirstName"],
            "Ann",
            "the first is as it was"
        );
        let custom: Vec<&str> = names.custom().collect();
        assert_eq!(custom, ["float--Score", "integer--Age", "boolean--VIP"]);
    }

    #[test]
    fn a_null_removes_the_field_and_a_field_never_seen_stays_unnamed() {
        let mut names = FieldNames::default();
        let first = Packed::new("a@x.io").merged(
            &mut names,
            [
                (
                    Kind::Standard,
                    map(json!({"str::first": "Ann", "int:cm:age": 3})),
                ),
                (Kind::Custom, BTreeMap::new()),
            ],
        );
        let second = first.merged(
            &mut names,
            [
                (
                    Kind::Standard,
                    map(json!({"str::first": null, "str::last": null})),
                ),
                (Kind::Custom, BTreeMap::new()),
            ],
        );
        assert_eq!(json!(second.decode(&names).0), json!({"int:cm:age": 3}));
        assert_eq!(names.get(Kind::Standard, "str::last"), None);
    }

    #[test]
    fn a_standard_and_a_custom_field_of_the_same_name_stay_apart() {
        let mut names = FieldNames::default();
        let fields = Packed::new("a@x.io").merged(
            &mut names,
            [
                (Kind::Standard, map(json!({"Title": "Dr"}))),
                (Kind::Custom, map(json!({"Title": "custom"}))),
            ],
        );
        let (standard, custom) = fields.decode(&names);
        assert_eq!(
            (standard["Title"].clone(), custom["Title"].clone()),
            (json!("Dr"), json!("custom"))
        );
    }

    #[test]
    fn varints_round_trip_and_a_truncated_one_ends_the_entries() {
        for n in [0, 1, 127, 128, 300, 16_383, 16_384, usize::MAX] {
            let mut bytes = Vec::new();
            write_varint(&mut bytes, n);
            let mut input = &bytes[..];
            assert_eq!(read_varint(&mut input), Some(n));
            assert!(input.is_empty());
            let mut cut = &bytes[..bytes.len() - 1];
            assert_eq!(read_varint(&mut cut), None, "{n}");
        }
        let mut too_long = &[0xff_u8; 11][..];
        assert_eq!(read_varint(&mut too_long), None);
        let broken = Packed(vec![1, b'a', 0, 5, b'1'].into_boxed_slice());
        assert_eq!((broken.email(), broken.entries().count()), ("a", 0));
        let no_address = Packed(vec![9, b'a'].into_boxed_slice());
        assert_eq!(no_address.email(), "");
    }
}
