//! One person of a merge, checked ([`PersonInput::parse`]), and a stored person as Ortto shows
//! it: its fields by id for `/v1/person/get` ([`field_value`]) and the whole person for
//! `/admin/state` ([`person_state`]).
//!
//! A person is `{"fields": {id: value}, "tags": [...], "unset_tags": [...], "clear_fields":
//! {id: true}, "location": {...}}`; other keys are ignored. `str::email` is required (the sandbox
//! merges by address) and must be an address whose domain accepts mail: like the Autopilot mode,
//! the sandbox refuses the reserved `.invalid` domain, so the refused-person path is exercised.
//! Tag names are 1 to 255 characters.

use super::rules::{self, CONSENT, READ_ONLY};
use super::schema::Schema;
use super::{person_id, tag_number};
use crate::store::{Flag, Store};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A person of a merge, checked; not yet applied.
#[derive(Debug, Default)]
pub(super) struct PersonInput {
    pub email: String,
    /// Fields to store by id (`null` clears), consent and the address left out.
    pub fields: BTreeMap<String, Value>,
    /// `clear_fields`, by id.
    pub clear: Vec<String>,
    pub tags: Vec<String>,
    pub unset_tags: Vec<String>,
    /// `bol::p` and `bol::sp`, if sent.
    pub permission: Option<bool>,
    pub sms: Option<bool>,
}

/// The consent fields, and the field values `null` or `""`, a person of a merge carries, whatever
/// becomes of it.
pub(super) fn received(person: &Value) -> (u64, u64) {
    let Some(fields) = person.get("fields").and_then(Value::as_object) else {
        return (0, 0);
    };
    let consent = fields.keys().filter(|id| CONSENT.contains(&id.as_str()));
    let empty = fields
        .values()
        .filter(|v| v.is_null() || v.as_str() == Some(""));
    (consent.count() as u64, empty.count() as u64)
}

fn tag_names(person: &Value, key: &str) -> Result<Vec<String>, String> {
    let Some(value) = person.get(key) else {
        return Ok(Vec::new());
    };
    let names = value.as_array().and_then(|items| {
        items
            .iter()
            .map(|t| {
                t.as_str()
                    .filter(|t| (1..=255).contains(&t.chars().count()))
                    .map(str::to_string)
            })
            .collect::<Option<Vec<String>>>()
    });
    names.ok_or_else(|| format!("{key} must be an array of tag names of 1 to 255 characters"))
}

impl PersonInput {
    /// Checks one person against the account's schema; the refusal is Ortto-like and never
    /// quotes the address.
    pub fn parse(schema: &Schema, person: &Value) -> Result<PersonInput, String> {
        let fields = person
            .get("fields")
            .and_then(Value::as_object)
            .ok_or("A person needs \"fields\": an object of field ids and values")?;
        let email = fields
            .get("str::email")
            .and_then(Value::as_str)
            .ok_or("str::email is required: the sandbox merges people by str::email")?;
        if !crate::store::valid_email(email) {
            return Err("failed to validate field str::email: not a valid email address".into());
        }
        if email.to_ascii_lowercase().ends_with(".invalid") {
            return Err("Email domain does not accept mail".into());
        }
        let mut input = PersonInput {
            email: email.to_string(),
            tags: tag_names(person, "tags")?,
            unset_tags: tag_names(person, "unset_tags")?,
            ..PersonInput::default()
        };
        for (id, value) in fields {
            input.field(schema, id, value)?;
        }
        if let Some(clear) = person.get("clear_fields") {
            let clear = clear
                .as_object()
                .ok_or("clear_fields must be an object of field ids and true")?;
            for (id, on) in clear {
                rules::kind_of(schema, id)?;
                if on.as_bool() == Some(true) {
                    input.clear.push(id.clone());
                }
            }
        }
        Ok(input)
    }

    /// Takes one field of the person's `fields`.
    fn field(&mut self, schema: &Schema, id: &str, value: &Value) -> Result<(), String> {
        let kind = rules::kind_of(schema, id)?;
        rules::check_value(id, kind, value)?;
        match id {
            "str::email" => {}
            id if READ_ONLY.contains(&id) => return Err(format!("{id} is read-only")),
            "bol::p" => self.permission = value.as_bool(),
            "bol::sp" => self.sms = value.as_bool(),
            // Context messages word the activity a permission change logs; nothing is stored.
            id if id.ends_with("-ctx") => {}
            id => {
                self.fields.insert(id.to_string(), value.clone());
            }
        }
        Ok(())
    }
}

/// The person's value of the field `id`, as `/v1/person/get` shows it; `None` when it has none.
/// `tags` are the person's tag names, `u4s::t` their ids.
pub(super) fn field_value(
    store: &Store,
    at: usize,
    id: &str,
    stored: &Map<String, Value>,
) -> Option<Value> {
    match id {
        "str::email" => store.email(at).map(|e| json!(e)),
        "str::person_id" => Some(json!(person_id(at))),
        "bol::p" => Some(json!(!store.flag(at, Flag::Unsubscribed))),
        "bol::sp" => Some(json!(store.flag(at, Flag::SmsOptedIn))),
        "tags" => {
            let names: Vec<&str> = store.titles_of(at).collect();
            (!names.is_empty()).then(|| json!(names))
        }
        "u4s::t" => {
            let ids: Vec<Value> = store
                .lists()
                .iter()
                .filter(|(_, l)| l.members.contains(&at))
                .map(|(id, _)| tag_number(id))
                .collect();
            (!ids.is_empty()).then(|| json!(ids))
        }
        id => stored.get(id).cloned(),
    }
}

/// A person as `/admin/state` shows it: `{"id", "email", "bol::p", "tags": [names], "fields":
/// {id: value}}`, `bol::sp` among the fields when true.
pub(crate) fn person_state(store: &Store, at: usize) -> Option<Value> {
    let email = store.email(at)?;
    let mut fields: Map<String, Value> = store.fields(at).0.into_iter().collect();
    if store.flag(at, Flag::SmsOptedIn) {
        fields.insert("bol::sp".into(), json!(true));
    }
    let tags: Vec<&str> = store.titles_of(at).collect();
    Some(json!({
        "id": person_id(at),
        "email": email,
        "bol::p": !store.flag(at, Flag::Unsubscribed),
        "tags": tags,
        "fields": fields,
    }))
}
