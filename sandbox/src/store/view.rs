//! The state as `/admin/state` writes it: the JSON of a [`StateSnapshot`](super::StateSnapshot),
//! written one contact at a time from the store, so the answer for a million contacts costs its
//! text and not a `serde_json::Value` per contact besides.

use super::{ListRecord, Store};
use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The whole store, serialized as its snapshot is.
pub struct StateView<'a>(pub(super) &'a Store);

impl Serialize for StateView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        let mut state = serializer.serialize_struct("StateSnapshot", 2)?;
        state.serialize_field("contacts", &Contacts(store))?;
        state.serialize_field("lists", &Lists(store))?;
        state.end()
    }
}

struct Contacts<'a>(&'a Store);

impl Serialize for Contacts<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let store = self.0;
        serializer.collect_seq((0..store.contacts.len()).filter_map(|at| store.contact_json(at)))
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
        let emails = list
            .members
            .iter()
            .filter_map(|&at| store.contacts.get(at))
            .map(|contact| contact.packed.email());
        serializer.collect_seq(emails)
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
