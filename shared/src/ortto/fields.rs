//! A contact's fields as Ortto's field ids, and a person of a merge.
//!
//! | Data matching (our field)      | Ortto field id | Value sent                                   |
//! |--------------------------------|----------------|----------------------------------------------|
//! | the email column               | `str::email`   | the address, trimmed                         |
//! | `FirstName`                    | `str::first`   | text                                         |
//! | `LastName`                     | `str::last`    | text                                         |
//! | `Phone`                        | `phn::phone`   | `{"phone", "parse_with_country_code": true}` |
//! | `MailingCity`                  | `geo::city`    | `{"name"}`                                   |
//! | `MailingState`                 | `geo::region`  | `{"name"}`                                   |
//! | `MailingCountry`               | `geo::country` | `{"name"}`                                   |
//! | `MailingPostalCode`            | `str::postal`  | text                                         |
//! | `string--Loyalty--Tier`        | `str:cm:loyalty-tier` | text                                  |
//! | `integer--Age`                 | `int:cm:age`   | the whole number                             |
//! | `float--Score`                 | `int:cm:score` | the number × 1,000, rounded (Ortto's rule)   |
//! | `boolean--Member`              | `bol:cm:member`| `true`/`false`                               |
//! | `date--Joined`                 | `dtz:cm:joined`| `{"year", "month", "day", "timezone": "UTC"}`|
//!
//! Autopilot's other standard fields (`Company`, `Title`, `MobilePhone`, `MailingStreet`, …) have
//! no Ortto field: data matching refuses them for an Ortto destination and suggests a custom
//! field. A custom field's name is its key after the type, each `--` a space (`Loyalty Tier`); its
//! id is the one the account gives a field of that name (read once per client, see `schema`), or
//! else the name in lower case with every run of other characters than letters and digits made one
//! `-`. Empty values never reach a contact (data matching drops them), so nothing is ever sent as
//! `null` or `""`; consent fields never reach one either.

use crate::contact::Contact;
use crate::field_mapping::CustomType;
use chrono::Datelike;
use serde_json::{json, Map, Value};

/// Our standard fields Ortto has, with their ids.
pub const STANDARD: [(&str, &str); 7] = [
    ("FirstName", "str::first"),
    ("LastName", "str::last"),
    ("Phone", "phn::phone"),
    ("MailingCity", "geo::city"),
    ("MailingState", "geo::region"),
    ("MailingCountry", "geo::country"),
    ("MailingPostalCode", "str::postal"),
];

/// Our standard field names Ortto has, for its vocabulary.
pub const STANDARD_NAMES: [&str; 7] = [
    STANDARD[0].0,
    STANDARD[1].0,
    STANDARD[2].0,
    STANDARD[3].0,
    STANDARD[4].0,
    STANDARD[5].0,
    STANDARD[6].0,
];

/// A custom field as Ortto knows it: its name and the type it is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    /// "Loyalty Tier" for `string--Loyalty--Tier`.
    pub name: String,
    /// Ortto's `type` at creation: `text`, `integer`, `decimal`, `boolean`, `date`.
    pub field_type: &'static str,
    /// The id's prefix: `str`, `int`, `bol`, `dtz`.
    pub prefix: &'static str,
}

impl CustomField {
    /// The custom field of a `type--Name` key; `None` for a key that is not one (data matching
    /// refuses those before anything is sent).
    pub fn of_key(key: &str) -> Option<Self> {
        let kind = CustomType::of_key(key).ok()?;
        let (_, name) = key.split_once("--")?;
        let name = name.split("--").collect::<Vec<_>>().join(" ");
        let (field_type, prefix) = match kind {
            CustomType::String => ("text", "str"),
            CustomType::Integer => ("integer", "int"),
            CustomType::Float => ("decimal", "int"),
            CustomType::Boolean => ("boolean", "bol"),
            CustomType::Date => ("date", "dtz"),
        };
        Some(Self {
            name,
            field_type,
            prefix,
        })
    }

    /// The id Ortto most likely gives a field of this name: `str:cm:loyalty-tier`.
    pub fn likely_id(&self) -> String {
        format!("{}:cm:{}", self.prefix, slug(&self.name))
    }
}

/// A name in lower case, each run of other characters than letters and digits one `-`, none at
/// either end.
pub fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// The Ortto id of our standard field `name`, if Ortto has it.
pub fn standard_id(name: &str) -> Option<&'static str> {
    STANDARD.iter().find(|(ours, _)| *ours == name).map(|s| s.1)
}

