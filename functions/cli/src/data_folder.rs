//! The data folder: the jobs' dependencies on it, and the warning when other users can read it.

use shared::audience_api::{ApiFactory, ClientSettings};
use shared::store::LocalStore;
use shared::{secrets::FileSecrets, snapshot::LocalFiles, Deps};
use std::path::Path;
use std::sync::Arc;

/// The jobs' dependencies for a data folder.
pub fn local_deps(data_dir: &Path) -> Deps {
    warn_if_open_to_others(data_dir);
    Deps {
        store: Arc::new(LocalStore::new(data_dir)),
        secrets: Arc::new(FileSecrets::new(data_dir.join("secrets"))),
        snapshots: Arc::new(LocalFiles::excluding(data_dir)),
        apis: Arc::new(ApiFactory::new(ClientSettings::default())),
    }
}

/// One line on stderr when other users can open the data folder: it holds every exported email
/// (the baseline, chunks, rejected.csv). Nothing is said about a folder that does not exist yet.
fn warn_if_open_to_others(data_dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::metadata(data_dir) else {
            return;
        };
        if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
            let shown = data_dir.display().to_string();
            eprintln!(
                "warning: the data folder {shown} is readable by other users: it holds every exported email; run `chmod -R go= {}`",
                shell_word(&shown)
            );
        }
    }
}

/// `text` as one word for a POSIX shell: as it is when that is safe, else in single quotes.
fn shell_word(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn a_path_is_quoted_for_the_shell_only_when_it_needs_to_be() {
        assert_eq!(
            shell_word("/home/ann/.autopilot-export"),
            "/home/ann/.autopilot-export"
        );
        assert_eq!(shell_word("/tmp/my data"), "'/tmp/my data'");
        assert_eq!(shell_word("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
