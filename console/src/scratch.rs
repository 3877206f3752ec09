//! A store for trying choices without keeping them: reads fall through to the real store unless
//! something was written here, and writes stay in memory, dropped with the scratch store. The
//! matching page's **Preview** runs `configure` and the dry run on one, so the user's unsaved
//! choices are checked and counted exactly as Save and an export would, and nothing is stored.

use async_trait::async_trait;
use bytes::Bytes;
use shared::store::{ObjectStore, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub struct Scratch {
    real: Arc<dyn ObjectStore>,
    /// What was written here: `None` for a deleted object.
    written: Mutex<BTreeMap<String, Option<Bytes>>>,
}

impl Scratch {
    pub fn over(real: Arc<dyn ObjectStore>) -> Self {
        Self {
            real,
            written: Mutex::default(),
        }
    }

    fn written(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Option<Bytes>>> {
        self.written.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// `deps` with a scratch store over its store.
pub fn deps(deps: &shared::Deps) -> shared::Deps {
    shared::Deps {
        store: Arc::new(Scratch::over(deps.store.clone())),
        ..deps.clone()
    }
}

#[async_trait]
impl ObjectStore for Scratch {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let here = self.written().get(key).cloned();
        match here {
            Some(Some(data)) => Ok(data),
            Some(None) => Err(StoreError::NotFound(key.to_string())),
            None => self.real.get(key).await,
        }
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        self.written().insert(key.to_string(), Some(data));
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys: std::collections::BTreeSet<String> =
            self.real.list(prefix).await?.into_iter().collect();
        for (key, data) in self.written().range(prefix.to_string()..) {
            if !key.starts_with(prefix) {
                break;
            }
            match data {
                Some(_) => keys.insert(key.clone()),
                None => keys.remove(key),
            };
        }
        Ok(keys.into_iter().collect())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.written().insert(key.to_string(), None);
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        if self.exists(key).await? {
            return Ok(false);
        }
        let mut written = self.written();
        if matches!(written.get(key), Some(Some(_))) {
            return Ok(false);
        }
        written.insert(key.to_string(), Some(data));
        Ok(true)
    }

    /// Nothing written here ever reaches the real store, so there is nothing to delete for good.
    async fn delete_versions(&self, _prefix: &str) -> Result<usize, StoreError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::store::LocalStore;

    #[tokio::test]
    async fn writes_stay_in_the_scratch_store_and_reads_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let real: Arc<dyn ObjectStore> = Arc::new(LocalStore::new(dir.path()));
        real.put("a/kept.json", Bytes::from_static(b"real"))
            .await
            .unwrap();
        real.put("a/gone.json", Bytes::from_static(b"old"))
            .await
            .unwrap();
        let scratch = Scratch::over(real.clone());
        scratch
            .put("a/kept.json", Bytes::from_static(b"tried"))
            .await
            .unwrap();
        scratch
            .put("a/new.json", Bytes::from_static(b"new"))
            .await
            .unwrap();
        scratch.delete("a/gone.json").await.unwrap();
        assert_eq!(scratch.get("a/kept.json").await.unwrap(), "tried");
        assert!(matches!(
            scratch.get("a/gone.json").await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(
            scratch.list("a/").await.unwrap(),
            ["a/kept.json", "a/new.json"]
        );
        assert!(!scratch
            .put_if_absent("a/new.json", Bytes::new())
            .await
            .unwrap());
        assert!(scratch
            .put_if_absent("a/gone.json", Bytes::new())
            .await
            .unwrap());
        // The real store is as it was.
        assert_eq!(real.get("a/kept.json").await.unwrap(), "real");
        assert_eq!(real.get("a/gone.json").await.unwrap(), "old");
        assert_eq!(
            real.list("a/").await.unwrap(),
            ["a/gone.json", "a/kept.json"]
        );
    }
}
