//! The sandbox's accounts data: contacts, lists and members, with Autopilot's validation rules
//! (`rules`). A contact is its address and its fields in one compact byte string (`fields`),
//! found by address through a table of positions (`index`); its id is its position, written
//! `person_` and twelve digits, and a list holds positions. A million of the demo's contacts take
//! about 150 MB.

mod fields;
mod index;
mod rules;
#[cfg(test)]
mod tests;
mod view;

pub use rules::{CONSENT_FIELDS, STANDARD_FIELDS};
pub use view::StateView;

use fields::{FieldNames, Kind, Packed};
use index::EmailIndex;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

/// Members per page of `GET /list/{id}/contacts`.
pub const PAGE_SIZE: usize = 100;
const ID_PREFIX: &str = "person_";
const ID_DIGITS: usize = 12;

/// One contact, as compact as the module doc says.
#[derive(Debug)]
struct Contact {
    /// The address as first written, and the fields.
    packed: Packed,
    /// Upserts it received, so tests can tell repeats from first writes.
    writes: u32,
    /// Set only by hand (the admin routes): an upsert never changes it, as in Autopilot, where
    /// consent belongs to the contact.
    unsubscribed: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListRecord {
    pub title: String,
    /// Positions of the contacts (their ids in number order), so pages and bookmarks are stable.
    pub members: BTreeSet<usize>,
}

/// A validated contact, ready to be applied.
#[derive(Debug)]
pub struct ContactInput {
    email: String,
    fields: BTreeMap<String, Value>,
    custom: BTreeMap<String, Value>,
    list: Option<String>,
    consent_fields: u64,
}

#[derive(Debug, Default)]
pub struct Store {
    contacts: Vec<Contact>,
    by_email: EmailIndex,
    names: FieldNames,
    lists: BTreeMap<String, ListRecord>,
    next_list: u64,
    pub consent_fields_received: u64,
    pub contacts_written: u64,
    /// The most upserts any one contact received.
    pub max_writes_per_contact: u64,
}

/// A contact's id: its position plus one, in twelve digits at least.
pub fn contact_id(at: usize) -> String {
    format!("{ID_PREFIX}{:0width$}", at + 1, width = ID_DIGITS)
}

/// The position a contact id stands for, whether or not there is such a contact; `None` for
/// anything not written as [`contact_id`] writes it.
fn position_of_id(id: &str) -> Option<usize> {
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
        self.contacts_written += 1;
        let at = match self.position_of_email(&input.email) {
            Some(at) => at,
            None => self.add_contact(&input.email),
        };
        let contact = &mut self.contacts[at];
        contact.writes = contact.writes.saturating_add(1);
        self.max_writes_per_contact = self.max_writes_per_contact.max(contact.writes.into());
        let updates = [(Kind::Standard, input.fields), (Kind::Custom, input.custom)];
        contact.packed = contact.packed.merged(&mut self.names, updates);
        if let Some(list) = input.list.and_then(|l| self.lists.get_mut(&l)) {
            list.members.insert(at);
        }
        contact_id(at)
    }

    fn add_contact(&mut self, email: &str) -> usize {
        let at = self.contacts.len();
        self.contacts.push(Contact {
            packed: Packed::new(email),
            writes: 0,
            unsubscribed: false,
        });
        let contacts = &self.contacts;
        self.by_email.insert(contacts[at].packed.email(), at, |i| {
            contacts[i].packed.email()
        });
        at
    }

    fn position_of_email(&self, email: &str) -> Option<usize> {
        let contacts = &self.contacts;
        self.by_email.find(email, |i| contacts[i].packed.email())
    }

    /// How many distinct contacts upserts have written: all of them, as only an upsert (or a
    /// member added by hand, which is one) makes a contact.
    pub fn distinct_contacts_written(&self) -> u64 {
        self.contacts.len() as u64
    }

    /// The position of a contact, by email (any case) or contact id.
    pub fn find(&self, email_or_id: &str) -> Option<usize> {
        match position_of_id(email_or_id) {
            Some(at) if at < self.contacts.len() => Some(at),
            _ => self.position_of_email(email_or_id),
        }
    }

