//! The checks a mapping passes before it is saved: known standard fields, well-formed custom
//! keys, no consent fields.

use super::CustomType;
use crate::contact::FORBIDDEN_FIELDS;
use crate::destination::DataMatching;

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
