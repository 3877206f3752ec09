//! One segment's snapshot read on a blocking thread: each row mapped and checked, duplicates
//! dropped, each profile compared with the baseline, and chunks of contacts to send handed on as
//! they fill. Rows come in batches, each handled in passes ([`passes`]) so that the lookups in
//! the tables of profiles are made together.
//!
//! Profiles are told apart by a 64-bit hash of their dedupe key
//! ([`crate::baseline::key_hash`]). A profile the baseline knows is found through its
//! [`HashIndex`] and its state kept in one byte per baseline record (named by the snapshot, on a
//! valid row or not); its row is fingerprinted without building a contact
//! ([`RowMapper::fingerprint`]), so an unchanged profile — most of a scheduled refresh —
//! allocates nothing of its own: its key and fingerprint text are written in buffers kept from
//! row to row, and its address is borrowed from the row when it is already in its sent form
//! ([`email::normalise_cow`]). Only a profile the baseline does not know keeps its address, and
//! only when a candidate baseline will be written.

use super::refused::{self, Refused, MAX_CELL_CHARS};
use super::scan::{Job, Parsed, SegmentScan, Tally};
use super::types::{ChunkFile, ChunkKind, FileRows, InvalidRow, SegmentPlan};
use crate::baseline::{HashIndex, Members};
use crate::contact::Contact;
use crate::email;
use crate::field_mapping::RowMapper;
use crate::jobs::JobError;
use crate::snapshot::{
    PartInfo, RowHandler, Rows, SegmentRows, SnapshotError, SnapshotReader, Stopped,
};
use passes::Looked;
use rustc_hash::FxHashSet;
use std::rc::Rc;
use tokio::sync::mpsc::Sender;

mod growth;
mod passes;

/// Sample payloads shown per segment by a dry run.
pub(super) const SAMPLES: usize = 3;

/// The most rows a count of rows to come reserves room for at once (about 18 MB of tables).
const MAX_RESERVED: u64 = 1 << 20;

/// A baseline record's state in the snapshot ([`SegmentScan::state`]).
pub(super) const ABSENT: u8 = 0;
/// Named on rows that were all refused: still in the segment, not sent.
pub(super) const NAMED: u8 = 1;
/// On a valid row: found, compared, sent if it changed.
pub(super) const VALID: u8 = 2;

/// Reads the snapshot of `job`, handing chunks and refused rows to `tx` as they fill, and
/// finally [`Parsed::Done`].
pub(super) fn parse(
    job: Job,
    snapshots: &dyn SnapshotReader,
    tx: &Sender<Parsed>,
) -> Result<(), JobError> {
    let segment = job.segment.clone();
    // A snapshot that cannot be read keeps its kind: a dropped connection may be retried.
    let unread = |e: SnapshotError| {
        JobError::new(
            e.kind(),
            format!("segment '{}': {}", segment.name, e.message()),
        )
    };
    let columns = segment.columns.as_deref();
    let mut rows = SegmentRows::open(snapshots, &segment.source, columns, job.matching.columns())
        .map_err(unread)?;
    if segment.backslash_escapes {
        rows = rows.backslash_escaped();
    }
    let mut job = job;
    let tally = std::mem::take(&mut job.tally);
    let index = job.base.as_ref().map(Members::index);
    let mut scanner = Scanner::new(&job, tally, index, tx);
    // The parts are parsed on threads of their own while this one handles their rows.
    rows.read_each(&mut scanner)
        .map_err(|stopped| match stopped {
            Stopped::Read(e) => unread(e),
            Stopped::By(e) => e,
        })?;
    scanner.finish()
}

/// The reading of one segment, row by row.
struct Scanner<'a> {
    job: &'a Job,
    /// The data matching resolved against the header of the part being read.
    mapper: Option<Rc<RowMapper>>,
    /// The part being read, when the segment has several: how messages name a row.
    part: Option<PartInfo>,
    index: Option<HashIndex<'a>>,
    tx: &'a Sender<Parsed>,
    plan: SegmentPlan,
    state: Vec<u8>,
    changed: Vec<(u32, u64)>,
    added: Vec<(u64, u64, String)>,
    /// Key hashes of valid profiles the baseline does not know, seen so far; `None` when the
    /// segment is the first one read, where the set of everyone is that set (it then holds
    /// nothing else than this segment's profiles, and a key hash is either always the
    /// baseline's or never).
    seen_new: Option<FxHashSet<u64>>,
    /// What the rows so far say of the segment's size.
    growth: growth::Growth,
    /// Room a row's dedupe key is written in, kept from row to row.
    key: String,
    /// The text of the row's fingerprint (scratch room kept from row to row).
    text: Vec<u8>,
    distinct: u64,
    refused: Refused,
    samples: Vec<Contact>,
    adds: ChunkFile,
    updates: ChunkFile,
    tally: Tally,
}

