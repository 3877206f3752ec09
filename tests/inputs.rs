//! The layouts segments arrive in, read as a new user points the product at them: one headered
//! CSV; the same rows as 8 gzip CSV parts with their header rows (a Snowflake unload), as
//! headerless parts named by `--columns` (a Redshift unload, pipe-separated by default), as a
//! PostgreSQL `COPY` in text format (tabs, `\N` for NULL), as Snowflake's default unload (gzip
//! parts, no quotes, a backslash before each comma in a value), as Parquet parts written by pyarrow
//! with `_SUCCESS` and a `.crc` beside them (tests/fixtures/inputs, see write_fixture.py), and
//! as a Common Data Model folder (model.json with absolute data-lake URLs, headerless
//! partitions). Each exports exactly the same contacts, with the same counts, locally and from S3
//! (moto, through the deployment's boundary; that half runs with the `moto-tests` feature, which
//! scripts/test turns on after starting moto).

#[cfg(feature = "moto-tests")]
use aws_adapters::{s3_client, sdk_config, S3Snapshots, Settings};
use integration_tests::jobs::{export, export_deps};
use integration_tests::{sandbox, TestDestination};
use shared::destination::{DataMatching, Segment};
use shared::jobs::finalize::Report;
#[cfg(feature = "moto-tests")]
use shared::snapshot::SnapshotReader;
use shared::Deps;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
#[cfg(feature = "moto-tests")]
use std::sync::Arc;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/inputs")
}

/// The header and the rows of the fixture's CSV.
fn people() -> (String, Vec<String>) {
    let text = std::fs::read_to_string(fixture().join("people.csv")).unwrap();
    let mut lines = text.lines().map(|l| format!("{l}\n"));
    let header = lines.next().unwrap();
    (header, lines.collect())
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A row of the fixture (whose only quoted cells hold commas) unquoted, its fields separated by
/// `separator` and its empty ones written as `null`; with `escaped`, a backslash before each
/// separator and backslash in a value.
fn unquoted(row: &str, separator: char, null: &str, escaped: bool) -> String {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    for c in row.trim_end_matches('\n').chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => {
                let field = fields.last_mut().unwrap();
                if escaped && (c == separator || c == '\\') {
                    field.push('\\');
                }
                field.push(c);
            }
        }
    }
    let fields: Vec<&str> = fields
        .iter()
        .map(|f| if f.is_empty() { null } else { f })
        .collect();
    format!("{}\n", fields.join(&separator.to_string()))
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// One layout: its name, its source below the folder it was written in, the column names of
/// its headerless files, and whether its values are backslash-escaped.
struct Layout {
    name: &'static str,
    source: &'static str,
    columns: Option<Vec<String>>,
    escapes: bool,
}

