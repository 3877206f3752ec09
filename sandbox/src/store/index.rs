//! Contacts by address, ignoring case: a hash table of positions in the store's contacts, hashed
//! by the lower-case address, so no address is kept twice (a map from lower-case copies would
//! hold a million more strings, and a table of their 24-byte headers, for a million contacts).

use hashbrown::HashTable;
use std::borrow::Cow;
use std::hash::BuildHasher;

/// Positions of contacts by their address in lower case.
#[derive(Default)]
pub(crate) struct EmailIndex {
    table: HashTable<usize>,
    hasher: std::collections::hash_map::RandomState,
}

impl std::fmt::Debug for EmailIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmailIndex({} addresses)", self.table.len())
    }
}

/// An address in lower case, copied only when it has something to lower.
pub(crate) fn lower(email: &str) -> Cow<'_, str> {
    if email
        .bytes()
        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
    {
        Cow::Owned(email.to_lowercase())
    } else {
        Cow::Borrowed(email)
    }
}

impl EmailIndex {
    /// The position of the contact with this address (any case); `email_of` gives a position's
    /// address.
    pub fn find<'a>(&self, email: &str, email_of: impl Fn(usize) -> &'a str) -> Option<usize> {
        let key = lower(email);
        let hash = self.hasher.hash_one(&*key);
        self.table
            .find(hash, |&at| lower(email_of(at)) == key)
            .copied()
    }

    /// Forgets the position `at`, recorded under this address (any case); whether it was there.
    pub fn remove(&mut self, email: &str, at: usize) -> bool {
        let hash = self.hasher.hash_one(&*lower(email));
        match self.table.find_entry(hash, |&other| other == at) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    /// Records the position of a contact whose address (any case) is not in the index yet.
    pub fn insert<'a>(&mut self, email: &str, at: usize, email_of: impl Fn(usize) -> &'a str) {
        let hasher = &self.hasher;
        let hash = hasher.hash_one(&*lower(email));
        self.table
            .insert_unique(hash, at, |&other| hasher.hash_one(&*lower(email_of(other))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_found_in_any_case_and_only_those() {
        let emails: Vec<String> = (0..2000)
            .map(|i| match i % 3 {
                0 => format!("p{i}@x.io"),
                1 => format!("P{i}@X.io"),
                _ => format!("Ünï{i}@bücher.de"),
            })
            .collect();
        let mut index = EmailIndex::default();
        for (at, email) in emails.iter().enumerate() {
            index.insert(email, at, |i| &emails[i]);
        }
        for (at, email) in emails.iter().enumerate() {
            assert_eq!(index.find(&email.to_uppercase(), |i| &emails[i]), Some(at));
            assert_eq!(index.find(&email.to_lowercase(), |i| &emails[i]), Some(at));
        }
        assert_eq!(index.find("p2000@x.io", |i| &emails[i]), None);
        assert!(index.remove("P1@x.IO", 1));
        assert!(!index.remove("P1@x.IO", 1), "gone already");
        assert_eq!(index.find("p1@x.io", |i| &emails[i]), None);
        assert_eq!(
            index.find("p4@x.io", |i| &emails[i]),
            Some(4),
            "the others stay"
        );
        assert_eq!(index.find("p1@x.io.", |i| &emails[i]), None);
        assert_eq!(lower("a@b.co"), Cow::<str>::Borrowed("a@b.co"));
        assert_eq!(lower("ÜA@b.co"), "üa@b.co");
    }
}
