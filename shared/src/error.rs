//! The error taxonomy: every failure has an [`ErrorKind`], whose stable name the state machine's
//! `Retry` and `Catch` match on, reports and `--json` documents carry, and the HTTP API answers
//! with. Whether a kind is worth retrying and its HTTP status live in the one table below;
//! `JobError`, `ApiError` (an API's failures, whichever API), `StoreError`, `SecretError` and
//! `SnapshotError` each say which kind they are, and nothing matches on names.

use crate::secrets::SecretError;
use crate::store::StoreError;

/// The class of a failure. Names never change once released.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Something the caller gave is wrong (a body, a setting, a snapshot): fix it and try again.
    InvalidInput,
    /// The API refused the API key.
    Unauthorized,
    NotFound,
    /// An export of the destination is running already.
    ExportRunning,
    AlreadyExists,
    /// More than a limit (profiles, list members).
    LimitExceeded,
    /// The destination has no data matching or no segments yet: configure it first.
    NotConfigured,
    /// A run that would remove or shrink too much.
    GuardrailTripped,
    /// The API refused a request.
    InvalidRequest,
    /// The API throttled the request.
    Throttled,
    /// A timeout, a server fault, a lost connection: trying again later can work.
    Transient,
    /// The API's answer could not be used.
    InvalidResponse,
    /// A fault inside the product or its deployment (a task that died, an AWS call refused).
    Internal,
}

/// One row per kind: the kind, its name, whether it is retried, its HTTP status.
const TABLE: [(ErrorKind, &str, bool, u16); 13] = [
    (ErrorKind::InvalidInput, "InvalidInput", false, 400),
    (ErrorKind::Unauthorized, "Unauthorized", false, 400),
    (ErrorKind::NotFound, "NotFound", false, 404),
    (ErrorKind::ExportRunning, "ExportRunning", false, 409),
    (ErrorKind::AlreadyExists, "AlreadyExists", false, 409),
    (ErrorKind::LimitExceeded, "LimitExceeded", false, 422),
    (ErrorKind::NotConfigured, "NotConfigured", false, 422),
    (ErrorKind::GuardrailTripped, "GuardrailTripped", false, 422),
    (ErrorKind::InvalidRequest, "InvalidRequest", false, 422),
    (ErrorKind::Throttled, "Throttled", true, 502),
    (ErrorKind::Transient, "Transient", true, 502),
    (ErrorKind::InvalidResponse, "InvalidResponse", false, 502),
    (ErrorKind::Internal, "Internal", false, 500),
];

impl ErrorKind {
    /// Every kind, in the table's order.
    pub const ALL: [ErrorKind; TABLE.len()] = {
        let mut all = [ErrorKind::Internal; TABLE.len()];
        let mut i = 0;
        while i < TABLE.len() {
            all[i] = TABLE[i].0;
            i += 1;
        }
        all
    };

    fn row(self) -> &'static (ErrorKind, &'static str, bool, u16) {
        // Every kind has its row: `table_covers_every_kind` checks it.
        TABLE
            .iter()
            .find(|row| row.0 == self)
            .unwrap_or(&TABLE[TABLE.len() - 1])
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        self.row().1
    }

    /// Whether trying the same thing again later can succeed.
    pub fn retryable(self) -> bool {
        self.row().2
    }

    /// The HTTP status the API answers this kind with.
    pub fn http_status(self) -> u16 {
        self.row().3
    }

    /// The kind of a name, `None` for a name that is not one.
    pub fn from_name(name: &str) -> Option<Self> {
        TABLE.iter().find(|row| row.1 == name).map(|row| row.0)
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl StoreError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::InvalidKey(_) => ErrorKind::InvalidInput,
            Self::Io { .. } => ErrorKind::Transient,
            Self::Refused { .. } => ErrorKind::Internal,
        }
    }
}

impl SecretError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            // A secrets folder others can open is the user's to fix: trying again changes nothing.
            Self::Exposed { .. } => ErrorKind::InvalidInput,
            Self::Io { .. } => ErrorKind::Transient,
            Self::Refused { .. } => ErrorKind::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A kind added to the enum fails to compile here until it is numbered, then fails
    /// `table_covers_every_kind_once` until it has its row in the table.
    fn ordinal(kind: ErrorKind) -> usize {
        match kind {
            ErrorKind::InvalidInput => 0,
            ErrorKind::Unauthorized => 1,
            ErrorKind::NotFound => 2,
            ErrorKind::ExportRunning => 3,
            ErrorKind::AlreadyExists => 4,
            ErrorKind::LimitExceeded => 5,
            ErrorKind::GuardrailTripped => 6,
            ErrorKind::InvalidRequest => 7,
            ErrorKind::Throttled => 8,
            ErrorKind::Transient => 9,
            ErrorKind::InvalidResponse => 10,
            ErrorKind::Internal => 11,
            ErrorKind::NotConfigured => 12,
        }
    }
    const KINDS: usize = 13;

    #[test]
    fn table_covers_every_kind_once() {
        let ordinals: HashSet<usize> = ErrorKind::ALL.into_iter().map(ordinal).collect();
        assert_eq!(ordinals, (0..KINDS).collect());
        let kinds: HashSet<ErrorKind> = ErrorKind::ALL.into_iter().collect();
        let names: HashSet<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(kinds.len(), TABLE.len());
        assert_eq!(names.len(), TABLE.len());
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(ErrorKind::from_name("States.ALL"), None);
        let retryable: Vec<&str> = ErrorKind::ALL
            .iter()
            .filter(|k| k.retryable())
            .map(|k| k.as_str())
            .collect();
        assert_eq!(retryable, ["Throttled", "Transient"]);
        assert_eq!(ErrorKind::Internal.http_status(), 500);
        assert_eq!(ErrorKind::NotFound.http_status(), 404);
    }

    #[test]
    fn store_and_secret_kinds() {
        let io = || -> Box<dyn std::error::Error + Send + Sync> { "down".into() };
        let table = [
            (StoreError::NotFound("k".into()).kind(), ErrorKind::NotFound),
            (
                StoreError::InvalidKey("..".into()).kind(),
                ErrorKind::InvalidInput,
            ),
            (
                StoreError::Io {
                    key: "k".into(),
                    source: io(),
                }
                .kind(),
                ErrorKind::Transient,
            ),
            (
                StoreError::Refused {
                    key: "k".into(),
                    source: io(),
                }
                .kind(),
                ErrorKind::Internal,
            ),
            (
                SecretError::Refused {
                    destination: "d".into(),
                    source: io(),
                }
                .kind(),
                ErrorKind::Internal,
            ),
            (
                SecretError::NotFound("d".into()).kind(),
                ErrorKind::NotFound,
            ),
            (
                SecretError::Exposed { dir: "s".into() }.kind(),
                ErrorKind::InvalidInput,
            ),
            (
                SecretError::Io {
                    destination: "d".into(),
                    source: io(),
                }
                .kind(),
                ErrorKind::Transient,
            ),
        ];
        for (kind, expected) in table {
            assert_eq!(kind, expected);
        }
    }
}
