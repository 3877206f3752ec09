//! How the command ends, as a script or a scheduler sees it: exit status 0 only for a succeeded
//! export, 3 for a partial one (with one line saying what did not land and what to run), 1 for a
//! failure (with `--json`, a JSON error document), 2 for a wrong command line; refused rates and
//! keys; the sandbox's API and region flags, and its admin token; and no colour escapes on a
//! stderr that is not a terminal.

mod common;

use common::{cli, cli_with_stdin, fails_with, main_destination, text, KEY};
use serde_json::Value;
use std::process::{Command, Stdio};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_refused_by_autopilot_make_exit_status_3_and_one_line_on_stderr() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("vip.csv");
    // The sandbox refuses the reserved `.invalid` domain, as Autopilot may refuse an address.
    std::fs::write(
        &snapshot,
        "email\na@example.com\nb@example.com\nnobody@mail.invalid\n",
    )
    .unwrap();
    main_destination(&data, &server.base_url(), "50", "VIP", &snapshot);

    let out = cli(&data, &["export", "main"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("partially succeeded"), "{}", text(&out));
    let said = stderr(&out);
    let errors: Vec<&str> = said.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "one line says what happened: {said}");
    assert_eq!(said.lines().last(), Some(errors[0]), "{said}");
    let rejected = data.join("exports/main");
    assert!(
        errors[0].starts_with(
            "error: 1 contact was refused by Autopilot: their rows and reasons are in "
        ) && errors[0].contains(&rejected.display().to_string())
            && errors[0].ends_with("/rejected.csv"),
        "{said}"
    );
    assert!(!said.contains("nobody@") && !said.contains(KEY), "{said}");
    assert_eq!(server.state().list("VIP").unwrap().members.len(), 2);

    // With --json: the report on stdout, and still 3.
    let out = cli(&data, &["--json", "export", "main", "--full"], None);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "partially_succeeded");
    assert_eq!(report["totals"]["rejected"], 1);

    // `status` reports the partial export and exits 0.
    let out = cli(&data, &["status", "main"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("partially succeeded"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_cut_off_part_way_exits_3_names_what_was_not_sent_and_logs_without_colour() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY).rate(20.0), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let snapshot = dir.path().join("all.csv");
    let mut rows = String::from("email\n");
    for i in 0..6000 {
        rows.push_str(&format!("p{i}@example.com\n"));
    }
    std::fs::write(&snapshot, rows).unwrap();
    main_destination(&data, &server.base_url(), "20", "All", &snapshot);

    // About three seconds of sending at 20 requests/second, one request per chunk; the key is
    // revoked part-way, so the rest cannot be sent.
    let export = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .arg("--data-dir")
        .arg(&data)
        .args(["export", "main", "--chunk-size", "100"])
        .env_remove("AUTOPILOT_EXPORT_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while server.counters().contacts_written < 1000 {
        assert!(started.elapsed().as_secs() < 60, "the export sends");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.set_api_keys(vec!["another-key".into()]);
    let out = export.wait_with_output().unwrap();
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ")
            && last.contains("contacts were not sent (Autopilot rejected the API key): run `autopilot-export export main` to send them"),
        "{said}"
    );
    // The chunk that failed was logged as a warning: plain text, as stderr is not a terminal.
    assert!(
        said.contains("WARN") && said.contains("chunk failed"),
        "{said}"
    );
    assert!(!said.contains("\x1b["), "no colour escapes: {said:?}");
    assert!(
        !said.contains("@example.com") && !said.contains(KEY),
        "{said}"
    );
}

#[test]
fn with_json_every_failure_is_one_json_document_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cases: [(&[&str], i32, &str, &str); 4] = [
        (
            &["--json", "export", "nowhere"],
            1,
            "NotFound",
            "no destination 'nowhere'",
        ),
        (
            &["--json", "connect", "--name", "Main"],
            1,
            "InvalidInput",
            "pass --agree",
        ),
        (
            &["--json", "connect", "--name", "Main", "--agree"],
            1,
            "InvalidInput",
            "no API key",
        ),
        (
            &["export", "nowhere", "--json", "--requests-per-second", "0"],
            2,
            "InvalidInput",
            "from 0.1 to 10,000",
        ),
    ];
    for (args, code, type_name, message) in cases {
        let out = cli(&data, args, None);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
        let document: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: stdout is not one JSON document ({e}): {}",
                text(&out)
            )
        });
        assert_eq!(document["error"]["type"], type_name, "{args:?}: {document}");
        let said = document["error"]["message"].as_str().unwrap_or_default();
        assert!(said.contains(message), "{args:?}: {document}");
        assert!(
            stderr(&out).contains(message),
            "{args:?}: also said on stderr"
        );
    }
    // Without --json, stdout stays empty.
    let out = cli(&data, &["export", "nowhere"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out));
}

