//! Reading the user documentation (README.md and every page of docs/) for the docs tests: its
//! fenced code blocks with their info strings, its inline code, and the `autopilot-export`
//! command lines in both, split into the command and its `--flags`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository's root (two folders above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md, then every `*.md` under docs/, in name order.
pub fn pages() -> Vec<(String, String)> {
    let root = root();
    let mut paths = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    paths.extend(docs);
    paths
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&root).unwrap().display().to_string();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// A fenced code block: its info string (```` ```sh runnable ```` gives `sh runnable`), its text
/// and the line of the page it starts on.
pub struct Block {
    pub info: String,
    pub text: String,
    pub line: usize,
}

impl Block {
    /// Marked to be run by the docs test: `runnable` among the info string's words.
    pub fn runnable(&self) -> bool {
        self.info.split_whitespace().any(|word| word == "runnable")
    }

    /// The exit status the block is expected to end with: `exit=N` in the info string, else 0.
    pub fn expected_exit(&self) -> i32 {
        self.info
            .split_whitespace()
            .find_map(|word| word.strip_prefix("exit="))
            .map(|n| n.parse().expect("exit=N takes a number"))
            .unwrap_or(0)
    }
}

/// Every fenced code block of a page.
pub fn blocks(page: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (number, line) in page.lines().enumerate() {
        let trimmed = line.trim_start();
        match (&mut open, trimmed.strip_prefix("```")) {
            (None, Some(info)) => {
                open = Some(Block {
                    info: info.trim().to_string(),
                    text: String::new(),
                    line: number + 1,
                })
            }
            (Some(_), Some(_)) => blocks.push(open.take().unwrap()),
            (Some(block), None) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    blocks
}

/// Every inline code span (`like this`) outside fenced blocks.
pub fn inline_code(page: &str) -> Vec<String> {
    let mut spans = Vec::new();
    let mut in_block = false;
    for line in page.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let parts: Vec<&str> = line.split('`').collect();
        spans.extend(parts.iter().skip(1).step_by(2).map(|s| s.to_string()));
    }
    spans
}

/// One `autopilot-export` command line found in the docs: the command (empty for the top level)
/// and the long flags it uses, the global ones included.
#[derive(Debug)]
pub struct Invocation {
    pub command: String,
    pub flags: Vec<String>,
    pub text: String,
}

/// The `autopilot-export` invocations in shell text: continuation lines joined, comments cut,
/// split at `|`, `&&`, `||`, `;`, `$(` and `(`; a command counts when its first word (after any
/// `NAME=value` settings) is `autopilot-export` or a path ending in it, or when it is
/// `cargo run … -p autopilot-export … -- ARGS`. `commands` are the known command names: in a
/// span of prose, `export --full` is read as `autopilot-export export --full`.
pub fn invocations(text: &str, commands: &[String], prose: bool) -> Vec<Invocation> {
    let joined = text.replace("\\\n", " ");
    let mut found = Vec::new();
    for line in joined.lines() {
        let line = match line.find(" #") {
            Some(at) => &line[..at],
            None if line.trim_start().starts_with('#') => "",
            None => line,
        };
        let line = line
            .replace("$(", " ; ")
            .replace("&&", ";")
            .replace("||", ";");
        for part in line.split(['|', ';', '(']) {
            let words: Vec<&str> = part
                .split_whitespace()
                .skip_while(|w| w.contains('=') && !w.starts_with('-'))
                .collect();
            let args = match words.first() {
                Some(first) if first.rsplit('/').next() == Some("autopilot-export") => &words[1..],
                Some(&"cargo") if words.contains(&"autopilot-export") && words.contains(&"run") => {
                    match words.iter().position(|w| *w == "--") {
                        Some(at) => &words[at + 1..],
                        None => continue,
                    }
                }
                Some(first) if prose && commands.iter().any(|c| c == first) => &words[..],
                _ => continue,
            };
            found.push(parse(args, commands, part.trim()));
        }
    }
    found
}

fn parse(args: &[&str], commands: &[String], text: &str) -> Invocation {
    let mut command = String::new();
    let mut flags = Vec::new();
    for word in args {
        let word = word.trim_matches(|c| c == '"' || c == '\'' || c == ',' || c == '.');
        if let Some(flag) = word.strip_prefix("--").filter(|f| !f.is_empty()) {
            let name = flag.split('=').next().unwrap();
            if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                flags.push(format!("--{name}"));
            }
        } else if command.is_empty() && commands.iter().any(|c| c == word) {
            command = word.to_string();
        }
    }
    Invocation {
        command,
        flags,
        text: text.to_string(),
    }
}
