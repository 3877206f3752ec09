//! Ortto's rules for a person's fields: which field ids exist (the built-in ones below and the
//! account's custom fields), what type of value each takes (by its id's prefix), and which are
//! consent. An id that names no field is refused with Ortto's own words ("failed to validate field
//! … Object not found"); a value of the wrong type with the field's id and what it takes. `null`
//! passes every type: it clears the field.

use super::schema::Schema;
use serde_json::Value;

/// The kind of value a field takes, from its id's prefix (`str::first` → text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldKind {
    Text,
    LongText,
    Integer,
    Boolean,
    Date,
    Time,
    Location,
    Phone,
    MultiSelect,
    Object,
}

/// Ortto's built-in person fields the sandbox knows.
pub(super) const BUILT_IN: [&str; 19] = [
    "str::first",
    "str::last",
    "str::email",
    "str::ei",
    "str::person_id",
    "str::postal",
    "str::language",
    "phn::phone",
    "geo::city",
    "geo::country",
    "geo::region",
    "dtz::b",
    "bol::gdpr",
    "bol::p",
    "bol::sp",
    "str::s-ctx",
    "str::u-ctx",
    "str::soi-ctx",
    "str::soo-ctx",
];

/// Consent: a connector never sends these (counted as `consent_fields_received`).
pub(super) const CONSENT: [&str; 7] = [
    "bol::p",
    "bol::sp",
    "bol::gdpr",
    "str::s-ctx",
    "str::u-ctx",
    "str::soi-ctx",
    "str::soo-ctx",
];

/// Fields that are read, never written: the person's id and tags.
pub(super) const READ_ONLY: [&str; 3] = ["str::person_id", "tags", "u4s::t"];

fn kind_of_prefix(prefix: &str) -> Option<FieldKind> {
    Some(match prefix {
        "str" => FieldKind::Text,
        "txt" => FieldKind::LongText,
        "int" => FieldKind::Integer,
        "bol" => FieldKind::Boolean,
        "dtz" => FieldKind::Date,
        "tme" => FieldKind::Time,
        "geo" => FieldKind::Location,
        "phn" => FieldKind::Phone,
        "sst" => FieldKind::MultiSelect,
        "obj" => FieldKind::Object,
        _ => return None,
    })
}

/// Ortto's words for a field id that names no field.
pub(super) fn not_found(id: &str) -> String {
    format!("failed to validate field {id} in schema: {id}: Object not found")
}

/// The kind of value the field `id` takes, if it is a built-in field or one of the account's
/// custom fields; else Ortto's refusal.
pub(super) fn kind_of(schema: &Schema, id: &str) -> Result<FieldKind, String> {
    let known = BUILT_IN.contains(&id) || schema.custom_field(id).is_some();
    let prefix = id.split(':').next().unwrap_or_default();
    match kind_of_prefix(prefix) {
        Some(kind) if known => Ok(kind),
        _ => Err(not_found(id)),
    }
}

/// Whether `value` suits a field of this kind (`null` always does); else what the field takes.
pub(super) fn check_value(id: &str, kind: FieldKind, value: &Value) -> Result<(), String> {
    let (fits, takes) = match kind {
        _ if value.is_null() => (true, ""),
        FieldKind::Text => (text_within(value, 255), "text of at most 255 characters"),
        FieldKind::LongText => (text_within(value, 4000), "text of at most 4,000 characters"),
        FieldKind::Integer => (
            value.is_i64(),
            "a whole number (decimals are sent multiplied by 1,000)",
        ),
        FieldKind::Boolean => (value.is_boolean(), "true or false"),
        FieldKind::Date => (is_date(value), "{year, month, day} or an ISO 8601 date"),
        FieldKind::Time => (
            value
                .as_str()
                .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()),
            "an ISO 8601 date and time",
        ),
        FieldKind::Location => (
            value.get("name").is_some_and(Value::is_string),
            "{\"name\": …}",
        ),
        FieldKind::Phone => (
            value.is_object()
                && (value.get("phone").is_some_and(Value::is_string)
                    || (value.get("c").is_some() && value.get("n").is_some())),
            "{\"c\", \"n\"} or {\"phone\"}",
        ),
        FieldKind::MultiSelect => (
            value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            "an array of texts",
        ),
        FieldKind::Object => (value.is_object(), "a JSON object"),
    };
    if fits {
        Ok(())
    } else {
        Err(format!("failed to validate field {id}: expected {takes}"))
    }
}

