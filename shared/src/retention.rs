//! How long a destination's past exports are kept. Each holds its report and `rejected.csv`
//! (refused rows, with their emails), so they are not kept for ever: on S3 a lifecycle rule
//! expires them; locally, the start of each export deletes those of its destination that are
//! older than the retention, except the one being run.

use crate::job_error::JobError;
use crate::store::delete_under;
use crate::store::ObjectStore;
use chrono::{DateTime, NaiveDateTime, Utc};
use std::collections::BTreeSet;

/// Days an export's files are kept when nothing else is configured (as on S3).
pub const DEFAULT_KEEP_DAYS: u32 = 30;

/// When an export started, read from its id (`20261130T114200Z-1a2b3c`).
fn started(export_id: &str) -> Option<DateTime<Utc>> {
    let stamp = export_id.get(..16)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Deletes the exports of `destination` that started more than `keep_days` before `now`, never
/// `current`. Returns how many exports went.
pub async fn prune_exports(
    store: &dyn ObjectStore,
    destination: &str,
    keep_days: u32,
    now: DateTime<Utc>,
    current: &str,
) -> Result<usize, JobError> {
    let prefix = crate::store::keys::exports_dir(destination);
    let cutoff = now - chrono::Duration::days(i64::from(keep_days));
    let old: BTreeSet<String> = store
        .list(&prefix)
        .await?
        .iter()
        .filter_map(|key| key.strip_prefix(&prefix)?.split_once('/').map(|(id, _)| id))
        .filter(|id| *id != current && started(id).is_some_and(|t| t < cutoff))
        .map(str::to_string)
        .collect();
    for id in &old {
        delete_under(store, &format!("{prefix}{id}/")).await?;
    }
    if !old.is_empty() {
        tracing::info!(
            destination,
            exports = old.len(),
            keep_days,
            "old exports deleted"
        );
    }
    Ok(old.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalStore;
    use bytes::Bytes;

    #[tokio::test]
    async fn exports_past_their_days_go_and_the_rest_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let keys = [
            "exports/d/running.json",
            "exports/d/20260101T000000Z-000001/report.json",
            "exports/d/20260101T000000Z-000001/rejected.csv",
            "exports/d/20260201T000000Z-000002/report.json",
            "exports/d/20260301T000000Z-000003/report.json",
            "exports/d/20251201T000000Z-000009/plan.json",
            "exports/other/20250101T000000Z-000004/report.json",
        ];
        for key in keys {
            store.put(key, Bytes::from_static(b"{}")).await.unwrap();
        }
        let now = "2026-03-02T00:00:00Z".parse().unwrap();
        // 30 days before 2 March: the January export goes, February's and March's stay; the one
        // being run stays whatever its age; another destination's are not looked at.
        let gone = prune_exports(&store, "d", 30, now, "20251201T000000Z-000009")
            .await
            .unwrap();
        assert_eq!(gone, 1);
        let mut left = store.list("").await.unwrap();
        left.sort();
        assert_eq!(
            left,
            [
                "exports/d/20251201T000000Z-000009/plan.json",
                "exports/d/20260201T000000Z-000002/report.json",
                "exports/d/20260301T000000Z-000003/report.json",
                "exports/d/running.json",
                "exports/other/20250101T000000Z-000004/report.json",
            ]
        );
    }
}
