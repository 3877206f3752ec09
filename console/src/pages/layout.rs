//! The frame every page shares, and small pieces several pages use. maud escapes every value it
//! is given, so text typed by a user (a display name, a column, a segment) always shows as text.

use maud::{html, Markup, DOCTYPE};

pub const STYLE: &str = include_str!("../../assets/style.css");
pub const SCRIPT: &str = include_str!("../../assets/console.js");

/// A whole page: `title` in the tab and as the heading, `crumbs` (text, link) above it.
pub fn page(title: &str, crumbs: &[(&str, &str)], body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Autopilot export" }
                link rel="stylesheet" href="/assets/style.css";
                script src="/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    div.wrap {
                        a.brand href="/" { span.mark aria-hidden="true" { "A" } "Autopilot export" }
                        nav aria-label="Main" { a href="/" { "Export destinations" } }
                    }
                }
                main #main .wrap {
                    @if !crumbs.is_empty() {
                        nav.crumbs aria-label="Breadcrumb" {
                            @for (text, href) in crumbs {
                                a href=(href) { (text) } span aria-hidden="true" { " / " }
                            }
                        }
                    }
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A notice announced to screen readers: an error (`alert`) or news (`status`).
pub fn notice(kind: Notice, text: &str) -> Markup {
    match kind {
        Notice::Error => html! { div.notice.error role="alert" aria-live="assertive" { (text) } },
        Notice::Done => html! { div.notice.done role="status" aria-live="polite" { (text) } },
        Notice::Warning => html! { div.notice.warning role="status" aria-live="polite" { (text) } },
    }
}

#[derive(Clone, Copy)]
pub enum Notice {
    Error,
    Done,
    Warning,
}

/// The error of one field, tied to it with `aria-describedby="{id}-error"`; always present (empty
/// when there is none) so that a later message is announced.
pub fn field_error(id: &str, error: Option<&str>) -> Markup {
    html! {
        p.field-error id=(format!("{id}-error")) aria-live="polite" {
            @if let Some(e) = error { (e) }
        }
    }
}

/// A count with thousands separators.
pub fn count(n: u64) -> String {
    shared::text::thousands(n)
}

/// A word with its first letter in capitals, for a heading: "list" → "List".
pub fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// A time as people read it, in UTC.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A destination's next scheduled run, in words.
pub fn next_run(next: &crate::schedule::NextRun) -> Markup {
    use crate::schedule::NextRun;
    html! {
        @match next {
            NextRun::Off => span.muted { "Schedule off" },
            NextRun::Local => span.muted { "When you ask (schedules run on a deployed stack)" },
            NextRun::StackOff => span.muted { "The stack's schedule is disabled" },
            NextRun::At { time, approximate } => {
                @if *approximate { "about " }
                (time.format("%Y-%m-%d %H:%M UTC"))
            },
            NextRun::Unknown(expression) => { "On the stack's schedule, " code { (expression) } },
        }
    }
}

/// A duration in seconds as "1 min 5 s" or "3.2 s".
pub fn duration(seconds: f64) -> String {
    if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let s = seconds.round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        let html = page(
            "<script>alert(1)</script>",
            &[("a\"b", "/")],
            html! { p { ("<b>&") } },
        )
        .into_string();
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("&lt;b&gt;&amp;"));
        assert!(html.contains("a&quot;b"));
    }

    #[test]
    fn numbers_and_times_read_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(duration(3.25), "3.2 s");
        assert_eq!(duration(125.0), "2 min 5 s");
        assert_eq!(capitalized("tag"), "Tag");
        assert_eq!(capitalized(""), "");
    }

    #[test]
    fn the_next_run_reads_well() {
        use crate::schedule::NextRun;
        let time = chrono::DateTime::from_timestamp(1_773_210_600, 0).unwrap();
        let about = NextRun::At {
            time,
            approximate: true,
        };
        assert_eq!(next_run(&about).into_string(), "about 2026-03-11 06:30 UTC");
        let exact = NextRun::At {
            time,
            approximate: false,
        };
        assert_eq!(next_run(&exact).into_string(), "2026-03-11 06:30 UTC");
        let odd = next_run(&NextRun::Unknown("cron(<x>)".into())).into_string();
        assert_eq!(odd, "On the stack's schedule, <code>cron(&lt;x&gt;)</code>");
    }
}
