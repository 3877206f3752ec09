//! The sandbox's accounts data: contacts, lists and members, with Autopilot's validation rules.

use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Standard contact fields Autopilot knows.
pub const STANDARD_FIELDS: [&str; 19] = [
    "Email",
    "FirstName",
    "LastName",
    "Company",
    "Phone",
    "MobilePhone",
    "Title",
    "Salutation",
    "Website",
    "Industry",
    "LeadSource",
    "Status",
    "Twitter",
    "NumberOfEmployees",
    "MailingStreet",
    "MailingCity",
    "MailingState",
    "MailingPostalCode",
    "MailingCountry",
];
/// Fields Autopilot takes but a well-behaved connector never sends; counted, so tests can check.
pub const CONSENT_FIELDS: [&str; 2] = ["unsubscribed", "_NewEmail"];
const CUSTOM_TYPES: [&str; 5] = ["string", "integer", "float", "boolean", "date"];
/// Members per page of `GET /list/{id}/contacts`.
pub const PAGE_SIZE: usize = 100;

#[derive(Debug, Clone, Serialize)]
pub struct ContactRecord {
    pub contact_id: String,
    pub email: String,
    pub fields: BTreeMap<String, Value>,
    pub custom: BTreeMap<String, Value>,
    /// Set only by hand (the admin routes): an upsert never changes it, as in Autopilot, where
    /// consent belongs to the contact.
    pub unsubscribed: bool,
}

impl ContactRecord {
    pub fn to_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("contact_id".into(), json!(self.contact_id));
        obj.insert("Email".into(), json!(self.email));
        for (k, v) in &self.fields {
            obj.insert(k.clone(), v.clone());
        }
        if !self.custom.is_empty() {
            obj.insert("custom".into(), json!(self.custom));
        }
        if self.unsubscribed {
            obj.insert("unsubscribed".into(), json!(true));
        }
        Value::Object(obj)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListRecord {
    pub title: String,
    /// Contact ids, ordered, so pages and bookmarks are stable.
    pub members: BTreeSet<String>,
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
    contacts: HashMap<String, ContactRecord>,
    by_id: HashMap<String, String>,
    lists: BTreeMap<String, ListRecord>,
    next_contact: u64,
    next_list: u64,
    pub consent_fields_received: u64,
    pub contacts_written: u64,
    /// Upserts per contact (by lower-case email), so tests can tell repeats from first writes.
    writes_per_contact: HashMap<String, u64>,
    /// The most upserts any one contact received.
    pub max_writes_per_contact: u64,
}

impl Store {
    /// Checks one contact object as Autopilot would; the message is Autopilot-like and never
    /// quotes the email address.
    pub fn validate(&self, value: &Value) -> Result<ContactInput, String> {
        let obj = value.as_object().ok_or("A contact must be a JSON object")?;
        let email = obj
            .get("Email")
            .and_then(Value::as_str)
            .ok_or("The contact has no Email")?;
        if !valid_email(email) {
            return Err("The contact's Email is not a valid email address".into());
        }
        if email.to_ascii_lowercase().ends_with(".invalid") {
            return Err("The contact's Email domain does not accept mail".into());
        }
        let mut input = ContactInput {
            email: email.to_string(),
            fields: BTreeMap::new(),
            custom: BTreeMap::new(),
            list: None,
            consent_fields: 0,
        };
        for (key, val) in obj {
            match key.as_str() {
                "Email" => {}
                "custom" => {
                    let custom = val.as_object().ok_or("custom must be a JSON object")?;
                    for (ck, cv) in custom {
                        check_custom(ck, cv)?;
                        input.custom.insert(ck.clone(), cv.clone());
                    }
                }
                "_autopilot_list" => {
                    let list = val.as_str().ok_or("_autopilot_list must be a string")?;
                    if !self.lists.contains_key(list) {
                        return Err(format!("List {list} does not exist"));
                    }
                    input.list = Some(list.to_string());
                }
                k if CONSENT_FIELDS.contains(&k) => input.consent_fields += 1,
                k if STANDARD_FIELDS.contains(&k) => {
                    if !(val.is_string() || val.is_number()) {
                        return Err(format!("Field {k} must be a string"));
                    }
                    input.fields.insert(k.to_string(), val.clone());
                }
                k => return Err(format!("Unknown contact field {k}")),
            }
        }
        Ok(input)
    }

