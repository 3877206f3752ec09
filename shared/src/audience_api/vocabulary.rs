//! An API's words, as data matching and messages need them ([`Vocabulary`]): its name, what it
//! calls an audience, the standard fields a column can be matched to, and the fields this
//! connector never sends it. Data matching is written the same way whatever the API (standard
//! fields by Autopilot's names, custom fields as `type--Name`); each implementation turns it
//! into its own fields.

use super::ApiKind;
use crate::destination::DataMatching;
use crate::field_mapping::CustomType;

/// An API's words.
#[derive(Debug, PartialEq, Eq)]
pub struct Vocabulary {
    /// Its name: "Autopilot".
    pub api: &'static str,
    /// What it calls an audience: "list".
    pub audience: &'static str,
    /// The reason code of a contact it refused, in `rejected.csv` (`rejected_by_autopilot`):
    /// users' scripts parse it, so it never changes for an API.
    pub rejected_reason: &'static str,
    /// The standard fields a column can be matched to (the email has its own place).
    pub standard_fields: &'static [&'static str],
    /// Fields this connector never sends it, whatever the mapping says: consent belongs to the
    /// contact (Autopilot: `unsubscribed`; Ortto: `bol::p`, `bol::sp`, `bol::gdpr` and their
    /// context fields), and so does a change of address (`_NewEmail`).
    pub never_sent: &'static [&'static str],
    /// What to do once in the tool before an exported segment can be used, if anything (Ortto:
    /// build an audience on the segment's tag); pages show it where segments are chosen and read
    /// back.
    pub one_time_step: Option<&'static str>,
}

impl Vocabulary {
    /// Whether `field` is one this connector never sends to this API (case ignored).
    pub fn never_sends(&self, field: &str) -> bool {
        self.never_sent
            .iter()
            .any(|f| f.eq_ignore_ascii_case(field))
    }

    /// Checks a mapping against this API before it is saved: the email column given, known
    /// standard fields, well-formed custom keys, no field it never receives. The message says
    /// what to change.
    pub fn check(&self, matching: &DataMatching) -> Result<(), String> {
        if matching.email.trim().is_empty() {
            return Err("the email column is required: pass --email-field COLUMN".into());
        }
        for field in matching.fields.keys() {
            if never_sent_anywhere(field) {
                return Err(format!("the field '{field}' is never sent: consent and email changes belong to the contact"));
            }
            if !self.standard_fields.contains(&field.as_str()) {
                return Err(format!(
                    "'{field}' is not a standard {} field; use one of {} or a custom field (--custom 'string--{field}=COLUMN')",
                    self.api,
                    self.standard_fields.join(", ")
                ));
            }
        }
        for key in matching.custom.keys() {
            if never_sent_anywhere(key) {
                return Err(format!("the field '{key}' is never sent: consent and email changes belong to the contact"));
            }
            CustomType::of_key(key)?;
        }
        Ok(())
    }
}

/// Whether `field` is never sent to any API: what a contact refuses to hold at all.
pub fn never_sent_anywhere(field: &str) -> bool {
    ApiKind::ALL
        .iter()
        .any(|kind| kind.vocabulary().never_sends(field))
}
