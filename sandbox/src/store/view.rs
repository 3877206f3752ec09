//! The whole store as `/admin/state` and [`Store::snapshot`] show it, for either API: every
//! contact as its API shows it ([`Store::contact_state`]), every group (Autopilot's lists, Ortto's
//! tags) with its members' addresses, and Ortto's suppressed addresses. [`StateView`] writes the
//! JSON of a [`StateSnapshot`] one contact at a time from the store, so the answer for a million
//! contacts costs its text and not a `serde_json::Value` per contact besides.

use super::{ListRecord, Store};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::Value;

/// The sandbox's data as the admin endpoint shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StateSnapshot {
    /// Autopilot: contacts as `GET /v1/contact/{id}` shows them. Ortto: people, as
    /// `{"id", "email", "bol::p", "tags": [names], "fields": {id: value}}`.
    pub contacts: Vec<Value>,
    /// Autopilot's lists, or Ortto's tags (`list_id` the tag's id, `title` its name).
    pub lists: Vec<ListSnapshot>,
    /// Ortto: the suppressed addresses (lower case), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ListSnapshot {
    pub list_id: String,
    pub title: String,
    /// Member emails as they were first written.
    pub members: Vec<String>,
}

impl StateSnapshot {
    /// The list (Ortto: tag) with this title, if any.
    pub fn list(&self, title: &str) -> Option<&ListSnapshot> {
        self.lists.iter().find(|l| l.title == title)
    }
}

impl Store {
    /// Everything, to serialize as [`Store::snapshot`] is, without the copy.
    pub fn view(&self) -> StateView<'_> {
        StateView(self)
    }

    /// Everything, for in-process checks.
    pub fn snapshot(&self) -> StateSnapshot {
        StateSnapshot {
            contacts: self
                .positions()
                .filter_map(|at| self.contact_state(at))
                .collect(),
            lists: self
                .lists
                .iter()
                .map(|(id, l)| ListSnapshot {
                    list_id: id.clone(),
                    title: l.title.clone(),
                    members: members(self, l).map(str::to_string).collect(),
                })
                .collect(),
            suppressed: self.ortto.suppressed().map(str::to_string).collect(),
        }
    }
}

fn members<'a>(store: &'a Store, list: &'a ListRecord) -> impl Iterator<Item = &'a str> {
    list.members.iter().filter_map(|&at| store.email(at))
}

/// The whole store, serialized as its snapshot is.
pub struct StateView<'a>(&'a Store);

impl Serialize for StateView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        let suppressed = store.ortto.suppressed().next().is_some();
        let mut state =
            serializer.serialize_struct("StateSnapshot", 2 + usize::from(suppressed))?;
        state.serialize_field("contacts", &Contacts(store))?;
        state.serialize_field("lists", &Lists(store))?;
        if suppressed {
            state.serialize_field("suppressed", &Suppressed(store))?;
        }
        state.end()
    }
}

struct Contacts<'a>(&'a Store);

impl Serialize for Contacts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        serializer.collect_seq(store.positions().filter_map(|at| store.contact_state(at)))
    }
}

struct Lists<'a>(&'a Store);

impl Serialize for Lists<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        serializer.collect_seq(
            store
                .lists
                .iter()
                .map(|(id, list)| List { store, id, list }),
        )
    }
}

struct List<'a> {
    store: &'a Store,
    id: &'a str,
    list: &'a ListRecord,
}

impl Serialize for List<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut list = serializer.serialize_struct("ListSnapshot", 3)?;
        list.serialize_field("list_id", self.id)?;
        list.serialize_field("title", &self.list.title)?;
        list.serialize_field("members", &Members(self))?;
        list.end()
    }
}

struct Members<'a>(&'a List<'a>);

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let List { store, list, .. } = self.0;
        serializer.collect_seq(members(store, list))
    }
}

struct Suppressed<'a>(&'a Store);

impl Serialize for Suppressed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.ortto.suppressed())
    }
}

#[cfg(test)]
mod tests {
    use super::super::contact_id;
    use super::*;
    use serde_json::json;

    #[test]
    fn the_view_writes_what_the_snapshot_holds() {
        let mut store = Store::default();
        let empty = serde_json::to_value(StateView(&store)).unwrap();
        assert_eq!(empty, json!({"contacts": [], "lists": []}));
        let vip = store.create_list("VIP");
        store.create_list("Empty");
        for (i, email) in ["Ann@x.io", "bob@x.io", "cy@x.io"].iter().enumerate() {
            let contact = json!({"Email": email, "FirstName": format!("N{i}"),
                                 "custom": {"integer--Age": i}, "_autopilot_list": vip});
            let input = store.validate(&contact).unwrap();
            store.apply(input);
        }
        store.set_unsubscribed("bob@x.io", true);
        store.remove_member(&vip, contact_id(2).as_str());
        let view = serde_json::to_value(StateView(&store)).unwrap();
        assert_eq!(view, serde_json::to_value(store.snapshot()).unwrap());
        assert_eq!(view["lists"][0]["members"], json!(["Ann@x.io", "bob@x.io"]));
        assert_eq!(
            view["lists"][1],
            json!({"list_id": "contactlist_00000002", "title": "Empty", "members": []})
        );
        assert_eq!(view["contacts"][1]["unsubscribed"], true);
    }
}