    /// Upserts a validated contact by case-insensitive email; returns its id.
    pub fn apply(&mut self, input: ContactInput) -> String {
        self.consent_fields_received += input.consent_fields;
        self.contacts_written += 1;
        let key = input.email.to_lowercase();
        let writes = self.writes_per_contact.entry(key.clone()).or_default();
        *writes += 1;
        self.max_writes_per_contact = self.max_writes_per_contact.max(*writes);
        let record = match self.contacts.get_mut(&key) {
            Some(record) => record,
            None => {
                self.next_contact += 1;
                let id = format!("person_{:012}", self.next_contact);
                self.by_id.insert(id.clone(), key.clone());
                self.contacts.entry(key).or_insert(ContactRecord {
                    contact_id: id,
                    email: input.email.clone(),
                    fields: BTreeMap::new(),
                    custom: BTreeMap::new(),
                    unsubscribed: false,
                })
            }
        };
        record.fields.extend(input.fields);
        record.custom.extend(input.custom);
        let id = record.contact_id.clone();
        if let Some(list) = input.list.and_then(|l| self.lists.get_mut(&l)) {
            list.members.insert(id.clone());
        }
        id
    }

    /// How many distinct contacts upserts have written.
    pub fn distinct_contacts_written(&self) -> u64 {
        self.writes_per_contact.len() as u64
    }

    /// A contact by email (any case) or contact id.
    pub fn find(&self, email_or_id: &str) -> Option<&ContactRecord> {
        self.contacts.get(&self.key_of(email_or_id))
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
        let key = self.key_of(email_or_id);
        match self.contacts.get_mut(&key) {
            Some(record) => {
                record.unsubscribed = unsubscribed;
                true
            }
            None => false,
        }
    }

    /// Takes a contact (by email or id) off a list, as a person would by hand; whether it was on it.
    pub fn remove_member(&mut self, list_id: &str, email_or_id: &str) -> bool {
        let Some(contact_id) = self.find(email_or_id).map(|c| c.contact_id.clone()) else {
            return false;
        };
        self.lists
            .get_mut(list_id)
            .is_some_and(|list| list.members.remove(&contact_id))
    }

    /// Deletes a list (its contacts stay); whether there was one.
    pub fn delete_list(&mut self, list_id: &str) -> bool {
        self.lists.remove(list_id).is_some()
    }

    fn key_of(&self, email_or_id: &str) -> String {
        self.by_id
            .get(email_or_id)
            .cloned()
            .unwrap_or_else(|| email_or_id.to_lowercase())
    }

    /// One page of a list's members after `bookmark`, and the bookmark of the next page.
    pub fn page(&self, list: &ListRecord, bookmark: Option<&str>) -> (Vec<Value>, Option<String>) {
        use std::ops::Bound;
        let start = bookmark.map_or(Bound::Unbounded, |b| Bound::Excluded(b.to_string()));
        let ids: Vec<&String> = list
            .members
            .range((start, Bound::Unbounded))
            .take(PAGE_SIZE + 1)
            .collect();
        let more = ids.len() > PAGE_SIZE;
        let page: Vec<Value> = ids
            .iter()
            .take(PAGE_SIZE)
            .filter_map(|id| self.by_id.get(*id).and_then(|k| self.contacts.get(k)))
            .map(ContactRecord::to_json)
            .collect();
        let next = more.then(|| ids[PAGE_SIZE - 1].clone());
        (page, next)
    }

