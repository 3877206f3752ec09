//! Snapshots on the local file system: files opened, folders listed (recursively, links to
//! folders not followed), ranges read with a seek.

use super::{Found, Listed, SnapshotError, SnapshotReader, MAX_LISTED};
use bytes::Bytes;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

/// Snapshots on the local file system; `s3://` sources need the S3 reader of the AWS deployment.
/// Only regular files (or links to them) are read: a named pipe or a device would never end.
#[derive(Debug, Clone, Default)]
pub struct LocalFiles;

/// Refuses `s3://` sources, which only the AWS deployment reads.
fn local(source: &str) -> Result<(), SnapshotError> {
    if source.starts_with("s3://") {
        return Err(SnapshotError::invalid(format!(
            "{source} is in S3, which the local command does not read: download it and configure the segment with its local path, or run the export on AWS"
        )));
    }
    Ok(())
}

impl SnapshotReader for LocalFiles {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
        Ok(Box::new(open_file(source)?))
    }

    fn stat(&self, source: &str) -> Result<Found, SnapshotError> {
        local(source)?;
        match std::fs::metadata(source) {
            Ok(meta) if meta.is_dir() => Ok(Found::Folder),
            Ok(meta) => Ok(Found::File {
                size: Some(meta.len()),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Found::Missing),
            Err(e) => Err(SnapshotError::io(
                format!("the snapshot {source} cannot be opened: {e}"),
                &e,
            )),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, SnapshotError> {
        local(prefix)?;
        // The folder the prefix is in; its files whose path starts with the prefix.
        let folder = match prefix.rfind('/') {
            Some(0) => "/",
            Some(end) => &prefix[..end],
            None => ".",
        };
        let mut found = Vec::new();
        let shown = |path: &Path| match prefix.rfind('/') {
            Some(_) => path.to_string_lossy().into_owned(),
            None => path
                .strip_prefix(".")
                .unwrap_or(path)
                .to_string_lossy()
                .into_owned(),
        };
        walk(Path::new(folder), &mut |path, size| {
            let source = shown(path);
            if source.starts_with(prefix) {
                if found.len() == MAX_LISTED {
                    return Err(super::too_many_listed(prefix));
                }
                found.push(Listed { source, size });
            }
            Ok(())
        })?;
        found.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(found)
    }

    fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
        let mut file = open_file(source)?;
        let cannot = |e: std::io::Error| {
            SnapshotError::io(format!("the snapshot {source} cannot be read: {e}"), &e)
        };
        file.seek(std::io::SeekFrom::Start(start)).map_err(cannot)?;
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 26));
        file.take(len).read_to_end(&mut bytes).map_err(cannot)?;
        if (bytes.len() as u64) < len {
            return Err(super::ended_early(source, start, len));
        }
        Ok(bytes.into())
    }
}

/// Local files anywhere but in one folder: the command's data folder, whose files (its secrets,
/// its baselines) are never a snapshot. A source in it is refused; a listing leaves it out.
#[derive(Debug, Clone)]
pub struct Excluding {
    folder: PathBuf,
}

impl LocalFiles {
    /// Local files outside `folder` (which need not exist yet).
    pub fn excluding(folder: &Path) -> Excluding {
        let folder = std::fs::canonicalize(folder)
            .or_else(|_| std::path::absolute(folder))
            .unwrap_or_else(|_| folder.to_path_buf());
        Excluding { folder }
    }
}

impl Excluding {
    /// Whether `path` lies in the excluded folder (following links, as a read would).
    fn inside(&self, path: &Path) -> bool {
        std::fs::canonicalize(path)
            .or_else(|_| std::path::absolute(path))
            .is_ok_and(|p| p.starts_with(&self.folder))
    }

    fn check(&self, source: &str) -> Result<(), SnapshotError> {
        if self.inside(Path::new(source)) {
            return Err(SnapshotError::invalid(format!(
                "{source} is inside the data folder of autopilot-export ({}), which holds the tool's own files and never a snapshot: point the segment at your snapshots",
                self.folder.display()
            )));
        }
        Ok(())
    }
}

impl SnapshotReader for Excluding {
    fn open(&self, source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
        self.check(source)?;
        LocalFiles.open(source)
    }

    fn stat(&self, source: &str) -> Result<Found, SnapshotError> {
        self.check(source)?;
        LocalFiles.stat(source)
    }

    fn list(&self, prefix: &str) -> Result<Vec<Listed>, SnapshotError> {
        let mut listed = LocalFiles.list(prefix)?;
        listed.retain(|l| !self.inside(Path::new(&l.source)));
        Ok(listed)
    }

    fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
        self.check(source)?;
        LocalFiles.read_range(source, start, len)
    }
}

/// Opens a regular file (or a link to one) for reading; anything else is refused, saying what
/// it is.
fn open_file(source: &str) -> Result<std::fs::File, SnapshotError> {
    local(source)?;
    let cannot = |e: std::io::Error| {
        match e.kind() {
        std::io::ErrorKind::NotFound => SnapshotError::missing(format!(
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
    Ok(file)
}

/// Calls `each` with every regular file (or link to one) under `folder`, at any depth, and its
/// size. Links to folders are not followed (a link back up would never end); what is neither a
/// file nor a folder (a pipe, a device) is left out. A folder that does not exist has no files.
fn walk(
    folder: &Path,
    each: &mut dyn FnMut(&Path, u64) -> Result<(), SnapshotError>,
) -> Result<(), SnapshotError> {
    let cannot = |e: std::io::Error| {
        SnapshotError::io(
            format!("the folder {} cannot be listed: {e}", folder.display()),
            &e,
        )
    };
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(cannot(e)),
    };
    for entry in entries {
        let entry = entry.map_err(cannot)?;
        let path = entry.path();
        let kind = entry.file_type().map_err(cannot)?;
        if kind.is_dir() {
            walk(&path, each)?;
        } else if let Ok(meta) = std::fs::metadata(&path) {
            if meta.is_file() {
                each(&path, meta.len())?;
            }
        }
    }
    Ok(())
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
    fn local_files_conform() {
        let dir = tempfile::tempdir().unwrap();
        let root = format!("{}/", dir.path().display());
        super::super::conformance::run(&LocalFiles, &root, &|name, bytes| {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        });
    }

    #[test]
    fn the_data_folder_is_never_read_as_a_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("secrets")).unwrap();
        std::fs::write(data.join("secrets/main.key"), "sk-secret").unwrap();
        std::fs::write(dir.path().join("vip.csv"), "email\n").unwrap();
        let reader = LocalFiles::excluding(&data);
        let listed = reader.list(&format!("{}/", dir.path().display())).unwrap();
        let names: Vec<&str> = listed.iter().map(|l| l.source.as_str()).collect();
        assert_eq!(names, [format!("{}/vip.csv", dir.path().display())]);
        let key = data.join("secrets/main.key").display().to_string();
        let err = reader.open(&key).err().unwrap();
        assert!(
            err.message()
                .contains("is inside the data folder of autopilot-export"),
            "{err}"
        );
        assert!(!err.message().contains("sk-secret"));
        // Through a link, too.
        #[cfg(unix)]
        {
            let link = dir.path().join("link.csv");
            std::os::unix::fs::symlink(data.join("secrets/main.key"), &link).unwrap();
            assert!(reader
                .read_range(&link.display().to_string(), 0, 2)
                .is_err());
        }
    }

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
