//! Email addresses as this connector accepts them: trimmed, one `@`, a dotted domain, no spaces;
//! sent and compared with the domain in lower-case ASCII (punycode for an international domain).
//! Deliberately practical rather than the full RFC 5322 grammar, which admits addresses no mail
//! platform takes (quoted local parts, IP-literal domains).
//!
//! A plan normalises every row's address, so the common case — an ASCII address that passes, its
//! domain plain host-name letters — is read in one pass over its bytes ([`normalise_cow`]),
//! borrowed when it already is its sent form. Anything else (non-ASCII text, an `xn--` label, any
//! refusal) takes the general path, so messages and results are the same either way.

use std::borrow::Cow;

/// An address as typed, without the spaces around it — including the no-break and zero-width
/// spaces that text copied from web pages and spreadsheets carries along invisibly.
pub fn trim(raw: &str) -> &str {
    let visible = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_graphic());
    let bytes = raw.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        return raw;
    }
    raw.trim_matches(|c: char| c.is_whitespace() || matches!(c, '\u{200b}' | '\u{feff}'))
}

/// Why an address was refused.
pub fn check(email: &str) -> Result<(), &'static str> {
    if email.is_empty() {
        return Err("the email is empty");
    }
    if email.len() > 254 {
        return Err("the email is longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the email contains a space or control character");
    }
    let (local, domain) = email.rsplit_once('@').ok_or("the email has no @")?;
    if local.is_empty() || local.contains('@') {
        return Err("the email must have exactly one @ with a name before it");
    }
    if local.len() > 64 {
        return Err("the part before @ is longer than 64 characters");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("the part before @ has a misplaced dot");
    }
    if local.contains(['"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\']) {
        return Err("the part before @ contains a character mail systems refuse");
    }
    if !domain.contains('.') {
        return Err("the domain has no dot");
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err("the domain is not a valid host name");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err("the domain contains a character host names cannot have");
        }
    }
    Ok(())
}

/// An address as it is sent: trimmed, checked, the part before @ as written and the domain in
/// lower-case ASCII (an international domain as punycode), so that `user@bücher.example` and
/// `user@xn--bcher-kva.example` are one contact, not two. The limits of [`check`] hold for the
/// ASCII form, the one that is sent.
pub fn normalise(raw: &str) -> Result<String, &'static str> {
    normalise_cow(raw).map(Cow::into_owned)
}

/// [`normalise`], borrowed from `raw` when the trimmed address already is its sent form.
pub fn normalise_cow(raw: &str) -> Result<Cow<'_, str>, &'static str> {
    let email = trim(raw);
    match plain_ascii(email) {
        Some(sent) => Ok(sent),
        None => normalise_any(email).map(Cow::Owned),
    }
}

/// The sent form of an ASCII address that [`check`] accepts and whose domain is host-name
/// letters, digits, hyphens and dots with no `xn--` label — what UTS 46 leaves as it is but for
/// lower case, so no conversion is needed. `None` for anything else, and for any address
/// [`check`] would refuse: [`normalise_any`] then decides, and says why.
fn plain_ascii(email: &str) -> Option<Cow<'_, str>> {
    let bytes = email.as_bytes();
    if bytes.is_empty() || bytes.len() > 254 {
        return None;
    }
    let at = memchr::memrchr(b'@', bytes)?;
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    let refused_in_local = |b: &u8| {
        !b.is_ascii_graphic()
            || matches!(
                b,
                b'@' | b'"' | b'(' | b')' | b',' | b':' | b';' | b'<' | b'>' | b'[' | b']' | b'\\'
            )
    };
    if local.is_empty()
        || local.len() > 64
        || local.iter().any(refused_in_local)
        || local.first() == Some(&b'.')
        || local.last() == Some(&b'.')
        || local.windows(2).any(|w| w == b"..")
    {
        return None;
    }
    let mut labels = 0;
    let mut upper = false;
    for label in domain.split(|b| *b == b'.') {
        labels += 1;
        let host_name = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
        if label.is_empty()
            || label.len() > 63
            || label.first() == Some(&b'-')
            || label.last() == Some(&b'-')
            || !label.iter().all(host_name)
            || (label.len() >= 4 && label[..4].eq_ignore_ascii_case(b"xn--"))
        {
            return None;
        }
        upper |= label.iter().any(u8::is_ascii_uppercase);
    }
    if labels < 2 {
        return None;
    }
    if !upper {
        return Some(Cow::Borrowed(email));
    }
    let mut sent = email.to_string();
    sent[at + 1..].make_ascii_lowercase();
    Some(Cow::Owned(sent))
}

/// [`normalise`] of a trimmed address, whatever it holds.
fn normalise_any(email: &str) -> Result<String, &'static str> {
    let ascii = email
        .rsplit_once('@')
        .and_then(|(local, domain)| Some(joined(local, &ascii_domain(domain)?)));
    match ascii {
        Some(ascii) => check(&ascii).map(|()| ascii),
        // Say what is wrong if it is plain to see, else that the domain has no ASCII form.
        None => check(email).and(Err("the domain is not a valid international domain name")),
    }
}

/// A domain in lower-case ASCII (UTS 46, host-name characters only), or `None` if it has no
/// such form. Borrowed when it already is that form.
fn ascii_domain(domain: &str) -> Option<std::borrow::Cow<'_, str>> {
    idna::domain_to_ascii_cow(domain.as_bytes(), idna::AsciiDenyList::STD3).ok()
}

