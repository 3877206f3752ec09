//! The one-pass reading of plain ASCII addresses ([`super::normalise_cow`], [`super::trim`])
//! against the general path it stands in for: the same sent address, key and refusal message
//! for any text, Unicode, spaces, upper case, `xn--` labels, stray dots and `@`s included.

use super::*;
use proptest::prelude::*;

/// [`trim`] as it was written before its ASCII shortcut.
fn trim_any(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}'))
}

/// What the general path makes of `raw`: the sent address and its key, or why it is refused.
fn general(raw: &str) -> Result<(String, String), &'static str> {
    let email = trim_any(raw);
    normalise_any(email).map(|sent| (sent, dedupe_key(email)))
}

/// What a plan makes of `raw`, through the shortcuts.
fn quick(raw: &str) -> Result<(String, String), &'static str> {
    let email = trim(raw);
    let sent = normalise_cow(raw)?;
    let mut key = String::from("left over from the row before");
    key_of_normalised(&sent, email, &mut key);
    Ok((sent.into_owned(), key))
}

/// Pieces addresses are made of, the awkward ones included.
const PIECES: &[&str] = &[
    "a",
    "Z",
    "q",
    "0",
    "9",
    ".",
    "..",
    "-",
    "--",
    "@",
    "@@",
    "_",
    "+",
    "'",
    " ",
    "\t",
    "\u{a0}",
    "\u{200b}",
    "\u{feff}",
    "\u{1}",
    "\u{7f}",
    "\"",
    "<",
    ">",
    "\\",
    "(",
    "[",
    ",",
    "xn--",
    "XN--",
    "Xn--bcher-kva",
    "xn--a",
    "ü",
    "Ü",
    "ß",
    "例",
    "א",
    "Σ",
    "ﬀ",
    "\u{301}",
    "example",
    "COM",
    "io",
    "localhost",
];

/// Pieces of names mail systems take, in either case.
const ASCII: &[&str] = &[
    "a", "Z", "q", "0", "9", "a-b", "ab--c", "example", "COM", "Io",
];

/// The same, some of them international or punycode.
const NAME: &[&str] = &[
    "a",
    "Z",
    "q",
    "0",
    "9",
    "-",
    "ab--",
    "example",
    "COM",
    "Io",
    "ü",
    "Ü",
    "ß",
    "例",
    "xn--",
    "XN--",
    "Xn--bcher-kva",
    "xn--a",
];

fn pieces(
    from: &'static [&'static str],
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(from), count).prop_map(|p| p.concat())
}

/// A name or label: mostly plausible, sometimes anything, sometimes a run long enough to pass a
/// limit or just stay within it.
fn part(extra: &'static [&'static str]) -> impl Strategy<Value = String> {
    let plausible = |name| {
        (pieces(name, 1..4), pieces(extra, 0..2), pieces(name, 0..3))
            .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
    };
    prop_oneof![
        8 => plausible(ASCII),
        3 => plausible(NAME),
        1 => pieces(PIECES, 0..6),
        1 => (1usize..70, prop::sample::select(&["a", "B", "-", "ü"][..]))
            .prop_map(|(n, c)| c.repeat(n)),
    ]
}

/// Text shaped like an address (space, name, `@`, dotted domain, space), or any pieces at all.
fn address() -> impl Strategy<Value = String> {
    let spaces = prop::sample::select(&["", "", "", " ", "\u{a0}", "\u{200b}", "\t", "ü"][..]);
    let local = part(&[".", "+", "'", "_", "", "", "", "", "..", "@"]);
    let label = part(&["", "", "", "", "", "", "-", "_", "@"]);
    prop_oneof![
        6 => (spaces.clone(), local, prop::collection::vec(label, 2..5), spaces)
            .prop_map(|(before, local, domain, after)| {
                format!("{before}{local}@{}{after}", domain.join("."))
            }),
        1 => pieces(PIECES, 0..8),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn the_ascii_shortcut_gives_what_the_general_path_gives(raw in address()) {
        prop_assert_eq!(trim(&raw), trim_any(&raw));
        prop_assert_eq!(quick(&raw), general(&raw));
        prop_assert_eq!(normalise(&raw), general(&raw).map(|(sent, _)| sent));
    }
}

#[test]
fn plain_addresses_take_the_shortcut_and_borrow_when_already_sent_as_written() {
    for (raw, sent, borrowed) in [
        ("a@b.co", "a@b.co", true),
        (
            "  first.last+tag@mail.example.com ",
            "first.last+tag@mail.example.com",
            true,
        ),
        ("Ann@Example.COM", "Ann@example.com", false),
        ("O'Brien@x-y.ie", "O'Brien@x-y.ie", true),
        ("ab--cd@ab--cd.io", "ab--cd@ab--cd.io", true),
    ] {
        let quick = plain_ascii(trim(raw)).unwrap_or_else(|| panic!("{raw}: general path"));
        assert_eq!(quick, sent, "{raw}");
        assert_eq!(matches!(quick, Cow::Borrowed(_)), borrowed, "{raw}");
        assert_eq!(general(raw).map(|(s, _)| s).as_deref(), Ok(sent), "{raw}");
    }
    for left in [
        "a@xn--bcher-kva.example",
        "a@XN--a.io",
        "ü@x.io",
        "a@bücher.de",
        "a@b",
        "a..b@x.io",
    ] {
        assert_eq!(plain_ascii(left), None, "{left}");
    }
}
