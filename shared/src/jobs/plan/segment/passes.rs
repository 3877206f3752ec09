//! A batch of rows handled in passes, each over every row in order. The first works out each
//! row's address and key hash; the second finds them in the baseline; the third checks each row
//! (its fingerprint, or its contact, or why it is refused); the fourth, in one tight loop, marks
//! the baseline's records named and tells each row's profile seen first from a duplicate — the
//! only pass that changes the tables of profiles; the last ([`Scanner::settle`]) counts, compares
//! and sends. A row alone goes through the same passes ([`Scanner::row`]).
//!
//! Why passes: the tables of a million profiles are far larger than a cache, and a lookup in one
//! waits for memory. Made one row after the other, between the checking of rows, every lookup
//! waited on its own (a third of the handling of a Parquet file's rows went to inserting into the
//! set of everyone); made in a tight loop, the lookups of a batch wait together.

use super::{Scanner, NAMED, VALID};
use crate::baseline;
use crate::contact::Contact;
use crate::email;
use crate::field_mapping::{RowMapper, RowProblem};
use crate::jobs::JobError;
use crate::snapshot::Rows;
use std::borrow::Cow;

/// A row's address, worked out before anything else.
pub(super) struct Identity<'b> {
    /// As written, trimmed.
    email: &'b str,
    /// As it would be sent: `None` when empty or refused.
    normalised: Option<Cow<'b, str>>,
    /// The hash of its dedupe key ([`baseline::key_hash`]): `None` when empty.
    pub(super) hash: Option<u64>,
}

/// What the passes before the last found of a row.
pub(super) struct Looked<'b> {
    /// Its address as written, trimmed.
    pub(super) email: &'b str,
    /// Its address as it would be sent: `None` when empty or refused.
    pub(super) normalised: Option<Cow<'b, str>>,
    /// The hash of its dedupe key: `None` when empty.
    pub(super) hash: Option<u64>,
    /// Its record in the baseline.
    pub(super) known: Option<usize>,
    /// Its fingerprint and, when it was built, its contact; or why it is refused.
    pub(super) checked: Result<(Option<Contact>, u64), RowProblem>,
    /// Whether it is the segment's first valid row of its profile.
    pub(super) first: bool,
    /// The distinct profiles of the export once its profile joined them, when that is past the
    /// limit: the rows after it are not counted.
    pub(super) over: Option<u64>,
}

impl Scanner<'_> {
    /// Works out `email`'s sent form and key hash. The key of a valid row's address is the key
    /// of the contact made of it (the domain's ASCII form is its own ASCII form): computed once,
    /// in a buffer kept from row to row.
    pub(super) fn identify<'b>(&mut self, email: &'b str) -> Identity<'b> {
        let normalised = (!email.is_empty())
            .then(|| email::normalise_cow(email).ok())
            .flatten();
        let hash = match &normalised {
            Some(normalised) => {
                email::key_of_normalised(normalised, email, &mut self.key);
                Some(baseline::key_hash(&self.key))
            }
            None => (!email.is_empty()).then(|| baseline::key_hash(&email::dedupe_key(email))),
        };
        Identity {
            email,
            normalised,
            hash,
        }
    }

    /// The baseline's record of a key hash.
    pub(super) fn known(&self, hash: Option<u64>) -> Option<usize> {
        match (&self.index, hash) {
            (Some(index), Some(hash)) => index.position(hash),
            _ => None,
        }
    }

    /// Checks a row: fingerprinted without building its contact where that is enough
    /// ([`Scanner::fingerprint_first`]), else mapped; refused with the mapping's reason.
    pub(super) fn look<'b>(
        &mut self,
        fields: &[&str],
        mapper: &RowMapper,
        id: Identity<'b>,
        known: Option<usize>,
    ) -> Looked<'b> {
        let quick = id
            .normalised
            .as_deref()
            .filter(|_| self.fingerprint_first(known.is_some()))
            .and_then(|email| mapper.fingerprint_normalised(fields, email, &mut self.text));
        let checked = match quick {
            Some(fp) => Ok((None, fp)),
            None => mapper.map(fields).map(|contact| {
                let fp = baseline::fingerprint(&contact);
                (Some(contact), fp)
            }),
        };
        Looked {
            email: id.email,
            normalised: id.normalised,
            hash: id.hash,
            known,
            checked,
            first: false,
            over: None,
        }
    }

    /// In order: marks each row's baseline record named (refused rows too: still in the
    /// segment), and tells the first valid row of each profile from its duplicates; stops after
    /// a row whose profile takes the export past its limit.
    pub(super) fn count(&mut self, rows: &mut [Looked<'_>]) {
        for row in rows {
            if let Some(at) = row.known {
                self.state[at] = self.state[at].max(NAMED);
            }
            let (Some(hash), true, true) =
                (row.hash, row.normalised.is_some(), row.checked.is_ok())
            else {
                continue;
            };
            let (first, counted) = match (row.known, &mut self.seen_new) {
                (Some(at), _) => (
                    std::mem::replace(&mut self.state[at], VALID) != VALID,
                    false,
                ),
                (None, Some(seen)) => (seen.insert(hash), false),
                // Everyone is this segment's profiles so far: a new one is seen first as it joins.
                (None, None) => (self.tally.everyone.insert(hash), true),
            };
            row.first = first;
            if first && (counted || self.tally.everyone.insert(hash)) {
                let distinct = self.tally.everyone.len() as u64;
                if distinct > self.job.limit {
                    row.over = Some(distinct);
                    return;
                }
            }
        }
    }

    /// Handles the rows of a batch, pass after pass.
    pub(super) fn batch(&mut self, rows: &Rows<'_>) -> Result<(), JobError> {
        let mapper = self.mapper()?;
        let column = mapper.email_column();
        let ids: Vec<Identity<'_>> = (0..rows.len())
            .map(|i| self.identify(email::trim(rows.field(i, column))))
            .collect();
        let known: Vec<Option<usize>> = ids.iter().map(|id| self.known(id.hash)).collect();
        let split = rows.split();
        let mut looked = Vec::with_capacity(rows.len());
        for (i, (id, known)) in ids.into_iter().zip(known).enumerate() {
            looked.push(self.look(split.row(i).1, &mapper, id, known));
        }
        self.count(&mut looked);
        for (i, row) in looked.into_iter().enumerate() {
            let (number, fields) = split.row(i);
            self.settle(number, fields, &mapper, row)?;
        }
        Ok(())
    }
}
