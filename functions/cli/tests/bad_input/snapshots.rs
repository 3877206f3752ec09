//! Broken and hostile snapshots: each ends in an error naming the file and the problem before
//! anything is asked of Autopilot, or in exact per-row refusals.

use super::{rejected, totals, Case, Ctx};
use std::io::Write;

pub const CASES: &[Case] = &[
    ("empty file", empty),
    ("header only", header_only),
    ("missing email column", missing_email_column),
    ("binary garbage", binary_garbage),
    ("an image named .csv", image),
    ("UTF-16 without a byte-order mark", utf16_without_bom),
    ("NUL bytes in rows", nul_bytes),
    ("a 2 MB line of NUL bytes", nul_line),
    ("unterminated quote", unterminated_quote),
    ("huge line (3 MB)", huge_line),
    ("huge column count (20,000)", huge_column_count),
    ("gzip bomb (120 MB in 120 KB)", gzip_bomb),
    ("truncated gzip", truncated_gzip),
    ("mixed line endings", mixed_line_endings),
    ("BOM at the start and in the middle", bom_in_the_middle),
    ("duplicate header names", duplicate_header),
    ("blank header", blank_header),
    ("extra and missing columns", extra_and_missing_columns),
    ("200,000 rows of one email", one_email),
    ("IDN and unicode emails", idn_and_unicode),
    ("formulas and escapes in cells", formulas),
    ("3,000 refused rows of 1,000 characters", many_refused),
    ("over the profile limit", over_the_limit),
    ("path that does not exist", missing_path),
    ("a directory", directory),
    ("a FIFO", fifo),
];

