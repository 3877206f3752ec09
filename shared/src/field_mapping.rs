//! Data matching: checks a destination's mapping, resolves it against a snapshot's header (where
//! each column it uses must appear once), and turns each row into a contact or a reason it cannot
//! be one.
//!
//! Rules: the email is trimmed, checked and its domain put in ASCII ([`email::normalise`]); empty
//! values are dropped (a field in Autopilot is never overwritten with nothing); custom values are
//! converted to their declared type (`string`, `integer`, `float`, `boolean`, `date`) or the row
//! is refused.

use crate::contact::{Contact, FORBIDDEN_FIELDS};
use crate::destination::DataMatching;
use crate::email;
use chrono::{NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

/// Autopilot's standard contact fields that can be mapped from a column (Email has its own place).
pub const STANDARD_FIELDS: [&str; 18] = [
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

/// The type of a custom field, from the first part of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomType {
    String,
    Integer,
    Float,
    Boolean,
    Date,
}

impl CustomType {
    /// Reads the type of a `type--Name` key.
    pub fn of_key(key: &str) -> Result<Self, String> {
        let (kind, name) = key.split_once("--").ok_or_else(|| {
            format!("the custom field '{key}' must be written type--Name, for example string--Loyalty--Tier")
        })?;
        if name.is_empty() || name.starts_with('-') || name.ends_with('-') {
            return Err(format!(
                "the custom field '{key}' needs a name after the type, for example integer--Age"
            ));
        }
        Ok(match kind {
            "string" => Self::String,
            "integer" => Self::Integer,
            "float" => Self::Float,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            other => {
                return Err(format!(
                    "the custom field '{key}' has the unknown type '{other}': use string, integer, float, boolean or date"
                ))
            }
        })
    }

    /// Converts a (non-empty, trimmed) text value, or says why it does not fit.
    pub fn convert(self, text: &str) -> Option<Value> {
        match self {
            Self::String => Some(Value::String(text.to_string())),
            Self::Integer => text.parse::<i64>().ok().map(Value::from),
            Self::Float => text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
            Self::Boolean => match text.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Some(Value::Bool(true)),
                "false" | "no" | "n" | "0" => Some(Value::Bool(false)),
                _ => None,
            },
            Self::Date => parse_date(text).map(Value::String),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::String => "text",
            Self::Integer => "whole number",
            Self::Float => "number",
            Self::Boolean => "true/false value",
            Self::Date => "date (YYYY-MM-DD or RFC 3339)",
        }
    }
}

/// A date or date-time as Autopilot takes it: RFC 3339 in UTC.
fn parse_date(text: &str) -> Option<String> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(
            dt.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(text, format) {
            return Some(
                Utc.from_utc_datetime(&dt)
                    .to_rfc3339_opts(SecondsFormat::Secs, true),
            );
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| {
            Utc.from_utc_datetime(&dt)
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        })
}

/// Checks a mapping before it is saved: known fields, well-formed custom keys, no consent fields.
pub fn validate(matching: &DataMatching) -> Result<(), String> {
    if matching.email.trim().is_empty() {
        return Err("the email column is required: pass --email-field COLUMN".into());
    }
    for field in matching.fields.keys() {
        if FORBIDDEN_FIELDS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(field))
        {
            return Err(format!("the field '{field}' is never sent: consent and email changes belong to the contact"));
        }
        if !STANDARD_FIELDS.contains(&field.as_str()) {
            return Err(format!(
                "'{field}' is not a standard Autopilot field; use one of {} or a custom field (--custom 'string--{field}=COLUMN')",
                STANDARD_FIELDS.join(", ")
            ));
        }
    }
    for key in matching.custom.keys() {
        CustomType::of_key(key)?;
    }
    Ok(())
}

/// A reason a row is not exported; `code` is the report's bucket, `message` the detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub code: &'static str,
    pub message: String,
}

