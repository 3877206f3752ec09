//! The `ObjectStore` port: where destinations, export plans, chunks, results and reports live.
//! Adapters: [`LocalStore`] (a folder) here; S3 in the `aws-adapters` crate. Every adapter must
//! pass [`conformance::run`]. Where the store keeps earlier versions of objects (a versioned
//! bucket), [`ObjectStore::delete_versions`] deletes them too.

pub mod conformance;
pub mod keys;
mod local;

pub use local::LocalStore;

use async_trait::async_trait;
use bytes::Bytes;

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no object at {0}")]
    NotFound(String),
    #[error("{0} is not a valid object key: keys are relative paths without '..' or empty parts")]
    InvalidKey(String),
    /// A failure that may pass (a timeout, a lost connection, a server fault, throttling).
    #[error("storage failed at {key}: {source}")]
    Io {
        key: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store refused in a way trying again does not change (access denied, no such bucket):
    /// the deployment is wrong.
    #[error("storage refused at {key}: {source}")]
    Refused {
        key: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Objects by key: get, put (whole, atomic), list by prefix, delete.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// The whole object, or `NotFound`.
    async fn get(&self, key: &str) -> Result<Bytes, StoreError>;
    /// Writes an object whole; readers see the old or the new version, never a part.
    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError>;
    /// Keys starting with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Deletes an object; deleting a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Writes an object only if none exists at `key`; `false` when one did. Atomic: of two
    /// concurrent callers exactly one gets `true`.
    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError>;
    /// Deletes every version a versioned store still keeps of the objects whose keys start with
    /// `prefix` (earlier versions, delete markers, the current one if any), so that nothing of
    /// them can be read back, not even by version id; returns how many versions were deleted. A
    /// store that keeps no versions (a folder) has nothing to do. Meant to follow [`Self::delete`]
    /// when something must be gone for good (a removed destination).
    async fn delete_versions(&self, prefix: &str) -> Result<usize, StoreError>;

    /// Whether an object exists.
    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.get(key).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Reads a JSON object, `None` when it does not exist.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    store: &dyn ObjectStore,
    key: &str,
) -> Result<Option<T>, StoreError> {
    match store.get(key).await {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Io {
                key: key.to_string(),
                source: Box::new(e),
            }),
        Err(StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes a JSON object.
pub async fn put_json<T: serde::Serialize>(
    store: &dyn ObjectStore,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Io {
        key: key.to_string(),
        source: Box::new(e),
    })?;
    store.put(key, Bytes::from(bytes)).await
}

/// Deletions in flight at once.
const DELETIONS_IN_FLIGHT: usize = 16;

/// Deletes every object under `prefix` (which ends in `/`), a few at once; returns how many there
/// were. Earlier versions a versioned store keeps are left to [`ObjectStore::delete_versions`].
pub async fn delete_under(store: &dyn ObjectStore, prefix: &str) -> Result<usize, StoreError> {
    use futures::{StreamExt, TryStreamExt};
    let keys = store.list(prefix).await?;
    let count = keys.len();
    futures::stream::iter(keys)
        .map(|key| async move { store.delete(&key).await })
        .buffer_unordered(DELETIONS_IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    Ok(count)
}

/// Checks a key is a plain relative path, the same rule for every adapter.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let ok = !key.is_empty()
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
        && !key.contains('\\')
        && !key.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidKey(key.to_string()))
    }
}