fn empty(ctx: &Ctx) -> String {
    let out = ctx.export("empty.csv", "", &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(
        message.ends_with("empty.csv is empty: a snapshot needs a header row naming its columns")
    );
    "refused: the snapshot is empty, needs a header row".into()
}

fn header_only(ctx: &Ctx) -> String {
    let out = ctx.export("header.csv", "email,name\r\n", &[]);
    let report = out.report();
    assert_eq!(totals(&report), [0, 0, 0, 0]);
    assert_eq!(out.sandbox.counters().bulk_requests, 0);
    assert!(out.sandbox.state().list("S").unwrap().members.is_empty());
    "succeeded: 0 rows, empty list created, 0 sent".into()
}

fn missing_email_column(ctx: &Ctx) -> String {
    let out = ctx.export("mail.csv", "mail,name\na@x.io,A\n", &[]);
    let message = out.refused(
        "InvalidInput",
        "segment 'S': the snapshot has no column 'email'",
    );
    assert!(
        message.contains("its first row holds 2 columns, none named so")
            && message.ends_with("fix the data matching with `autopilot-export configure`"),
        "{message}"
    );
    assert!(
        !message.contains("mail,"),
        "no header cell repeated: {message}"
    );
    "refused: the snapshot has no column 'email'".into()
}

fn not_a_csv(ctx: &Ctx, name: &str, bytes: Vec<u8>) {
    let out = ctx.export(name, bytes, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(
        message.contains(&format!(
            "{name} is not a CSV text file: its first row holds control characters"
        )),
        "{message}"
    );
}

fn binary_garbage(ctx: &Ctx) -> String {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    not_a_csv(ctx, "garbage.csv", garbage);
    "refused: not a CSV text file (control characters in the first row)".into()
}

fn image(ctx: &Ctx) -> String {
    // A PNG's first line is `\x89PNG\r`: readable text, so it is a header without `email`.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let out = ctx.export("image.csv", png, &[]);
    out.refused(
        "InvalidInput",
        "segment 'S': the snapshot has no column 'email'",
    );
    "refused: no column 'email'".into()
}

fn utf16_without_bom(ctx: &Ctx) -> String {
    let text: Vec<u8> = "email,name\r\na@x.io,A\r\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    not_a_csv(ctx, "utf16.csv", text);
    "refused: not a CSV text file".into()
}

fn nul_bytes(ctx: &Ctx) -> String {
    let out = ctx.export("nul.csv", b"email\na@x.io\n\0\0\0\nb@x.io\0\n", &[]);
    let report = out.report();
    assert_eq!(totals(&report), [3, 1, 2, 0]);
    let rows = rejected(&report, &ctx.data());
    let reason = "invalid_email: the email contains a space or control character";
    assert_eq!(
        rows[0],
        ["S", "nul.csv", "3", "\u{fffd}\u{fffd}\u{fffd}", reason]
    );
    assert_eq!(rows[1], ["S", "nul.csv", "4", "b@x.io\u{fffd}", reason]);
    assert_eq!(out.members(), ["a@x.io"]);
    "2 rows refused (invalid_email, NULs shown as � in rejected.csv), 1 sent".into()
}

fn nul_line(ctx: &Ctx) -> String {
    let mut bytes = b"email\n".to_vec();
    bytes.resize(2 << 20, 0);
    let out = ctx.export("nul-line.csv", bytes, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(message.contains("cannot be read: row 2 (from line 2 of the file) is larger than 1 MB"));
    "refused: row 2 is larger than 1 MB".into()
}

fn unterminated_quote(ctx: &Ctx) -> String {
    let text = "email,name\na@x.io,A\n\"b@x.io,B\nc@x.io,C\n";
    let out = ctx.export("quote.csv", text, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(
        message
            .contains("has a quote (\") opened on row 3 (line 3 of the file) that is never closed"),
        "{message}"
    );
    "refused: quote opened on row 3 never closed".into()
}

fn huge_line(ctx: &Ctx) -> String {
    let text = format!("email\na@x.io\n{}\nc@x.io\n", "b".repeat(3 << 20));
    let out = ctx.export("line.csv", text, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(message.contains("cannot be read: row 3 (from line 3 of the file) is larger than 1 MB"));
    "refused: row 3 is larger than 1 MB".into()
}

fn huge_column_count(ctx: &Ctx) -> String {
    let text = format!("email\na@x.io{}\n", ",x".repeat(20_000));
    let out = ctx.export("wide.csv", text, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(message.contains("row 2 (from line 2 of the file) has more than 10,000 columns"));
    "refused: row 2 has more than 10,000 columns".into()
}

fn gzip(parts: &[(&[u8], usize)]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for (bytes, times) in parts {
        for _ in 0..*times {
            gz.write_all(bytes).unwrap();
        }
    }
    gz.finish().unwrap()
}

fn gzip_bomb(ctx: &Ctx) -> String {
    let bomb = gzip(&[(b"email\na@x.io\n", 1), (&[b'\n'; 1 << 20], 120)]);
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let out = ctx.export("bomb.csv", bomb, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(
        message.contains(
            "bomb.csv cannot be read: it is compressed and expands more than 200 times over 100 MB"
        ),
        "{message}"
    );
    "refused: expands more than 200 times over 100 MB".into()
}

fn truncated_gzip(ctx: &Ctx) -> String {
    let whole = gzip(&[(b"email\na@x.io\nb@x.io\n", 1)]);
    let out = ctx.export("cut.csv.gz", &whole[..whole.len() - 12], &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(message.contains("cut.csv.gz cannot be read"), "{message}");
    "refused: cannot be read (incomplete deflate stream)".into()
}

fn mixed_line_endings(ctx: &Ctx) -> String {
    let text = "email,name\r\na@x.io,A\nb@x.io,B\rc@x.io,C\r\n\r\n";
    let out = ctx.export("mixed.csv", text, &["--first-name-field", "name"]);
    assert_eq!(totals(&out.report()), [3, 3, 0, 0]);
    assert_eq!(out.members(), ["a@x.io", "b@x.io", "c@x.io"]);
    "3 rows, 3 sent".into()
}

fn bom_in_the_middle(ctx: &Ctx) -> String {
    let text = "\u{feff}email,name\na@x.io,A\n\u{feff}b@x.io,B\n";
    let out = ctx.export("bom.csv", text, &[]);
    assert_eq!(totals(&out.report()), [2, 2, 0, 0]);
    assert_eq!(out.members(), ["a@x.io", "b@x.io"]);
    "2 rows, 2 sent (a BOM before an email is trimmed like a space)".into()
}

fn duplicate_header(ctx: &Ctx) -> String {
    let out = ctx.export("dup.csv", "email,name,email\na@x.io,A,b@x.io\n", &[]);
    out.refused(
        "InvalidInput",
        "segment 'S': the column 'email' appears twice in the header (columns 1 and 3)",
    );
    "refused: column 'email' appears twice".into()
}

fn blank_header(ctx: &Ctx) -> String {
    let out = ctx.export("blank.csv", "email,,name\na@x.io,x,A\n", &[]);
    assert_eq!(totals(&out.report()), [1, 1, 0, 0]);
    "1 row, 1 sent (an unused blank column is ignored)".into()
}

fn extra_and_missing_columns(ctx: &Ctx) -> String {
    let text = "email,name\na@x.io,A,extra\nb@x.io\nc@x.io,C\n";
    let out = ctx.export("ragged.csv", text, &[]);
    let report = out.report();
    assert_eq!(totals(&report), [3, 1, 2, 0]);
    let rows = rejected(&report, &ctx.data());
    let reason = |n| format!("wrong_column_count: the row has {n} columns, the header has 2");
    let unquoted = format!(
        "{}: a value holding the separator is probably unquoted (unload with quotes, or read it with backslash escapes)",
        reason(3)
    );
    assert_eq!(rows[0], ["S", "ragged.csv", "2", "a@x.io", &unquoted]);
    assert_eq!(rows[1], ["S", "ragged.csv", "3", "b@x.io", &reason(1)]);
    "2 rows refused (wrong_column_count), 1 sent".into()
}

fn one_email(ctx: &Ctx) -> String {
    let text = format!("email\n{}", "Same@Example.com\n".repeat(200_000));
    let out = ctx.export("same.csv", text, &[]);
    assert_eq!(totals(&out.report()), [200_000, 1, 0, 199_999]);
    assert_eq!(out.sandbox.counters().bulk_requests, 1);
    "1 sent, 199,999 duplicates, 1 request".into()
}

fn idn_and_unicode(ctx: &Ctx) -> String {
    let text = "email\nÜ@bücher.example\njosé@exämple.com\n用户@例子.广告\nx@xn--a.example\nA@EXAMPLE.com\na@example.com\n";
    let out = ctx.export("idn.csv", text, &[]);
    let report = out.report();
    assert_eq!(totals(&report), [6, 4, 1, 1]);
    assert_eq!(
        out.members(),
        [
            "A@example.com",
            "josé@xn--exmple-cua.com",
            "Ü@xn--bcher-kva.example",
            "用户@xn--fsqu00a.xn--4rr70v",
        ]
    );
    let rows = rejected(&report, &ctx.data());
    assert_eq!(rows[0][..4], ["S", "idn.csv", "5", "x@xn--a.example"]);
    "6 rows: 4 sent (domains as punycode), 1 invalid domain, 1 duplicate".into()
}

fn formulas(ctx: &Ctx) -> String {
    let text = "email\n=HYPERLINK(\"http://x\")\n+1\n-2\n@SUM(A1)\n\u{1b}[31mred\nok@x.io\n";
    let out = ctx.export("formulas.csv", text, &[]);
    let report = out.report();
    assert_eq!(totals(&report), [6, 1, 5, 0]);
    let cells: Vec<String> = rejected(&report, &ctx.data())
        .into_iter()
        .map(|r| r[3].clone())
        .collect();
    assert_eq!(
        cells,
        [
            "'=HYPERLINK(\"http://x\")",
            "'+1",
            "'-2",
            "'@SUM(A1)",
            "\u{fffd}[31mred"
        ]
    );
    "5 refused; rejected.csv cells start with ' and escapes are �".into()
}

fn many_refused(ctx: &Ctx) -> String {
    let long = "x".repeat(1000);
    let mut text = String::from("email\nok@x.io\n");
    for i in 0..3000 {
        text.push_str(&format!("{i}{long}\n"));
    }
    let out = ctx.export("refused.csv", text, &[]);
    let report = out.report();
    assert_eq!(totals(&report), [3001, 1, 3000, 0]);
    let rows = rejected(&report, &ctx.data());
    assert_eq!(rows.len(), 3000);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row[2], (i + 3).to_string());
        assert_eq!(row[3].chars().count(), 201);
        assert!(row[3].starts_with(&format!("{i}x")) && row[3].ends_with('…'));
    }
    "3,000 refused, all in rejected.csv, cells cut to 200 characters + …".into()
}

fn over_the_limit(ctx: &Ctx) -> String {
    let mut text = String::from("email\n");
    for i in 0..1000 {
        text.push_str(&format!("p{i}@x.io\n"));
    }
    let out = ctx.export("many.csv", text, &["--profile-limit", "10"]);
    out.refused(
        "LimitExceeded",
        "the segments hold at least 11 distinct profiles, more than this destination's limit of 10: nothing was sent",
    );
    "refused: at least 11 distinct profiles, limit 10".into()
}

fn missing_path(ctx: &Ctx) -> String {
    let path = ctx.dir.join("no/such.csv");
    let out = ctx.export_of(&path, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(message.ends_with("such.csv does not exist: check the path, or configure the segment again with `--segment 'NAME=PATH'`"));
    "refused: does not exist".into()
}

fn directory(ctx: &Ctx) -> String {
    // The case's folder holds the data folder alone (its secrets, the destination): none of it
    // is ever read as a snapshot.
    let out = ctx.export_of(&ctx.dir, &[]);
    let message = out.refused("InvalidInput", "segment 'S': ");
    assert!(
        message.contains("/ holds no data file to read (0 objects under"),
        "{message}"
    );
    "refused: a folder with no data file (the data folder is never read)".into()
}

fn fifo(ctx: &Ctx) -> String {
    let path = ctx.dir.join("pipe.csv");
    let made = std::process::Command::new("mkfifo").arg(&path).status();
    assert!(made.unwrap().success());
    let out = ctx.export_of(&path, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the snapshot ");
    assert!(
        message.ends_with("is not a regular file (a named pipe): point the segment at a CSV file")
    );
    "refused at once: not a regular file (a named pipe)".into()
}
