//! A mapping resolved against a snapshot's header, and each row turned into a contact or the
//! reason it cannot be one.

use super::CustomType;
use crate::contact::Contact;
use crate::destination::DataMatching;
use crate::email;

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

/// Said of a row with more fields than the header names. Kept short: it is written with every
/// such row into rejected.csv, whose size an export bounds (docs/cli.md names the unload settings).
const UNQUOTED_SEPARATOR: &str =
    ": a value holding the separator is probably unquoted (unload with quotes, or read it with backslash escapes)";

/// A mapping resolved against one snapshot's header.
#[derive(Debug, Clone)]
pub struct RowMapper {
    pub(super) columns: usize,
    pub(super) email: usize,
    fields: Vec<(String, usize)>,
    custom: Vec<(String, CustomType, usize, String)>,
    /// The fields and custom fields in the order a contact holds them, for fingerprinting rows
    /// without building contacts; `None` when the mapping is unusual (a field named twice, a
    /// field never sent) and every row goes through [`RowMapper::map`].
    pub(super) quick: Option<super::quick::QuickFields>,
}

impl RowMapper {
    /// Finds each mapped column in `header` (exact name first, then ignoring case and spaces
    /// around it); a missing column is an error naming it and counting the header's cells (never
    /// quoting them), and a column found more than once (at the same step) is an error naming
    /// where, since nobody can tell which one was meant.
    pub fn new(matching: &DataMatching, header: &[String]) -> Result<Self, String> {
        let find = |column: &str| -> Result<usize, String> {
            let wanted = column.trim();
            let found = column_positions(header, wanted);
            match found[..] {
                [index] => Ok(index),
                // The header's cells are never repeated: in a file without a header row they
                // are a customer's data, and this message ends up in the report.
                [] => Err(format!(
                    "the snapshot has no column '{wanted}': its first row holds {} column{}, none named so. If the file has no header row (a warehouse unload often has none), name its columns in order with `autopilot-export configure DEST --columns a,b,c`; else fix the data matching with `autopilot-export configure`",
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
        let quick = super::quick::QuickFields::new(&fields, &custom);
        Ok(Self {
            columns: header.len(),
            email: find(&matching.email)?,
            fields,
            custom,
            quick,
        })
    }

    /// Which field of a row holds the email.
    pub fn email_column(&self) -> usize {
        self.email
    }

    /// The email of a row as written (trimmed), for reports.
    pub fn email_of<'a>(&self, row: &'a [&'a str]) -> &'a str {
        row.get(self.email).map_or("", |e| email::trim(e))
    }

    /// Maps one row; the contact has no list yet.
    pub fn map(&self, row: &[&str]) -> Result<Contact, RowProblem> {
        if row.len() != self.columns {
            // More fields than names is most often a value holding the separator, unquoted: what
            // an unload that escapes with backslashes (or not at all) instead of quoting writes.
            let hint = if row.len() > self.columns {
                UNQUOTED_SEPARATOR
            } else {
                ""
            };
            return Err(RowProblem::new(
                "wrong_column_count",
                format!(
                    "the row has {} columns, the header has {}{hint}",
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

/// Where the column named `column` is in `header`: the positions of the names equal to it
/// (trimmed), else of those equal to it ignoring case and spaces around them. One position is a
/// match; none or several are not.
pub fn column_positions(header: &[String], column: &str) -> Vec<usize> {
    let wanted = column.trim();
    let positions = |matches: &dyn Fn(&str) -> bool| -> Vec<usize> {
        (0..header.len()).filter(|&i| matches(&header[i])).collect()
    };
    let found = positions(&|h| h == wanted);
    if !found.is_empty() {
        return found;
    }
    positions(&|h| h.trim().eq_ignore_ascii_case(wanted))
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
