//! `remove`: deletes a destination's key and webhook signing secret, its configuration, its baseline (every email it
//! exported, in `state/{id}/`) and its exports (reports, rejected rows, chunks in `exports/{id}/`),
//! then every version a versioned store (the AWS data bucket) keeps of them: nothing of it stays
//! behind in the store. Later exports of it fail clearly. Copies outside the store (function
//! logs, execution history) are not ours to delete; they hold ids and counts, and expire.

use super::{Deps, JobError};
use crate::destination::{self, keys};
use crate::secrets::Named;
use crate::store::ObjectStore;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

/// Deletions in flight at once.
const IN_FLIGHT: usize = 16;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub destination_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Output {
    pub destination_id: String,
    pub removed: bool,
}

pub async fn run(input: Input, deps: &Deps) -> Result<Output, JobError> {
    let destination = destination::load(deps.store.as_ref(), &input.destination_id).await?;
    deps.secrets.delete(&destination.id).await?;
    deps.secrets
        .delete_named(&destination.id, Named::WebhookSigning)
        .await?;
    deps.apis.forget(&destination.id);
    deps.store
        .delete(&destination::keys::destination(&destination.id))
        .await?;
    let id = &destination.id;
    let mut deleted = 0;
    for prefix in [keys::exports_dir(id), keys::state_dir(id)] {
        deleted += delete_under(deps.store.as_ref(), &prefix).await?;
    }
    // A versioned bucket still holds every earlier baseline (every address exported) and report.
    let mut versions = 0;
    for prefix in [
        keys::destination(id),
        keys::exports_dir(id),
        keys::state_dir(id),
    ] {
        versions += deps.store.delete_versions(&prefix).await?;
    }
    tracing::info!(destination = %id, objects = deleted, versions, "destination removed");
    Ok(Output {
        destination_id: destination.id,
        removed: true,
    })
}

/// Deletes every object under `prefix` (which ends in `/`); returns how many there were.
pub async fn delete_under(store: &dyn ObjectStore, prefix: &str) -> Result<usize, JobError> {
    let keys = store.list(prefix).await?;
    let count = keys.len();
    futures::stream::iter(keys)
        .map(|key| async move { store.delete(&key).await })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audience_api::{ApiFactory, ClientSettings};
    use crate::secrets::FileSecrets;
    use crate::snapshot::LocalFiles;
    use crate::store::LocalStore;
    use bytes::Bytes;
    use std::sync::Arc;

    #[tokio::test]
    async fn nothing_of_a_removed_destination_stays_behind() {
        let dir = tempfile::tempdir().unwrap();
        let deps = Deps {
            store: Arc::new(LocalStore::new(dir.path())),
            secrets: Arc::new(FileSecrets::new(dir.path().join("secrets"))),
            snapshots: Arc::new(LocalFiles),
            apis: Arc::new(ApiFactory::new(ClientSettings::default())),
        };
        let destination = serde_json::json!({
            "id": "acme", "display_name": "Acme", "api_url": "https://api2.autopilothq.com/v1",
            "consent": {"agreed_at": "2026-01-01T00:00:00Z", "export_user": "ana"},
            "created_at": "2026-01-01T00:00:00Z"
        });
        let objects = [
            "destinations/acme.json",
            "state/acme/baseline.json",
            "exports/acme/running.json",
            "exports/acme/20260101T000000Z-000001/report.json",
            "exports/acme/20260101T000000Z-000001/rejected.csv",
            "exports/acme/20260102T000000Z-000002/chunks/000000.json",
            "exports/acme-two/20260101T000000Z-000003/report.json",
        ];
        for key in objects {
            let body = if key.starts_with("destinations/") {
                serde_json::to_vec(&destination).unwrap()
            } else {
                b"{}".to_vec()
            };
            deps.store.put(key, Bytes::from(body)).await.unwrap();
        }
        let secret = secrecy::SecretString::from("k".to_string());
        deps.secrets.put("acme", &secret).await.unwrap();
        deps.secrets
            .put_named("acme", Named::WebhookSigning, &secret)
            .await
            .unwrap();
        run(
            Input {
                destination_id: "acme".into(),
            },
            &deps,
        )
        .await
        .unwrap();
        let mut left = deps.store.list("").await.unwrap();
        left.sort();
        assert_eq!(
            left,
            ["exports/acme-two/20260101T000000Z-000003/report.json"],
            "only another destination's objects stay"
        );
        assert!(deps.secrets.get("acme").await.is_err());
        let webhook = deps.secrets.get_named("acme", Named::WebhookSigning);
        assert!(webhook.await.unwrap().is_none());
    }
}