impl RowProblem {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// A mapping resolved against one snapshot's header.
#[derive(Debug, Clone)]
pub struct RowMapper {
    columns: usize,
    email: usize,
    fields: Vec<(String, usize)>,
    custom: Vec<(String, CustomType, usize, String)>,
}

impl RowMapper {
    /// Finds each mapped column in `header` (exact name first, then ignoring case and spaces
    /// around it); a missing column is an error naming it and counting the header's cells (never
    /// quoting them), and a column found more than once (at the same step) is an error naming
    /// where, since nobody can tell which one was meant.
    pub fn new(matching: &DataMatching, header: &[String]) -> Result<Self, String> {
        let find = |column: &str| -> Result<usize, String> {
            let wanted = column.trim();
            let positions = |matches: &dyn Fn(&str) -> bool| -> Vec<usize> {
                (0..header.len()).filter(|&i| matches(&header[i])).collect()
            };
            let mut found = positions(&|h| h == wanted);
            if found.is_empty() {
                found = positions(&|h| h.trim().eq_ignore_ascii_case(wanted));
            }
            match found[..] {
                [index] => Ok(index),
                // The header's cells are never repeated: in a file without a header row they
                // are a customer's data, and this message ends up in the report.
                [] => Err(format!(
                    "the snapshot has no column '{wanted}': its first row holds {} column{}, none named so. If the file has no header row, add one naming the columns; else fix the data matching with `autopilot-export configure`",
                    header.len(),
                    if header.len() == 1 { "" } else { "s" }
                )),
                _ => Err(repeated(wanted, &found)),
            }
        };
        let mut fields = Vec::new();
        for (field, column) in [
            ("FirstName", &matching.first_name),
            ("LastName", &matching.last_name),
        ] {
            if let Some(column) = column {
                fields.push((field.to_string(), find(column)?));
            }
        }
        for (field, column) in &matching.fields {
            fields.push((field.clone(), find(column)?));
        }
        let mut custom = Vec::new();
        for (key, column) in &matching.custom {
            custom.push((
                key.clone(),
                CustomType::of_key(key)?,
                find(column)?,
                column.clone(),
            ));
        }
        Ok(Self {
            columns: header.len(),
            email: find(&matching.email)?,
            fields,
            custom,
        })
    }

