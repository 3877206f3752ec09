//! `LocalStore`: objects as files under one folder; writes go to a temporary file that is renamed
//! into place, so a killed process never leaves half an object.

use super::{check_key, ObjectStore, StoreError};
use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file behind a key (for showing the user where a report is).
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes `data` to a temporary file beside the key's file; returns both paths.
    async fn write_aside(&self, key: &str, data: &[u8]) -> Result<(PathBuf, PathBuf), StoreError> {
        let path = self.path(key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| io(key, e))?;
        }
        let tmp = path.with_extension(format!("tmp-{:016x}", fastrand::u64(..)));
        tokio::fs::write(&tmp, data).await.map_err(|e| io(key, e))?;
        Ok((tmp, path))
    }
}

fn io(key: &str, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StoreError::NotFound(key.to_string())
    } else {
        StoreError::Io {
            key: key.to_string(),
            source: Box::new(e),
        }
    }
}

#[async_trait]
impl ObjectStore for LocalStore {
    async fn get(&self, key: &str) -> Result<Bytes, StoreError> {
        let path = self.path(key)?;
        tokio::fs::read(&path)
            .await
            .map(Bytes::from)
            .map_err(|e| io(key, e))
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<(), StoreError> {
        let (tmp, path) = self.write_aside(key, &data).await?;
        tokio::fs::rename(&tmp, &path).await.map_err(|e| io(key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            // Walk only the deepest folder the prefix names.
            let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
            let mut keys = Vec::new();
            let mut stack = vec![root.join(dir_part)];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(&prefix, e)),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| io(&prefix, e))?;
                    let path = entry.path();
                    if entry.file_type().map_err(|e| io(&prefix, e))?.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let Ok(rel) = path.strip_prefix(&root) else {
                        continue;
                    };
                    let key = rel.to_string_lossy().replace('\\', "/");
                    if key.starts_with(&prefix)
                        && !key.rsplit('/').next().is_some_and(|n| n.contains(".tmp-"))
                    {
                        keys.push(key);
                    }
                }
            }
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(|e| StoreError::Io {
            key: String::new(),
            source: Box::new(e),
        })?
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool, StoreError> {
        // Linking the content into place fails if the key exists.
        let (tmp, path) = self.write_aside(key, &data).await?;
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io(key, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_store_conforms() {
        let dir = tempfile::tempdir().unwrap();
        crate::store::conformance::run(&LocalStore::new(dir.path())).await;
    }
}