    /// A contact as Autopilot shows it.
    pub fn contact_json(&self, at: usize) -> Option<Value> {
        let contact = self.contacts.get(at)?;
        let (standard, custom) = contact.packed.decode(&self.names);
        let mut obj = Map::new();
        obj.insert("contact_id".into(), json!(contact_id(at)));
        obj.insert("Email".into(), json!(contact.packed.email()));
        obj.extend(standard);
        if !custom.is_empty() {
            obj.insert("custom".into(), json!(custom));
        }
        if contact.unsubscribed {
            obj.insert("unsubscribed".into(), json!(true));
        }
        Some(Value::Object(obj))
    }

    pub fn create_list(&mut self, title: &str) -> String {
        if let Some((id, _)) = self.lists.iter().find(|(_, l)| l.title == title) {
            return id.clone();
        }
        self.next_list += 1;
        let id = format!("contactlist_{:08}", self.next_list);
        self.lists.insert(
            id.clone(),
            ListRecord {
                title: title.to_string(),
                members: BTreeSet::new(),
            },
        );
        id
    }

    pub fn lists(&self) -> &BTreeMap<String, ListRecord> {
        &self.lists
    }

    pub fn list_mut(&mut self, id: &str) -> Option<&mut ListRecord> {
        self.lists.get_mut(id)
    }

    /// Marks a contact (by email or id) unsubscribed or not, as the contact would by following an
    /// unsubscribe link; whether there is such a contact.
    pub fn set_unsubscribed(&mut self, email_or_id: &str, unsubscribed: bool) -> bool {
        match self.find(email_or_id) {
            Some(at) => {
                self.contacts[at].unsubscribed = unsubscribed;
                true
            }
            None => false,
        }
    }

    /// Takes a contact (by email or id) off a list, as a person would by hand; whether it was on it.
    pub fn remove_member(&mut self, list_id: &str, email_or_id: &str) -> bool {
        let Some(at) = self.find(email_or_id) else {
            return false;
        };
        self.lists
            .get_mut(list_id)
            .is_some_and(|list| list.members.remove(&at))
    }

    /// Deletes a list (its contacts stay); whether there was one.
    pub fn delete_list(&mut self, list_id: &str) -> bool {
        self.lists.remove(list_id).is_some()
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

    /// Calls `visit` with the address (as first written) of every member of the first list titled
    /// `title`, in id order; whether there is such a list. Nothing is copied, so a list of a
    /// million members can be checked in place.
    pub fn for_each_member(&self, title: &str, mut visit: impl FnMut(&str)) -> bool {
        let Some(list) = self.lists.values().find(|l| l.title == title) else {
            return false;
        };
        for contact in list.members.iter().filter_map(|&at| self.contacts.get(at)) {
            visit(contact.packed.email());
        }
        true
    }

    /// Everything, to serialize as [`Store::snapshot`] is, without the copy.
    pub fn view(&self) -> StateView<'_> {
        StateView(self)
    }

    /// Everything, for in-process checks.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            contacts: (0..self.contacts.len())
                .filter_map(|at| self.contact_json(at))
                .collect(),
            lists: self
                .lists
                .iter()
                .map(|(id, l)| ListSnapshot {
                    list_id: id.clone(),
                    title: l.title.clone(),
                    members: l
                        .members
                        .iter()
                        .filter_map(|&at| self.contacts.get(at))
                        .map(|c| c.packed.email().to_string())
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The sandbox's data as the admin endpoint shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct StateSnapshot {
    pub contacts: Vec<Value>,
    pub lists: Vec<ListSnapshot>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ListSnapshot {
    pub list_id: String,
    pub title: String,
    /// Member emails as they were first written.
    pub members: Vec<String>,
}

impl StateSnapshot {
    /// The list with this title, if any.
    pub fn list(&self, title: &str) -> Option<&ListSnapshot> {
        self.lists.iter().find(|l| l.title == title)
    }
}
