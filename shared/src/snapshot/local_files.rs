//! Snapshots on the local file system.

use super::{SnapshotError, SnapshotReader};
use std::io::Read;

/// Snapshots on the local file system; `s3://` sources need the S3 reader of the AWS deployment.
/// Only regular files (or links to them) are read: a named pipe or a device would never end.
#[derive(Debug, Clone, Default)]
pub struct LocalFiles;

impl SnapshotReader for LocalFiles {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
        if source.starts_with("s3://") {
            return Err(SnapshotError::invalid(format!(
                "{source} is in S3, which the local command does not read: download it and configure the segment with its local path, or run the export on AWS"
            )));
        }
        let cannot = |e: std::io::Error| {
            match e.kind() {
            std::io::ErrorKind::NotFound => SnapshotError::invalid(format!(
                "the snapshot {source} does not exist: check the path, or configure the segment again with `--segment 'NAME=PATH'`"
            )),
            _ => SnapshotError::io(format!("the snapshot {source} cannot be opened: {e}"), &e),
        }
        };
        // Look before opening: opening a named pipe waits for a writer that may never come.
        regular(source, &std::fs::metadata(source).map_err(cannot)?)?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        // Were the path swapped for a pipe after that look, opening it still would not wait (and
        // the look below refuses it); reading a regular file is the same with or without the flag.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
        let file = options.open(source).map_err(cannot)?;
        regular(source, &file.metadata().map_err(cannot)?)?;
        Ok(Box::new(file))
    }
}

/// Refuses anything but a regular file, saying what it is.
fn regular(source: &str, metadata: &std::fs::Metadata) -> Result<(), SnapshotError> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(SnapshotError::invalid(format!(
        "the snapshot {source} is not a regular file ({}): point the segment at a CSV file",
        kind(&metadata.file_type())
    )))
}

fn kind(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "neither a file nor a folder"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_s3_sources_are_explained() {
        let err = LocalFiles.open("/no/such/file.csv").err().unwrap();
        assert!(err.message().contains("does not exist"), "{err}");
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
        let err = LocalFiles.open("s3://bucket/key.csv").err().unwrap();
        assert!(err.message().contains("S3"), "{err}");
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
    }

    /// Opens `source` on a thread of its own, failing the test if that takes more than a few
    /// seconds (opening a named pipe waits for a writer that never comes).
    fn open_in_time(source: &std::path::Path) -> Result<(), String> {
        let source = source.to_string_lossy().into_owned();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(
                LocalFiles
                    .open(&source)
                    .map(drop)
                    .map_err(|e| e.to_string()),
            );
        });
        rx.recv_timeout(std::time::Duration::from_secs(5))
            .expect("opening the snapshot hung")
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_snapshots() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        let err = open_in_time(&fifo).unwrap_err();
        assert!(
            err.contains("is not a regular file (a named pipe)"),
            "{err}"
        );
        assert!(err.contains("point the segment at a CSV file"), "{err}");
        let err = open_in_time(std::path::Path::new("/dev/zero")).unwrap_err();
        assert!(err.contains("is not a regular file (a device)"), "{err}");
        let err = open_in_time(dir.path()).unwrap_err();
        assert!(err.contains("is not a regular file (a folder)"), "{err}");
        // A link to a regular file is followed.
        let file = dir.path().join("real.csv");
        std::fs::write(&file, "email\na@x.io\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let mut text = String::new();
        LocalFiles
            .open(&link.to_string_lossy())
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "email\na@x.io\n");
    }
}
