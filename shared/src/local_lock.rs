//! The operating-system lock a local export of a destination (the command's `export`, the
//! console's Export now) holds on `{data}/locks/{destination}.lock` for as long as it runs: a
//! second export of it from another terminal or page is refused instead of sending the same chunks
//! again. The lock goes with the process however it ends, so after Ctrl-C or a kill the next
//! export takes it and resumes.

use crate::destination;
use crate::job_error::JobError;
use crate::store::StoreError;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Takes the lock of `dest`; it is held until the file returned is dropped.
pub fn hold(data_dir: &Path, dest: &str) -> Result<File, JobError> {
    let (file, path) = open(data_dir, dest).map_err(|(e, path)| failed(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(JobError::Conflict(format!(
            "another autopilot-export process is exporting '{dest}' from this data folder right now: wait for it to finish (`autopilot-export status {dest}` shows how far it has got)"
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(&path, e)),
    }
}

fn failed(path: &Path, source: std::io::Error) -> JobError {
    JobError::Store(StoreError::Io {
        key: path.display().to_string(),
        source: Box::new(source),
    })
}

/// Whether another process holds the lock of `dest` (that is, exports it right now).
pub fn is_held(data_dir: &Path, dest: &str) -> bool {
    open(data_dir, dest)
        .map(|(file, _)| file.try_lock().is_err())
        .unwrap_or(false)
}

/// The lock file of `dest`, created private (0700 folder, 0600 file) like everything else in the
/// data folder, whatever the umask; not locked by this call.
fn open(data_dir: &Path, dest: &str) -> Result<(File, PathBuf), (std::io::Error, PathBuf)> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = data_dir.join("locks");
    let path = dir.join(format!("{}.lock", destination::slug(dest)));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&path)
        })
        .map(|file| (file, path.clone()))
        .map_err(|e| (e, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_held(dir.path(), "main"));
        let held = hold(dir.path(), "main").unwrap();
        assert!(is_held(dir.path(), "main"));
        let refused = hold(dir.path(), "main").unwrap_err();
        assert!(
            refused
                .to_string()
                .contains("another autopilot-export process"),
            "{refused}"
        );
        assert!(!is_held(dir.path(), "other"));
        drop(held);
        assert!(!is_held(dir.path(), "main"));
        hold(dir.path(), "main").unwrap();
    }
}
