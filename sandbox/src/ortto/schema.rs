//! An Ortto account's schema, kept in the store beside its people: the custom person fields
//! created through `/v1/person/custom-field/create`, the email suppression list, and when each tag
//! was created and last used. A custom field's id is `type:cm:slug`: the prefix from its type
//! (the table below), the slug its name in lower case with every run of other characters than
//! letters and digits turned into one `-` ("Loyalty Tier" → `loyalty-tier`). A name is a duplicate
//! when another field has it (any case) or its id.
//!
//! | `type`                                      | id prefix | values                        |
//! |---------------------------------------------|-----------|-------------------------------|
//! | `text`, `single_select`, `link`             | `str`     | text, at most 255 characters  |
//! | `large_text`                                | `txt`     | text, at most 4,000           |
//! | `integer`, `decimal`, `currency`, `price`   | `int`     | whole numbers (decimals ×1000)|
//! | `boolean` (or `bool`)                       | `bol`     | `true`/`false`                |
//! | `date`                                      | `dtz`     | `{year, month, day[, timezone]}` or ISO 8601 |
//! | `time`                                      | `tme`     | ISO 8601 date and time        |
//! | `phone`                                     | `phn`     | `{c, n}` or `{phone, …}`      |
//! | `multi_select`                              | `sst`     | an array of texts             |
//! | `object`                                    | `obj`     | a JSON object                 |
//!
//! `aggregate` is refused, as Ortto refuses it; so is any other type.

use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// The field types a custom field may be created with, and the id prefix of each.
pub(super) const FIELD_TYPES: [(&str, &str); 15] = [
    ("text", "str"),
    ("large_text", "txt"),
    ("integer", "int"),
    ("decimal", "int"),
    ("currency", "int"),
    ("price", "int"),
    ("boolean", "bol"),
    ("bool", "bol"),
    ("date", "dtz"),
    ("time", "tme"),
    ("phone", "phn"),
    ("single_select", "str"),
    ("multi_select", "sst"),
    ("link", "str"),
    ("object", "obj"),
];

/// A custom person field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CustomField {
    pub id: String,
    pub name: String,
    /// The `type` it was created with.
    pub display_type: String,
    /// A select field's values.
    pub values: Option<Vec<String>>,
    pub track_changes: bool,
}

/// A request to create a custom field, checked.
#[derive(Debug, Clone)]
pub(super) struct NewField {
    pub field_type: String,
    pub name: String,
    pub values: Option<Vec<String>>,
    pub track_changes: bool,
}

/// When a tag was created and last put on someone.
#[derive(Debug, Clone, Copy)]
pub(super) struct TagTimes {
    pub created: DateTime<Utc>,
    pub last_used: DateTime<Utc>,
    /// Whether a person made it by hand (`manual`) rather than a merge (`api`).
    pub by_hand: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Schema {
    custom: Vec<CustomField>,
    suppressed: BTreeSet<String>,
    tags: BTreeMap<String, TagTimes>,
}

/// A field name as the slug of its id.
pub(super) fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

impl Schema {
    pub fn custom_fields(&self) -> &[CustomField] {
        &self.custom
    }

    /// The custom field with this id.
    pub fn custom_field(&self, id: &str) -> Option<&CustomField> {
        self.custom.iter().find(|f| f.id == id)
    }

    /// Creates a custom field, unless the account has `limit` already or the name is taken.
    pub(super) fn create(&mut self, field: NewField, limit: usize) -> Result<&CustomField, String> {
        let prefix = FIELD_TYPES
            .iter()
            .find(|(t, _)| *t == field.field_type)
            .map(|(_, p)| *p)
            .ok_or_else(|| format!("Unsupported field type: {}", field.field_type))?;
        let slug = slug(&field.name);
        if slug.is_empty() {
            return Err("A field name needs at least one letter or digit".into());
        }
        let id = format!("{prefix}:cm:{slug}");
        let taken = self
            .custom
            .iter()
            .any(|f| f.id == id || f.name.to_lowercase() == field.name.to_lowercase());
        if taken {
            return Err(format!("Duplicate field name: {}", field.name));
        }
        if self.custom.len() >= limit {
            return Err(format!(
                "Custom field limit reached: the account has {} custom person fields, the most \
                 its plan allows; delete one in Ortto or use an existing field",
                self.custom.len()
            ));
        }
        self.custom.push(CustomField {
            id,
            name: field.name,
            display_type: field.field_type,
            values: field.values,
            track_changes: field.track_changes,
        });
        Ok(&self.custom[self.custom.len() - 1])
    }

