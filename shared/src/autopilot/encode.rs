//! A contact as Autopilot takes it in `POST /contacts`: `Email`, the standard fields by name,
//! custom fields in `custom` (`type--Name` keys), and the list it joins as `_autopilot_list`.

use crate::contact::Contact;
use serde_json::{Map, Value};

/// The JSON object of `contact` in a bulk upsert; with `list`, it joins that list too.
pub fn contact_json(contact: &Contact, list: Option<&str>) -> Value {
    let mut obj = Map::new();
    obj.insert("Email".into(), Value::String(contact.email().to_string()));
    for (k, v) in contact.fields() {
        obj.insert(k.clone(), Value::String(v.clone()));
    }
    if !contact.custom().is_empty() {
        let custom: Map<String, Value> = contact
            .custom()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        obj.insert("custom".into(), Value::Object(custom));
    }
    if let Some(list) = list {
        obj.insert("_autopilot_list".into(), Value::String(list.to_string()));
    }
    Value::Object(obj)
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
            .unwrap();
        assert_eq!(
            contact_json(&c, Some("contactlist_1")),
            json!({"Email": "Ann@Example.com", "FirstName": "Ann",
                   "custom": {"integer--Age": 30}, "_autopilot_list": "contactlist_1"})
        );
        assert_eq!(
            contact_json(&c, None),
            json!({"Email": "Ann@Example.com", "FirstName": "Ann", "custom": {"integer--Age": 30}})
        );
    }
}
