//! Autopilot's view of the store: a validated contact applied by address, contact ids
//! (`person_` and twelve digits), a contact as Autopilot shows it, pages of a list's members after a
//! bookmark, and the custom fields by name and type.

use super::{Flag, Kind, ListRecord, Store};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// Members per page of `GET /list/{id}/contacts`.
pub const PAGE_SIZE: usize = 100;
const ID_PREFIX: &str = "person_";
const ID_DIGITS: usize = 12;

/// A validated contact, ready to be applied.
#[derive(Debug)]
pub struct ContactInput {
    pub(super) email: String,
    pub(super) fields: BTreeMap<String, Value>,
    pub(super) custom: BTreeMap<String, Value>,
    pub(super) list: Option<String>,
    pub(super) consent_fields: u64,
}

/// A contact's id: its position plus one, in twelve digits at least.
pub fn contact_id(at: usize) -> String {
    format!("{ID_PREFIX}{:0width$}", at + 1, width = ID_DIGITS)
}

/// The position a contact id stands for, whether or not there is such a contact; `None` for
/// anything not written as [`contact_id`] writes it.
pub(super) fn position_of_id(id: &str) -> Option<usize> {
    let digits = id.strip_prefix(ID_PREFIX)?;
    if digits.len() < ID_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: usize = digits.parse().ok()?;
    let at = number.checked_sub(1)?;
    (contact_id(at) == id).then_some(at)
}

impl Store {
    /// Upserts a validated contact by case-insensitive email; returns its id.
    pub fn apply(&mut self, input: ContactInput) -> String {
        self.consent_fields_received += input.consent_fields;
        let (at, _) = self.upsert_position(&input.email);
        self.count_write(at);
        self.write_fields(
            at,
            [(Kind::Standard, input.fields), (Kind::Custom, input.custom)],
        );
        if let Some(list) = input.list.and_then(|l| self.lists.get_mut(&l)) {
            list.members.insert(at);
        }
        contact_id(at)
    }

    /// A contact as Autopilot shows it.
    pub fn contact_json(&self, at: usize) -> Option<Value> {
        let email = self.email(at)?;
        let (standard, custom) = self.fields(at);
        let mut obj = Map::new();
        obj.insert("contact_id".into(), json!(contact_id(at)));
        obj.insert("Email".into(), json!(email));
        obj.extend(standard);
        if !custom.is_empty() {
            obj.insert("custom".into(), json!(custom));
        }
        if self.flag(at, Flag::Unsubscribed) {
            obj.insert("unsubscribed".into(), json!(true));
        }
        Some(Value::Object(obj))
    }

    /// One page of a list's members after `bookmark`, and the bookmark of the next page.
    pub fn page(&self, list: &ListRecord, bookmark: Option<&str>) -> (Vec<Value>, Option<String>) {
        let after: Box<dyn Iterator<Item = &usize>> = match bookmark {
            None => Box::new(list.members.iter()),
            Some(b) => match position_of_id(b) {
                Some(at) => Box::new(list.members.range((Bound::Excluded(at), Bound::Unbounded))),
                // Not an id: the members whose ids sort after it, as text.
                None => Box::new(
                    list.members
                        .iter()
                        .skip_while(move |&&at| *contact_id(at) <= *b),
                ),
            },
        };
        let positions: Vec<usize> = after.take(PAGE_SIZE + 1).copied().collect();
        let more = positions.len() > PAGE_SIZE;
        let page: Vec<Value> = positions
            .iter()
            .take(PAGE_SIZE)
            .filter_map(|&at| self.contact_json(at))
            .collect();
        let next = more.then(|| contact_id(positions[PAGE_SIZE - 1]));
        (page, next)
    }

    pub fn custom_fields(&self) -> Vec<Value> {
        let names: BTreeSet<&str> = self.names.custom().collect();
        names
            .into_iter()
            .filter_map(|k| {
                let (kind, name) = k.split_once("--")?;
                Some(json!({"name": name.replace("--", " "), "fieldType": kind}))
            })
            .collect()
    }
}
