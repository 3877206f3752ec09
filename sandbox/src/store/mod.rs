//! The sandbox's account data, shared by both APIs: contacts (Ortto: people) and groups of them
//! (Autopilot: lists; Ortto: tags), plus Ortto's schema (`ortto`: custom fields, suppressed
//! addresses). A contact is its address and its fields in one compact byte string (`fields`),
//! found by address, any case, through a table of positions (`index`); its position is its id
//! (each API writes it its own way), and a group holds positions. A million of the demo's
//! contacts take about 150 MB. Deleting a contact (Ortto, by hand) leaves its position empty, so
//! ids never move. Autopilot's rules and shapes are in `autopilot` and `rules`; what both
//! APIs show of the whole store is in `view`.

mod autopilot;
mod fields;
mod index;
mod rules;
#[cfg(test)]
mod tests;
mod view;

pub use autopilot::{contact_id, ContactInput};
pub(crate) use fields::{Decoded, Kind};
pub(crate) use rules::valid_email;
pub use rules::{CONSENT_FIELDS, STANDARD_FIELDS};
pub use view::{ListSnapshot, StateSnapshot, StateView};

use fields::{FieldNames, Packed};
use index::EmailIndex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One contact, as compact as the module doc says.
#[derive(Debug)]
struct Contact {
    /// The address as first written, and the fields.
    packed: Packed,
    /// Upserts it received, so tests can tell repeats from first writes.
    writes: u32,
    /// [`Flag`]s, one bit each.
    flags: u8,
}

/// A yes/no state of a contact, kept beside its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Flag {
    /// Autopilot: unsubscribed by hand. Ortto: `bol::p` false.
    Unsubscribed = 1,
    /// Ortto: `bol::sp` true.
    SmsOptedIn = 2,
    /// Deleted by hand: its position stays, empty, so ids never move.
    Deleted = 4,
}

/// How a store writes its ids: of contacts, and of groups.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ids {
    /// Contacts `person_000000000001`, lists `contactlist_00000001`.
    #[default]
    Autopilot,
    /// People as 24 hexadecimal digits (`000000000000000000000001`), tags `1`, `2`, … (numbers
    /// in Ortto's answers).
    Ortto,
}

impl Ids {
    /// The id of the contact at `at`.
    pub fn contact_id(self, at: usize) -> String {
        match self {
            Self::Autopilot => contact_id(at),
            Self::Ortto => crate::ortto::person_id(at),
        }
    }

