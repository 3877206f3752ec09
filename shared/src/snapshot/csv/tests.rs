//! Reading snapshots: encodings, quoting, limits and the rows they give.

use super::*;
use std::io::Write;

fn rows(bytes: Vec<u8>) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    let mut snapshot =
        SnapshotRows::open("test.csv", Box::new(std::io::Cursor::new(bytes))).unwrap();
    let header = snapshot.header().to_vec();
    let mut out = Vec::new();
    while let Some(row) = snapshot.next_row().unwrap() {
        out.push((row.number, row.fields));
    }
    (header, out)
}

#[test]
fn borrowed_rows_copy_only_what_is_decoded() {
    let bytes = b"email,city\na@x.io,Z\xfcrich\nb@x.io,Bern\n".to_vec();
    let mut snapshot =
        SnapshotRows::open("test.csv", Box::new(std::io::Cursor::new(bytes))).unwrap();
    let row = snapshot.next_borrowed().unwrap().unwrap();
    assert_eq!(row.number, 2);
    assert!(matches!(row.fields[0], Cow::Borrowed("a@x.io")));
    assert!(matches!(&row.fields[1], Cow::Owned(city) if city == "Z\u{fc}rich"));
    let row = snapshot.next_borrowed().unwrap().unwrap();
    assert!(row.fields.iter().all(|f| matches!(f, Cow::Borrowed(_))));
    assert!(snapshot.next_borrowed().unwrap().is_none());
}

#[test]
fn bom_crlf_quotes_and_blank_lines() {
    let text = "\u{feff}email,name\r\n\"a@x.io\",\"Lee, Ann\"\r\n\r\nb@x.io,\"two\nlines \"\"quoted\"\"\"\r\n";
    let (header, rows) = rows(text.as_bytes().to_vec());
    assert_eq!(header, ["email", "name"]);
    assert_eq!(rows[0], (2, vec!["a@x.io".into(), "Lee, Ann".into()]));
    assert_eq!(
        rows[1],
        (3, vec!["b@x.io".into(), "two\nlines \"quoted\"".into()])
    );
}

#[test]
fn a_null_marker_is_an_empty_cell() {
    // PostgreSQL's COPY (text format) writes tabs and `\N` for NULL; only a whole cell is one.
    let text = "email\tname\tage\na@x.io\t\\N\t\\N\nb@x.io\t\\Nils\t\"\\N\"\n";
    let (header, rows) = rows(text.as_bytes().to_vec());
    assert_eq!(header, ["email", "name", "age"]);
    assert_eq!(rows[0].1, ["a@x.io", "", ""]);
    assert_eq!(rows[1].1, ["b@x.io", "\\Nils", ""]);
}

#[test]
fn semicolons_and_tabs_are_recognised_from_the_header() {
    let (header, rows) = rows(b"email;name\na@x.io;Lee, Ann\n".to_vec());
    assert_eq!(header, ["email", "name"]);
    assert_eq!(rows[0].1, ["a@x.io", "Lee, Ann"]);
    let (header, _) = rows_of(b"email\tname\n");
    assert_eq!(header, ["email", "name"]);
    let (header, _) = rows_of(b"email\n");
    assert_eq!(header, ["email"]);
    let (header, rows) = rows_of(b"\"Name, full\";email\n\"Lee, Ann\";a@x.io\n");
    assert_eq!(header, ["Name, full", "email"]);
    assert_eq!(rows[0].1, ["Lee, Ann", "a@x.io"]);
    // A Redshift UNLOAD without CSV separates its fields with pipes.
    let (header, rows) = rows_of(b"email|name|age\na@x.io|Lee; Ann|34\n");
    assert_eq!(header, ["email", "name", "age"]);
    assert_eq!(rows[0].1, ["a@x.io", "Lee; Ann", "34"]);
    let (header, _) = rows_of(b"a;b;c|d\n");
    assert_eq!(header, ["a", "b", "c|d"]);
}

fn rows_of(bytes: &[u8]) -> (Vec<String>, Vec<(u64, Vec<String>)>) {
    rows(bytes.to_vec())
}

