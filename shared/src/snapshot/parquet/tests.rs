//! Parquet parts read through the whole pipeline (sources, fetching, parsing, batches) from
//! files written by the `parquet` crate's writer: the rows as text, only the mapped columns, and
//! a clear error for each way a file can be wrong.

use super::write::{ColumnType, Writer};
use crate::snapshot::batched::{PartInfo, RowHandler, Stopped};
use crate::snapshot::{LocalFiles, SegmentRows, SnapshotError};
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use std::path::Path;

/// The parts and rows a reading hands on.
#[derive(Default)]
pub struct Collected {
    pub parts: Vec<PartInfo>,
    pub rows: Vec<(u64, Vec<String>)>,
}

impl RowHandler for Collected {
    type Error = ();
    fn part(&mut self, part: &PartInfo) -> Result<(), ()> {
        self.parts.push(part.clone());
        Ok(())
    }
    fn row(&mut self, number: u64, fields: &[&str]) -> Result<(), ()> {
        self.rows
            .push((number, fields.iter().map(|f| f.to_string()).collect()));
        Ok(())
    }
}

/// Reads `source` with the columns `wanted`.
pub fn read(source: &str, wanted: &[&str]) -> Result<Collected, SnapshotError> {
    let wanted = wanted.iter().map(|w| w.to_string()).collect();
    let rows = SegmentRows::open(&LocalFiles, source, None, wanted)?;
    let mut seen = Collected::default();
    match rows.read_each(&mut seen) {
        Ok(()) => Ok(seen),
        Err(Stopped::Read(e)) => Err(e),
        Err(Stopped::By(())) => unreachable!(),
    }
}

const COLUMNS: [(&str, ColumnType); 7] = [
    ("email", ColumnType::Text),
    ("first_name", ColumnType::Text),
    ("age", ColumnType::Int64),
    (
        "balance",
        ColumnType::Decimal {
            precision: 12,
            scale: 2,
        },
    ),
    ("signup", ColumnType::Date),
    ("seen", ColumnType::Timestamp),
    ("vip", ColumnType::Bool),
];

/// A file of `rows` people in row groups of `group` rows.
pub fn people(path: &Path, rows: u64, group: usize, compression: Compression) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = Writer::new(file, &COLUMNS, group, compression).unwrap();
    for i in 0..rows {
        let cells = [
            format!("p{i}@x.io"),
            if i % 5 == 0 {
                String::new()
            } else {
                format!("Név {i}")
            },
            (20 + i % 50).to_string(),
            format!("{}.{:02}", i, i % 100),
            "2024-03-15".to_string(),
            "2024-03-15T10:00:00Z".to_string(),
            (i % 2 == 0).to_string(),
        ];
        writer.row(&cells).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn rows_come_as_text_with_only_the_mapped_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.parquet");
    people(&path, 1000, 300, Compression::SNAPPY);
    let source = path.display().to_string();
    let read = read(
        &source,
        &["EMAIL", "balance", "signup", "seen", "vip", "first_name"],
    )
    .unwrap();
    assert_eq!(read.parts.len(), 1);
    assert_eq!(
        read.parts[0].header,
        ["email", "balance", "signup", "seen", "vip", "first_name"]
    );
    assert_eq!(read.rows.len(), 1000);
    assert_eq!(read.rows[0].0, 1, "rows are numbered from 1");
    assert_eq!(
        read.rows[7].1,
        [
            "p7@x.io",
            "7.07",
            "2024-03-15",
            "2024-03-15T10:00:00Z",
            "false",
            "Név 7"
        ]
    );
    // Nulls are empty cells; row groups follow one another.
    assert_eq!(read.rows[305].1[5], "");
    assert_eq!(
        (read.rows[999].0, read.rows[999].1[0].as_str()),
        (1000, "p999@x.io")
    );
}

#[test]
fn every_compression_writers_use_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for (name, compression) in [
        ("plain", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        people(&path, 500, 128, compression);
        all.push(
            read(&path.display().to_string(), &["email", "age"])
                .unwrap()
                .rows,
        );
    }
    assert!(all.windows(2).all(|w| w[0] == w[1]));
    // A codec this build does not read: the file says LZ4 (its pages are Snappy's).
    let lz4 = dir.path().join("lz4.parquet");
    people(&lz4, 10, 10, Compression::SNAPPY);
    crate::test_support::rewrite_parquet_columns(&lz4, |c| c.set_compression(Compression::LZ4_RAW));
    let err = read(&lz4.display().to_string(), &["email"]).err().unwrap();
    assert!(
        err.message()
            .contains("is compressed with LZ4_RAW, which is not read"),
        "{err}"
    );
}