/// `local@domain` in one allocation.
fn joined(local: &str, domain: &str) -> String {
    let mut address = String::with_capacity(local.len() + 1 + domain.len());
    address.push_str(local);
    address.push('@');
    address.push_str(domain);
    address
}

/// The key under which two spellings of one address are the same person: lower case, the
/// domain as [`normalise`] sends it. Any text has a key (an address read back from Autopilot
/// is never refused here); a domain with no ASCII form is only lower-cased.
pub fn dedupe_key(email: &str) -> String {
    let ascii = email
        .rsplit_once('@')
        .and_then(|(local, domain)| Some(joined(&local.to_lowercase(), &ascii_domain(domain)?)));
    ascii.unwrap_or_else(|| email.to_lowercase())
}

/// The [`dedupe_key`] of an address that [`normalise`] gave as `normalised`, without working out
/// the domain again (lower case is all that is left to do when the address is ASCII), written
/// into `key` (emptied first): a caller reading many rows reuses one buffer and allocates only
/// for the keys it keeps.
pub fn key_of_normalised(normalised: &str, raw: &str, key: &mut String) {
    key.clear();
    if normalised.is_ascii() {
        key.push_str(normalised);
        key.make_ascii_lowercase();
    } else {
        key.push_str(&dedupe_key(raw));
    }
}

/// An address as samples show it: its first character, `***`, and its domain
/// (`jane.doe@example.com` → `j***@example.com`), the way a dry run's samples show it; `***` for
/// text without an `@`.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

#[cfg(test)]
mod equivalence;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_addresses_keep_one_character_and_the_domain() {
        assert_eq!(masked("jane.doe@example.com"), "j***@example.com");
        assert_eq!(masked("ü@bücher.de"), "ü***@bücher.de");
        assert_eq!(masked("@example.com"), "****@example.com");
        assert_eq!(masked("no-at-sign"), "***");
    }

    #[test]
    fn table() {
        let good = [
            "a@b.co",
            "first.last+tag@mail.example.com",
            "O'Brien@example.ie",
            "ü@bücher.de",
        ];
        for e in good {
            assert_eq!(check(e), Ok(()), "{e}");
        }
        let bad = [
            ("", "empty"),
            ("plainaddress", "no @"),
            ("a@b", "no dot"),
            ("@example.com", "exactly one @"),
            ("a@@example.com", "exactly one @"),
            ("a b@example.com", "space"),
            ("a@exa mple.com", "space"),
            (".a@example.com", "misplaced dot"),
            ("a..b@example.com", "misplaced dot"),
            ("a@-x.com", "host name"),
            ("a@x..com", "host name"),
            ("a@x_y.com", "character host names"),
            ("<a@x.com>", "refuse"),
        ];
        for (e, why) in bad {
            let err = check(e).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
        assert_eq!(dedupe_key("Ann@Example.COM"), "ann@example.com");
        assert_eq!(trim("\u{a0} a@x.io\u{200b}\t"), "a@x.io");
    }

    #[test]
    fn an_international_domain_is_one_address_in_either_form() {
        for (raw, sent) in [
            ("user@bücher.example", "user@xn--bcher-kva.example"),
            (" User@BÜCHER.Example\u{200b}", "User@xn--bcher-kva.example"),
            ("User@XN--BCHER-KVA.example", "User@xn--bcher-kva.example"),
            ("Ann@Example.COM", "Ann@example.com"),
        ] {
            assert_eq!(normalise(raw).as_deref(), Ok(sent), "{raw}");
            assert_eq!(dedupe_key(trim(raw)), dedupe_key(sent), "{raw}");
        }
        assert_eq!(dedupe_key("Ü@bücher.example"), "ü@xn--bcher-kva.example");
        for raw in [
            "Ann@Example.COM",
            "Ü@bücher.example",
            "O'B@XN--BCHER-KVA.example",
            "ΣΑΣ@x.gr",
        ] {
            let normalised = normalise(raw).unwrap();
            let mut key = String::from("the key before");
            key_of_normalised(&normalised, raw, &mut key);
            assert_eq!(key, dedupe_key(raw), "{raw}");
        }
        assert_eq!(dedupe_key("Ann@Example.COM"), "ann@example.com");
        // Not convertible: punycode of a control character, right-to-left mixed with Latin.
        for bad in ["a@xn--a.example", "a@aא.example"] {
            assert_eq!(check(bad), Ok(()), "{bad}");
            let err = normalise(bad).unwrap_err();
            assert!(err.contains("domain"), "{bad}: {err}");
        }
        // The limits are those of the ASCII form: 80 bytes of UTF-8 are a 46-letter label, and
        // 23 Chinese characters a 67-letter one, too long for a host name.
        let ascii = format!("a@xn--td{}.example", "a".repeat(40));
        assert_eq!(
            normalise(&format!("a@{}.example", "ü".repeat(40))),
            Ok(ascii)
        );
        let long = "a@日本語中文字符汉字测试例子一二三四五六七八九十.example";
        assert_eq!(normalise(long), Err("the domain is not a valid host name"));
        assert_eq!(
            normalise("a b@x.io"),
            Err("the email contains a space or control character")
        );
        assert_eq!(
            normalise("a@x_y.io"),
            Err("the domain contains a character host names cannot have")
        );
        assert_eq!(normalise(" "), Err("the email is empty"));
    }
}