    /// The position a contact id stands for, whether or not there is such a contact; `None` for
    /// anything not written as [`Ids::contact_id`] writes it.
    pub fn position_of_id(self, id: &str) -> Option<usize> {
        match self {
            Self::Autopilot => autopilot::position_of_id(id),
            Self::Ortto => crate::ortto::position_of_person_id(id),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListRecord {
    pub title: String,
    /// Positions of the contacts (their ids in number order), so pages and bookmarks are stable.
    pub members: BTreeSet<usize>,
}

#[derive(Debug, Default)]
pub struct Store {
    contacts: Vec<Contact>,
    by_email: EmailIndex,
    names: FieldNames,
    lists: BTreeMap<String, ListRecord>,
    ids: Ids,
    next_list: u64,
    /// Live contacts that are [`Flag::Unsubscribed`], and deleted positions.
    unsubscribed: usize,
    deleted: usize,
    /// Ortto's custom fields and suppressed addresses (empty for Autopilot).
    pub(crate) ortto: crate::ortto::Schema,
    pub consent_fields_received: u64,
    pub contacts_written: u64,
    /// The most upserts any one contact received.
    pub max_writes_per_contact: u64,
    /// Ortto: field values received as `null` or `""`.
    pub empty_values_received: u64,
}

impl Store {
    /// An empty store whose ids are written the way `ids` says.
    pub fn new(ids: Ids) -> Self {
        Self {
            ids,
            ..Self::default()
        }
    }

    pub fn ids(&self) -> Ids {
        self.ids
    }

    /// The position of a live contact, by address (any case) or id.
    pub fn find(&self, email_or_id: &str) -> Option<usize> {
        match self.ids.position_of_id(email_or_id) {
            Some(at) if self.is_live(at) => Some(at),
            _ => self.position_of_email(email_or_id),
        }
    }

    /// The position of the live contact with this address (any case).
    pub fn position_of_email(&self, email: &str) -> Option<usize> {
        let contacts = &self.contacts;
        self.by_email.find(email, |i| contacts[i].packed.email())
    }

    /// The position of the live contact with this address, a new contact if there is none; and
    /// whether it is new.
    pub fn upsert_position(&mut self, email: &str) -> (usize, bool) {
        if let Some(at) = self.position_of_email(email) {
            return (at, false);
        }
        let at = self.contacts.len();
        self.contacts.push(Contact {
            packed: Packed::new(email),
            writes: 0,
            flags: 0,
        });
        let contacts = &self.contacts;
        self.by_email.insert(contacts[at].packed.email(), at, |i| {
            contacts[i].packed.email()
        });
        (at, true)
    }

    /// Counts one write to the contact at `at`.
    pub fn count_write(&mut self, at: usize) {
        self.contacts_written += 1;
        if let Some(contact) = self.contacts.get_mut(at) {
            contact.writes = contact.writes.saturating_add(1);
            self.max_writes_per_contact = self.max_writes_per_contact.max(contact.writes.into());
        }
    }

    /// Writes fields over the contact's: a value replaces the field's, `null` removes it, a field
    /// left out keeps its value.
    pub(crate) fn write_fields(
        &mut self,
        at: usize,
        updates: [(Kind, BTreeMap<String, Value>); 2],
    ) {
        if let Some(contact) = self.contacts.get_mut(at) {
            contact.packed = contact.packed.merged(&mut self.names, updates);
        }
    }

    /// The contact's fields, each kind by name.
    pub(crate) fn fields(&self, at: usize) -> Decoded {
        match self.live(at) {
            Some(contact) => contact.packed.decode(&self.names),
            None => Decoded::default(),
        }
    }

    fn live(&self, at: usize) -> Option<&Contact> {
        self.contacts
            .get(at)
            .filter(|c| c.flags & Flag::Deleted as u8 == 0)
    }

    /// Whether a contact is at `at` (and not deleted).
    pub fn is_live(&self, at: usize) -> bool {
        self.live(at).is_some()
    }

    /// The address of the live contact at `at`, as first written.
    pub fn email(&self, at: usize) -> Option<&str> {
        self.live(at).map(|c| c.packed.email())
    }

    pub fn flag(&self, at: usize, flag: Flag) -> bool {
        self.live(at).is_some_and(|c| c.flags & flag as u8 != 0)
    }

    /// Sets or clears a flag of a live contact (never [`Flag::Deleted`]: see [`Store::delete`]).
    pub fn set_flag(&mut self, at: usize, flag: Flag, on: bool) {
        if flag == Flag::Deleted || !self.is_live(at) {
            return;
        }
        let contact = &mut self.contacts[at];
        let was = contact.flags & flag as u8 != 0;
        if on {
            contact.flags |= flag as u8;
        } else {
            contact.flags &= !(flag as u8);
        }
        if flag == Flag::Unsubscribed && was != on {
            if on {
                self.unsubscribed += 1;
            } else {
                self.unsubscribed -= 1;
            }
        }
    }

    /// Deletes a contact: its fields and group memberships go, its position stays empty; a later
    /// write of the same address makes a new contact. Whether there was one.
    pub fn delete(&mut self, at: usize) -> bool {
        if !self.is_live(at) {
            return false;
        }
        self.set_flag(at, Flag::Unsubscribed, false);
        for list in self.lists.values_mut() {
            list.members.remove(&at);
        }
        self.by_email.remove(self.contacts[at].packed.email(), at);
        let contact = &mut self.contacts[at];
        contact.packed = Packed::new("");
        contact.flags = Flag::Deleted as u8;
        self.deleted += 1;
        true
    }

    /// Marks a contact (by address or id) unsubscribed or not, as the contact would by following
    /// an unsubscribe link; whether there is such a contact.
    pub fn set_unsubscribed(&mut self, email_or_id: &str, unsubscribed: bool) -> bool {
        match self.find(email_or_id) {
            Some(at) => {
                self.set_flag(at, Flag::Unsubscribed, unsubscribed);
                true
            }
            None => false,
        }
    }

    /// Takes a contact (by address or id) off a group, as a person would by hand; whether it was
    /// on it.
    pub fn remove_member(&mut self, list_id: &str, email_or_id: &str) -> bool {
        let Some(at) = self.find(email_or_id) else {
            return false;
        };
        self.lists
            .get_mut(list_id)
            .is_some_and(|list| list.members.remove(&at))
    }

    /// A contact as `/admin/state` shows it: Autopilot's contact or Ortto's person.
    pub fn contact_state(&self, at: usize) -> Option<Value> {
        match self.ids {
            Ids::Autopilot => self.contact_json(at),
            Ids::Ortto => crate::ortto::person_state(self, at),
        }
    }

    /// Live contacts.
    pub fn live_count(&self) -> usize {
        self.contacts.len() - self.deleted
    }

    /// Live contacts not [`Flag::Unsubscribed`].
    pub fn subscribed_count(&self) -> usize {
        self.live_count() - self.unsubscribed
    }

    /// How many distinct contacts upserts have written: all of them, as only an upsert (or a
    /// member added by hand, which is one) makes a contact (deleted ones included).
    pub fn distinct_contacts_written(&self) -> u64 {
        self.contacts.len() as u64
    }

    /// Every position ever given, deleted ones included.
    pub fn positions(&self) -> std::ops::Range<usize> {
        0..self.contacts.len()
    }

    /// A group by title, made (with a new id) if there is none; its id.
    pub fn create_list(&mut self, title: &str) -> String {
        if let Some(id) = self.list_id(title) {
            return id.to_string();
        }
        self.next_list += 1;
        let id = match self.ids {
            Ids::Autopilot => format!("contactlist_{:08}", self.next_list),
            Ids::Ortto => self.next_list.to_string(),
        };
        self.lists.insert(
            id.clone(),
            ListRecord {
                title: title.to_string(),
                members: BTreeSet::new(),
            },
        );
        id
    }

    /// The id of the first group titled `title`.
    pub fn list_id(&self, title: &str) -> Option<&str> {
        self.lists
            .iter()
            .find(|(_, l)| l.title == title)
            .map(|(id, _)| id.as_str())
    }

    pub fn lists(&self) -> &BTreeMap<String, ListRecord> {
        &self.lists
    }

    pub fn list_mut(&mut self, id: &str) -> Option<&mut ListRecord> {
        self.lists.get_mut(id)
    }

    /// The titles of the groups the contact at `at` is in, in id order.
    pub fn titles_of(&self, at: usize) -> impl Iterator<Item = &str> {
        self.lists
            .values()
            .filter(move |l| l.members.contains(&at))
            .map(|l| l.title.as_str())
    }

    /// Deletes a group (its contacts stay); whether there was one.
    pub fn delete_list(&mut self, list_id: &str) -> bool {
        self.lists.remove(list_id).is_some()
    }

    /// Calls `visit` with the address (as first written) of every member of the first group
    /// titled `title`, in id order; whether there is such a group. Nothing is copied, so a group
    /// of a million members can be checked in place.
    pub fn for_each_member(&self, title: &str, mut visit: impl FnMut(&str)) -> bool {
        let Some(list) = self.lists.values().find(|l| l.title == title) else {
            return false;
        };
        for at in &list.members {
            if let Some(email) = self.email(*at) {
                visit(email);
            }
        }
        true
    }
}