/// Writes every layout of the fixture's rows under `dir`.
fn layouts(dir: &Path) -> Vec<Layout> {
    let (header, rows) = people();
    write(
        &dir.join("one.csv"),
        format!("{header}{}", rows.concat()).as_bytes(),
    );
    for (k, chunk) in rows.chunks(rows.len().div_ceil(8)).enumerate() {
        let part = format!("{header}{}", chunk.concat());
        write(&dir.join(format!("gz/data_0_{k}_0.csv.gz")), &gzip(&part));
    }
    write(&dir.join("gz/_SUCCESS"), b"");
    for (k, chunk) in rows.chunks(120).enumerate() {
        write(
            &dir.join(format!("unload/{k:04}_part_00")),
            chunk.concat().as_bytes(),
        );
    }
    // Redshift's UNLOAD as it writes by default: no header, fields separated by pipes, no quotes.
    for (k, chunk) in rows.chunks(70).enumerate() {
        let piped: String = chunk
            .iter()
            .map(|row| unquoted(row, '|', "", false))
            .collect();
        write(
            &dir.join(format!("redshift/{k:04}_part_00")),
            piped.as_bytes(),
        );
    }
    // Snowflake's COPY INTO @stage as it writes by default (with HEADER = TRUE): gzip parts, no
    // quotes, a backslash before a comma in a value, `\N` for NULL.
    for (k, chunk) in rows.chunks(rows.len().div_ceil(3)).enumerate() {
        let escaped: String = chunk
            .iter()
            .map(|row| unquoted(row, ',', "\\N", true))
            .collect();
        write(
            &dir.join(format!("snowflake/data_0_0_{k}.csv.gz")),
            &gzip(&format!("{header}{escaped}")),
        );
    }
    // PostgreSQL's COPY … TO in text format: tabs, no quotes, `\N` for NULL, no header.
    let copied: String = rows
        .iter()
        .map(|row| unquoted(row, '\t', "\\N", false))
        .collect();
    write(&dir.join("postgres/people.tsv"), copied.as_bytes());
    for entry in std::fs::read_dir(fixture().join("pyarrow")).unwrap() {
        let entry = entry.unwrap();
        write(
            &dir.join("pyarrow").join(entry.file_name()),
            &std::fs::read(entry.path()).unwrap(),
        );
    }
    let names: Vec<String> = header.trim().split(',').map(str::to_string).collect();
    let attributes: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"name": n, "dataType": "string"}))
        .collect();
    let mut partitions = Vec::new();
    for (k, chunk) in rows.chunks(100).enumerate() {
        let file = format!("part-{k:05}.csv");
        write(
            &dir.join("lake/People/Snapshot").join(&file),
            chunk.concat().as_bytes(),
        );
        partitions.push(serde_json::json!({
            "name": file,
            "location": format!("https://account.dfs.core.windows.net/lake/ci/People/Snapshot/{file}"),
            "fileFormatSettings": {"$type": "CsvFormatSettings", "columnHeaders": false}
        }));
    }
    let model = serde_json::json!({"name": "ci", "version": "1.0", "entities": [
        {"$type": "LocalEntity", "name": "People", "attributes": attributes, "partitions": partitions}]});
    write(&dir.join("lake/model.json"), model.to_string().as_bytes());
    let layout = |name, source| Layout {
        name,
        source,
        columns: None,
        escapes: false,
    };
    vec![
        layout("one CSV", "one.csv"),
        layout("8 gzip CSV parts", "gz/"),
        Layout {
            columns: Some(names.clone()),
            ..layout("headerless parts and --columns", "unload/")
        },
        Layout {
            columns: Some(names.clone()),
            ..layout("Redshift's default unload: pipes, no header", "redshift/")
        },
        Layout {
            columns: Some(names),
            ..layout(
                "PostgreSQL's COPY in text format: tabs, \\N for NULL",
                "postgres/",
            )
        },
        Layout {
            escapes: true,
            ..layout(
                "Snowflake's default unload: no quotes, \\, in values, \\N for NULL",
                "snowflake/",
            )
        },
        layout("Parquet parts written by pyarrow", "pyarrow/"),
        layout("a glob over them", "pyarrow/part-*.parquet"),
        layout("a CDM folder", "lake/model.json#People"),
    ]
}

fn matching() -> DataMatching {
    let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(f, c)| (f.to_string(), c.to_string()))
            .collect()
    };
    DataMatching {
        email: "email".into(),
        first_name: Some("first_name".into()),
        last_name: Some("last_name".into()),
        fields: map(&[("Company", "company")]),
        custom: map(&[
            ("integer--Age", "age"),
            ("float--Balance", "balance"),
            ("date--Signup", "signup"),
            ("date--Seen", "seen"),
            ("boolean--Vip", "vip"),
            ("string--Tier", "tier"),
        ]),
    }
}

/// What an export of one layout left: the sandbox's contacts (sorted), the report's counts, and
/// the refused rows by address and reason.
#[derive(Debug, PartialEq)]
struct Outcome {
    contacts: Vec<serde_json::Value>,
    counts: [u64; 4],
    refused: Vec<(String, String)>,
}