#[test]
fn a_folder_of_parts_numbers_its_rows_on() {
    let dir = tempfile::tempdir().unwrap();
    for part in 0..3 {
        people(
            &dir.path().join(format!("part-{part}.parquet")),
            10,
            4,
            Compression::SNAPPY,
        );
    }
    std::fs::write(dir.path().join("_SUCCESS"), "").unwrap();
    let all = read(&format!("{}/", dir.path().display()), &["email"]).unwrap();
    let offsets: Vec<u64> = all.parts.iter().map(|p| p.offset).collect();
    assert_eq!(offsets, [0, 10, 20]);
    assert_eq!(all.rows.len(), 30);
    assert_eq!(all.rows[29].0, 30);

    // A part of no rows (Spark writes them for empty tasks) is announced and numbers nothing.
    people(
        &dir.path().join("part-1.parquet"),
        0,
        4,
        Compression::SNAPPY,
    );
    let all = read(&format!("{}/", dir.path().display()), &["email"]).unwrap();
    let offsets: Vec<u64> = all.parts.iter().map(|p| p.offset).collect();
    assert_eq!(offsets, [0, 10, 10]);
    let numbers: Vec<u64> = all.rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, (1..=20).collect::<Vec<_>>());
}

#[test]
fn missing_nested_and_changed_columns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    people(&path, 3, 3, Compression::SNAPPY);
    let err = read(&path.display().to_string(), &["email", "tier"])
        .err()
        .unwrap();
    assert!(
        err.message().starts_with("the Parquet file p.parquet has no column 'tier': its columns are email, first_name, age, balance, signup, seen, vip."),
        "{err}"
    );

    let changed = dir.path().join("parts");
    std::fs::create_dir(&changed).unwrap();
    people(&changed.join("a.parquet"), 3, 3, Compression::SNAPPY);
    let file = std::fs::File::create(changed.join("b.parquet")).unwrap();
    let mut writer = Writer::new(
        file,
        &[("email", ColumnType::Text), ("age", ColumnType::Text)],
        10,
        Compression::SNAPPY,
    )
    .unwrap();
    writer.row(&["q@x.io", "forty"]).unwrap();
    writer.finish().unwrap();
    let err = read(&format!("{}/", changed.display()), &["email", "age"])
        .err()
        .unwrap();
    assert!(
        err.message().contains("the column 'age' is text (BYTE_ARRAY) in b.parquet but integer (INT64) in a.parquet, the first part"),
        "{err}"
    );
}

#[test]
fn a_row_group_that_would_expand_too_far_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    people(&path, 100, 100, Compression::SNAPPY);
    crate::test_support::rewrite_parquet_columns(&path, |c| {
        c.set_total_uncompressed_size(300 << 20)
    });
    let err = read(&path.display().to_string(), &["email", "age"])
        .err()
        .unwrap();
    assert!(
        err.message().contains("has a row group (number 1) whose mapped columns take 600 MB, more than the 512 MB one row group may"),
        "{err}"
    );
    // Columns not mapped are not read, whatever they claim.
    read(&path.display().to_string(), &["email"]).unwrap();
}

#[test]
fn damaged_files_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.parquet");
    people(&path, 2000, 500, Compression::SNAPPY);
    let bytes = std::fs::read(&path).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "cut.parquet",
            bytes[..bytes.len() / 2].to_vec(),
            "does not end with the Parquet magic bytes",
        ),
        (
            "tail.parquet",
            [&bytes[..bytes.len() - 40], &bytes[bytes.len() - 8..]].concat(),
            "its footer",
        ),
        (
            "tiny.parquet",
            b"PAR1PAR1".to_vec(),
            "shorter than any Parquet file",
        ),
        (
            "garbage.parquet",
            [b"PAR1".as_slice(), &[7u8; 5000], &[0x10, 0, 0, 0], b"PAR1"].concat(),
            "its footer is not valid metadata",
        ),
    ];
    for (name, bytes, words) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let err = read(&path.display().to_string(), &["email"]).err().unwrap();
        assert!(
            err.message().starts_with(&format!(
                "the Parquet file {} cannot be read",
                path.display()
            )) && err.message().contains(words),
            "{name}: {err}"
        );
    }
}

#[test]
fn files_pyarrow_wrote_read_as_written() {
    // The `parquet` fuzz target's seeds (fuzz/write_parquet_seeds.py): gzip pages in row groups
    // of two rows, zstd data pages v2 without a dictionary, a decimal in plain pages.
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/parquet");
    let rows = |file: &str| -> Vec<Vec<String>> {
        let source = seeds.join(file).display().to_string();
        let read = read(&source, &["email", "age"]).unwrap();
        read.rows.into_iter().map(|(_, fields)| fields).collect()
    };
    let people = [["a@x.io", "41"], ["", "7"], ["b@x.io", ""], ["c", "3"]];
    assert_eq!(rows("small-gzip.parquet"), people);
    assert_eq!(rows("small-zstd-v2.parquet"), people);
    assert_eq!(
        rows("decimal-plain.parquet"),
        [["a@x.io", "41.5"], ["b@x.io", "-2.0"]]
    );
}