    /// The email of a row as written (trimmed), for reports.
    pub fn email_of<'a>(&self, row: &'a [&'a str]) -> &'a str {
        row.get(self.email).map_or("", |e| email::trim(e))
    }

    /// Maps one row; the contact has no list yet.
    pub fn map(&self, row: &[&str]) -> Result<Contact, RowProblem> {
        if row.len() != self.columns {
            return Err(RowProblem::new(
                "wrong_column_count",
                format!(
                    "the row has {} columns, the header has {}",
                    row.len(),
                    self.columns
                ),
            ));
        }
        let email = email::trim(row[self.email]);
        if email.is_empty() {
            return Err(RowProblem::new("missing_email", "the email is empty"));
        }
        let email = email::normalise(email).map_err(|why| RowProblem::new("invalid_email", why))?;
        let mut contact =
            Contact::new(&email).map_err(|e| RowProblem::new("missing_email", e.to_string()))?;
        for (field, idx) in &self.fields {
            let value = row[*idx].trim();
            contact = contact
                .with_field(field, value)
                .map_err(|e| RowProblem::new("invalid_value", e.to_string()))?;
        }
        for (key, kind, idx, column) in &self.custom {
            let text = row[*idx].trim();
            if text.is_empty() {
                continue;
            }
            let value = kind.convert(text).ok_or_else(|| {
                RowProblem::new(
                    "invalid_value",
                    format!("column '{column}' is not a {} as {key} needs", kind.name()),
                )
            })?;
            contact = contact
                .with_custom(key, value)
                .map_err(|e| RowProblem::new("invalid_value", e.to_string()))?;
        }
        Ok(contact)
    }
}

/// Says that `column` appears at several `positions` of the header (counted from 0).
fn repeated(column: &str, positions: &[usize]) -> String {
    let times = match positions.len() {
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    let mut numbers: Vec<String> = positions.iter().map(|i| (i + 1).to_string()).collect();
    let last = numbers.pop().unwrap_or_default();
    format!(
        "the column '{column}' appears {times} in the header (columns {} and {last}): rename one so the data matching is unambiguous",
        numbers.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn matching() -> DataMatching {
        DataMatching {
            email: "email".into(),
            first_name: Some("first".into()),
            last_name: None,
            fields: BTreeMap::from([("Company".into(), "Company".into())]),
            custom: BTreeMap::from([
                ("integer--Age".into(), "age".into()),
                ("boolean--VIP".into(), "vip".into()),
                ("date--Signup--Date".into(), "signup".into()),
                ("float--Score".into(), "score".into()),
            ]),
        }
    }

    fn header() -> Vec<String> {
        ["Email", "first", "company", "age", "vip", "signup", "score"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn maps_converts_and_drops_empty_values() {
        let mapper = RowMapper::new(&matching(), &header()).unwrap();
        let c = mapper
            .map(&[" Ann@X.io ", "Ann", "", "42", "Yes", "2026-01-31", "1.5"])
            .unwrap();
        assert_eq!(
            c.to_autopilot_json(),
            json!({"Email": "Ann@x.io", "FirstName": "Ann", "custom": {
                "integer--Age": 42, "boolean--VIP": true,
                "date--Signup--Date": "2026-01-31T00:00:00Z", "float--Score": 1.5}})
        );
    }

    #[test]
    fn the_email_sent_has_its_domain_in_ascii() {
        let mapper = RowMapper::new(&matching(), &header()).unwrap();
        let row = |email| [email, "", "", "", "", "", ""];
        let c = mapper.map(&row("Ü@Bücher.example")).unwrap();
        assert_eq!(c.email(), "Ü@xn--bcher-kva.example");
        let problem = mapper.map(&row("a@xn--a.example")).unwrap_err();
        assert_eq!(problem.code, "invalid_email");
        assert!(problem.message.contains("domain"), "{problem:?}");
    }

    #[test]
    fn row_problems() {
        let mapper = RowMapper::new(&matching(), &header()).unwrap();
        let table: [(&[&str], &str); 6] = [
            (&["a@x.io", "A"], "wrong_column_count"),
            (&["", "A", "", "", "", "", ""], "missing_email"),
            (&["not-an-email", "A", "", "", "", "", ""], "invalid_email"),
            (&["a@x.io", "A", "", "forty", "", "", ""], "invalid_value"),
            (&["a@x.io", "A", "", "", "maybe", "", ""], "invalid_value"),
            (
                &["a@x.io", "A", "", "", "", "31/01/2026", ""],
                "invalid_value",
            ),
        ];
        for (row, code) in table {
            assert_eq!(mapper.map(row).unwrap_err().code, code, "{row:?}");
        }
    }

    #[test]
    fn a_missing_column_is_named_and_the_first_row_never_repeated() {
        let mut m = matching();
        m.email = "e-mail".into();
        let err = RowMapper::new(&m, &header()).unwrap_err();
        assert_eq!(
            err,
            "the snapshot has no column 'e-mail': its first row holds 7 columns, none named so. If the file has no header row, add one naming the columns; else fix the data matching with `autopilot-export configure`"
        );
        let row: Vec<String> = ["ann.lee@example.com", "Ann", "Lee", "+44 20 7946 0018"]
            .map(String::from)
            .to_vec();
        let err = RowMapper::new(&matching(), &row).unwrap_err();
        assert!(
            err.contains("': its first row holds 4 columns, none"),
            "{err}"
        );
        for value in ["ann", "Ann", "Lee", "7946"] {
            assert!(!err.contains(value), "{value} repeated: {err}");
        }
        let err = RowMapper::new(&matching(), &row[..1]).unwrap_err();
        assert!(err.contains("its first row holds 1 column, none"), "{err}");
    }

    #[test]
    fn a_used_column_named_twice_is_refused() {
        let with = |extra: &str| {
            let mut h = header();
            h.push(extra.to_string());
            h
        };
        let err = RowMapper::new(&matching(), &with("Email")).unwrap_err();
        assert_eq!(
            err,
            "the column 'email' appears twice in the header (columns 1 and 8): rename one so the data matching is unambiguous"
        );
        for (extra, column) in [("first", "first"), ("age", "age"), ("COMPANY", "Company")] {
            let err = RowMapper::new(&matching(), &with(extra)).unwrap_err();
            assert!(
                err.contains(&format!("the column '{column}' appears twice")),
                "{err}"
            );
        }
        let mut h = with("EMAIL");
        h.push("eMail".into());
        let err = RowMapper::new(&matching(), &h).unwrap_err();
        assert!(
            err.contains("appears 3 times in the header (columns 1, 8 and 9)"),
            "{err}"
        );
        // Unused columns may repeat, and an exact name is not ambiguous with another spelling.
        assert!(RowMapper::new(&matching(), &with("notes")).is_ok());
        let mut h = with("notes");
        h.push("notes".into());
        assert!(RowMapper::new(&matching(), &h).is_ok());
        let mut m = matching();
        m.email = "Email".into();
        assert!(RowMapper::new(&m, &with("EMAIL")).is_ok());
    }

    #[test]
    fn mapping_checks() {
        assert!(validate(&matching()).is_ok());
        let mut m = matching();
        m.custom.insert("colour--Eyes".into(), "eyes".into());
        assert!(validate(&m).unwrap_err().contains("unknown type 'colour'"));
        let mut m = matching();
        m.fields.insert("unsubscribed".into(), "u".into());
        assert!(validate(&m).unwrap_err().contains("never sent"));
        let mut m = matching();
        m.fields.insert("Shoe".into(), "u".into());
        assert!(validate(&m).unwrap_err().contains("not a standard"));
    }

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2026-01-31T10:00:00+02:00").unwrap(),
            "2026-01-31T08:00:00Z"
        );
        assert_eq!(
            parse_date("2026-01-31 10:00:00").unwrap(),
            "2026-01-31T10:00:00Z"
        );
        assert!(parse_date("2026-02-30").is_none());
    }
}
