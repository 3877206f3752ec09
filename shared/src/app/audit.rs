//! The audit trail: who made each state-changing call of a destination — connect, configure, key
//! rotation, export, verify, remove — when, and what it changed, in words and ids without
//! personal data (no address, no cell value, never a key).
//!
//! The caller is the one the front door authenticated, never one a request names: on AWS the IAM
//! principal API Gateway checked, locally the operating-system user. A name a request gives
//! (the `export_user` of a connect) is kept only as a [`Entry::label`] beside the real caller.
//!
//! Entries live under the destination's state (`state/{id}/audit/`, [`keys::audit_dir`]), one
//! object per call, so that concurrent calls never overwrite each other; the trail keeps the
//! latest [`KEPT`] and deletes older ones as new ones come, and goes with the destination when it
//! is removed. The removal itself is recorded apart ([`keys::removal_record`]), since nothing of
//! the destination remains. Recording is part of the call: a trail that cannot be written fails
//! the call's answer, though what the call changed stays changed.

use crate::store::{get_json, keys, put_json, ObjectStore};
use crate::JobError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Entries kept per destination.
pub const KEPT: usize = 200;

/// A state-changing call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Connect,
    Configure,
    RotateKey,
    Export,
    Verify,
    Remove,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Configure => "configure",
            Self::RotateKey => "rotate_key",
            Self::Export => "export",
            Self::Verify => "verify",
            Self::Remove => "remove",
        }
    }
}

/// One call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub at: DateTime<Utc>,
    /// Who made the call, as the front door authenticated it.
    pub caller: String,
    pub action: Action,
    pub destination_id: String,
    /// What the call did, in ids and counts ("export 20261130T…", "2 segments").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    /// A name the request gave for who it is for, when it differs from the caller: a label only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Entry {
    /// An entry made now.
    pub fn now(caller: &str, action: Action, destination_id: &str) -> Self {
        Self {
            at: Utc::now(),
            caller: caller.to_string(),
            action,
            destination_id: destination_id.to_string(),
            details: String::new(),
            label: None,
        }
    }

    pub fn details(self, details: impl Into<String>) -> Self {
        Self {
            details: details.into(),
            ..self
        }
    }

    /// Keeps `label` when it names someone other than the caller.
    pub fn label(self, label: Option<&str>) -> Self {
        let label = label
            .map(str::trim)
            .filter(|l| !l.is_empty() && *l != self.caller)
            .map(str::to_string);
        Self { label, ..self }
    }
}

/// Records `entry` in its destination's trail (a removal apart), then trims the trail to
/// [`KEPT`] entries.
pub async fn record(store: &dyn ObjectStore, entry: &Entry) -> Result<(), JobError> {
    let millis = entry.at.timestamp_millis();
    let dest = &entry.destination_id;
    if entry.action == Action::Remove {
        put_json(store, &keys::removal_record(dest, millis), entry).await?;
    } else {
        put_json(
            store,
            &keys::audit_entry(dest, millis, fastrand::u32(..)),
            entry,
        )
        .await?;
    }
    tracing::info!(destination = %dest, action = entry.action.as_str(), caller = %entry.caller, "call recorded");
    if entry.action == Action::Remove {
        return Ok(());
    }
    let mut keys = store.list(&keys::audit_dir(dest)).await?;
    if keys.len() > KEPT {
        keys.sort_unstable();
        for old in &keys[..keys.len() - KEPT] {
            store.delete(old).await?;
        }
    }
    Ok(())
}

/// The latest `limit` entries of `destination`'s trail, newest first.
pub async fn recent(
    store: &dyn ObjectStore,
    destination: &str,
    limit: usize,
) -> Result<Vec<Entry>, JobError> {
    let mut keys = store.list(&keys::audit_dir(destination)).await?;
    keys.sort_unstable_by(|a, b| b.cmp(a));
    let mut entries = Vec::new();
    for key in keys.iter().take(limit) {
        if let Some(entry) = get_json::<Entry>(store, key).await? {
            entries.push(entry);
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.at));
    Ok(entries)
}

/// Who the local front doors (the command, the console) record as the caller: the operating
/// system's user, or `local` when it cannot be told.
pub fn local_caller() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|user| user.trim().to_string())
        .find(|user| !user.is_empty() && !user.chars().any(char::is_control))
        .map_or_else(|| "local".to_string(), |user| format!("local:{user}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::LocalStore;

    #[tokio::test]
    async fn the_trail_keeps_the_latest_entries_newest_first_and_a_removal_apart() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let start = Utc::now();
        for n in 0..(KEPT as i64 + 5) {
            let mut entry = Entry::now("alice", Action::Configure, "main").details(format!("{n}"));
            entry.at = start + chrono::Duration::milliseconds(n);
            record(&store, &entry).await.unwrap();
        }
        assert_eq!(
            store.list(&keys::audit_dir("main")).await.unwrap().len(),
            KEPT
        );
        let latest = recent(&store, "main", 3).await.unwrap();
        let details: Vec<&str> = latest.iter().map(|e| e.details.as_str()).collect();
        let last = KEPT + 4;
        assert_eq!(
            details,
            [
                last.to_string(),
                (last - 1).to_string(),
                (last - 2).to_string()
            ]
        );

        record(&store, &Entry::now("bob", Action::Remove, "main"))
            .await
            .unwrap();
        assert_eq!(store.list("audit/removed/").await.unwrap().len(), 1);
    }

    #[test]
    fn a_label_is_kept_only_when_it_names_someone_else() {
        let entry = Entry::now("arn:aws:iam::1:user/alice", Action::Connect, "main");
        assert_eq!(
            entry.clone().label(Some("arn:aws:iam::1:user/alice")).label,
            None
        );
        assert_eq!(entry.clone().label(Some("  ")).label, None);
        assert_eq!(entry.label(Some("bob")).label.as_deref(), Some("bob"));
    }
}
