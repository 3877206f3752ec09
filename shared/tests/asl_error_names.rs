//! The state machines and the error taxonomy agree: every error name a `Retry` or `Catch` matches
//! (besides the service's own `States.`, `Lambda.` and `Sandbox.` names) is an `ErrorKind`, and
//! every Task state that runs one of the functions, nested ones included, retries every retryable
//! kind (the event put on EventBridge is a service integration: its errors are the service's).

use serde_json::Value;
use shared::ErrorKind;
use std::path::{Path, PathBuf};

/// The names the service raises itself.
const SERVICE_PREFIXES: [&str; 3] = ["States.", "Lambda.", "Sandbox."];

fn definitions() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/statemachine");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".asl.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no state machine in {}", dir.display());
    files
}

/// A definition as JSON: the template's `${Name}` placeholders outside strings (numbers such as
/// `${MaxConcurrency}`) become `0`.
fn parse(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut json = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
            json.push(c);
        } else if c == '$' && chars.peek() == Some(&'{') {
            for skipped in chars.by_ref() {
                if skipped == '}' {
                    break;
                }
            }
            json.push('0');
        } else {
            in_string = c == '"';
            json.push(c);
        }
    }
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every state of `states` and of the Map and Parallel states inside them: (name, state).
fn all_states(states: &Value, out: &mut Vec<(String, Value)>) {
    let Some(states) = states.as_object() else {
        return;
    };
    for (name, state) in states {
        out.push((name.clone(), state.clone()));
        for inner in ["ItemProcessor", "Iterator"] {
            all_states(&state[inner]["States"], out);
        }
        for branch in state["Branches"].as_array().into_iter().flatten() {
            all_states(&branch["States"], out);
        }
    }
}

/// The names in the `ErrorEquals` of a state's `Retry` or `Catch` (`field`).
fn names(state: &Value, field: &str) -> Vec<String> {
    state[field]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|rule| rule["ErrorEquals"].as_array().cloned().unwrap_or_default())
        .map(|name| name.as_str().unwrap_or_default().to_string())
        .collect()
}

fn states_of(path: &Path) -> Vec<(String, Value)> {
    let definition = parse(path);
    let mut states = Vec::new();
    all_states(&definition["States"], &mut states);
    assert!(!states.is_empty(), "{}: no states", path.display());
    states
}

#[test]
fn every_matched_error_name_is_an_error_kind() {
    for path in definitions() {
        for (state, value) in states_of(&path) {
            for name in names(&value, "Retry")
                .into_iter()
                .chain(names(&value, "Catch"))
            {
                let service = SERVICE_PREFIXES.iter().any(|p| name.starts_with(p));
                assert!(
                    service || ErrorKind::from_name(&name).is_some(),
                    "{}: state '{state}' matches '{name}', which is no ErrorKind",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn every_task_retries_every_retryable_kind() {
    let retryable: Vec<ErrorKind> = ErrorKind::ALL
        .into_iter()
        .filter(|k| k.retryable())
        .collect();
    assert!(!retryable.is_empty());
    for path in definitions() {
        let tasks: Vec<(String, Value)> = states_of(&path)
            .into_iter()
            .filter(|(_, s)| s["Type"] == "Task")
            .filter(|(_, s)| {
                s["Resource"]
                    .as_str()
                    .is_some_and(|r| r.contains("FunctionArn"))
            })
            .collect();
        assert!(!tasks.is_empty(), "{}: no Task state", path.display());
        for (state, value) in tasks {
            let retried = names(&value, "Retry");
            for kind in &retryable {
                assert!(
                    retried.iter().any(|n| n == kind.as_str()),
                    "{}: Task '{state}' does not retry {kind}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn nested_tasks_are_found() {
    // The chunk upload is a Task inside the Map state: a walk that missed it would check less.
    let export =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/statemachine/export.asl.json");
    let states = states_of(&export);
    let nested = states
        .iter()
        .any(|(name, s)| name == "Upload" && s["Type"] == "Task");
    assert!(nested, "the Map state's Task was not found");
}
