//! How a command ends: its exit status, and how an error is told — one line on stderr, and with
//! `--json` one JSON document `{"error": {"type", "message"}}` on stdout as well, so a script that
//! reads stdout always gets a document.
//!
//! Exit status: 0 succeeded, 1 failed (or refused), 2 a wrong command line (clap's), 3 an export
//! that partially succeeded (contacts refused by Autopilot or not sent), or a verification that
//! found members missing or a list gone.

use shared::JobError;
use std::error::Error;
use std::process::ExitCode;

pub type BoxError = Box<dyn Error + Send + Sync>;

/// How a command that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// An export whose report says `partially_succeeded`; a verification that found gaps.
    Partial,
}

/// The exit status of an export that partially succeeded.
pub const PARTIAL: u8 = 3;

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Done => ExitCode::SUCCESS,
            Outcome::Partial => ExitCode::from(PARTIAL),
        }
    }
}

/// Something the user gave (a flag, a key, an answer) cannot be used: type `InvalidInput`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// The command failed and its result (a failed export's report) is printed already: the error
/// adds a line on stderr, but no second JSON document.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// The stable name of an error: a job's own (`JobError::type_name`), else `InvalidInput` for what
/// the user gave, else `Error`.
pub fn type_name(error: &(dyn Error + Send + Sync + 'static)) -> &'static str {
    if let Some(job) = error.downcast_ref::<JobError>() {
        job.type_name()
    } else if error.is::<InvalidInput>() {
        "InvalidInput"
    } else {
        "Error"
    }
}

/// The error and its causes in one line, each cause once.
pub fn message(error: &(dyn Error + Send + Sync + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Tells a failed command's error and gives its exit status (1).
pub fn fail(error: &(dyn Error + Send + Sync + 'static), json: bool) -> ExitCode {
    let text = message(error);
    if json && !error.is::<Reported>() {
        println!("{}", document(type_name(error), &text));
    }
    eprintln!("error: {text}");
    ExitCode::FAILURE
}

/// A command line clap refused (exit 2), or help and version (exit 0). With `--json` among the
/// arguments a refusal is printed as a JSON document on stdout too.
pub fn usage(error: clap::Error) -> ExitCode {
    let code = error.exit_code();
    if error.use_stderr() && json_requested(std::env::args_os()) {
        let rendered = error.render().to_string();
        let first = rendered.lines().next().unwrap_or_default();
        let text = first.strip_prefix("error: ").unwrap_or(first).trim();
        println!("{}", document("InvalidInput", text));
    }
    let _ = error.print();
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

fn document(type_name: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"error": {"type": type_name, "message": message}})
}

/// Whether `--json` is among the options (before a `--`).
fn json_requested(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    args.skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_come_from_the_job_error_else_from_what_failed() {
        let job: BoxError = JobError::NotFound("no destination 'x'".into()).into();
        assert_eq!(type_name(job.as_ref()), "NotFound");
        let input: BoxError = InvalidInput("bad".into()).into();
        assert_eq!(type_name(input.as_ref()), "InvalidInput");
        let other: BoxError = "something else".into();
        assert_eq!(type_name(other.as_ref()), "Error");
    }

    #[test]
    fn json_is_requested_only_before_a_double_dash() {
        let args = |list: &[&str]| {
            list.iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
                .into_iter()
        };
        assert!(json_requested(args(&["cli", "--json", "export", "x"])));
        assert!(json_requested(args(&["cli", "export", "x", "--json"])));
        assert!(!json_requested(args(&["cli", "export", "--", "--json"])));
        assert!(!json_requested(args(&["cli", "export", "x"])));
    }
}
