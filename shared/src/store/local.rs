//! `LocalStore`: objects as files under one folder; writes go to a temporary file that is renamed
//! into place, so a killed process never leaves half an object, and a write that fails (a full
//! disk) removes its temporary file. The folder holds every exported email: the folders it creates
//! are 0700 and its files 0600 whatever the umask (folders that already exist are left as they are).

use super::{check_key, ObjectStore, StoreError};
use async_trait::async_trait;
use bytes::Bytes;
use std::io::Write;
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

    /// Writes `data` to a temporary file beside the key's file; returns it and the key's path.
    async fn write_aside(&self, key: &str, data: Bytes) -> Result<(Aside, PathBuf), StoreError> {
        let path = self.path(key)?;
        let target = path.clone();
        let aside = tokio::task::spawn_blocking(move || -> std::io::Result<Aside> {
            if let Some(parent) = target.parent() {
                create_private_dirs(parent)?;
            }
            let tmp = target.with_extension(format!("tmp-{:016x}", fastrand::u64(..)));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            // From here on, any failure removes the file.
            let aside = Aside {
                path: tmp,
                keep: false,
            };
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            file.write_all(&data)?;
            Ok(aside)
        })
        .await
        .map_err(|e| StoreError::Io {
            key: key.to_string(),
            source: Box::new(e),
        })?
        .map_err(|e| io(key, e))?;
        Ok((aside, path))
    }
}

/// A temporary file beside an object's file: removed when dropped (on a failure, or when the
/// write is abandoned) unless it was moved into place.
struct Aside {
    path: PathBuf,
    keep: bool,
}

impl Drop for Aside {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates `dir` and the folders above it that are missing, each 0700 whatever the umask.
fn create_private_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dirs(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(dir) {
        #[cfg(unix)]
        Ok(()) => {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))
        }
        #[cfg(not(unix))]
        Ok(()) => Ok(()),
        // Created meanwhile by another writer.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
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
        let (mut aside, path) = self.write_aside(key, data).await?;
        tokio::fs::rename(&aside.path, &path)
            .await
            .map_err(|e| io(key, e))?;
        aside.keep = true;
        Ok(())
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
        let (aside, path) = self.write_aside(key, data).await?;
        let linked = tokio::fs::hard_link(&aside.path, &path).await;
        drop(aside);
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

    /// A folder keeps no earlier versions: a deleted file is gone.
    async fn delete_versions(&self, _prefix: &str) -> Result<usize, StoreError> {
        Ok(0)
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

    /// The names in a folder, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        // A folder where the object's file should be: the rename fails, even for root.
        std::fs::create_dir_all(dir.path().join("exports/plan.json/x")).unwrap();
        let data = Bytes::from_static(b"{}");
        assert!(store.put("exports/plan.json", data.clone()).await.is_err());
        assert_eq!(names(&dir.path().join("exports")), ["plan.json"]);
        let taken = store.put_if_absent("exports/plan.json", data).await;
        assert!(!matches!(taken, Ok(true)), "{taken:?}");
        assert_eq!(names(&dir.path().join("exports")), ["plan.json"]);
    }

    #[test]
    fn a_temporary_file_goes_unless_it_was_moved_into_place() {
        // What a write that fails half-way (a full disk) or is abandoned relies on.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tmp-1");
        std::fs::write(&path, b"half").unwrap();
        drop(Aside {
            path: path.clone(),
            keep: false,
        });
        assert!(!path.exists());
        std::fs::write(&path, b"all").unwrap();
        drop(Aside {
            path: path.clone(),
            keep: true,
        });
        assert!(path.exists());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn objects_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("data");
        let store = LocalStore::new(&root);
        let data = Bytes::from_static(b"a@x.io");
        store
            .put("exports/d/e/chunks/1.json", data.clone())
            .await
            .unwrap();
        assert!(store.put_if_absent("exports/d/lock", data).await.unwrap());
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        for folder in [
            "",
            "exports",
            "exports/d",
            "exports/d/e",
            "exports/d/e/chunks",
        ] {
            assert_eq!(mode(&root.join(folder)), 0o700, "{folder}");
        }
        for file in ["exports/d/e/chunks/1.json", "exports/d/lock"] {
            assert_eq!(mode(&root.join(file)), 0o600, "{file}");
        }
    }
}