impl<'a> Scanner<'a> {
    fn new(
        job: &'a Job,
        tally: Tally,
        index: Option<HashIndex<'a>>,
        tx: &'a Sender<Parsed>,
    ) -> Self {
        let known = job.base.as_ref().map_or(0, Members::len);
        Self {
            job,
            mapper: None,
            part: None,
            index,
            tx,
            plan: SegmentPlan {
                name: job.segment.name.clone(),
                full: job.full,
                ..SegmentPlan::default()
            },
            state: vec![ABSENT; known],
            changed: Vec::new(),
            added: Vec::new(),
            seen_new: (!tally.everyone.is_empty()).then(FxHashSet::default),
            growth: growth::Growth::new(),
            key: String::new(),
            text: Vec::new(),
            distinct: 0,
            refused: Refused::new(job.record),
            samples: Vec::new(),
            adds: new_chunk(job.index, ChunkKind::Add),
            updates: new_chunk(job.index, ChunkKind::Update),
            tally,
        }
    }

    fn send(&self, parsed: Parsed) -> Result<(), JobError> {
        self.tx
            .blocking_send(parsed)
            .map_err(|_| JobError::internal("storing chunks failed"))
    }

    /// Whether a valid-looking row is fingerprinted without building its contact: a profile the
    /// baseline knows (compared by fingerprint first; its contact is built only if it is sent,
    /// which a full resend always does), and every row of a dry run (which sends nothing and
    /// builds contacts only for its samples).
    fn fingerprint_first(&self, known: bool) -> bool {
        let sent_anyway = self.job.full && !self.job.only_unchanged;
        self.job.dry_run || (known && !sent_anyway)
    }

    /// The part's mapping, which every row needs.
    fn mapper(&self) -> Result<Rc<RowMapper>, JobError> {
        self.mapper
            .clone()
            .ok_or_else(|| JobError::internal("a row came before its part"))
    }

    /// One row alone, through the same passes as a batch ([`Self::batch`]).
    fn row(&mut self, number: u64, fields: &[&str]) -> Result<(), JobError> {
        let mapper = self.mapper()?;
        let id = self.identify(mapper.email_of(fields));
        let known = self.known(id.hash);
        let mut looked = [self.look(fields, &mapper, id, known)];
        self.count(&mut looked);
        let [looked] = looked;
        self.settle(number, fields, &mapper, looked)
    }

    /// Handles a row once the passes before have looked at it: refused, a duplicate, or a
    /// profile counted, compared with the baseline and sent if it must be.
    fn settle(
        &mut self,
        number: u64,
        fields: &[&str],
        mapper: &RowMapper,
        looked: Looked<'_>,
    ) -> Result<(), JobError> {
        self.plan.rows_read += 1;
        let Looked {
            email,
            normalised,
            hash,
            known,
            checked,
            first,
            over,
        } = looked;
        let (contact, fp) = match checked {
            Ok(checked) => checked,
            Err(problem) => return self.refuse(number, email, problem),
        };
        // Not reached: a row whose address does not normalise is refused by `map` (it
        // normalises the same way).
        let (Some(hash), Some(normalised)) = (hash, normalised) else {
            return Ok(());
        };
        if !first {
            self.plan.duplicates += 1;
            return Ok(());
        }
        self.distinct += 1;
        // Past the limit the export is refused whatever follows: stop reading now.
        if let Some(distinct) = over {
            return Err(JobError::LimitExceeded {
                distinct,
                limit: self.job.limit,
            });
        }
        let before = known
            .zip(self.job.base.as_ref())
            .map(|(at, base)| (at, base.fingerprint_at(at)));
        if self.job.record {
            match before {
                Some((at, old)) if old != fp => self.changed.push((at as u32, fp)),
                Some(_) => {}
                None => {
                    email::key_of_normalised(&normalised, email, &mut self.key);
                    self.added.push((hash, fp, self.key.clone()));
                }
            }
        }
        let kind = match before {
            Some((_, old)) if self.job.only_unchanged && old == fp => {
                self.plan.contacts += 1;
                ChunkKind::Update
            }
            _ if self.job.only_unchanged => return Ok(()),
            None => {
                self.plan.adds += 1;
                ChunkKind::Add
            }
            Some((_, old)) if self.job.full || old != fp => {
                self.plan.updates += 1;
                ChunkKind::Update
            }
            Some(_) => {
                self.plan.unchanged += 1;
                return Ok(());
            }
        };
        if self.job.dry_run && self.samples.len() >= SAMPLES {
            return Ok(());
        }
        let contact = match contact {
            Some(contact) => contact,
            None => mapper.map(fields).map_err(|_| {
                JobError::internal("a row fingerprinted as valid was refused when mapped")
            })?,
        };
        self.push(kind, number, contact)
    }

    /// Puts a contact in the chunk of its kind, handing the chunk on when full.
    fn push(&mut self, kind: ChunkKind, number: u64, contact: Contact) -> Result<(), JobError> {
        if self.samples.len() < SAMPLES {
            self.samples.push(contact.clone());
        }
        if self.job.dry_run {
            return Ok(());
        }
        let target = match kind {
            ChunkKind::Add => &mut self.adds,
            _ => &mut self.updates,
        };
        target.rows.push(number);
        target.contacts.push(contact);
        if target.contacts.len() == self.job.chunk_size {
            let full = std::mem::replace(target, new_chunk(self.job.index, kind));
            self.send(Parsed::Chunk(full))?;
        }
        Ok(())
    }

