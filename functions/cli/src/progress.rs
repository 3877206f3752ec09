//! What an export shows while it runs: a progress bar on a terminal; elsewhere a line on stderr
//! when it starts, at every tenth of the way, and while it waits for the destination's API (named
//! as its [`Vocabulary`] names it); nothing with `--json`. A dry run says only that it waits
//! ([`waiting_line`]).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use shared::app::local_export::Progress;
use shared::audience_api::Vocabulary;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

/// Seconds between two plain lines saying the export is still waiting for the API.
const WAIT_NOTE_EVERY: u64 = 30;

pub struct Display {
    bar: ProgressBar,
    /// Lines instead of a bar: stderr is not a terminal.
    plain: bool,
    /// The destination's API, as messages name it.
    words: &'static Vocabulary,
    last_tenth: Mutex<u64>,
    last_wait_note: Mutex<Option<u64>>,
}

impl Display {
    pub fn new(json: bool, words: &'static Vocabulary) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if json || !terminal {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} contacts and removals · {rate} · eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key(
                "rate",
                |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = w.write_str(&rate(state.per_sec()));
                },
            )
            .progress_chars("=> "),
        );
        bar.set_message("reading snapshots");
        bar.enable_steady_tick(Duration::from_millis(200));
        Self {
            bar,
            plain: !json && !terminal,
            words,
            last_tenth: Mutex::new(0),
            last_wait_note: Mutex::new(None),
        }
    }

    /// Shows one event of the export.
    pub fn show(&self, event: Progress) {
        match event {
            Progress::Planned {
                contacts,
                already_done,
                resumed,
            } => self.planned(contacts, already_done, resumed),
            Progress::Waiting {
                seconds,
                budget,
                reason,
            } => self.waiting(seconds, budget, reason),
            Progress::Resumed => {
                *self
                    .last_wait_note
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
                self.bar.set_message("sending");
                if self.plain {
                    eprintln!("{} answers again: sending", self.words.api);
                }
            }
            Progress::Handled { contacts } => self.handled(contacts),
        }
    }

    /// The export was interrupted: the bar stays, saying so.
    pub fn interrupted(&self) {
        self.bar.abandon_with_message("interrupted");
    }

    /// The export ended: the bar goes.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn planned(&self, contacts: u64, already_done: u64, resumed: bool) {
        self.bar.set_length(contacts);
        self.bar.set_position(already_done);
        self.bar
            .set_message(if resumed { "resuming" } else { "sending" });
        if self.plain {
            if resumed {
                eprintln!("resuming export: {contacts} contacts, {already_done} already sent");
            } else {
                eprintln!("sending {contacts} contacts");
            }
        }
    }

    fn waiting(&self, seconds: u64, budget: u64, reason: &str) {
        let then = "then the export stops and can be resumed";
        let text = waiting_line(self.words, seconds, budget, reason, then);
        self.bar.set_message(text.clone());
        let mut noted = self
            .last_wait_note
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if self.plain && wait_note_due(&mut noted, seconds) {
            eprintln!("{text}");
        }
    }

    fn handled(&self, contacts: u64) {
        self.bar.inc(contacts);
        if self.plain {
            let len = self.bar.length().unwrap_or(0).max(1);
            let tenth = self.bar.position() * 10 / len;
            let mut last = self.last_tenth.lock().unwrap_or_else(|e| e.into_inner());
            if tenth > *last {
                *last = tenth;
                eprintln!("{}% sent", tenth * 10);
            }
        }
    }
}

/// What a line says while the destination's API has not answered for `seconds` of the `budget`
/// it is waited for; `then` says what happens after.
pub fn waiting_line(
    words: &Vocabulary,
    seconds: u64,
    budget: u64,
    reason: &str,
    then: &str,
) -> String {
    format!(
        "{} is not answering ({}): waiting {} of up to {}, {then}",
        words.api,
        if reason == "Transient" {
            "server errors or timeouts"
        } else {
            reason
        },
        clock(seconds),
        clock(budget)
    )
}

/// Whether a plain line about waiting is due at `seconds` of the wait (the first at once, then
/// one every [`WAIT_NOTE_EVERY`]); notes it when it is.
pub fn wait_note_due(noted: &mut Option<u64>, seconds: u64) -> bool {
    let due = noted.is_none_or(|at| seconds >= at + WAIT_NOTE_EVERY);
    if due {
        *noted = Some(seconds);
    }
    due
}

/// `415/s`: a rate in whole requests per second.
fn rate(per_second: f64) -> String {
    format!("{:.0}/s", per_second)
}

/// `75`, `2m05s`, `15m`: a duration in seconds for a progress line.
fn clock(seconds: u64) -> String {
    match (seconds / 60, seconds % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_a_whole_number() {
        assert_eq!(rate(415.2698), "415/s");
        assert_eq!(rate(0.4), "0/s");
        assert_eq!(rate(49.5001), "50/s");
    }

    #[test]
    fn waits_read_as_minutes_and_seconds() {
        assert_eq!(clock(5), "5s");
        assert_eq!(clock(120), "2m");
        assert_eq!(clock(125), "2m05s");
    }
}
