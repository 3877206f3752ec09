//! Custom fields: the type named by a `type--Name` key, and a text value converted to it (dates
//! to RFC 3339 in UTC).

use chrono::{NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde_json::Value;

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

    pub(super) fn name(self) -> &'static str {
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
pub(super) fn parse_date(text: &str) -> Option<String> {
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
