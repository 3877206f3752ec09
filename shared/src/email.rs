//! Email addresses as this connector accepts them: trimmed, one `@`, a dotted domain, no spaces.
//! Deliberately practical rather than the full RFC 5322 grammar, which admits addresses no mail
//! platform takes (quoted local parts, IP-literal domains).

/// An address as typed, without the spaces around it — including the no-break and zero-width
/// spaces that text copied from web pages and spreadsheets carries along invisibly.
pub fn trim(raw: &str) -> &str {
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
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err("the domain has no dot");
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err("the domain is not a valid host name");
        }
        if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err("the domain contains a character host names cannot have");
        }
    }
    Ok(())
}

/// The key under which two spellings of one address are the same person.
pub fn dedupe_key(email: &str) -> String {
    email.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