#[test]
fn gzip_is_recognised_by_its_bytes() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"email\na@x.io\n").unwrap();
    let (header, rows) = rows(gz.finish().unwrap());
    assert_eq!(header, ["email"]);
    assert_eq!(rows.len(), 1);
}

#[test]
fn empty_snapshot_and_windows_1252() {
    let err = SnapshotRows::open("e.csv", Box::new(std::io::Cursor::new(Vec::new())))
        .err()
        .unwrap();
    assert!(err.message().contains("is empty"), "{err}");
    assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
    // "Müller" and "Prénom" as an old spreadsheet writes them.
    let (header, rows) = rows(b"email,Pr\xe9nom\nm@x.io,M\xfcller\n".to_vec());
    assert_eq!(header, ["email", "Prénom"]);
    assert_eq!(rows[0].1, ["m@x.io", "Müller"]);
    let corrupt = vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3];
    let err = SnapshotRows::open("c.csv.gz", Box::new(std::io::Cursor::new(corrupt)))
        .err()
        .unwrap();
    assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput, "{err}");
}

#[test]
fn utf16_with_a_bom_is_transcoded() {
    let text = "\u{feff}email\tname\r\nz@x.io\tZoë Ünal\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for bytes in [le, be] {
        let (header, rows) = rows(bytes);
        assert_eq!(header, ["email", "name"]);
        assert_eq!(rows, [(2, vec!["z@x.io".to_string(), "Zoë Ünal".into()])]);
    }
}

/// Reads every row, or the error that stopped the reading.
fn read_all(bytes: Vec<u8>) -> Result<usize, String> {
    let fatal = |e: SnapshotError| {
        assert_eq!(e.kind(), crate::error::ErrorKind::InvalidInput, "{e}");
        e.to_string()
    };
    let mut snapshot =
        SnapshotRows::open("s.csv", Box::new(std::io::Cursor::new(bytes))).map_err(fatal)?;
    let mut n = 0;
    while snapshot.next_row().map_err(fatal)?.is_some() {
        n += 1;
    }
    Ok(n)
}

#[test]
fn binary_data_is_not_read_as_a_header() {
    let mut garbage = vec![0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, b',', 0x1b, b'['];
    garbage.extend(b"\nemail\na@x.io\n");
    let utf16_without_bom: Vec<u8> = "email,name\na@x.io,A\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for bytes in [garbage, utf16_without_bom] {
        let err = SnapshotRows::open("g.csv", Box::new(std::io::Cursor::new(bytes)))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with(
                "the snapshot g.csv is not a CSV text file: its first row holds control characters"
            ),
            "{err}"
        );
    }
    // Tabs and line breaks inside quoted names are text.
    let (header, _) = rows(b"\"e\tmail\",\"first\nname\"\n".to_vec());
    assert_eq!(header, ["e\tmail", "first\nname"]);
}

