//! A segment's contacts as the baseline holds them, in memory as on disk: fixed-width records
//! sorted by the key hash of each address ([`super::key_hash`], then the contact's fingerprint:
//! 16 bytes a profile), then the addresses in the same order (a 2-byte length, then the bytes).
//!
//! Nothing is unpacked into a map when a baseline is read: a plan finds a profile by its key
//! hash through a [`HashIndex`] (one table of starting positions, about one probe per lookup),
//! and reads addresses only for the members it takes off a list. The bytes are shared, so handing
//! them to the thread that parses a snapshot copies nothing (nor does taking over a built or
//! decompressed buffer: [`Bytes`] keeps the vector's own allocation). Changes (a failed export's
//! ledger, a refused contact) go through [`Members::to_map`] and back, which only those rarer
//! paths pay for.
//!
//! Stored compressed ([`super::compact`]); a baseline written before holds a JSON object of
//! address → fingerprint, read through [`FromIterator`].

use bytes::Bytes;
use std::collections::HashMap;
use std::fmt;

/// Bytes of one record: key hash and fingerprint.
pub const RECORD: usize = 16;
/// Bytes of the count that starts the form.
const COUNT: usize = 8;

/// Why bytes are not a segment's contacts.
pub const BROKEN: &str = "the baseline's contacts are cut short or damaged";

/// A segment's contacts: lower-cased address → fingerprint of what was sent.
#[derive(Clone)]
pub struct Members {
    /// The form described in the module doc.
    bytes: Bytes,
    count: usize,
}

impl Default for Members {
    fn default() -> Self {
        Self::build(Vec::new())
    }
}

impl PartialEq for Members {
    fn eq(&self, other: &Self) -> bool {
        // A baseline shared unchanged is the same buffer: no need to compare it byte by byte.
        (self.bytes.as_ptr() == other.bytes.as_ptr() && self.bytes.len() == other.bytes.len())
            || self.bytes == other.bytes
    }
}

impl fmt::Debug for Members {
    /// Counts only: the addresses are personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Members({} contacts)", self.count)
    }
}

impl Members {
    /// Builds the form from `(key hash, fingerprint, address)`, in any order; of two entries with
    /// one key hash, the first given is kept.
    pub fn build(mut entries: Vec<(u64, u64, &str)>) -> Self {
        // Stable: the first of equal hashes stays first, and is the one kept.
        entries.sort_by_key(|(hash, _, _)| *hash);
        entries.dedup_by_key(|(hash, _, _)| *hash);
        let addresses: usize = entries
            .iter()
            .map(|(_, _, e)| e.len().min(MAX_LEN) + 2)
            .sum();
        let mut out = Vec::with_capacity(COUNT + entries.len() * RECORD + addresses);
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        for (hash, fp, _) in &entries {
            out.extend_from_slice(&hash.to_le_bytes());
            out.extend_from_slice(&fp.to_le_bytes());
        }
        for (_, _, email) in &entries {
            let bytes = cut(email);
            out.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Self {
            count: entries.len(),
            bytes: Bytes::from(out),
        }
    }

    /// A new set made of the records `keep` keeps (with the fingerprint it gives; asked once per
    /// record) and `added` (key hash, fingerprint, address; of a hash also kept, the kept record
    /// wins; of a hash added twice, the first given). Written straight into the new form in two
    /// merged passes over the records — the records, then the addresses — so nothing is looked
    /// up and nothing but the result (and a flag a record) is allocated.
    pub fn rebuilt(
        &self,
        mut keep: impl FnMut(usize) -> Option<u64>,
        mut added: Vec<(u64, u64, String)>,
    ) -> Self {
        // Stable: of two added with one hash, the first given stays first, and is the one kept.
        added.sort_by_key(|(hash, _, _)| *hash);
        added.dedup_by_key(|(hash, _, _)| *hash);
        let extra_bytes: usize = added.iter().map(|(_, _, e)| cut(e).len() + 2).sum();
        let mut out = Vec::with_capacity(
            COUNT + (self.count + added.len()) * RECORD + self.address_bytes().len() + extra_bytes,
        );
        out.extend_from_slice(&0u64.to_le_bytes());
        let mut kept = vec![false; self.count];
        let mut skipped = vec![false; added.len()];
        let mut count = 0usize;
        let mut record = |out: &mut Vec<u8>, hash: u64, fp: u64| {
            out.extend_from_slice(&hash.to_le_bytes());
            out.extend_from_slice(&fp.to_le_bytes());
            count += 1;
        };
        let mut next = 0;
        for (i, flag) in kept.iter_mut().enumerate() {
            let hash = self.hash_at(i);
            while next < added.len() && added[next].0 < hash {
                record(&mut out, added[next].0, added[next].1);
                next += 1;
            }
            if let Some(fp) = keep(i) {
                *flag = true;
                record(&mut out, hash, fp);
                while next < added.len() && added[next].0 == hash {
                    skipped[next] = true;
                    next += 1;
                }
            }
        }
        for (hash, fp, _) in &added[next..] {
            record(&mut out, *hash, *fp);
        }
        let address = |out: &mut Vec<u8>, email: &[u8]| {
            out.extend_from_slice(&(email.len() as u16).to_le_bytes());
            out.extend_from_slice(email);
        };
        let mut next = 0;
        for (i, (email, _)) in self.iter().enumerate() {
            let hash = self.hash_at(i);
            while next < added.len() && (added[next].0 < hash || (kept[i] && added[next].0 == hash))
            {
                if !skipped[next] {
                    address(&mut out, cut(&added[next].2));
                }
                next += 1;
            }
            if kept[i] {
                address(&mut out, email.as_bytes());
            }
        }
        for (j, (_, _, email)) in added.iter().enumerate().skip(next) {
            if !skipped[j] {
                address(&mut out, cut(email));
            }
        }
        out[..COUNT].copy_from_slice(&(count as u64).to_le_bytes());
        Self {
            count,
            bytes: Bytes::from(out),
        }
    }

    /// Reads the form, checking all of it: a count that fits, records sorted by hash, every
    /// address there and UTF-8, nothing after the last.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, &'static str> {
        let count = bytes
            .get(..COUNT)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(BROKEN)?;
        count
            .checked_mul(RECORD)
            .and_then(|n| n.checked_add(COUNT))
            .filter(|end| *end <= bytes.len())
            .ok_or(BROKEN)?;
        let members = Self {
            count,
            bytes: Bytes::from(bytes),
        };
        let sorted = (1..count).all(|i| members.hash_at(i - 1) <= members.hash_at(i));
        let mut rest = members.address_bytes();
        for _ in 0..count {
            let (email, after) = next_address(rest).ok_or(BROKEN)?;
            std::str::from_utf8(email).map_err(|_| BROKEN)?;
            rest = after;
        }
        if !sorted || !rest.is_empty() {
            return Err(BROKEN);
        }
        Ok(members)
    }

