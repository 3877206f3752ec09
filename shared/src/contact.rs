//! A contact as the domain knows it, whatever API it is sent to: the email that identifies it,
//! standard fields by the names data matching uses (`FirstName`, `Company`, …) and typed custom
//! fields (`type--Name` keys, values already of their type). Each implementation of the audience
//! port encodes it as its API takes it; a contact never holds a field no API is sent
//! ([`crate::audience_api::never_sent_anywhere`]: consent and email changes belong to the person).

use crate::audience_api::never_sent_anywhere;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// One contact to upsert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ContactParts", into = "ContactParts")]
pub struct Contact {
    email: String,
    fields: BTreeMap<String, String>,
    custom: BTreeMap<String, Value>,
}

/// The stored form of a [`Contact`]; read back through [`Contact::new`] so its rules hold. (Chunks
/// written by earlier releases may name a list too: it is not read.)
#[derive(Serialize, Deserialize)]
struct ContactParts {
    email: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    custom: BTreeMap<String, Value>,
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
        })
    }

    /// Sets a standard field (`FirstName`, `Company`, …). Empty values are not sent, so an existing
    /// value is never overwritten with nothing.
    pub fn with_field(mut self, name: &str, value: &str) -> Result<Self, ContactError> {
        check_allowed(name)?;
        if !value.trim().is_empty() && name != "Email" {
            self.fields.insert(name.to_string(), value.to_string());
        }
        Ok(self)
    }

    /// Sets a custom field; `key` is the `type--Name` form, `value` already of that type.
    pub fn with_custom(mut self, key: &str, value: Value) -> Result<Self, ContactError> {
        check_allowed(key)?;
        self.custom.insert(key.to_string(), value);
        Ok(self)
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    pub fn custom(&self) -> &BTreeMap<String, Value> {
        &self.custom
    }
}

fn check_allowed(name: &str) -> Result<(), ContactError> {
    if never_sent_anywhere(name) {
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
        Ok(contact)
    }
}

impl From<Contact> for ContactParts {
    fn from(c: Contact) -> Self {
        Self {
            email: c.email,
            fields: c.fields,
            custom: c.custom,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn stored_form_round_trips_and_reads_what_earlier_releases_stored() {
        let c = Contact::new("a@b.co")
            .unwrap()
            .with_field("Company", "ACME")
            .unwrap()
            .with_custom("integer--Age", json!(30))
            .unwrap();
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Contact>(&text).unwrap(), c);
        let earlier = r#"{"email":"a@b.co","fields":{"Company":"ACME"},"custom":{"integer--Age":30},"list_id":"contactlist_1"}"#;
        assert_eq!(serde_json::from_str::<Contact>(earlier).unwrap(), c);
        let empty_left_out = Contact::new("a@b.co")
            .unwrap()
            .with_field("LastName", " ")
            .unwrap();
        assert!(empty_left_out.fields().is_empty());
    }
}
