//! The bad-input corpus: the real `autopilot-export` command against broken and hostile
//! snapshots (CSV files, Parquet files, folders of parts, data-lake models), command lines, data
//! folders and Autopilot answers. Every case asserts its exact
//! outcome — a clear error naming the problem, or per-row refusals with exact counts — and
//! none may panic, hang (each command has 30 s), print the key or leave a half-sent export.
//! Prints (and writes to target/corpus-table.txt) a table of case → outcome → peak memory.
//! `CORPUS_BIN=target/release/autopilot-export cargo test --test corpus -- --nocapture` runs
//! the cases against a release build (its memory is what a user sees).

mod bad_input;

use bad_input::{answers, commands, folders, parts, snapshots, Case, Ctx};
use std::fmt::Write as _;
use std::time::Instant;

/// Cases run at once: each has its own folder and sandbox.
const AT_ONCE: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_ends_in_a_clear_outcome() {
    let cases: Vec<Case> = snapshots::CASES
        .iter()
        .chain(commands::CASES)
        .chain(parts::CASES)
        .chain(folders::CASES)
        .chain(answers::CASES)
        .copied()
        .collect();
    assert!(cases.len() >= 35, "{} cases", cases.len());
    let handle = tokio::runtime::Handle::current();
    let started = Instant::now();
    let mut results = Vec::new();
    for batch in cases.chunks(AT_ONCE) {
        let runs: Vec<_> = batch
            .iter()
            .map(|&(name, case)| {
                let handle = handle.clone();
                tokio::task::spawn_blocking(move || {
                    let dir = tempfile::tempdir().unwrap();
                    let ctx = Ctx::new(dir.path(), handle);
                    let clock = Instant::now();
                    let outcome =
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&ctx)));
                    (name, outcome, ctx.peak_kb(), clock.elapsed().as_secs_f64())
                })
            })
            .collect();
        for run in runs {
            results.push(run.await.unwrap());
        }
    }
    let mut table = format!(
        "Bad-input corpus: {} cases in {:.1} s ({})\n{:<42} {:>8} {:>6}  outcome\n",
        results.len(),
        started.elapsed().as_secs_f64(),
        bad_input::binary().display(),
        "case",
        "peak MB",
        "s"
    );
    let mut failed = Vec::new();
    for (name, outcome, peak_kb, secs) in &results {
        let outcome = match outcome {
            Ok(text) => text.clone(),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{name}: {why}"));
                format!("FAILED: {}", why.lines().next().unwrap_or_default())
            }
        };
        let peak = *peak_kb as f64 / 1024.0;
        let _ = writeln!(table, "{name:<42} {peak:>8.1} {secs:>6.2}  {outcome}");
    }
    println!("\n{table}");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let _ = std::fs::write(target.join("corpus-table.txt"), &table);
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
    for (name, _, peak_kb, _) in &results {
        assert!(*peak_kb < 256 * 1024, "{name}: {peak_kb} kB");
    }
}

/// The `answers` fuzz target's find, kept as a regression test for the client's fix: answer
/// bodies are never quoted beyond a short message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_typed_answer_is_not_quoted_whole() {
    let handle = tokio::runtime::Handle::current();
    let chars = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        answers::wrong_typed_answer_message(&Ctx::new(dir.path(), handle))
    })
    .await
    .unwrap();
    assert!(chars <= 2000, "an error message of {chars} characters");
}