#[test]
fn a_gzip_bomb_is_refused_naming_the_file_and_the_limit() {
    // A thousand rows, then 120 MB of line ends: about 120 KB compressed. The rows before
    // the bound are read; the reading stops soon after 100 MB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"email\n").unwrap();
    gz.write_all(&b"a@x.io\n".repeat(1000)).unwrap();
    let block = vec![b'\n'; 1 << 20];
    for _ in 0..120 {
        gz.write_all(&block).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    let mut snapshot =
        SnapshotRows::open("bomb.csv.gz", Box::new(std::io::Cursor::new(bomb))).unwrap();
    let mut rows = 0u64;
    let err = loop {
        match snapshot.next_row() {
            Ok(Some(_)) => rows += 1,
            Ok(None) => panic!("read to the end: {rows} rows"),
            Err(e) => break e.to_string(),
        }
    };
    assert_eq!(rows, 1000);
    assert!(
        err.starts_with("the snapshot bomb.csv.gz cannot be read: it is compressed and expands more than 200 times over 100 MB"),
        "{err}"
    );
}

#[test]
fn a_quote_left_open_is_an_error_naming_its_row() {
    let mut text = String::from("email,name\n");
    for i in 2..=10_000 {
        let name = if i == 11 { "\"Ann" } else { "Ann" };
        text.push_str(&format!("p{i}@x.io,{name}\n"));
    }
    let err = read_all(text.into_bytes()).unwrap_err();
    assert!(
        err.contains("s.csv") && err.contains("opened on row 11 (line 11 of the file)"),
        "{err}"
    );
    assert!(!err.contains("Ann") && !err.contains("p11@"), "{err}");
}

#[test]
fn malformed_rows_are_named_after_the_rows_before_them_are_read() {
    // A blank and a space-only line are not rows: the big one is row 4, on line 6.
    let mut text = b"email,note\na@x.io,5'10\"\n\n   \nb@x.io,x\nc@x.io,".to_vec();
    text.extend(std::iter::repeat_n(b'y', guard::MAX_RECORD_BYTES));
    text.extend(b"\nd@x.io,z\n");
    let mut snapshot = SnapshotRows::open("big.csv", Box::new(std::io::Cursor::new(text))).unwrap();
    let first = snapshot.next_row().unwrap().unwrap();
    assert_eq!((first.number, first.fields[1].as_str()), (2, "5'10\""));
    assert_eq!(snapshot.next_row().unwrap().unwrap().number, 3);
    let err = snapshot.next_row().unwrap_err().to_string();
    assert!(
        err.contains("big.csv")
            && err.contains("row 4 (from line 6 of the file) is larger than 1 MB"),
        "{err}"
    );
    assert!(!err.contains("c@x.io") && !err.contains("yyy"), "{err}");
}

#[test]
fn the_header_is_held_to_the_same_limits() {
    let wide = format!("{}\na@x.io\n", "c,".repeat(guard::MAX_COLUMNS));
    let err = read_all(wide.into_bytes()).unwrap_err();
    assert!(
        err.contains("row 1") && err.contains("more than 10,000 columns"),
        "{err}"
    );
    let err = read_all(b"\"email,name\na@x.io,Ann\n".to_vec()).unwrap_err();
    assert!(
        err.contains("opened on row 1 (line 1 of the file)"),
        "{err}"
    );
    // Compressed and UTF-16 snapshots are checked as the text they hold.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"email\n\na@x.io\n\"b@x.io\nc@x.io\n")
        .unwrap();
    let err = read_all(gz.finish().unwrap()).unwrap_err();
    assert!(
        err.contains("opened on row 3 (line 4 of the file)"),
        "{err}"
    );
    let text = "\u{feff}email\tname\r\nz@x.io\t\"Zo\r\ny@x.io\tY\r\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let err = read_all(utf16).unwrap_err();
    assert!(
        err.contains("opened on row 2 (line 2 of the file)"),
        "{err}"
    );
}

/// A batch holds each row's cells as the rows read one by one have them, whether the row's
/// text is copied at once (plain UTF-8) or cell by cell: a `\N`, a Windows-1252 byte, a
/// character whose bytes a separator cuts in two, short and empty rows.
#[test]
fn a_batch_holds_the_cells_the_rows_have() {
    let bytes = b"email,name,city\na@x.io,Ann,Z\xc3\xbcrich\nb@x.io,\\N,Bern\nc@x.io,Z\xfcrich,\n\
        d@x.io,\xc3,\xbc\ne@x.io\n,,\n\"f@x.io\",\"L, A\",\"\"\n"
        .to_vec();
    let (_, one_by_one) = rows(bytes.clone());
    let mut snapshot =
        SnapshotRows::open("test.csv", Box::new(std::io::Cursor::new(bytes))).unwrap();
    let mut batch = Batch::default();
    assert!(!snapshot.fill(&mut batch, 256).unwrap());
    let mut batched = Vec::new();
    batch
        .rows()
        .each(|number, fields| {
            let fields = fields.iter().map(|f| f.to_string()).collect::<Vec<_>>();
            batched.push((number, fields));
            Ok::<_, ()>(())
        })
        .unwrap();
    assert_eq!(batched, one_by_one);
    assert_eq!(one_by_one.len(), 7);
    assert_eq!(one_by_one[1].1, ["b@x.io", "", "Bern"]);
    assert_eq!(one_by_one[3].1, ["d@x.io", "\u{c3}", "\u{bc}"]);
    assert_eq!(one_by_one[4].1, ["e@x.io"]);
}

/// Rows of a wide file fill a batch up to about a megabyte of text, not to its count of rows.
#[test]
fn a_batch_of_wide_rows_ends_at_its_bytes() {
    let cell = "x".repeat(300_000);
    let mut text = String::from("email,notes\n");
    for i in 0..10 {
        text.push_str(&format!("p{i}@x.io,{cell}\n"));
    }
    let mut rows = SnapshotRows::open("wide.csv", Box::new(std::io::Cursor::new(text))).unwrap();
    let mut batch = Batch::default();
    assert!(rows.fill(&mut batch, 256).unwrap());
    assert_eq!(batch.len(), 4, "{} bytes", batch.text_len());
    let mut all = batch.len();
    loop {
        batch.clear();
        let more = rows.fill(&mut batch, 256).unwrap();
        assert!(batch.text_len() < BATCH_BYTES + 300_100);
        all += batch.len();
        if !more {
            break;
        }
    }
    assert_eq!(all, 10);
}

/// A headerless file's separator is the one that splits its first line into its columns: pipes
/// around values that hold commas (Redshift's default unload), commas around values that hold
/// pipes.
#[test]
fn a_headerless_file_is_split_into_its_columns() {
    let read = |text: &str| {
        let layout = Layout {
            columns: Some(vec!["email".to_string(), "name".into(), "age".into()].into()),
            ..Layout::default()
        };
        let input = Box::new(std::io::Cursor::new(text.to_string()));
        let mut rows = SnapshotRows::open_with("part", input, &layout).unwrap();
        let mut all = Vec::new();
        while let Some(row) = rows.next_row().unwrap() {
            all.push(row.fields);
        }
        all
    };
    assert_eq!(
        read("a@x.io|Lee, Ann|34\nb@x.io|Bo|5\n"),
        [["a@x.io", "Lee, Ann", "34"], ["b@x.io", "Bo", "5"]]
    );
    assert_eq!(read("a@x.io,A|B,34\n"), [["a@x.io", "A|B", "34"]]);
    assert_eq!(read("a@x.io;Ann;34\n"), [["a@x.io", "Ann", "34"]]);
}

/// Backslash-escaped text (Snowflake's unload without quotes, PostgreSQL's COPY in text format):
/// an escaped separator neither splits a value nor chooses the separator, `\N` is empty, and a
/// quote is a character.
#[test]
fn a_backslash_escaped_unload_is_read_value_by_value() {
    let read = |text: &str, columns: Option<&[&str]>| {
        let layout = Layout {
            columns: columns.map(|c| c.iter().map(|c| c.to_string()).collect()),
            escapes: true,
            ..Layout::default()
        };
        let input = Box::new(std::io::Cursor::new(text.to_string()));
        let mut rows = SnapshotRows::open_with("part", input, &layout).unwrap();
        let mut all = vec![rows.header().to_vec()];
        while let Some(row) = rows.next_row().unwrap() {
            all.push(row.fields);
        }
        all
    };
    assert_eq!(
        read(
            "email,company,age\na@x.io,Acme\\, Inc.,\\N\nb@x.io,\"Bo\" \\\\ Co,7\n",
            None
        ),
        [
            ["email", "company", "age"],
            ["a@x.io", "Acme, Inc.", ""],
            ["b@x.io", "\"Bo\" \\ Co", "7"]
        ]
    );
    // Three columns: the escaped commas do not make the comma look like a fourth separator.
    assert_eq!(
        read(
            "a@x.io\tLee\\, Ann\\, Jr.\t34\n",
            Some(&["email", "name", "age"])
        ),
        [["email", "name", "age"], ["a@x.io", "Lee, Ann, Jr.", "34"]]
    );
}