#[test]
fn a_list_or_nested_column_mapped_to_a_field_is_refused() {
    use parquet::column::writer::ColumnWriter;
    use parquet::data_type::ByteArray;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;
    use std::sync::Arc;

    let schema = parse_message_type(
        "message m {
            optional binary email (STRING);
            optional group tags (LIST) { repeated group list { optional binary element (STRING); } }
            repeated int32 scores;
        }",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.parquet");
    let file = std::fs::File::create(&path).unwrap();
    let properties = Arc::new(WriterProperties::builder().build());
    let mut writer = SerializedFileWriter::new(file, Arc::new(schema), properties).unwrap();
    let mut group = writer.next_row_group().unwrap();
    while let Some(mut column) = group.next_column().unwrap() {
        match column.untyped() {
            ColumnWriter::ByteArrayColumnWriter(w) if w.get_descriptor().max_rep_level() == 0 => {
                w.write_batch(&[ByteArray::from("a@x.io")], Some(&[1]), None)
                    .unwrap();
            }
            ColumnWriter::ByteArrayColumnWriter(w) => {
                let values = [ByteArray::from("x"), ByteArray::from("y")];
                w.write_batch(&values, Some(&[3, 3]), Some(&[0, 1]))
                    .unwrap();
            }
            ColumnWriter::Int32ColumnWriter(w) => {
                w.write_batch(&[1, 2], Some(&[1, 1]), Some(&[0, 1]))
                    .unwrap();
            }
            _ => unreachable!(),
        }
        column.close().unwrap();
    }
    group.close().unwrap();
    writer.close().unwrap();
    let source = path.display().to_string();
    assert_eq!(read(&source, &["email"]).unwrap().rows[0].1, ["a@x.io"]);
    for (column, what) in [("tags", "nested values"), ("scores", "a list of values")] {
        let err = read(&source, &["email", column]).err().unwrap();
        assert!(
            err.message().starts_with(&format!(
                "the column '{column}' of the Parquet file nested.parquet holds {what}"
            )) && err.message().contains("which no field can be filled from"),
            "{err}"
        );
    }
}

#[test]
fn what_the_fuzzer_found_is_an_error_naming_the_file() {
    // What the fuzzer found (fuzz/regressions/parquet): a PLAIN byte array page whose length
    // prefix is cut short (the parquet crate panicked), and a page header whose list claims more
    // elements than the page has bytes (its skipping looped for as long as the count said).
    let found = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/parquet");
    let mut checked = 0;
    for entry in std::fs::read_dir(found).unwrap() {
        let source = entry.unwrap().path().display().to_string();
        let err = read(&source, &["email", "age"]).err().unwrap();
        assert!(
            err.message()
                .starts_with(&format!("the Parquet file {source} cannot be read")),
            "{err}"
        );
        checked += 1;
    }
    assert!(checked >= 1);
}

/// Row groups are decoded several at once: a damaged one stops the reading after every row of
/// the groups before it, and none of the groups after it is handled.
#[test]
fn a_damaged_row_group_stops_the_reading_after_the_groups_before_it() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups.parquet");
    people(&path, 2000, 400, Compression::SNAPPY);
    let whole = read(&path.display().to_string(), &["email", "age"]).unwrap();
    let numbers: Vec<u64> = whole.rows.iter().map(|r| r.0).collect();
    assert_eq!(numbers, (1..=2000).collect::<Vec<_>>());
    assert_eq!(whole.rows[1234].1, ["p1234@x.io", "54"]);

    let metadata = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .metadata()
        .clone();
    assert_eq!(metadata.num_row_groups(), 5);
    let chunk = metadata.row_group(3).column(0);
    let start = chunk
        .dictionary_page_offset()
        .unwrap_or(chunk.data_page_offset()) as usize;
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[start..start + 12].fill(0xFF);
    std::fs::write(&path, bytes).unwrap();

    let wanted = vec!["email".to_string(), "age".to_string()];
    let rows = SegmentRows::open(&LocalFiles, &path.display().to_string(), None, wanted).unwrap();
    let mut seen = Collected::default();
    let Err(Stopped::Read(err)) = rows.read_each(&mut seen) else {
        panic!("read to the end");
    };
    assert!(err.message().contains("cannot be read"), "{err}");
    assert_eq!(seen.rows, whole.rows[..1200]);
}
