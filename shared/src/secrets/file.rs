//! `FileSecrets`: one file per destination and secret (`{id}.key` for the API key,
//! `{id}.{name}.key` for a named one) in a folder only the owner can open (0700), each file
//! created 0600 before the key is written to it. A key is written to a new file of a random name
//! (never through one that is already there, such as a planted link) and renamed into place; a
//! folder that others can open is refused until it is private again.

use super::{Named, SecretError, SecretStore};
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

    /// The file of a destination's API key (`{id}.key`) or of its `named` secret
    /// (`{id}.{name}.key`).
    fn path(&self, destination_id: &str, named: Option<Named>) -> Result<PathBuf, SecretError> {
        if destination_id.is_empty()
            || !destination_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(SecretError::NotFound(destination_id.to_string()));
        }
        Ok(self.dir.join(match named {
            None => format!("{destination_id}.key"),
            Some(name) => format!("{destination_id}.{}.key", name.as_str()),
        }))
    }

    /// Writes `value` to a new private file and renames it into place.
    async fn write(
        &self,
        destination_id: &str,
        named: Option<Named>,
        value: &SecretString,
    ) -> Result<(), SecretError> {
        let path = self.path(destination_id, named)?;
        let dir = self.dir.clone();
        let value = value.clone();
        let id = destination_id.to_string();
        tokio::task::spawn_blocking(move || {
            create_private_dir(&dir).map_err(|e| io(&id, e))?;
            if open_to_others(&std::fs::metadata(&dir).map_err(|e| io(&id, e))?) {
                return Err(exposed(&dir));
            }
            let tmp = dir.join(format!(".{id}.{:016x}.tmp", fastrand::u64(..)));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp).map_err(|e| io(&id, e))?;
            let written = file
                .write_all(value.expose_secret().as_bytes())
                .and_then(|()| file.sync_all())
                .and_then(|()| std::fs::rename(&tmp, &path));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(io(&id, e));
            }
            Ok(())
        })
        .await
        .map_err(|e| SecretError::Io {
            destination: destination_id.to_string(),
            source: Box::new(e),
        })?
    }

    /// The secret in its file; `None` when there is no such file.
    async fn read(
        &self,
        destination_id: &str,
        named: Option<Named>,
    ) -> Result<Option<SecretString>, SecretError> {
        let path = self.path(destination_id, named)?;
        match tokio::fs::metadata(&self.dir).await {
            Ok(meta) if open_to_others(&meta) => return Err(exposed(&self.dir)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(destination_id, e)),
        }
        match tokio::fs::read_to_string(&path).await {
            Ok(text) => Ok(Some(SecretString::from(text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(destination_id, e)),
        }
    }

    async fn remove(&self, destination_id: &str, named: Option<Named>) -> Result<(), SecretError> {
        let path = self.path(destination_id, named)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(destination_id, e)),
        }
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
        self.write(destination_id, None, key).await
    }

    async fn get(&self, destination_id: &str) -> Result<SecretString, SecretError> {
        self.read(destination_id, None)
            .await?
            .ok_or_else(|| SecretError::NotFound(destination_id.to_string()))
    }

    async fn delete(&self, destination_id: &str) -> Result<(), SecretError> {
        self.remove(destination_id, None).await
    }

    async fn put_named(
        &self,
        destination_id: &str,
        name: Named,
        value: &SecretString,
    ) -> Result<(), SecretError> {
        self.write(destination_id, Some(name), value).await
    }

    async fn get_named(
        &self,
        destination_id: &str,
        name: Named,
    ) -> Result<Option<SecretString>, SecretError> {
        self.read(destination_id, Some(name)).await
    }

    async fn delete_named(&self, destination_id: &str, name: Named) -> Result<(), SecretError> {
        self.remove(destination_id, Some(name)).await
    }
}

/// Whether anyone but the owner can open a folder (any group or other permission bit).
fn open_to_others(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o077 != 0
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

fn exposed(dir: &std::path::Path) -> SecretError {
    SecretError::Exposed {
        dir: dir.display().to_string(),
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

    #[cfg(unix)]
    #[tokio::test]
    async fn a_planted_temp_file_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("secrets");
        create_private_dir(&folder).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "").unwrap();
        for planted in ["d1.key.tmp", ".d1.key.tmp", "d1.tmp"] {
            std::os::unix::fs::symlink(&victim, folder.join(planted)).unwrap();
        }
        let secrets = FileSecrets::new(&folder);
        secrets
            .put("d1", &SecretString::from("the-key".to_string()))
            .await
            .unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "");
        assert_eq!(secrets.get("d1").await.unwrap().expose_secret(), "the-key");
        let mut names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [".d1.key.tmp", "d1.key", "d1.key.tmp", "d1.tmp"]);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_secrets_folder_others_can_open_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("secrets");
        let secrets = FileSecrets::new(&folder);
        let key = SecretString::from("the-key".to_string());
        secrets.put("d1", &key).await.unwrap();
        for mode in [0o755, 0o750, 0o701, 0o770] {
            std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(mode)).unwrap();
            let fix = format!("run `chmod 700 {}`", folder.display());
            for err in [
                secrets.put("d1", &key).await.unwrap_err(),
                secrets.get("d1").await.unwrap_err(),
            ] {
                let text = err.to_string();
                assert!(text.contains(&fix), "{mode:o}: {text}");
                assert!(!text.contains("the-key"), "{text}");
            }
            // Removing a key from an open folder is still allowed.
            secrets.delete("d2").await.unwrap();
        }
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(secrets.get("d1").await.unwrap().expose_secret(), "the-key");
    }
}
