//! Answers Autopilot would never give, from a tiny fake server: not JSON, or without their
//! fields. Each ends in a clear error before any write, or in a failed export whose report
//! counts what did not land.

use super::commands::nothing_stored;
use super::tiny::{self, Tiny};
use super::{error_of, Case, Ctx, Ran, KEY};

pub const CASES: &[Case] = &[
    ("account answer that is not JSON", account_not_json),
    ("lists answer without its fields", lists_without_fields),
    ("contacts answer that is not JSON", contacts_not_json),
];

fn account_not_json(ctx: &Ctx) -> String {
    let tiny = ctx.block_on(Tiny::start(|method, path| match path {
        "/v1/account" => (200, b"<html><body>Sign in</body></html>"),
        _ => tiny::normal(method, path),
    }));
    let args = [
        "--json",
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        &tiny.url,
    ];
    let (kind, message) = error_of(&ctx.run(&args, Some(KEY)));
    assert_eq!(kind, "InvalidResponse", "{message}");
    assert!(
        message.starts_with("Autopilot's answer could not be read"),
        "{message}"
    );
    nothing_stored(ctx);
    "refused: InvalidResponse, nothing stored".into()
}

fn exported_to(ctx: &Ctx, answer: tiny::Answer) -> (Tiny, Ran) {
    let tiny = ctx.block_on(Tiny::start(answer));
    let snapshot = ctx.file("s.csv", "email\na@x.io\nb@x.io\n");
    ctx.connect(&tiny.url);
    ctx.configure(&snapshot, &[]);
    let ran = ctx.run(&["--json", "export", "main"], None);
    (tiny, ran)
}

fn lists_without_fields(ctx: &Ctx) -> String {
    let (tiny, ran) = exported_to(ctx, |method, path| match path {
        "/v1/lists" => (200, b"{}"),
        _ => tiny::normal(method, path),
    });
    let (kind, message) = error_of(&ran);
    assert_eq!(kind, "InvalidResponse", "{message}");
    assert!(
        message.starts_with("Autopilot's answer could not be read"),
        "{message}"
    );
    assert_eq!(
        tiny.seen("POST /v1/list") + tiny.seen("POST /v1/contacts"),
        0
    );
    "refused: InvalidResponse before any write".into()
}

fn contacts_not_json(ctx: &Ctx) -> String {
    let (tiny, ran) = exported_to(ctx, |method, path| match path {
        "/v1/contacts" => (200, b"not json at all"),
        _ => tiny::normal(method, path),
    });
    let (kind, message) = error_of(&ran);
    assert_eq!(kind, "InvalidResponse", "{message}");
    // The export stopped; its report says what did not land.
    let report = ctx.run(&["--json", "status", "main"], None).json();
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["failure"]["error_type"], "InvalidResponse");
    assert_eq!(report["totals"]["unsent"], 2, "{report}");
    assert_eq!(tiny.seen("POST /v1/contacts"), 1, "not retried");
    "failed (InvalidResponse) after 1 request; the report counts 2 unsent".into()
}

/// A body of `{"lists": "xxx…"}` with 3,000 characters of x: the wrong type for `lists`.
fn lists_as_a_long_string(method: &str, path: &str) -> (u16, &'static [u8]) {
    static BODY: std::sync::LazyLock<Vec<u8>> =
        std::sync::LazyLock::new(|| format!("{{\"lists\":\"{}\"}}", "x".repeat(3000)).into_bytes());
    match path {
        "/v1/lists" => (200, BODY.as_slice()),
        _ => tiny::normal(method, path),
    }
}

/// Found by the `answers` fuzz target: an answer whose field has the wrong type is quoted whole
/// in the error (serde's "invalid type: string …"), so a 16 MB answer makes a 16 MB message in
/// the terminal, report.json and the Step Functions history. Returns the message's length.
pub fn wrong_typed_answer_message(ctx: &Ctx) -> usize {
    let (_tiny, ran) = exported_to(ctx, lists_as_a_long_string);
    let (kind, message) = error_of(&ran);
    assert_eq!(kind, "InvalidResponse", "{message}");
    message.chars().count()
}
