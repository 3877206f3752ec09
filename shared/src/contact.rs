//! Contacts as Autopilot takes them, and batches that can never exceed the bulk limit.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Autopilot's limit on contacts in one bulk upsert.
pub const MAX_CONTACTS_PER_BULK: usize = 100;

/// Fields the connector must never send: consent belongs to the contact, and an email change is not
/// ours to make.
pub const FORBIDDEN_FIELDS: [&str; 2] = ["unsubscribed", "_NewEmail"];

/// One contact to upsert: the email that identifies it, standard fields, typed custom fields
/// (`type--Name` keys) and optionally the list it joins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ContactParts", into = "ContactParts")]
pub struct Contact {
    email: String,
    fields: BTreeMap<String, String>,
    custom: BTreeMap<String, Value>,
    list_id: Option<String>,
}

/// The stored form of a [`Contact`]; read back through [`Contact::new`] so its rules hold.
#[derive(Serialize, Deserialize)]
struct ContactParts {
    email: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    custom: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list_id: Option<String>,
}

/// Why a contact could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("a contact needs an email address")]
    MissingEmail,
    #[error("the field {0} is never sent by this connector")]
    ForbiddenField(String),
}

impl Contact {
    /// A contact identified by `email` (trimmed; empty is refused).
    pub fn new(email: &str) -> Result<Self, ContactError> {
        let email = email.trim();
        if email.is_empty() {
            return Err(ContactError::MissingEmail);
        }
        Ok(Self {
            email: email.to_string(),
            fields: BTreeMap::new(),
            custom: BTreeMap::new(),
            list_id: None,
        })
    }

    /// Sets a standard field (`FirstName`, `Company`, …). Empty values are not sent, so an existing
    /// value in Autopilot is never overwritten with nothing.
    pub fn with_field(mut self, name: &str, value: &str) -> Result<Self, ContactError> {
        check_allowed(name)?;
        if !value.trim().is_empty() && name != "Email" {
            self.fields.insert(name.to_string(), value.to_string());
        }
        Ok(self)
    }

    /// Sets a custom field; `key` is Autopilot's `type--Name` form, `value` already of that type.
    pub fn with_custom(mut self, key: &str, value: Value) -> Result<Self, ContactError> {
        check_allowed(key)?;
        self.custom.insert(key.to_string(), value);
        Ok(self)
    }

    /// The list the contact joins when it is upserted.
    pub fn with_list(mut self, list_id: &str) -> Self {
        self.list_id = Some(list_id.to_string());
        self
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn list_id(&self) -> Option<&str> {
        self.list_id.as_deref()
    }

    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    pub fn custom(&self) -> &BTreeMap<String, Value> {
        &self.custom
    }

    /// The JSON object Autopilot expects in `POST /contacts`.
    pub fn to_autopilot_json(&self) -> Value {
        let mut obj = Map::new();
        obj.insert("Email".into(), Value::String(self.email.clone()));
        for (k, v) in &self.fields {
            obj.insert(k.clone(), Value::String(v.clone()));
        }
        if !self.custom.is_empty() {
            let custom: Map<String, Value> = self
                .custom
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            obj.insert("custom".into(), Value::Object(custom));
        }
        if let Some(list) = &self.list_id {
            obj.insert("_autopilot_list".into(), Value::String(list.clone()));
        }
        Value::Object(obj)
    }
}

fn check_allowed(name: &str) -> Result<(), ContactError> {
    if FORBIDDEN_FIELDS
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
    {
        return Err(ContactError::ForbiddenField(name.to_string()));
    }
    Ok(())
}

impl TryFrom<ContactParts> for Contact {
    type Error = ContactError;
    fn try_from(parts: ContactParts) -> Result<Self, ContactError> {
        let mut contact = Contact::new(&parts.email)?;
        for (k, v) in &parts.fields {
            contact = contact.with_field(k, v)?;
        }
        for (k, v) in parts.custom {
            contact = contact.with_custom(&k, v)?;
        }
        contact.list_id = parts.list_id;
        Ok(contact)
    }
}

impl From<Contact> for ContactParts {
    fn from(c: Contact) -> Self {
        Self {
            email: c.email,
            fields: c.fields,
            custom: c.custom,
            list_id: c.list_id,
        }
    }
}

/// At most [`MAX_CONTACTS_PER_BULK`] contacts: the only thing the bulk upsert accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactBatch(Vec<Contact>);

/// A batch was built with more contacts than Autopilot takes in one request.
#[derive(Debug, thiserror::Error)]
#[error("a bulk upsert takes at most {MAX_CONTACTS_PER_BULK} contacts, not {0}")]
pub struct BatchTooLarge(pub usize);

impl ContactBatch {
    pub fn new(contacts: Vec<Contact>) -> Result<Self, BatchTooLarge> {
        if contacts.len() > MAX_CONTACTS_PER_BULK {
            return Err(BatchTooLarge(contacts.len()));
        }
        Ok(Self(contacts))
    }

    /// Splits any number of contacts into full batches (the last one may be smaller).
    pub fn split(contacts: Vec<Contact>) -> Vec<ContactBatch> {
        let mut batches = Vec::with_capacity(contacts.len().div_ceil(MAX_CONTACTS_PER_BULK));
        let mut rest = contacts.into_iter().peekable();
        while rest.peek().is_some() {
            batches.push(ContactBatch(
                rest.by_ref().take(MAX_CONTACTS_PER_BULK).collect(),
            ));
        }
        batches
    }

    pub fn contacts(&self) -> &[Contact] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shape() {
        let c = Contact::new("  Ann@Example.com ")
            .unwrap()
            .with_field("FirstName", "Ann")
            .unwrap()
            .with_field("LastName", "")
            .unwrap()
            .with_custom("integer--Age", json!(30))
            .unwrap()
            .with_list("contactlist_1");
        assert_eq!(
            c.to_autopilot_json(),
            json!({"Email": "Ann@Example.com", "FirstName": "Ann",
                   "custom": {"integer--Age": 30}, "_autopilot_list": "contactlist_1"})
        );
    }

    #[test]
    fn refuses_missing_email_and_consent_fields() {
        assert_eq!(Contact::new(" "), Err(ContactError::MissingEmail));
        let c = Contact::new("a@b.co").unwrap();
        assert!(c.clone().with_field("unsubscribed", "true").is_err());
        assert!(c.with_custom("_NewEmail", json!("x")).is_err());
        let stored = r#"{"email":"","fields":{}}"#;
        assert!(serde_json::from_str::<Contact>(stored).is_err());
    }

    #[test]
    fn stored_form_round_trips() {
        let c = Contact::new("a@b.co")
            .unwrap()
            .with_field("Company", "ACME")
            .unwrap()
            .with_list("l");
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Contact>(&text).unwrap(), c);
    }

    #[test]
    fn batches_never_exceed_the_limit() {
        let contacts: Vec<_> = (0..250)
            .map(|i| Contact::new(&format!("p{i}@x.io")).unwrap())
            .collect();
        assert!(ContactBatch::new(contacts.clone()).is_err());
        let sizes: Vec<_> = ContactBatch::split(contacts)
            .iter()
            .map(ContactBatch::len)
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(ContactBatch::split(Vec::new()).is_empty());
    }
}
