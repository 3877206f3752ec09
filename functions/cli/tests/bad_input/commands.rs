//! Bad command input: each ends in a clear error, with nothing stored or sent.

use super::{Case, Ctx, Ran, KEY};
use std::path::Path;

pub const CASES: &[Case] = &[
    ("invalid custom field keys", custom_keys),
    ("empty segment name", empty_segment_name),
    ("duplicate segment", duplicate_segment),
    ("profile limit 0", profile_limit_zero),
    ("wrong key", wrong_key),
    ("empty key", empty_key),
    ("key with a newline", key_with_newline),
    ("unreachable URL (a closed port)", unreachable),
    ("non-http URLs", non_http),
    ("hostile display names", display_names),
    ("unknown destination", unknown_destination),
    ("../ in ids", dot_dot),
];

/// Fails unless `ran` failed with status `code` and an error starting with `start`.
pub fn fails(ran: &Ran, code: i32, start: &str) -> String {
    assert_eq!(ran.code, Some(code), "{}{}", ran.stdout, ran.stderr);
    let error = ran.error();
    assert!(error.starts_with(start), "expected {start:?}, got: {error}");
    error
}

/// A sandbox with `main` connected and configured over a small snapshot.
pub fn configured(ctx: &Ctx) -> (sandbox::Sandbox, std::path::PathBuf) {
    let sandbox = ctx.sandbox();
    let snapshot = ctx.file("s.csv", "email,name\na@x.io,A\nb@x.io,B\n");
    ctx.connect(&sandbox.base_url());
    ctx.configure(&snapshot, &[]);
    (sandbox, snapshot)
}

/// `configure main` with the email from `email`, one segment `S` from `snapshot`, and `extra`.
pub fn configure(ctx: &Ctx, snapshot: &Path, extra: &[&str]) -> Ran {
    let segment = format!("S={}", snapshot.display());
    let mut args = vec![
        "configure",
        "main",
        "--email-field",
        "email",
        "--segment",
        &segment,
    ];
    args.extend(extra);
    ctx.run(&args, None)
}

fn custom_keys(ctx: &Ctx) -> String {
    let (_sandbox, snapshot) = configured(ctx);
    let table = [
        (
            "colour--Eyes=name",
            "the custom field 'colour--Eyes' has the unknown type 'colour'",
        ),
        (
            "integer=name",
            "the custom field 'integer' must be written type--Name",
        ),
        (
            "string--=name",
            "the custom field 'string--' needs a name after the type",
        ),
        (
            "string--Tier=",
            "invalid value 'string--Tier=' for '--custom",
        ),
    ];
    for (custom, start) in table {
        let ran = configure(ctx, &snapshot, &["--custom", custom]);
        let code = if custom.ends_with('=') { 2 } else { 1 };
        assert_eq!(ran.code, Some(code), "{}", ran.stderr);
        assert!(ran.stderr.contains(start), "{custom}: {}", ran.stderr);
    }
    "refused: unknown type, no type--Name form, no name, no column".into()
}

fn empty_segment_name(ctx: &Ctx) -> String {
    let (_sandbox, _) = configured(ctx);
    for segment in ["=s.csv", " =s.csv"] {
        let args = [
            "configure",
            "main",
            "--email-field",
            "email",
            "--segment",
            segment,
        ];
        let ran = ctx.run(&args, None);
        assert_eq!(ran.code, Some(2));
        assert!(
            ran.stderr.contains("must be written NAME=VALUE"),
            "{}",
            ran.stderr
        );
    }
    "refused (exit 2): must be written NAME=VALUE".into()
}

fn duplicate_segment(ctx: &Ctx) -> String {
    let (_sandbox, snapshot) = configured(ctx);
    let again = format!(" S ={}", snapshot.display());
    let ran = configure(ctx, &snapshot, &["--segment", &again]);
    fails(
        &ran,
        1,
        "the segment 'S' is given twice: each segment becomes one Autopilot list",
    )
}

fn profile_limit_zero(ctx: &Ctx) -> String {
    let (_sandbox, snapshot) = configured(ctx);
    let ran = configure(ctx, &snapshot, &["--profile-limit", "0"]);
    fails(
        &ran,
        1,
        "the profile limit must be at least 1 (the default is 100,000)",
    )
}

/// Connects `main` to `url` with `key` (from the environment).
fn connect(ctx: &Ctx, url: &str, key: &str) -> Ran {
    let args = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--autopilot-url",
        url,
    ];
    let mut command = ctx.command(&args, None);
    command.env("AUTOPILOT_API_KEY", key);
    ctx.spawn(command)
}

/// Fails unless no destination was stored.
pub fn nothing_stored(ctx: &Ctx) {
    let ran = ctx.run(&["--json", "destinations"], None);
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(
        ran.json().as_array().map(Vec::len),
        Some(0),
        "{}",
        ran.stdout
    );
}

fn refused_key(ctx: &Ctx, key: &str, start: &str) -> String {
    let sandbox = ctx.sandbox();
    let error = fails(&connect(ctx, &sandbox.base_url(), key), 1, start);
    nothing_stored(ctx);
    error
}