#[test]
fn rates_that_are_not_a_sane_number_of_requests_per_second_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for rate in ["0", "NaN", "inf", "-1", "1e-9", "0.09", "10001", "fast"] {
        let flag = format!("--requests-per-second={rate}");
        let demo = format!("--rate={rate}");
        let commands: [&[&str]; 3] = [
            &["export", "main", &flag],
            &["connect", "--name", "Main", "--agree", &flag],
            &["demo", &demo],
        ];
        for args in commands {
            let out = cli(&data, args, Some(KEY));
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
            fails_with(out, "from 0.1 to 10,000");
        }
    }
    for rate in ["-1", "NaN", "inf", "0.01"] {
        let flag = format!("--rate={rate}");
        let out = cli(&data, &["sandbox", "--port", "0", &flag], None);
        assert_eq!(out.status.code(), Some(2), "{rate}: {}", text(&out));
        fails_with(out, "at least 0.1, or 0 for no limit");
    }
    // A negative rate as a separate argument is a rate, not an unknown flag.
    let out = cli(
        &data,
        &["export", "main", "--requests-per-second", "-1"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    fails_with(out, "from 0.1 to 10,000");
    let out = cli(&data, &["sandbox", "--rate", "-5"], None);
    fails_with(out, "at least 0.1, or 0 for no limit");
    assert!(!data.join("destinations").exists(), "nothing was stored");
}

/// Sends `POST path` with `key` to a server on 127.0.0.1:`port`; the answer's status line and body.
fn post(port: u16, path: &str, key: &str) -> (String, String) {
    exchange(
        port,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        ),
    )
}

/// The status line of `GET /admin/counters` on 127.0.0.1:`port`, with `token` if any.
fn admin_counters(port: u16, token: Option<&str>) -> String {
    let authorization = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET /admin/counters HTTP/1.1\r\nHost: 127.0.0.1\r\n{authorization}Connection: close\r\n\r\n"
    );
    exchange(port, &request).0
}