    /// Puts an address (any case) on the suppression list.
    pub fn suppress(&mut self, email: &str) {
        self.suppressed.insert(email.to_lowercase());
    }

    /// Takes an address off the suppression list; whether it was on it.
    pub fn unsuppress(&mut self, email: &str) -> bool {
        self.suppressed.remove(&email.to_lowercase())
    }

    pub fn is_suppressed(&self, email: &str) -> bool {
        self.suppressed.contains(&email.to_lowercase())
    }

    /// The suppressed addresses, in lower case and in order.
    pub fn suppressed(&self) -> impl Iterator<Item = &str> {
        self.suppressed.iter().map(String::as_str)
    }

    /// Notes that the tag was put on someone now (and made now, if it is new to the schema).
    pub(super) fn tag_used(&mut self, tag_id: &str, by_hand: bool) {
        let now = Utc::now();
        self.tags
            .entry(tag_id.to_string())
            .and_modify(|t| t.last_used = now)
            .or_insert(TagTimes {
                created: now,
                last_used: now,
                by_hand,
            });
    }

    pub(super) fn tag_times(&self, tag_id: &str) -> Option<TagTimes> {
        self.tags.get(tag_id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(field_type: &str, name: &str) -> NewField {
        NewField {
            field_type: field_type.into(),
            name: name.into(),
            values: None,
            track_changes: false,
        }
    }

    #[test]
    fn names_become_slugs() {
        for (name, want) in [
            ("Loyalty Tier", "loyalty-tier"),
            ("  Job   Title!! ", "job-title"),
            ("Größe (cm)", "größe-cm"),
            ("A--B__c", "a-b-c"),
            ("Test Field 1762383076", "test-field-1762383076"),
            ("!!!", ""),
        ] {
            assert_eq!(slug(name), want, "{name}");
        }
    }

    #[test]
    fn fields_get_ids_by_type_and_names_stay_unique_up_to_the_limit() {
        let mut schema = Schema::default();
        let made = schema.create(field("text", "Loyalty Tier"), 3).unwrap();
        assert_eq!(made.id, "str:cm:loyalty-tier");
        let made = schema.create(field("decimal", "Spend"), 3).unwrap();
        assert_eq!(made.id, "int:cm:spend");
        for taken in ["loyalty tier", "Loyalty-Tier"] {
            let refused = schema.create(field("text", taken), 3).unwrap_err();
            assert!(refused.starts_with("Duplicate field name"), "{refused}");
        }
        let other_type = schema.create(field("integer", "Loyalty Tier"), 3);
        assert!(other_type.is_err(), "the name is taken whatever the type");
        assert!(schema.create(field("aggregate", "Sum"), 3).is_err());
        assert!(schema.create(field("colour", "Eyes"), 3).is_err());
        assert!(schema.create(field("text", "?"), 3).is_err());
        assert_eq!(
            schema.create(field("bool", "VIP"), 3).unwrap().id,
            "bol:cm:vip"
        );
        let full = schema.create(field("date", "Signup"), 3).unwrap_err();
        assert!(full.starts_with("Custom field limit reached"), "{full}");
        assert_eq!(schema.custom_fields().len(), 3);
        assert!(schema.custom_field("int:cm:spend").is_some());
    }

    #[test]
    fn suppression_ignores_case() {
        let mut schema = Schema::default();
        schema.suppress("Ann@X.io");
        assert!(schema.is_suppressed("ann@x.IO"));
        assert_eq!(schema.suppressed().collect::<Vec<_>>(), ["ann@x.io"]);
        assert!(schema.unsuppress("ANN@x.io"));
        assert!(!schema.is_suppressed("ann@x.io"));
    }
}