fn wrong_key(ctx: &Ctx) -> String {
    refused_key(ctx, "wrong-key", "Autopilot rejected the API key (401)")
}

fn empty_key(ctx: &Ctx) -> String {
    refused_key(ctx, "", "the API key is empty")
}

fn key_with_newline(ctx: &Ctx) -> String {
    let sandbox = ctx.sandbox();
    let ran = connect(ctx, &sandbox.base_url(), &format!("{KEY}\nx"));
    let error = fails(&ran, 1, "the API key holds a line break");
    assert_eq!(sandbox.counters().requests, 0, "the key is never sent");
    nothing_stored(ctx);
    error
}

fn unreachable(ctx: &Ctx) -> String {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let error = fails(
        &connect(ctx, &url, KEY),
        1,
        "Autopilot did not answer properly",
    );
    assert!(error.contains("could not reach Autopilot"), "{error}");
    nothing_stored(ctx);
    "refused within seconds: could not reach Autopilot".into()
}

fn non_http(ctx: &Ctx) -> String {
    for (url, scheme) in [
        ("ftp://127.0.0.1/v1", "ftp"),
        ("file:///etc/passwd", "file"),
        ("javascript:alert(1)", "javascript"),
    ] {
        fails(
            &connect(ctx, url, KEY),
            1,
            &format!("the Autopilot URL must start with https://, not {scheme}:"),
        );
    }
    let ran = connect(ctx, "not a url", KEY);
    fails(&ran, 1, "'not a url' is not a valid Autopilot URL");
    nothing_stored(ctx);
    "refused: only https (http to loopback) / not a valid URL".into()
}

fn display_names(ctx: &Ctx) -> String {
    let sandbox = ctx.sandbox();
    let long = "n".repeat(10_000);
    let connect = |name: &str| {
        let args = ["connect", "--name", name, "--agree", "--autopilot-url"];
        let mut command = ctx.command(&args, Some(KEY));
        command.arg(sandbox.base_url());
        ctx.spawn(command)
    };
    // Names that would rewrite a terminal or are not names: refused, nothing stored.
    for (name, problem) in [
        (
            "a\u{1b}[31mred\u{7}\r\nb",
            "line break, tab or terminal escape",
        ),
        (long.as_str(), "10000 characters long"),
    ] {
        let ran = connect(name);
        assert_eq!(ran.code, Some(1), "{}", ran.stderr);
        assert!(ran.stderr.contains(problem), "{}", ran.stderr);
        assert!(!ran.stderr.contains("red") && !ran.stderr.contains("nnnn"));
    }
    // An HTML-looking name is a name; its id is a slug.
    let ran = connect("<script>alert(1)</script>");
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert!(
        ran.stdout.starts_with("Connected script-alert-1-script "),
        "{}",
        ran.stdout
    );
    let listed = ctx.run(&["--json", "destinations"], None).json();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["<script>alert(1)</script>"]);
    "control characters and names over 200 characters refused, nothing stored; HTML-looking names kept as text, ids are slugs".into()
}

fn unknown_destination(ctx: &Ctx) -> String {
    let (_sandbox, snapshot) = configured(ctx);
    let segment = format!("S={}", snapshot.display());
    let commands: [&[&str]; 4] = [
        &["export", "nowhere"],
        &["status", "nowhere"],
        &["remove", "nowhere"],
        &[
            "configure",
            "nowhere",
            "--email-field",
            "email",
            "--segment",
            &segment,
        ],
    ];
    for args in commands {
        fails(&ctx.run(args, None), 1, "there is no destination 'nowhere'");
    }
    "refused: there is no destination 'nowhere'".into()
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn dot_dot(ctx: &Ctx) -> String {
    let (sandbox, _) = configured(ctx);
    let bait = ctx.file("main.json", "{}");
    let before = files(&ctx.dir);
    for args in [
        &["export", "../main"][..],
        &["remove", "../main"],
        &["export", "../../etc/passwd"],
        &["status", "../main"],
    ] {
        fails(&ctx.run(args, None), 1, "there is no destination '../");
    }
    for export in ["../../x", "../main"] {
        let ran = ctx.run(&["status", "main", export], None);
        fails(&ran, 1, shared::app::exports::NOT_AN_EXPORT_ID);
    }
    let ran = ctx.run(
        &[
            "connect",
            "--name",
            "../../x",
            "--agree",
            "--autopilot-url",
            &sandbox.base_url(),
        ],
        Some(KEY),
    );
    assert!(ran.stdout.starts_with("Connected x "), "{}", ran.stdout);
    let after: Vec<_> = files(&ctx.dir)
        .into_iter()
        .filter(|f| !f.starts_with(ctx.data()))
        .collect();
    let outside: Vec<_> = before
        .into_iter()
        .filter(|f| !f.starts_with(ctx.data()))
        .collect();
    assert_eq!(after, outside, "nothing outside the data folder changed");
    assert_eq!(std::fs::read_to_string(bait).unwrap(), "{}");
    "refused: no destination '../…', no export with that id; nothing outside the folder".into()
}