/// A standard field's value as Ortto takes it.
fn standard_value(id: &str, text: &str) -> Value {
    match id {
        "phn::phone" => json!({"phone": text, "parse_with_country_code": true}),
        id if id.starts_with("geo::") => json!({"name": text}),
        _ => Value::String(text.to_string()),
    }
}

/// A custom value (already of its type) as Ortto takes it in a field with `prefix`: decimals ×
/// 1,000 as whole numbers, dates as `{year, month, day, timezone}`. `None` for a value that does
/// not fit (a number too large once multiplied).
pub fn custom_value(kind: CustomType, value: &Value) -> Option<Value> {
    match kind {
        CustomType::Float => {
            let scaled = (value.as_f64()? * 1000.0).round();
            (scaled.abs() < 9.0e18).then(|| Value::from(scaled as i64))
        }
        CustomType::Date => {
            let at = chrono::DateTime::parse_from_rfc3339(value.as_str()?).ok()?;
            Some(
                json!({"year": at.year(), "month": at.month(), "day": at.day(), "timezone": "UTC"}),
            )
        }
        _ => Some(value.clone()),
    }
}

/// The `fields` of `contact` as Ortto ids; `custom_id` names the account's id of a custom field.
/// Fields Ortto has no id for are left out (data matching refuses them beforehand).
pub fn person_fields(
    contact: &Contact,
    custom_id: &dyn Fn(&CustomField) -> String,
) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert(
        "str::email".into(),
        Value::String(contact.email().to_string()),
    );
    for (name, text) in contact.fields() {
        if let Some(id) = standard_id(name) {
            fields.insert(id.into(), standard_value(id, text));
        }
    }
    for (key, value) in contact.custom() {
        let (Some(field), Ok(kind)) = (CustomField::of_key(key), CustomType::of_key(key)) else {
            continue;
        };
        if let Some(value) = custom_value(kind, value) {
            fields.insert(custom_id(&field), value);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_keys_become_ortto_names_types_and_ids() {
        let table = [
            (
                "string--Loyalty--Tier",
                "Loyalty Tier",
                "text",
                "str:cm:loyalty-tier",
            ),
            ("integer--Age", "Age", "integer", "int:cm:age"),
            (
                "float--Lifetime Value (€)",
                "Lifetime Value (€)",
                "decimal",
                "int:cm:lifetime-value",
            ),
            ("boolean--VIP", "VIP", "boolean", "bol:cm:vip"),
            ("date--Joined_On", "Joined_On", "date", "dtz:cm:joined-on"),
        ];
        for (key, name, field_type, id) in table {
            let field = CustomField::of_key(key).unwrap();
            assert_eq!(
                (field.name.as_str(), field.field_type),
                (name, field_type),
                "{key}"
            );
            assert_eq!(field.likely_id(), id, "{key}");
        }
        assert_eq!(CustomField::of_key("Loyalty"), None);
        assert_eq!(slug("  Äpfel & Birnen "), "äpfel-birnen");
    }

    #[test]
    fn a_contact_becomes_ortto_fields_without_empty_values() {
        let contact = Contact::new("ann@example.com")
            .unwrap()
            .with_field("FirstName", "Ann")
            .unwrap()
            .with_field("LastName", "")
            .unwrap()
            .with_field("Phone", "+61 400 000 000")
            .unwrap()
            .with_field("MailingCountry", "Australia")
            .unwrap()
            .with_custom("float--Score", json!(1.2345))
            .unwrap()
            .with_custom("date--Joined", json!("2024-03-15T00:00:00Z"))
            .unwrap()
            .with_custom("boolean--VIP", json!(true))
            .unwrap();
        let fields = person_fields(&contact, &|f| f.likely_id());
        assert_eq!(
            Value::Object(fields),
            json!({
                "str::email": "ann@example.com",
                "str::first": "Ann",
                "phn::phone": {"phone": "+61 400 000 000", "parse_with_country_code": true},
                "geo::country": {"name": "Australia"},
                "int:cm:score": 1235,
                "dtz:cm:joined": {"year": 2024, "month": 3, "day": 15, "timezone": "UTC"},
                "bol:cm:vip": true,
            })
        );
        assert_eq!(custom_value(CustomType::Float, &json!(1e300)), None);
    }
}
