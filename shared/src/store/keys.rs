//! The store's key layout, named in one place. Every key is relative to the store's root (the
//! data folder locally, the data bucket on AWS):
//!
//! ```text
//! destinations/{destination}.json                      a destination (its API key is not here)
//! state/{destination}/baseline.json                    what the last export left in each list
//! state/{destination}/audit/{millis}-{n}.json          one state-changing call: who, when, what
//! state/{destination}/verification/running.json       the verification holding the destination's verify lock
//! state/{destination}/verification/{id}.json          a verification: its progress, then its result
//! state/{destination}/verification/{id}/{list}-{n}.json   members one of its steps read from a list
//! state/{destination}/verification/{id}/missing-{list}.json   members a repair puts back, in order
//! exports/{destination}/running.json                   the export holding the destination's lock
//! exports/{destination}/{export}/plan.json             what the export sends
//! exports/{destination}/{export}/chunks/{n}.json       one chunk's contacts or removals
//! exports/{destination}/{export}/partial/{n}.json      how far an unfinished chunk got
//! exports/{destination}/{export}/results/{n}.json      a finished chunk's outcome
//! exports/{destination}/{export}/invalid/{n}.jsonl     rows refused while reading the snapshots
//! exports/{destination}/{export}/invalid.json          the same, as older exports wrote it
//! exports/{destination}/{export}/baseline-next.json    the baseline committed when the export ends
//! exports/{destination}/{export}/report.json           the report
//! exports/{destination}/{export}/rejected.csv          rows refused, by us or by Autopilot
//! audit/removed/{millis}-{destination}.json            who removed a destination, and when
//! ```
//!
//! Chunk and part numbers are written with six digits so that keys sort in their order. Export
//! ids start with the time they were started, so an export's keys sort after older ones.

/// Where destinations are kept: every destination's key starts with this.
pub fn destinations_dir() -> String {
    "destinations/".to_string()
}

/// A destination's settings.
pub fn destination(id: &str) -> String {
    format!("{}{id}.json", destinations_dir())
}

/// Everything a destination keeps between exports (its baseline).
pub fn state_dir(destination: &str) -> String {
    format!("state/{destination}/")
}

/// A destination's audit trail: one object per state-changing call.
pub fn audit_dir(destination: &str) -> String {
    format!("{}audit/", state_dir(destination))
}

/// One entry of the audit trail, at `millis` since the epoch (13 digits, so keys sort by time)
/// and `nonce` (two calls in one millisecond keep both).
pub fn audit_entry(destination: &str, millis: i64, nonce: u32) -> String {
    format!("{}{millis:013}-{nonce:08x}.json", audit_dir(destination))
}

/// The record of a destination's removal, which outlives the destination's own keys.
pub fn removal_record(destination: &str, millis: i64) -> String {
    format!("audit/removed/{millis:013}-{destination}.json")
}

/// The baseline: what the last export left in each list.
pub fn baseline(destination: &str) -> String {
    format!("{}baseline.json", state_dir(destination))
}

/// A destination's verifications: the latest one's record, the lock of the one running, and what
/// a running one read so far.
pub fn verification_dir(destination: &str) -> String {
    format!("{}verification/", state_dir(destination))
}

/// The verification holding the destination's verify lock.
pub fn verifying(destination: &str) -> String {
    format!("{}running.json", verification_dir(destination))
}

/// A verification's record: its progress while it runs, then its result or why it failed.
pub fn verification(destination: &str, verification: &str) -> String {
    format!("{}{verification}.json", verification_dir(destination))
}

/// What a running verification read and still needs (deleted when it ends).
pub fn verification_parts(destination: &str, verification: &str) -> String {
    format!("{}{verification}/", verification_dir(destination))
}

/// The members one step of a verification read from its `list`-th list (in baseline order).
pub fn verification_members(
    destination: &str,
    verification: &str,
    list: usize,
    part: u32,
) -> String {
    format!(
        "{}{part:07}.json",
        verification_list_members(destination, verification, list)
    )
}

/// The prefix of every part [`verification_members`] stores for the `list`-th list.
pub fn verification_list_members(destination: &str, verification: &str, list: usize) -> String {
    format!(
        "{}{list:04}-",
        verification_parts(destination, verification)
    )
}

/// The members of the `list`-th list a repairing verification puts back.
pub fn verification_missing(destination: &str, verification: &str, list: usize) -> String {
    format!(
        "{}missing-{list:04}.json",
        verification_parts(destination, verification)
    )
}

/// Every export of a destination, and its lock.
pub fn exports_dir(destination: &str) -> String {
    format!("exports/{destination}/")
}

