//! Every `--flag` the user documentation (README.md, docs/*.md) uses with an `autopilot-export`
//! command exists in that command's definition, as its `--help` shows it (aliases and global
//! flags included): a flag renamed in the code or in a page fails this test. So do the examples
//! every command's `--help` ends with, which every command must have.

mod doc_pages;

use std::collections::BTreeMap;
use std::process::Command;

fn help(command: &str) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_autopilot-export"));
    if !command.is_empty() {
        cmd.arg(command);
    }
    let out = cmd.arg("--help").output().unwrap();
    assert!(out.status.success(), "{command} --help");
    String::from_utf8(out.stdout).unwrap()
}

/// The command names the top-level help lists.
fn commands() -> Vec<String> {
    let root = help("");
    root.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .filter(|c| c != "help")
        .collect()
}

/// The long flags a help text names (its options, their aliases, and flags its prose mentions).
fn flags_in(help: &str) -> Vec<String> {
    help.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(str::to_string)
        .collect()
}

struct Definitions {
    commands: Vec<String>,
    flags: BTreeMap<String, Vec<String>>,
}

impl Definitions {
    fn load() -> Self {
        let commands = commands();
        assert!(commands.len() >= 12, "the command list: {commands:?}");
        let mut flags = BTreeMap::new();
        flags.insert(String::new(), flags_in(&help("")));
        for command in &commands {
            flags.insert(command.clone(), flags_in(&help(command)));
        }
        Self { commands, flags }
    }

    /// The flags of `found` its command does not have.
    fn unknown(&self, found: &doc_pages::Invocation) -> Vec<String> {
        let known = &self.flags[&found.command];
        found
            .flags
            .iter()
            .filter(|f| *f != "--help" && *f != "--version" && !known.contains(f))
            .cloned()
            .collect()
    }
}

#[test]
fn every_flag_the_docs_use_exists() {
    let defs = Definitions::load();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for (page, text) in doc_pages::pages() {
        let mut found = Vec::new();
        for block in doc_pages::blocks(&text) {
            found.extend(doc_pages::invocations(&block.text, &defs.commands, false));
        }
        for span in doc_pages::inline_code(&text) {
            found.extend(doc_pages::invocations(&span, &defs.commands, true));
        }
        for invocation in found {
            checked += invocation.flags.len();
            let unknown = defs.unknown(&invocation);
            if !unknown.is_empty() {
                wrong.push(format!("{page}: {unknown:?} in `{}`", invocation.text));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "flags the commands do not have:\n{}",
        wrong.join("\n")
    );
    // The pages are full of flags: far fewer means the reading above stopped finding them.
    assert!(checked > 80, "only {checked} flags found in the docs");
}

#[test]
fn every_command_help_ends_with_an_example_that_parses() {
    let defs = Definitions::load();
    for command in std::iter::once(&String::new()).chain(&defs.commands) {
        let text = help(command);
        let example: String = text
            .lines()
            .skip_while(|l| !l.starts_with("Example:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        let found = doc_pages::invocations(&example, &defs.commands, false);
        assert!(
            !found.is_empty(),
            "`{command} --help` has no example:\n{text}"
        );
        for invocation in found {
            if !command.is_empty() {
                assert_eq!(invocation.command, *command, "{}", invocation.text);
            }
            let unknown = defs.unknown(&invocation);
            assert!(
                unknown.is_empty(),
                "{command} --help: {unknown:?} in {}",
                invocation.text
            );
        }
    }
}

#[test]
fn the_reader_finds_flags_and_commands() {
    let commands: Vec<String> = ["export", "connect"].map(String::from).to_vec();
    let found = doc_pages::invocations(
        "A=1 autopilot-export --json export marketing \\\n  --dry-run # --not-this\n\
         cargo run --release -p autopilot-export -- connect --name X | head\n\
         cargo bench -p autopilot-export --bench faults\n",
        &commands,
        false,
    );
    let summary: Vec<(String, Vec<String>)> =
        found.into_iter().map(|i| (i.command, i.flags)).collect();
    assert_eq!(
        summary,
        vec![
            ("export".into(), vec!["--json".into(), "--dry-run".into()]),
            ("connect".into(), vec!["--name".into()]),
        ]
    );
}
