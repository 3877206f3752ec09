//! Why a snapshot could not be read, and whether reading it again later can work: a missing
//! snapshot, one this deployment may not read, or a malformed one is fatal; a timeout, a server
//! fault or a dropped connection while reading it is [`ErrorKind::Transient`].

use crate::error::ErrorKind;

/// A snapshot that could not be opened or read, with a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SnapshotError {
    kind: ErrorKind,
    message: String,
    /// What was asked for is not there (see [`SnapshotError::missing`]).
    missing: bool,
}

impl SnapshotError {
    /// A problem with the snapshot itself or with where it points: trying again changes nothing.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::InvalidInput,
            message: message.into(),
            missing: false,
        }
    }

    /// An object that is not there: fatal, and told apart so that a part listed a moment ago
    /// and gone since can be named as such.
    pub fn missing(message: impl Into<String>) -> Self {
        Self {
            missing: true,
            ..Self::invalid(message)
        }
    }

    /// Whether this says an object is not there.
    pub fn is_missing(&self) -> bool {
        self.missing
    }

    /// The same error with `prefix` before its message.
    pub fn prefixed(self, prefix: &str) -> Self {
        Self {
            message: format!("{prefix}{}", self.message),
            ..self
        }
    }

    /// A failure of the storage or the network on the way to the snapshot.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            message: message.into(),
            missing: false,
        }
    }

    /// `message` about a read that failed with `error`, of the kind [`io_kind`] gives it.
    pub fn io(message: impl Into<String>, error: &std::io::Error) -> Self {
        Self {
            kind: io_kind(error),
            message: message.into(),
            missing: false,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Plain messages are about the snapshot itself: fatal.
impl From<String> for SnapshotError {
    fn from(message: String) -> Self {
        Self::invalid(message)
    }
}

/// The kind of a failed read: a missing file, one that may not be read, or bytes that are not
/// what they claim (a corrupt gzip stream, one cut short) are fatal; anything else (a timeout, a
/// reset connection, a failed disk or network read) may work when tried again.
pub fn io_kind(error: &std::io::Error) -> ErrorKind {
    use std::io::ErrorKind as Io;
    match error.kind() {
        Io::NotFound
        | Io::PermissionDenied
        | Io::InvalidData
        | Io::InvalidInput
        | Io::UnexpectedEof
        | Io::Unsupported
        | Io::IsADirectory => ErrorKind::InvalidInput,
        _ => ErrorKind::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind as Io};

    #[test]
    fn reads_that_may_work_again_are_transient() {
        for kind in [Io::TimedOut, Io::ConnectionReset, Io::BrokenPipe, Io::Other] {
            let err = SnapshotError::io("cannot be read", &Error::from(kind));
            assert_eq!(err.kind(), ErrorKind::Transient, "{kind:?}");
        }
        for kind in [Io::NotFound, Io::PermissionDenied, Io::InvalidData] {
            let err = SnapshotError::io("cannot be read", &Error::from(kind));
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{kind:?}");
        }
        let plain = SnapshotError::from("the snapshot s.csv is empty".to_string());
        assert_eq!(plain.kind(), ErrorKind::InvalidInput);
        assert_eq!(plain.to_string(), "the snapshot s.csv is empty");
    }

    /// A stream that hands out `data`, then fails with `kind`.
    struct Cut {
        data: std::io::Cursor<Vec<u8>>,
        kind: Io,
    }

    impl std::io::Read for Cut {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.data.read(buf)? {
                0 => Err(Error::from(self.kind)),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_connection_lost_while_reading_is_transient() {
        let mut data = b"email,name\n".to_vec();
        for i in 0..20_000 {
            data.extend(format!("p{i}@x.io,P{i}\n").as_bytes());
        }
        let cut = |kind| Cut {
            data: std::io::Cursor::new(data.clone()),
            kind,
        };
        let read_all = |kind| -> SnapshotError {
            let mut rows = match super::super::csv::SnapshotRows::open("s.csv", Box::new(cut(kind)))
            {
                Ok(rows) => rows,
                Err(e) => return e,
            };
            loop {
                match rows.next_row() {
                    Ok(Some(_)) => {}
                    Ok(None) => panic!("read to the end"),
                    Err(e) => return e,
                }
            }
        };
        let lost = read_all(Io::ConnectionReset);
        assert_eq!(lost.kind(), ErrorKind::Transient, "{lost}");
        assert!(
            lost.message().contains("s.csv cannot be read past row"),
            "{lost}"
        );
        let denied = read_all(Io::PermissionDenied);
        assert_eq!(denied.kind(), ErrorKind::InvalidInput, "{denied}");
        let lost_first = SnapshotError::io(
            "the snapshot s.csv cannot be read",
            &Error::from(Io::TimedOut),
        );
        assert_eq!(lost_first.kind(), ErrorKind::Transient);
    }
}