    pub fn custom_fields(&self) -> Vec<Value> {
        let mut seen = BTreeSet::new();
        for c in self.contacts.values() {
            seen.extend(c.custom.keys().cloned());
        }
        seen.into_iter()
            .filter_map(|k| {
                let (kind, name) = k.split_once("--")?;
                Some(json!({"name": name.replace("--", " "), "fieldType": kind}))
            })
            .collect()
    }

    /// Everything, for the admin endpoint and in-process checks.
    pub fn snapshot(&self) -> StateSnapshot {
        let mut contacts: Vec<&ContactRecord> = self.contacts.values().collect();
        contacts.sort_by(|a, b| a.contact_id.cmp(&b.contact_id));
        StateSnapshot {
            contacts: contacts.iter().map(|c| c.to_json()).collect(),
            lists: self
                .lists
                .iter()
                .map(|(id, l)| ListSnapshot {
                    list_id: id.clone(),
                    title: l.title.clone(),
                    members: l
                        .members
                        .iter()
                        .filter_map(|m| self.by_id.get(m).and_then(|k| self.contacts.get(k)))
                        .map(|c| c.email.clone())
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

fn check_custom(key: &str, value: &Value) -> Result<(), String> {
    let (kind, name) = key
        .split_once("--")
        .ok_or_else(|| format!("Custom field {key} must be written type--Name"))?;
    if !CUSTOM_TYPES.contains(&kind) || name.is_empty() {
        return Err(format!(
            "Custom field {key} must be written type--Name with a type of string, integer, float, boolean or date"
        ));
    }
    let fits = match kind {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "float" => value.is_number(),
        "boolean" => value.is_boolean(),
        _ => value.as_str().is_some_and(|s| {
            chrono::DateTime::parse_from_rfc3339(s).is_ok()
                || chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
        }),
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "Custom field {key} has a value that is not of type {kind}"
        ))
    }
}

/// Autopilot's notion of a syntactically valid address, approximately.
fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rule() {
        for ok in ["a@b.co", "Ann.Lee+x@mail.example.com", "ü@bücher.de"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a b@c.co", "a@b..co", "a@-b.co", "a@@b.co",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn custom_types() {
        assert!(check_custom("string--Loyalty--Tier", &json!("gold")).is_ok());
        assert!(check_custom("integer--Age", &json!(30)).is_ok());
        assert!(check_custom("integer--Age", &json!(30.5)).is_err());
        assert!(check_custom("float--Score", &json!(1)).is_ok());
        assert!(check_custom("boolean--VIP", &json!("yes")).is_err());
        assert!(check_custom("date--Signup", &json!("2026-01-31T00:00:00Z")).is_ok());
        assert!(check_custom("date--Signup", &json!("31/01/2026")).is_err());
        assert!(check_custom("colour--Eyes", &json!("blue")).is_err());
        assert!(check_custom("Tier", &json!("gold")).is_err());
    }

    #[test]
    fn upsert_is_case_insensitive_and_pages_follow_bookmarks() {
        let mut store = Store::default();
        let list = store.create_list("VIP");
        for i in 0..250 {
            let c = json!({"Email": format!("P{i}@x.io"), "_autopilot_list": list});
            let input = store.validate(&c).unwrap();
            store.apply(input);
        }
        let again = store
            .validate(&json!({"Email": "p0@X.IO", "FirstName": "Ann"}))
            .unwrap();
        store.apply(again);
        assert_eq!(store.snapshot().contacts.len(), 250);
        assert_eq!(
            (
                store.contacts_written,
                store.distinct_contacts_written(),
                store.max_writes_per_contact
            ),
            (251, 250, 2)
        );
        let record = store.lists().get(&list).unwrap().clone();
        let (first, b1) = store.page(&record, None);
        let (second, b2) = store.page(&record, b1.as_deref());
        let (third, b3) = store.page(&record, b2.as_deref());
        assert_eq!((first.len(), second.len(), third.len()), (100, 100, 50));
        assert!(b3.is_none());
    }
}
