//! A row's fingerprint without its contact: what [`crate::baseline::fingerprint`] gives for the
//! contact [`RowMapper::map`] would make of the row, or nothing when the row would not make one.
//! An unchanged profile — most of a scheduled refresh — then costs no allocation but its address
//! and its text custom values.

use super::{CustomType, RowMapper};
use crate::audience_api::never_sent_anywhere;
use crate::baseline::Fingerprint;
use crate::email;

/// The mapping's fields in the order a contact holds them (by name).
#[derive(Debug, Clone)]
pub(crate) struct QuickFields {
    fields: Vec<(String, usize)>,
    custom: Vec<(String, CustomType, usize)>,
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
        (!repeated && !unusual).then_some(Self {
            fields: sorted,
            custom: keys,
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
        self.fingerprint_normalised(row, &email::normalise(email).ok()?)
    }

    /// [`RowMapper::fingerprint`] of a row whose address the caller already normalised
    /// ([`email::normalise`] of [`RowMapper::email_of`]): `email` must be that address.
    pub fn fingerprint_normalised(&self, row: &[&str], email: &str) -> Option<u64> {
        let quick = self.quick.as_ref()?;
        if row.len() != self.columns {
            return None;
        }
        let mut fp = Fingerprint::new(email.trim());
        for (name, index) in &quick.fields {
            let value = row[*index].trim();
            if !value.is_empty() {
                fp.field(name, value);
            }
        }
        for (key, kind, index) in &quick.custom {
            let text = row[*index].trim();
            if !text.is_empty() {
                fp.custom(key, &kind.convert(text)?);
            }
        }
        Some(fp.finish())
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

    /// Every row: the quick fingerprint is the contact's, or absent exactly when `map` refuses.
    fn agrees(mapper: &RowMapper, row: &[&str]) {
        match (mapper.map(row), mapper.fingerprint(row)) {
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
        for email in emails {
            for (i, a) in values.iter().enumerate() {
                for b in values.iter().skip(i % 3).step_by(2) {
                    let row = [email, a, b, a, a, b, b, a, b];
                    agrees(&mapper, &row);
                    agrees(&mapper, &row[..8]);
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
