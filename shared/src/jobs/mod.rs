//! The jobs: the steps of an export as the state machine runs them ([`plan`], [`upload_chunk`],
//! [`finalize`], which ends with the light verify) and a destination's set-up and removal
//! ([`connect`], [`configure`], [`remove`]). Each is `run(input, &deps) -> Result<output,
//! JobError>` with serde input and output types: those of an export's steps are the Step
//! Functions payload contract, so they carry ids, keys and counts, never contacts and never the
//! API key. Beside them what the steps share: the destination's export [`lock`], the [`progress`]
//! of an unfinished export, the [`ledger`] of what an unfinished export leaves in the baseline,
//! and [`Deps`], the ports every job and use-case runs against. The use-cases that combine them
//! live in [`crate::app`].

pub mod configure;
pub mod connect;
pub mod finalize;
pub mod ledger;
pub mod lock;
pub mod plan;
pub mod progress;
pub mod remove;
pub mod upload_chunk;

use crate::audience_api::ApiFactory;
pub use crate::job_error::JobError;
use crate::secrets::SecretStore;
use crate::snapshot::SnapshotReader;
use crate::store::ObjectStore;
use std::sync::Arc;

/// What the jobs run against.
#[derive(Clone)]
pub struct Deps {
    pub store: Arc<dyn ObjectStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub snapshots: Arc<dyn SnapshotReader>,
    /// Makes the client of a destination's API (checked against the deployment's boundary).
    pub apis: Arc<ApiFactory>,
}

/// An input that could not be read, described without quoting any of its values (a value may be
/// an API key typed into the wrong field).
pub fn input_error(err: &serde_json::Error) -> JobError {
    let text = err.to_string();
    let head = text.split(" at line ").next().unwrap_or_default();
    let message = if ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| head.starts_with(p))
    {
        head.to_string()
    } else if err.is_syntax() || err.is_eof() {
        "the body is not valid JSON".to_string()
    } else {
        "a field has a value of the wrong type or format".to_string()
    };
    let position = if err.line() > 0 {
        format!(" (line {}, column {})", err.line(), err.column())
    } else {
        String::new()
    };
    JobError::InvalidInput(format!("{message}{position}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_errors_never_quote_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            consent: bool,
            name: String,
        }
        let table = [
            (r#"{"consent": "sk-secret-1", "name": "x"}"#, "wrong type"),
            (r#"{"name": "x"}"#, "missing field `consent`"),
            (r#"{"consent": true, "name": "x""#, "not valid JSON"),
            (r#"not json sk-secret-1"#, "not valid JSON"),
        ];
        for (body, expected) in table {
            let err = super::input_error(&serde_json::from_str::<Body>(body).unwrap_err());
            assert!(err.to_string().contains(expected), "{err}");
            assert!(!err.to_string().contains("sk-secret"), "{err}");
            assert_eq!(err.type_name(), "InvalidInput");
        }
    }
}
