//! A row's fingerprint without its contact: what [`crate::baseline::fingerprint`] gives for the
//! contact [`RowMapper::map`] would make of the row, or nothing when the row would not make one.
//! The text [`Fingerprint`] hashes is written into a buffer the caller reuses from row to row and
//! hashed in one call ([`Fingerprint::of_text`]), custom values as JSON straight from the cell: a
//! row costs no allocation.

use super::{CustomType, RowMapper};
use crate::audience_api::never_sent_anywhere;
use crate::baseline::Fingerprint;
use crate::email;

/// The mapping's fields in the order a contact holds them (by name), each with the text that
/// precedes its value in the fingerprinted text.
#[derive(Debug, Clone)]
pub(crate) struct QuickFields {
    /// `\u{1}name\u{2}` and the column.
    fields: Vec<(Vec<u8>, usize)>,
    /// `\u{3}key\u{2}`, the type and the column.
    custom: Vec<(Vec<u8>, CustomType, usize)>,
}

/// `str::trim`, without decoding characters when the value begins and ends with visible ASCII
/// (most cells do).
fn trim(value: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    let bytes = value.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        value
    } else {
        value.trim()
    }
}

/// `mark name \u{2}`: what precedes a value in the fingerprinted text.
fn lead(mark: u8, name: &str) -> Vec<u8> {
    [&[mark][..], name.as_bytes(), &[2]].concat()
}

impl QuickFields {
    /// `None` when [`RowMapper::map`] does something this does not: a name given twice (the last
    /// non-empty value wins there) or a field that is never sent (an error there).
    pub(super) fn new(
        fields: &[(String, usize)],
        custom: &[(String, CustomType, usize, String)],
    ) -> Option<Self> {
        let forbidden = never_sent_anywhere;
        let mut sorted: Vec<(String, usize)> = fields
            .iter()
            .filter(|(name, _)| name != "Email")
            .cloned()
            .collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        let mut keys: Vec<(String, CustomType, usize)> = custom
            .iter()
            .map(|(key, kind, index, _)| (key.clone(), *kind, *index))
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let repeated = sorted.windows(2).any(|w| w[0].0 == w[1].0)
            || keys.windows(2).any(|w| w[0].0 == w[1].0);
        let unusual = fields.iter().any(|(name, _)| forbidden(name))
            || keys.iter().any(|(key, _, _)| forbidden(key));
        (!repeated && !unusual).then(|| Self {
            fields: sorted
                .into_iter()
                .map(|(name, index)| (lead(1, &name), index))
                .collect(),
            custom: keys
                .into_iter()
                .map(|(key, kind, index)| (lead(3, &key), kind, index))
                .collect(),
        })
    }
}

impl RowMapper {
    /// The fingerprint of the contact [`RowMapper::map`] makes of `row`; `None` when it makes
    /// none (the row is refused) or the mapping is unusual: then ask `map`.
    pub fn fingerprint(&self, row: &[&str]) -> Option<u64> {
        let email = email::trim(row.get(self.email)?);
        if email.is_empty() {
            return None;
        }
        self.fingerprint_normalised(row, &email::normalise_cow(email).ok()?, &mut Vec::new())
    }

    /// [`RowMapper::fingerprint`] of a row whose address the caller already normalised
    /// ([`email::normalise`] of [`RowMapper::email_of`]): `email` must be that address. `text`
    /// is scratch room, reused from row to row.
    pub fn fingerprint_normalised(
        &self,
        row: &[&str],
        email: &str,
        text: &mut Vec<u8>,
    ) -> Option<u64> {
        let quick = self.quick.as_ref()?;
        if row.len() != self.columns {
            return None;
        }
        text.clear();
        text.extend_from_slice(trim(email).as_bytes());
        for (lead, index) in &quick.fields {
            let value = trim(row[*index]);
            if !value.is_empty() {
                text.extend_from_slice(lead);
                text.extend_from_slice(value.as_bytes());
            }
        }
        for (lead, kind, index) in &quick.custom {
            let value = trim(row[*index]);
            if !value.is_empty() {
                text.extend_from_slice(lead);
                kind.write_json(value, text)?;
            }
        }
        Some(Fingerprint::of_text(text))
    }
}

#[cfg(test)]
mod tests {
    use crate::baseline::fingerprint;
    use crate::destination::DataMatching;
    use crate::field_mapping::RowMapper;
    use std::collections::BTreeMap;

    fn matching() -> DataMatching {
        DataMatching {
            email: "email".into(),
            first_name: Some("first".into()),
            last_name: Some("last".into()),
            fields: BTreeMap::from([("Company".into(), "company".into())]),
            custom: BTreeMap::from([
                ("integer--Age".into(), "age".into()),
                ("string--Loyalty--Tier".into(), "tier".into()),
                ("date--Signup--Date".into(), "signup".into()),
                ("boolean--Vip".into(), "vip".into()),
                ("float--Score".into(), "score".into()),
            ]),
        }
    }

    const HEADER: [&str; 9] = [
        "email", "first", "last", "company", "age", "tier", "signup", "vip", "score",
    ];

    /// Every row: the quick fingerprint is the contact's, or absent exactly when `map` refuses;
    /// the same through a buffer that still holds the row before's text.
    fn agrees(mapper: &RowMapper, row: &[&str], text: &mut Vec<u8>) {
        let quick = mapper.fingerprint(row);
        if let Ok(email) = crate::email::normalise(mapper.email_of(row)) {
            assert_eq!(mapper.fingerprint_normalised(row, &email, text), quick);
        }
        match (mapper.map(row), quick) {
            (Ok(contact), Some(fp)) => assert_eq!(fp, fingerprint(&contact), "{row:?}"),
            (Err(_), None) => {}
            (mapped, quick) => panic!("{row:?}: map {mapped:?}, quick {quick:?}"),
        }
    }

    #[test]
    fn a_rows_quick_fingerprint_is_its_contacts() {
        let header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
        let mapper = RowMapper::new(&matching(), &header).unwrap();
        let emails = [
            " Ann@Example.COM ",
            "b@bücher.example",
            "",
            "no-at",
            "c@x",
            "\u{200b}d@x.io",
        ];
        let values = [
            "",
            " Ann ",
            "Zoë \"Z\"",
            "30",
            "-4",
            "x",
            "2024-03-15",
            "2024-03-15T10:00:00+02:00",
            "yes",
            "0",
            "1.5",
            "NaN",
            "\\",
            "\t",
        ];
        let mut n = 0usize;
        let mut text = Vec::new();
        for email in emails {
            for (i, a) in values.iter().enumerate() {
                for b in values.iter().skip(i % 3).step_by(2) {
                    let row = [email, a, b, a, a, b, b, a, b];
                    agrees(&mapper, &row, &mut text);
                    agrees(&mapper, &row[..8], &mut text);
                    n += 1;
                }
            }
        }
        assert!(n > 200);
    }

    #[test]
    fn an_unusual_mapping_is_left_to_map() {
        let header: Vec<String> = HEADER.iter().map(|s| s.to_string()).collect();
        let mut twice = matching();
        twice.fields.insert("FirstName".into(), "company".into());
        let mapper = RowMapper::new(&twice, &header).unwrap();
        let row = ["a@x.io", "Ann", "Lee", "", "", "", "", "", ""];
        assert_eq!(mapper.fingerprint(&row), None);
        assert!(mapper.map(&row).is_ok());
    }
}
