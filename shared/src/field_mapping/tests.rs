//! Data matching against sample headers and rows.

use super::custom::parse_date;
use super::*;
use crate::destination::DataMatching;
use serde_json::json;
use std::collections::BTreeMap;

fn matching() -> DataMatching {
    DataMatching {
        email: "email".into(),
        first_name: Some("first".into()),
        last_name: None,
        fields: BTreeMap::from([("Company".into(), "Company".into())]),
        custom: BTreeMap::from([
            ("integer--Age".into(), "age".into()),
            ("boolean--VIP".into(), "vip".into()),
            ("date--Signup--Date".into(), "signup".into()),
            ("float--Score".into(), "score".into()),
        ]),
    }
}

fn header() -> Vec<String> {
    ["Email", "first", "company", "age", "vip", "signup", "score"]
        .map(String::from)
        .to_vec()
}

#[test]
fn maps_converts_and_drops_empty_values() {
    let mapper = RowMapper::new(&matching(), &header()).unwrap();
    let c = mapper
        .map(&[" Ann@X.io ", "Ann", "", "42", "Yes", "2026-01-31", "1.5"])
        .unwrap();
    assert_eq!(c.email(), "Ann@x.io");
    assert_eq!(
        c.fields(),
        &BTreeMap::from([("FirstName".to_string(), "Ann".to_string())])
    );
    assert_eq!(
        serde_json::to_value(c.custom()).unwrap(),
        json!({"integer--Age": 42, "boolean--VIP": true,
            "date--Signup--Date": "2026-01-31T00:00:00Z", "float--Score": 1.5})
    );
}

#[test]
fn the_email_sent_has_its_domain_in_ascii() {
    let mapper = RowMapper::new(&matching(), &header()).unwrap();
    let row = |email| [email, "", "", "", "", "", ""];
    let c = mapper.map(&row("Ü@Bücher.example")).unwrap();
    assert_eq!(c.email(), "Ü@xn--bcher-kva.example");
    let problem = mapper.map(&row("a@xn--a.example")).unwrap_err();
    assert_eq!(problem.code, "invalid_email");
    assert!(problem.message.contains("domain"), "{problem:?}");
}

#[test]
fn row_problems() {
    let mapper = RowMapper::new(&matching(), &header()).unwrap();
    let table: [(&[&str], &str); 6] = [
        (&["a@x.io", "A"], "wrong_column_count"),
        (&["", "A", "", "", "", "", ""], "missing_email"),
        (&["not-an-email", "A", "", "", "", "", ""], "invalid_email"),
        (&["a@x.io", "A", "", "forty", "", "", ""], "invalid_value"),
        (&["a@x.io", "A", "", "", "maybe", "", ""], "invalid_value"),
        (
            &["a@x.io", "A", "", "", "", "31/01/2026", ""],
            "invalid_value",
        ),
    ];
    for (row, code) in table {
        assert_eq!(mapper.map(row).unwrap_err().code, code, "{row:?}");
    }
}

#[test]
fn a_missing_column_is_named_and_the_first_row_never_repeated() {
    let mut m = matching();
    m.email = "e-mail".into();
    let err = RowMapper::new(&m, &header()).unwrap_err();
    assert_eq!(
        err,
        "the snapshot has no column 'e-mail': its first row holds 7 columns, none named so. If the file has no header row (a warehouse unload often has none), name its columns in order with `autopilot-export configure DEST --columns a,b,c`; else fix the data matching with `autopilot-export configure`"
    );
    let row: Vec<String> = ["ann.lee@example.com", "Ann", "Lee", "+44 20 7946 0018"]
        .map(String::from)
        .to_vec();
    let err = RowMapper::new(&matching(), &row).unwrap_err();
    assert!(
        err.contains("': its first row holds 4 columns, none"),
        "{err}"
    );
    for value in ["ann", "Ann", "Lee", "7946"] {
        assert!(!err.contains(value), "{value} repeated: {err}");
    }
    let err = RowMapper::new(&matching(), &row[..1]).unwrap_err();
    assert!(err.contains("its first row holds 1 column, none"), "{err}");
}

#[test]
fn a_used_column_named_twice_is_refused() {
    let with = |extra: &str| {
        let mut h = header();
        h.push(extra.to_string());
        h
    };
    let err = RowMapper::new(&matching(), &with("Email")).unwrap_err();
    assert_eq!(
        err,
        "the column 'email' appears twice in the header (columns 1 and 8): rename one so the data matching is unambiguous"
    );
    for (extra, column) in [("first", "first"), ("age", "age"), ("COMPANY", "Company")] {
        let err = RowMapper::new(&matching(), &with(extra)).unwrap_err();
        assert!(
            err.contains(&format!("the column '{column}' appears twice")),
            "{err}"
        );
    }
    let mut h = with("EMAIL");
    h.push("eMail".into());
    let err = RowMapper::new(&matching(), &h).unwrap_err();
    assert!(
        err.contains("appears 3 times in the header (columns 1, 8 and 9)"),
        "{err}"
    );
    // Unused columns may repeat, and an exact name is not ambiguous with another spelling.
    assert!(RowMapper::new(&matching(), &with("notes")).is_ok());
    let mut h = with("notes");
    h.push("notes".into());
    assert!(RowMapper::new(&matching(), &h).is_ok());
    let mut m = matching();
    m.email = "Email".into();
    assert!(RowMapper::new(&m, &with("EMAIL")).is_ok());
}

#[test]
fn mapping_checks_for_each_api() {
    // A standard field every API has.
    let matching = || DataMatching {
        fields: BTreeMap::from([("MailingCity".into(), "city".into())]),
        ..matching()
    };
    for kind in crate::audience_api::ApiKind::ALL {
        let words = kind.vocabulary();
        assert!(validate(&matching(), words).is_ok());
        let mut m = matching();
        m.custom.insert("colour--Eyes".into(), "eyes".into());
        assert!(validate(&m, words)
            .unwrap_err()
            .contains("unknown type 'colour'"));
        for never in words.never_sent {
            let mut m = matching();
            m.fields.insert(never.to_string(), "u".into());
            assert!(
                validate(&m, words).unwrap_err().contains("never sent"),
                "{never}"
            );
        }
        let mut m = matching();
        m.fields.insert("Shoe".into(), "u".into());
        let err = validate(&m, words).unwrap_err();
        assert!(
            err.contains(&format!("not a standard {} field", words.api)),
            "{err}"
        );
        let mut m = matching();
        m.email = " ".into();
        assert!(validate(&m, words).unwrap_err().contains("--email-field"));
    }
    // Ortto has no company field: the message says to send it as a custom one.
    let words = crate::audience_api::ApiKind::Ortto.vocabulary();
    let err = validate(&self::matching(), words).unwrap_err();
    assert_eq!(
        err,
        "'Company' is not a standard Ortto field; use one of FirstName, LastName, Phone, MailingCity, MailingState, MailingCountry, MailingPostalCode or a custom field (--custom 'string--Company=COLUMN')"
    );
}

#[test]
fn dates() {
    assert_eq!(
        parse_date("2026-01-31T10:00:00+02:00").unwrap(),
        "2026-01-31T08:00:00Z"
    );
    assert_eq!(
        parse_date("2026-01-31 10:00:00").unwrap(),
        "2026-01-31T10:00:00Z"
    );
    assert!(parse_date("2026-02-30").is_none());
}