/// Sends `request` as it is to 127.0.0.1:`port`; the answer's status line and body.
fn exchange(port: u16, request: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_string();
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[test]
fn the_sandbox_imitates_ortto_in_a_region_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = cli(&data, &["sandbox", "--port", "0", "--region", "eu"], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    fails_with(out, "--region is for an Ortto sandbox: add --api ortto");
    let out = cli(
        &data,
        &["sandbox", "--api", "ortto", "--region", "mars"],
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    fails_with(out, "give global, au or eu");

    let args = ["--api", "ortto", "--region", "eu", "--api-key", "k"];
    let (mut sandbox, port, said) = start_sandbox(&args, None);
    let tags = post(port, "/v1/tags/get", "k");
    let other_region = post(port, "/global/v1/tags/get", "k");
    sandbox.kill().unwrap();
    sandbox.wait().unwrap();
    assert!(
        said[0].starts_with(&format!(
            "Ortto sandbox (eu region) at http://127.0.0.1:{port}"
        )),
        "{said:?}"
    );
    assert_eq!(tags, ("HTTP/1.1 200 OK".to_string(), "[]".to_string()));
    assert_eq!(
        other_region.0, "HTTP/1.1 401 Unauthorized",
        "a key works in its region only"
    );
}

/// Starts `autopilot-export sandbox` with `args` (and the variable `env` set) on a free port; the
/// process, the port and the two lines it says at start.
fn start_sandbox(
    args: &[&str],
    env: Option<(&str, &str)>,
) -> (std::process::Child, u16, [String; 2]) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
    command
        .arg("sandbox")
        .args(args)
        .arg("--port")
        .arg(port.to_string());
    if let Some((name, value)) = env {
        command.env(name, value);
    }
    let mut sandbox = command.stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = std::io::BufReader::new(sandbox.stderr.take().unwrap());
    let mut said = [String::new(), String::new()];
    for line in &mut said {
        std::io::BufRead::read_line(&mut stderr, line).unwrap();
    }
    (sandbox, port, said)
}

#[test]
fn the_sandbox_prints_its_admin_token_or_takes_it_from_a_variable_it_never_echoes() {
    let (mut sandbox, port, said) = start_sandbox(&[], None);
    let token = said[1]
        .split("Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let statuses = [
        admin_counters(port, None),
        admin_counters(port, Some(&token)),
    ];
    sandbox.kill().unwrap();
    sandbox.wait().unwrap();
    assert!(
        said[1].starts_with(&format!("Admin: http://127.0.0.1:{port}/admin/state")),
        "{said:?}"
    );
    assert_eq!(token.len(), 32, "{said:?}");
    assert_eq!(statuses, ["HTTP/1.1 401 Unauthorized", "HTTP/1.1 200 OK"]);

    let chosen = "a-token-from-the-environment";
    let args = ["--admin-token-env", "TRIAL_ADMIN_TOKEN"];
    let (mut sandbox, port, said) = start_sandbox(&args, Some(("TRIAL_ADMIN_TOKEN", chosen)));
    let status = admin_counters(port, Some(chosen));
    sandbox.kill().unwrap();
    sandbox.wait().unwrap();
    assert!(
        said[1].contains("\"Authorization: Bearer $TRIAL_ADMIN_TOKEN\""),
        "{said:?}"
    );
    assert!(
        !said.concat().contains(chosen),
        "a given token is not echoed: {said:?}"
    );
    assert_eq!(status, "HTTP/1.1 200 OK");

    let dir = tempfile::tempdir().unwrap();
    let args = [
        "sandbox",
        "--port",
        "0",
        "--admin-token-env",
        "NO_SUCH_ADMIN_TOKEN_VARIABLE",
    ];
    let out = cli(&dir.path().join("data"), &args, None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    fails_with(
        out,
        "NO_SUCH_ADMIN_TOKEN_VARIABLE (named by --admin-token-env) is not set",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_a_line_break_is_refused_before_autopilot_is_asked() {
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(KEY), 0)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = server.base_url();
    let args = [
        "connect",
        "--name",
        "Main",
        "--agree",
        "--api-key-stdin",
        "--autopilot-url",
        &url,
    ];
    for key in [
        "secret-half\nother-half",
        "secret-half\r\nother-half",
        "secret-half\tother-half",
        "secret-half\u{7}",
    ] {
        let out = cli_with_stdin(&data, &args, key.as_bytes());
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let all = text(&out);
        assert!(
            all.contains("the API key holds a line break or other characters an API key cannot have: paste the key alone, on one line"),
            "{all}"
        );
        assert!(
            !all.contains("secret-half") && !all.contains("other-half"),
            "{all}"
        );
    }
    assert_eq!(server.counters().requests, 0, "Autopilot was not asked");
    // A key with only a trailing newline (as `echo` gives) is fine.
    let out = cli_with_stdin(&data, &args, format!("{KEY}\n").as_bytes());
    assert!(out.status.success(), "{}", text(&out));
}

/// `autopilot-export … | head -1`: when the reader has gone, the command ends as other tools do
/// (by SIGPIPE), not with a panic message on stderr.
#[cfg(unix)]
#[test]
fn a_reader_that_stops_reading_ends_the_command_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    let data = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .arg("--data-dir")
        .arg(data.path())
        .arg("destinations")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("panicked"), "{said}");
    assert_eq!(out.status.signal(), Some(SIGPIPE), "{:?}", out.status);
}

/// The signal a write to a pipe nobody reads raises (13 on Linux and macOS).
#[cfg(unix)]
const SIGPIPE: i32 = 13;
