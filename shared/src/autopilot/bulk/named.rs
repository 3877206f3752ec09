//! The contacts an answer refusing a bulk write names: by a JSON path into the request
//! (`contacts[3]`, `contacts.3`, or an `index` field: positions from 0, as in the request's
//! array) or by address, anywhere in a JSON answer (messages, keys, nested errors).

use crate::contact::Contact;
use serde_json::Value;
use std::collections::BTreeSet;

/// Names read from one answer, at most this many of each kind.
const MAX_NAMES: usize = 200;
/// Nesting read into a JSON answer.
const MAX_DEPTH: usize = 8;

/// Contacts an answer refusing a bulk write names. It may hold addresses, so it never prints
/// them: its `Debug` says only how many names it holds.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Named {
    positions: BTreeSet<usize>,
    /// Lower-case.
    addresses: BTreeSet<String>,
}

impl std::fmt::Debug for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Named({} positions, {} addresses)",
            self.positions.len(),
            self.addresses.len()
        )
    }
}

impl Named {
    /// What the body of a refusing answer names; nothing unless it is JSON.
    pub(crate) fn from_answer(bytes: &[u8]) -> Self {
        let mut named = Self::default();
        if let Ok(value) = serde_json::from_slice::<Value>(bytes) {
            named.read(&value, 0);
        }
        named
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty() && self.addresses.is_empty()
    }

    /// The positions in `request` (the contacts of the refused request, in order) of the
    /// contacts named, ascending; empty when it names none of them.
    pub(crate) fn within(&self, request: &[&Contact]) -> Vec<usize> {
        (0..request.len())
            .filter(|at| {
                self.positions.contains(at)
                    || (!self.addresses.is_empty()
                        && self
                            .addresses
                            .contains(&request[*at].email().to_lowercase()))
            })
            .collect()
    }

    fn read(&mut self, value: &Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::String(text) => self.read_text(text),
            Value::Array(items) => items.iter().for_each(|v| self.read(v, depth + 1)),
            Value::Object(fields) => {
                for (key, v) in fields {
                    self.read_text(key);
                    match v.as_u64() {
                        Some(n) if key.eq_ignore_ascii_case("index") => self.position(n),
                        _ => self.read(v, depth + 1),
                    }
                }
            }
            _ => {}
        }
    }

    fn read_text(&mut self, text: &str) {
        let separator = |c: char| c.is_whitespace() || "\"'`<>()[]{},;:".contains(c);
        for word in text.split(separator) {
            let word = word.trim_end_matches('.');
            if let Some(at) = word.rfind('@') {
                if at > 0 && word[at..].contains('.') && self.addresses.len() < MAX_NAMES {
                    self.addresses.insert(word.to_lowercase());
                }
            }
        }
        let lower = text.to_ascii_lowercase();
        for (start, _) in lower.match_indices("contacts") {
            let rest = &lower[start + "contacts".len()..];
            let digits = rest
                .strip_prefix('[')
                .or_else(|| rest.strip_prefix('.'))
                .map(|r| r.split(|c: char| !c.is_ascii_digit()).next().unwrap_or(""));
            if let Some(n) = digits.and_then(|d| d.parse().ok()) {
                self.position(n);
            }
        }
    }

    fn position(&mut self, n: u64) {
        if let Ok(n) = usize::try_from(n) {
            if self.positions.len() < MAX_NAMES {
                self.positions.insert(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contacts(emails: &[&str]) -> Vec<Contact> {
        emails.iter().map(|e| Contact::new(e).unwrap()).collect()
    }

    fn named_in(body: &str, request: &[Contact]) -> Vec<usize> {
        let request: Vec<&Contact> = request.iter().collect();
        Named::from_answer(body.as_bytes()).within(&request)
    }

    #[test]
    fn positions_and_addresses_name_contacts_of_the_request() {
        let request = contacts(&["ann@x.io", "Bob@Y.io", "cy@z.io"]);
        let table = [
            (r#"{"message":"contacts[2]: bad email"}"#, vec![2]),
            (r#"{"error":{"path":"contacts.1.Email"}}"#, vec![1]),
            (r#"{"errors":[{"index":0,"code":"x"}]}"#, vec![0]),
            (r#"{"message":"Invalid email: bob@y.io."}"#, vec![1]),
            (
                r#"{"message":"<ANN@X.IO> and \"cy@z.io\" refused"}"#,
                vec![0, 2],
            ),
            // Names outside the request, or no names at all: nobody.
            (r#"{"message":"contacts[7] is bad; dan@x.io too"}"#, vec![]),
            (
                r#"{"error":"Bad Request","message":"invalid contact"}"#,
                vec![],
            ),
            (
                r#"{"message":"see @handle or contacts[] or contacts.x"}"#,
                vec![],
            ),
            ("contacts[1] as plain text", vec![]),
            ("<html>contacts[1]</html>", vec![]),
        ];
        for (body, expected) in table {
            assert_eq!(named_in(body, &request), expected, "{body}");
        }
    }

    #[test]
    fn names_are_never_printed() {
        let named = Named::from_answer(br#"{"message":"ann@x.io is refused (contacts[0])"}"#);
        assert!(!named.is_empty());
        let shown = format!("{named:?}");
        assert_eq!(shown, "Named(1 positions, 1 addresses)");
        assert!(Named::from_answer(b"{}").is_empty());
    }

    #[test]
    fn a_hostile_answer_is_read_within_bounds() {
        let many: Vec<String> = (0..1000)
            .map(|i| format!("contacts[{i}] u{i}@x.io"))
            .collect();
        let body = serde_json::json!({ "message": many.join(" ") }).to_string();
        let named = Named::from_answer(body.as_bytes());
        assert_eq!(format!("{named:?}"), "Named(200 positions, 200 addresses)");
        let deep = format!("{}\"contacts[0]\"{}", "[".repeat(100), "]".repeat(100));
        assert!(Named::from_answer(deep.as_bytes()).is_empty());
        let huge = format!(r#"{{"index": {}}}"#, u64::MAX);
        let request = contacts(&["ann@x.io"]);
        assert!(named_in(&huge, &request).is_empty());
    }
}
