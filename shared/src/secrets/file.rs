//! `FileSecrets`: one file per destination in a folder only the owner can open (0700), each file
//! created 0600 before the key is written to it.

use super::{SecretError, SecretStore};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct FileSecrets {
    dir: PathBuf,
}

impl FileSecrets {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn path(&self, destination_id: &str) -> Result<PathBuf, SecretError> {
        if destination_id.is_empty()
            || !destination_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SecretError::NotFound(destination_id.to_string()));
        }
        Ok(self.dir.join(format!("{destination_id}.key")))
    }
}

fn io(destination: &str, e: std::io::Error) -> SecretError {
    SecretError::Io {
        destination: destination.to_string(),
        source: Box::new(e),
    }
}

#[async_trait]
impl SecretStore for FileSecrets {
    async fn put(&self, destination_id: &str, key: &SecretString) -> Result<(), SecretError> {
        let path = self.path(destination_id)?;
        let dir = self.dir.clone();
        let key = key.clone();
        let id = destination_id.to_string();
        tokio::task::spawn_blocking(move || {
            create_private_dir(&dir).map_err(|e| io(&id, e))?;
            let tmp = path.with_extension("key.tmp");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp).map_err(|e| io(&id, e))?;
            file.write_all(key.expose_secret().as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(|e| io(&id, e))?;
            std::fs::rename(&tmp, &path).map_err(|e| io(&id, e))
        })
        .await
        .map_err(|e| SecretError::Io {
            destination: destination_id.to_string(),
            source: Box::new(e),
        })?
    }

    async fn get(&self, destination_id: &str) -> Result<SecretString, SecretError> {
        let path = self.path(destination_id)?;
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(SecretString::from(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(SecretError::NotFound(destination_id.to_string()))
            }
            Err(e) => Err(io(destination_id, e)),
        }
    }

    async fn delete(&self, destination_id: &str) -> Result<(), SecretError> {
        let path = self.path(destination_id)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(destination_id, e)),
        }
    }
}

fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_secrets_conform() {
        let dir = tempfile::tempdir().unwrap();
        super::super::conformance::run(&FileSecrets::new(dir.path().join("secrets"))).await;
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secrets = FileSecrets::new(dir.path().join("secrets"));
        secrets
            .put("d1", &SecretString::from("k".to_string()))
            .await
            .unwrap();
        let file = std::fs::metadata(dir.path().join("secrets/d1.key")).unwrap();
        assert_eq!(file.permissions().mode() & 0o777, 0o600);
        let folder = std::fs::metadata(dir.path().join("secrets")).unwrap();
        assert_eq!(folder.permissions().mode() & 0o777, 0o700);
    }
}