/// Exports `segment` through `deps` to a sandbox of its own.
async fn outcome(deps: &Deps, dir: &Path, segment: Segment) -> Outcome {
    let sandbox = sandbox(|c| c.rate(500.0)).await;
    let dest = TestDestination::new(sandbox.base_url())
        .named(&format!("Inputs {}", fastrand::u32(..)))
        .rate(500.0)
        .matching(matching())
        .segment_as(segment)
        .create(deps)
        .await
        .unwrap();
    let report: Report = export(deps, &dest, 40).await.unwrap();
    let t = &report.totals;
    let rejected =
        std::fs::read_to_string(dir.join("data").join(report.rejected_file.unwrap())).unwrap();
    let mut refused: Vec<(String, String)> = rejected
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.splitn(5, ',').collect();
            (cells[3].to_string(), cells[4].to_string())
        })
        .collect();
    refused.sort();
    // The sandbox's ids follow the order requests arrived in: what was sent is the rest.
    let mut contacts = sandbox.state().contacts.clone();
    for contact in &mut contacts {
        contact.as_object_mut().unwrap().remove("contact_id");
    }
    contacts.sort_by_key(|c| c["Email"].to_string());
    Outcome {
        contacts,
        counts: [t.rows_read, t.sent, t.invalid, t.duplicates],
        refused,
    }
}

/// Every layout's outcome against the one CSV's.
async fn every_layout_alike(deps: &Deps, dir: &Path, root: &str, layouts: &[Layout]) {
    let mut first: Option<Outcome> = None;
    for layout in layouts {
        let source = format!("{root}{}", layout.source);
        let segment = Segment {
            columns: layout.columns.clone(),
            backslash_escapes: layout.escapes,
            ..Segment::new("People", source)
        };
        let got = outcome(deps, dir, segment).await;
        match &first {
            None => {
                assert_eq!(got.counts, [300, 286, 8, 6], "{}", layout.name);
                assert_eq!(got.contacts.len(), 286);
                first = Some(got);
            }
            Some(first) => assert_eq!(&got, first, "{} differs from one CSV", layout.name),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layout_exports_the_same_contacts_locally() {
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    let layouts = layouts(&snapshots);
    let deps = export_deps(dir.path());
    every_layout_alike(
        &deps,
        dir.path(),
        &format!("{}/", snapshots.display()),
        &layouts,
    )
    .await;
}

#[cfg(feature = "moto-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_layout_exports_the_same_contacts_from_s3() {
    let settings = Settings::from_env().expect(
        "these tests need moto and the deployment's settings: run them through scripts/test",
    );
    let sdk = sdk_config().await;
    let s3 = s3_client(&sdk, &settings);
    let bucket = settings.snapshot_bucket.clone().expect("SNAPSHOT_BUCKET");
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("snapshots");
    let layouts = layouts(&local);
    let prefix = format!("{}inputs-{}/", settings.snapshot_prefix, fastrand::u32(..));
    for file in walk(&local) {
        let key = format!("{prefix}{}", file.strip_prefix(&local).unwrap().display());
        let body = std::fs::read(&file).unwrap();
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    // Every part is read through the deployment's boundary, as the export function reads it.
    let boundary = settings.boundary().unwrap();
    let deps = Deps {
        snapshots: Arc::new(S3Snapshots::new(s3.clone()).within(boundary)),
        ..export_deps(dir.path())
    };
    every_layout_alike(
        &deps,
        dir.path(),
        &format!("s3://{bucket}/{prefix}"),
        &layouts,
    )
    .await;

    // A model naming a partition outside the boundary is refused, naming it.
    let outside = "s3://other-bucket/vip/part-0.csv";
    let reader = S3Snapshots::new(s3).within(settings.boundary().unwrap());
    let err = tokio::task::spawn_blocking(move || reader.stat(outside).unwrap_err())
        .await
        .unwrap();
    assert!(
        err.message()
            .contains("is outside the snapshots this deployment reads"),
        "{err}"
    );
}

/// Every file under `dir`.
#[cfg(feature = "moto-tests")]
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