    /// The form's bytes, as [`Members::from_bytes`] reads them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The key hash of the `i`-th record.
    pub fn hash_at(&self, i: usize) -> u64 {
        self.word(COUNT + i * RECORD)
    }

    /// The fingerprint of the `i`-th record.
    pub fn fingerprint_at(&self, i: usize) -> u64 {
        self.word(COUNT + i * RECORD + 8)
    }

    fn word(&self, at: usize) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.bytes[at..at + 8]);
        u64::from_le_bytes(word)
    }

    /// The position of the record of `hash`.
    pub fn position(&self, hash: u64) -> Option<usize> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.hash_at(mid).cmp(&hash) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The fingerprint of `email` (lower-cased), if it is one of the contacts.
    pub fn get(&self, email: &str) -> Option<u64> {
        self.position(super::key_hash(email))
            .map(|i| self.fingerprint_at(i))
    }

    pub fn contains(&self, email: &str) -> bool {
        self.position(super::key_hash(email)).is_some()
    }

    /// Every contact in record order: address and fingerprint.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        let mut rest = self.address_bytes();
        (0..self.count).map(move |i| {
            // Checked when read: every address is there and UTF-8.
            let (email, after) = next_address(rest).unwrap_or((&[], &[]));
            rest = after;
            (
                std::str::from_utf8(email).unwrap_or(""),
                self.fingerprint_at(i),
            )
        })
    }

    /// Every address in record order.
    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().map(|(email, _)| email)
    }

    /// The contacts as a map, for the paths that change a few of them.
    pub fn to_map(&self) -> HashMap<String, u64> {
        self.iter().map(|(e, fp)| (e.to_string(), fp)).collect()
    }

    /// A table to find records by key hash in about one probe.
    pub fn index(&self) -> HashIndex<'_> {
        HashIndex::new(self)
    }

    fn address_bytes(&self) -> &[u8] {
        &self.bytes[COUNT + self.count * RECORD..]
    }
}

impl FromIterator<(String, u64)> for Members {
    fn from_iter<I: IntoIterator<Item = (String, u64)>>(iter: I) -> Self {
        // The addresses are moved, not copied, into the merge that writes the form.
        let added = iter
            .into_iter()
            .map(|(email, fp)| (super::key_hash(&email), fp, email))
            .collect();
        Self::default().rebuilt(|_| None, added)
    }
}

impl From<HashMap<String, u64>> for Members {
    fn from(map: HashMap<String, u64>) -> Self {
        map.into_iter().collect()
    }
}

/// An address is at most 254 bytes ([`crate::email::check`]); longer text is cut to what the
/// length field holds, at a character boundary.
const MAX_LEN: usize = u16::MAX as usize;

fn cut(email: &str) -> &[u8] {
    let mut end = email.len().min(MAX_LEN);
    while !email.is_char_boundary(end) {
        end -= 1;
    }
    &email.as_bytes()[..end]
}

/// The next address of the address section and what follows it.
fn next_address(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = rest
        .get(..2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)?;
    let email = rest.get(2..2 + len)?;
    Some((email, &rest[2 + len..]))
}

/// Finds records by key hash: the hashes are sorted and spread evenly, so the top bits of a hash
/// say where its record starts, give or take the few that share them.
pub struct HashIndex<'a> {
    members: &'a Members,
    /// Where the records whose hash starts with each `bits`-bit prefix begin (one more at the end).
    starts: Vec<u32>,
    shift: u32,
}

impl<'a> HashIndex<'a> {
    fn new(members: &'a Members) -> Self {
        // About one record per slot; at least one slot.
        let bits = (members.count.max(1).next_power_of_two().trailing_zeros()).clamp(1, 31);
        let shift = 64 - bits;
        let slots = 1usize << bits;
        let mut starts = vec![0u32; slots + 1];
        let mut at = 0usize;
        for (slot, start) in starts.iter_mut().enumerate() {
            while at < members.count && ((members.hash_at(at) >> shift) as usize) < slot {
                at += 1;
            }
            *start = at as u32;
        }
        Self {
            members,
            starts,
            shift,
        }
    }

    /// The position of the record of `hash`.
    pub fn position(&self, hash: u64) -> Option<usize> {
        let slot = (hash >> self.shift) as usize;
        let (from, to) = (self.starts[slot] as usize, self.starts[slot + 1] as usize);
        (from..to).find(|&i| self.members.hash_at(i) == hash)
    }
}

#[cfg(test)]
mod tests;
