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
            Self::Boolean => boolean(text).map(Value::Bool),
            Self::Date => parse_date(text).map(Value::String),
        }
    }

    /// Appends to `out` the JSON text of what [`CustomType::convert`] makes of `text` (as
    /// `serde_json` writes that value), without building the value when it is text, a whole
    /// number, a boolean or a plain date; `None` when `text` does not fit (`out` may then hold
    /// part of it).
    pub(super) fn write_json(self, text: &str, out: &mut Vec<u8>) -> Option<()> {
        match self {
            Self::String => serde_json::to_writer(&mut *out, text).ok(),
            Self::Integer => serde_json::to_writer(&mut *out, &text.parse::<i64>().ok()?).ok(),
            Self::Boolean => {
                let value: &[u8] = if boolean(text)? { b"true" } else { b"false" };
                out.extend_from_slice(value);
                Some(())
            }
            // Digits and dashes need no escaping.
            Self::Date if is_plain_date(text) => {
                out.push(b'"');
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(MIDNIGHT.as_bytes());
                out.push(b'"');
                Some(())
            }
            Self::Float | Self::Date => serde_json::to_writer(&mut *out, &self.convert(text)?).ok(),
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

/// A true/false value as people write one, in any case.
fn boolean(text: &str) -> Option<bool> {
    let is = |words: [&str; 4]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if is(["true", "yes", "y", "1"]) {
        Some(true)
    } else if is(["false", "no", "n", "0"]) {
        Some(false)
    } else {
        None
    }
}

/// What a plain date is followed by in its RFC 3339 form.
const MIDNIGHT: &str = "T00:00:00Z";

/// A date or date-time as contacts hold it: RFC 3339 in UTC.
pub(super) fn parse_date(text: &str) -> Option<String> {
    if let Some(date) = plain_date(text) {
        return Some(date);
    }
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

/// The commonest form, `YYYY-MM-DD` with every digit written, read without a format string
/// (snapshots hold one date a row or more): what [`parse_date`]'s formats make of it, or `None`
/// to let them decide.
fn plain_date(text: &str) -> Option<String> {
    if !is_plain_date(text) {
        return None;
    }
    // The digits as written (all of them are), then midnight UTC.
    let mut date = String::with_capacity(20);
    date.push_str(text);
    date.push_str(MIDNIGHT);
    Some(date)
}

/// Whether `text` is a valid date written `YYYY-MM-DD`, every digit present.
fn is_plain_date(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10)) else {
        return false;
    };
    // The proleptic Gregorian calendar, as chrono's: every year of four digits is in its range.
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The formats alone, as dates were read before the plain form was read by hand.
    fn by_formats(text: &str) -> Option<String> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|dt| {
                Utc.from_utc_datetime(&dt)
                    .to_rfc3339_opts(SecondsFormat::Secs, true)
            })
    }

    #[test]
    fn plain_dates_read_as_the_formats_read_them() {
        let mut checked = 0;
        for year in [0, 1, 4, 100, 999, 1600, 1900, 1970, 2000, 2024, 2100, 9999] {
            for month in 0..=13 {
                for day in [0, 1, 9, 28, 29, 30, 31, 32] {
                    let text = format!("{year:04}-{month:02}-{day:02}");
                    assert_eq!(plain_date(&text), by_formats(&text), "{text}");
                    assert_eq!(parse_date(&text), by_formats(&text), "{text}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 800);
        for text in [
            "2024-3-15",
            "2024-03-5",
            "+2024-03-15",
            "2024/03/15",
            "２０２４-03-15",
        ] {
            assert_eq!(plain_date(text), None, "{text}");
        }
        assert_eq!(parse_date("2024-3-5"), by_formats("2024-3-5"));
    }

    #[test]
    fn values_written_as_json_are_those_converted() {
        let texts = [
            "0",
            "1",
            "-4",
            "+7",
            "9223372036854775807",
            "9223372036854775808",
            "1.5",
            "1e3",
            "NaN",
            "inf",
            "-0.0",
            "yes",
            "YES",
            "y",
            "No",
            "n",
            "TRUE",
            "False",
            "truthy",
            "x",
            "Zoë \"Z\" \\ \u{1}\n\u{7f}",
            "2024-03-15",
            "2024-02-30",
            "0000-01-01",
            "2024-03-15T10:00:00+02:00",
            "2024-03-15 10:00:00",
            "2024-3-5",
            "２０２４-03-15",
        ];
        let kinds = [
            CustomType::String,
            CustomType::Integer,
            CustomType::Float,
            CustomType::Boolean,
            CustomType::Date,
        ];
        let mut fits = 0;
        for kind in kinds {
            for text in texts {
                let mut written = b"before ".to_vec();
                let converted = kind.convert(text).map(|v| {
                    fits += 1;
                    [&b"before "[..], &serde_json::to_vec(&v).unwrap()].concat()
                });
                let outcome = kind.write_json(text, &mut written).map(|()| written);
                assert_eq!(outcome, converted, "{kind:?} {text:?}");
            }
        }
        assert!(fits > 30, "{fits}");
    }
}