fn text_within(value: &Value, chars: usize) -> bool {
    value.as_str().is_some_and(|s| s.chars().count() <= chars)
}

fn is_date(value: &Value) -> bool {
    if let Some(text) = value.as_str() {
        return chrono::DateTime::parse_from_rfc3339(text).is_ok()
            || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    }
    let part = |name| {
        value
            .get(name)
            .and_then(Value::as_i64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let timezone_ok = value.get("timezone").is_none_or(Value::is_string);
    match (
        value.get("year").and_then(Value::as_i64),
        part("month"),
        part("day"),
    ) {
        (Some(year), Some(month), Some(day)) => {
            timezone_ok
                && i32::try_from(year)
                    .ok()
                    .and_then(|y| chrono::NaiveDate::from_ymd_opt(y, month, day))
                    .is_some()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ortto::schema::NewField;
    use serde_json::json;

    fn schema() -> Schema {
        let mut schema = Schema::default();
        for (field_type, name) in [("text", "Tier"), ("decimal", "Spend"), ("date", "Signup")] {
            let field = NewField {
                field_type: field_type.into(),
                name: name.into(),
                values: None,
                track_changes: false,
            };
            schema.create(field, 100).unwrap();
        }
        schema
    }

    #[test]
    fn ids_are_known_built_in_or_created() {
        let schema = schema();
        assert_eq!(kind_of(&schema, "str::first"), Ok(FieldKind::Text));
        assert_eq!(kind_of(&schema, "geo::city"), Ok(FieldKind::Location));
        assert_eq!(kind_of(&schema, "int:cm:spend"), Ok(FieldKind::Integer));
        assert_eq!(kind_of(&schema, "dtz:cm:signup"), Ok(FieldKind::Date));
        assert_eq!(
            kind_of(&schema, "str::x"),
            Err("failed to validate field str::x in schema: str::x: Object not found".into())
        );
        for unknown in ["str:cm:nope", "int:cm:tier", "Email", "", "tags"] {
            assert!(kind_of(&schema, unknown).is_err(), "{unknown}");
        }
    }

    #[test]
    fn values_are_checked_by_kind() {
        use FieldKind::*;
        let fits = [
            (Text, json!("gold")),
            (Text, json!("é".repeat(255))),
            (Text, Value::Null),
            (LongText, json!("x".repeat(4000))),
            (Integer, json!(-12_500)),
            (Boolean, json!(false)),
            (
                Date,
                json!({"year": 2024, "month": 2, "day": 29, "timezone": "UTC"}),
            ),
            (Date, json!("2024-02-29")),
            (Date, json!("2024-02-29T10:00:00Z")),
            (Time, json!("2024-02-29T10:00:00+01:00")),
            (Location, json!({"name": "Paris"})),
            (Phone, json!({"c": "61", "n": "400000000"})),
            (
                Phone,
                json!({"phone": "+61400000000", "parse_with_country_code": true}),
            ),
            (MultiSelect, json!(["a", "b"])),
            (Object, json!({"any": [1]})),
        ];
        for (kind, value) in fits {
            assert_eq!(check_value("f", kind, &value), Ok(()), "{kind:?} {value}");
        }
        let misfits = [
            (Text, json!(12)),
            (Text, json!("x".repeat(256))),
            (LongText, json!("x".repeat(4001))),
            (Integer, json!(1.5)),
            (Integer, json!("12")),
            (Integer, json!(u64::MAX)),
            (Boolean, json!("true")),
            (Date, json!({"year": 2023, "month": 2, "day": 29})),
            (Date, json!({"year": 2024, "month": 2})),
            (Date, json!("29/02/2024")),
            (Time, json!("2024-02-29")),
            (Location, json!("Paris")),
            (Phone, json!("+61400000000")),
            (MultiSelect, json!(["a", 1])),
            (Object, json!([1])),
        ];
        for (kind, value) in misfits {
            let refused = check_value("int:cm:x", kind, &value).unwrap_err();
            assert!(
                refused.starts_with("failed to validate field int:cm:x: expected"),
                "{refused}"
            );
        }
    }
}