    /// Counts a refused row and stores it (within the budget of refused rows).
    fn refuse(
        &mut self,
        number: u64,
        email: &str,
        problem: crate::field_mapping::RowProblem,
    ) -> Result<(), JobError> {
        *self
            .plan
            .invalid
            .entry(problem.code.to_string())
            .or_default() += 1;
        let row = InvalidRow {
            segment: self.job.index,
            row: number,
            email: refused::cap(email, MAX_CELL_CHARS),
            reason: format!("{}: {}", problem.code, problem.message),
        };
        let (part, bytes) = self.refused.add(row, problem.code);
        if self.job.record {
            self.tally.refused_rows += 1;
            self.tally.refused_bytes += bytes;
            if self.tally.refused_bytes > self.tally.refused_budget {
                let (source, row) = match &self.part {
                    Some(part) => (part.source.as_str(), number - part.offset),
                    None => (self.job.segment.source.as_str(), number),
                };
                let message = refused::too_many(source, row, self.tally.refused_rows);
                return Err(JobError::InvalidInput(format!(
                    "segment '{}': {message}",
                    self.job.segment.name
                )));
            }
        }
        match part {
            Some(part) => self.send(Parsed::Refused(part)),
            None => Ok(()),
        }
    }

    /// Room up front for the profiles of `rows` rows to come — a Parquet footer's count, or
    /// what the rows so far say of the rest ([`growth`]) — when no baseline knows them: the
    /// tables then grow once, not by doubling. Never beyond the profile limit, which the
    /// reading stops at anyway, nor [`MAX_RESERVED`] rows (neither count is checked until its
    /// rows are read).
    fn reserve(&mut self, rows: Option<u64>) {
        let Some(rows) = rows.filter(|_| self.index.is_none()) else {
            return;
        };
        let room = |len: usize| {
            let left = self.job.limit.saturating_sub(len as u64);
            usize::try_from(rows.min(left).min(MAX_RESERVED)).unwrap_or(0)
        };
        if let Some(seen) = &mut self.seen_new {
            seen.reserve(room(seen.len()));
        }
        self.tally.everyone.reserve(room(self.tally.everyone.len()));
    }

    fn finish(mut self) -> Result<(), JobError> {
        for kind in [ChunkKind::Add, ChunkKind::Update] {
            let chunk = match kind {
                ChunkKind::Add => std::mem::replace(&mut self.adds, new_chunk(0, kind)),
                _ => std::mem::replace(&mut self.updates, new_chunk(0, kind)),
            };
            if !chunk.contacts.is_empty() {
                self.send(Parsed::Chunk(chunk))?;
            }
        }
        if let Some(part) = self.refused.finish() {
            self.send(Parsed::Refused(part))?;
        }
        if !self.job.only_unchanged {
            self.plan.contacts = self.plan.adds + self.plan.updates;
        }
        let scan = SegmentScan {
            plan: self.plan,
            base: self.job.base.clone(),
            state: self.state,
            changed: self.changed,
            added: self.added,
            distinct: self.distinct,
            samples: self.samples,
            examples: std::mem::take(&mut self.refused.examples),
        };
        let done = Parsed::Done(Box::new((scan, self.tally)));
        self.tx
            .blocking_send(done)
            .map_err(|_| JobError::internal("storing chunks failed"))
    }
}

impl RowHandler for Scanner<'_> {
    type Error = JobError;

    /// Resolves the data matching against the part's header, and notes where its rows begin.
    fn part(&mut self, part: &PartInfo) -> Result<(), JobError> {
        let named = if part.only {
            String::new()
        } else {
            format!("in {}: ", part.source)
        };
        let mapper = RowMapper::new(&self.job.matching, &part.header).map_err(|m| {
            JobError::InvalidInput(format!("segment '{}': {named}{m}", self.job.segment.name))
        })?;
        self.mapper = Some(Rc::new(mapper));
        self.reserve(part.rows);
        let coming = self.growth.part(part.size, part.after);
        self.reserve(coming);
        self.plan.files.push(FileRows {
            name: part.name.clone(),
            offset: part.offset,
        });
        self.part = (!part.only).then(|| part.clone());
        Ok(())
    }

    fn row(&mut self, number: u64, fields: &[&str]) -> Result<(), JobError> {
        Scanner::row(self, number, fields)
    }

    fn rows(&mut self, rows: &Rows<'_>) -> Result<(), JobError> {
        let coming = self.growth.rows(rows.len() as u64, rows.read());
        self.reserve(coming);
        self.batch(rows)
    }
}

fn new_chunk(segment: usize, kind: ChunkKind) -> ChunkFile {
    ChunkFile {
        segment,
        kind,
        rows: Vec::new(),
        contacts: Vec::new(),
        removals: Vec::new(),
    }
}
