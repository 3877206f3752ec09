//! Autopilot's rules for a contact: which fields it takes, how custom fields are named and typed,
//! and what a valid address is (the Ortto mode's rule too). [`Store::validate`] applies them to
//! one contact object.

use super::{ContactInput, Store};
use serde_json::Value;
use std::collections::BTreeMap;

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
                    if !self.lists().contains_key(list) {
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
pub(crate) fn valid_email(email: &str) -> bool {
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
    use serde_json::json;

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
}