/// The export that holds the destination's lock.
pub fn running(destination: &str) -> String {
    format!("{}running.json", exports_dir(destination))
}

/// Everything one export writes.
pub fn export_dir(destination: &str, export: &str) -> String {
    format!("{}{export}/", exports_dir(destination))
}

pub fn plan(destination: &str, export: &str) -> String {
    format!("{}plan.json", export_dir(destination, export))
}

pub fn chunk(destination: &str, export: &str, chunk: u32) -> String {
    format!("{}chunks/{chunk:06}.json", export_dir(destination, export))
}

/// How far each unfinished chunk got.
pub fn partial_dir(destination: &str, export: &str) -> String {
    format!("{}partial/", export_dir(destination, export))
}

pub fn partial(destination: &str, export: &str, chunk: u32) -> String {
    format!("{}{chunk:06}.json", partial_dir(destination, export))
}

/// Finished chunks' outcomes.
pub fn results_dir(destination: &str, export: &str) -> String {
    format!("{}results/", export_dir(destination, export))
}

pub fn result(destination: &str, export: &str, chunk: u32) -> String {
    format!("{}{chunk:06}.json", results_dir(destination, export))
}

/// Where the parts holding rows refused while reading the snapshots are written.
pub fn invalid_dir(destination: &str, export: &str) -> String {
    format!("{}invalid/", export_dir(destination, export))
}

pub fn invalid_part(destination: &str, export: &str, part: u32) -> String {
    format!("{}{part:06}.jsonl", invalid_dir(destination, export))
}

/// Rows refused while reading the snapshots, in the one file older exports wrote.
pub fn invalid(destination: &str, export: &str) -> String {
    format!("{}invalid.json", export_dir(destination, export))
}

/// The baseline an export proposes; it becomes [`baseline`] when the export does not fail.
pub fn next_baseline(destination: &str, export: &str) -> String {
    format!("{}baseline-next.json", export_dir(destination, export))
}

pub fn report(destination: &str, export: &str) -> String {
    format!("{}report.json", export_dir(destination, export))
}

pub fn rejected(destination: &str, export: &str) -> String {
    format!("{}rejected.csv", export_dir(destination, export))
}

/// The export whose report is at `key`, when `key` is a report of `destination`.
pub fn export_of_report<'a>(destination: &str, key: &'a str) -> Option<&'a str> {
    let export = key
        .strip_prefix(&exports_dir(destination))?
        .strip_suffix("/report.json")?;
    (!export.is_empty() && !export.contains('/')).then_some(export)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_the_one_the_jobs_write() {
        assert_eq!(destination("acme"), "destinations/acme.json");
        assert_eq!(baseline("acme"), "state/acme/baseline.json");
        assert_eq!(running("acme"), "exports/acme/running.json");
        assert_eq!(verifying("acme"), "state/acme/verification/running.json");
        assert_eq!(
            verification_members("acme", "v1", 2, 3),
            "state/acme/verification/v1/0002-0000003.json"
        );
        let e = "20260101T000000Z-000001";
        assert_eq!(
            chunk("acme", e, 7),
            format!("exports/acme/{e}/chunks/000007.json")
        );
        assert_eq!(
            invalid_part("acme", e, 12),
            format!("exports/acme/{e}/invalid/000012.jsonl")
        );
        assert_eq!(
            rejected("acme", e),
            format!("exports/acme/{e}/rejected.csv")
        );
    }

    #[test]
    fn every_key_is_a_valid_store_key() {
        let (d, e) = ("acme", "20260101T000000Z-000001");
        for key in [
            destination(d),
            baseline(d),
            running(d),
            plan(d, e),
            chunk(d, e, 0),
            partial(d, e, 0),
            result(d, e, 0),
            invalid_part(d, e, 0),
            invalid(d, e),
            next_baseline(d, e),
            report(d, e),
            rejected(d, e),
            verifying(d),
            verification(d, e),
            verification_members(d, e, 0, 0),
            verification_missing(d, e, 0),
        ] {
            assert!(crate::store::check_key(&key).is_ok(), "{key}");
        }
    }

    #[test]
    fn a_report_key_names_its_export() {
        let e = "20260101T000000Z-000001";
        assert_eq!(export_of_report("acme", &report("acme", e)), Some(e));
        assert_eq!(export_of_report("acme-two", &report("acme", e)), None);
        assert_eq!(export_of_report("acme", &rejected("acme", e)), None);
        assert_eq!(
            export_of_report("acme", "exports/acme/x/chunks/report.json"),
            None
        );
    }
}
