//! Broken folders of parts, Parquet files and data-lake models: each ends in an error naming the
//! part or the model and the problem before anything is asked of Autopilot, or in exact per-row
//! refusals.

use super::commands::configure;
use super::{error_of, rejected, totals, Case, Ctx};
use shared::snapshot::parquet::write::{ColumnType, Compression, Writer};
use std::path::{Path, PathBuf};

pub const CASES: &[Case] = &[
    ("Parquet cut short", parquet_cut_short),
    ("Parquet with a damaged footer", parquet_damaged_footer),
    ("a part without a mapped column", part_without_column),
    ("a part whose column changed type", part_changed_type),
    ("a row group past the size limit", row_group_too_large),
    ("a decimal into an integer field", decimal_into_integer),
    (
        "a model naming a missing partition",
        model_missing_partition,
    ),
    ("a model.json that is not JSON", model_not_json),
    ("a model without the entity", model_without_entity),
    ("a folder with no data file", folder_without_data),
    ("parts mixing CSV and Parquet", parts_mixing_formats),
    (
        "headerless columns without the email",
        headerless_without_email,
    ),
];

/// Writes `rows` into a Parquet file at `path` (its folder created) with `columns`.
fn parquet(path: &Path, columns: &[(&str, ColumnType)], rows: &[Vec<&str>]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = Writer::new(file, columns, 1000, Compression::SNAPPY).unwrap();
    for row in rows {
        writer.row(row).unwrap();
    }
    writer.finish().unwrap();
}

/// A Parquet file of `n` people: email and age.
fn people(path: &Path, n: usize) {
    let emails: Vec<String> = (0..n).map(|i| format!("p{i}@x.io")).collect();
    let rows: Vec<Vec<&str>> = emails.iter().map(|e| vec![e.as_str(), "42"]).collect();
    let columns = [("email", ColumnType::Text), ("age", ColumnType::Int64)];
    parquet(path, &columns, &rows);
}

const AGE: [&str; 2] = ["--custom", "integer--Age=age"];

fn parquet_cut_short(ctx: &Ctx) -> String {
    let path = ctx.dir.join("cut.parquet");
    people(&path, 500);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = ctx.export_of(&path, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the Parquet file ");
    assert!(
        message.contains("cut.parquet cannot be read: it does not end with the Parquet magic bytes PAR1 (not a Parquet file, or one cut short)"),
        "{message}"
    );
    "refused: does not end with PAR1, cut short".into()
}

fn parquet_damaged_footer(ctx: &Ctx) -> String {
    let path = ctx.dir.join("footer.parquet");
    people(&path, 500);
    let mut bytes = std::fs::read(&path).unwrap();
    let end = bytes.len() - 8;
    for b in &mut bytes[end - 60..end - 20] {
        *b = 0xff;
    }
    std::fs::write(&path, bytes).unwrap();
    let out = ctx.export_of(&path, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the Parquet file ");
    assert!(
        message.contains("footer.parquet cannot be read: its footer is not valid metadata"),
        "{message}"
    );
    "refused: its footer is not valid metadata".into()
}

fn part_without_column(ctx: &Ctx) -> String {
    let folder = ctx.dir.join("unload");
    people(&folder.join("part-0.parquet"), 10);
    parquet(
        &folder.join("part-1.parquet"),
        &[("email", ColumnType::Text)],
        &[vec!["q@x.io"]],
    );
    let out = ctx.export_of(&PathBuf::from(format!("{}/", folder.display())), &AGE);
    out.refused(
        "InvalidInput",
        "segment 'S': the Parquet file part-1.parquet has no column 'age': its columns are email.",
    );
    "refused: part-1.parquet has no column 'age' (its columns named)".into()
}

fn part_changed_type(ctx: &Ctx) -> String {
    let folder = ctx.dir.join("unload");
    people(&folder.join("part-0.parquet"), 10);
    let columns = [("email", ColumnType::Text), ("age", ColumnType::Text)];
    parquet(
        &folder.join("part-1.parquet"),
        &columns,
        &[vec!["q@x.io", "42"]],
    );
    let out = ctx.export_of(&PathBuf::from(format!("{}/", folder.display())), &AGE);
    let message = out.refused(
        "InvalidInput",
        "segment 'S': the parts of the segment differ",
    );
    assert!(
        message.contains("the column 'age' is text (BYTE_ARRAY) in part-1.parquet but integer (INT64) in part-0.parquet, the first part"),
        "{message}"
    );
    "refused: the parts differ (age: text in part-1, integer in part-0)".into()
}

fn row_group_too_large(ctx: &Ctx) -> String {
    let path = ctx.dir.join("big.parquet");
    people(&path, 100);
    // The footer says the columns take 300 MB each once decompressed.
    shared::test_support::rewrite_parquet_columns(&path, |c| {
        c.set_total_uncompressed_size(300 << 20)
    });
    let out = ctx.export_of(&path, &AGE);
    let message = out.refused("InvalidInput", "segment 'S': the Parquet file ");
    assert!(
        message.contains("big.parquet has a row group (number 1) whose mapped columns take 600 MB, more than the 512 MB one row group may"),
        "{message}"
    );
    "refused: a row group's mapped columns over 512 MB".into()
}

fn decimal_into_integer(ctx: &Ctx) -> String {
    let path = ctx.dir.join("money.parquet");
    let columns = [
        ("email", ColumnType::Text),
        (
            "age",
            ColumnType::Decimal {
                precision: 5,
                scale: 1,
            },
        ),
    ];
    let rows = [
        vec!["a@x.io", "41.0"],
        vec!["b@x.io", "41.5"],
        vec!["c@x.io", ""],
    ];
    parquet(&path, &columns, &rows);
    let out = ctx.export_of(&path, &AGE);
    let report = out.report();
    assert_eq!(totals(&report), [3, 1, 2, 0]);
    let rows = rejected(&report, &ctx.data());
    let reason = "invalid_value: column 'age' is not a whole number as integer--Age needs";
    assert_eq!(rows[0], ["S", "money.parquet", "1", "a@x.io", reason]);
    assert_eq!(rows[1], ["S", "money.parquet", "2", "b@x.io", reason]);
    assert_eq!(out.members(), ["c@x.io"]);
    "2 rows refused (41.0 and 41.5 are no whole numbers), 1 sent".into()
}

/// A model.json of the entity `People` with the partitions `files` under `People/`, as absolute
/// data-lake URLs.
fn model(dir: &Path, files: &[&str]) -> PathBuf {
    let partitions: Vec<serde_json::Value> = files
        .iter()
        .map(|f| {
            serde_json::json!({"name": f, "location":
                format!("https://account.dfs.core.windows.net/lake/People/{f}")})
        })
        .collect();
    let model = serde_json::json!({"name": "ci", "entities": [{"$type": "LocalEntity",
        "name": "People", "attributes": [{"name": "email"}], "partitions": partitions}]});
    let path = dir.join("lake/model.json");
    std::fs::create_dir_all(dir.join("lake/People")).unwrap();
    std::fs::write(&path, model.to_string()).unwrap();
    path
}

fn model_missing_partition(ctx: &Ctx) -> String {
    let path = model(&ctx.dir, &["part-0.csv", "part-1.csv"]);
    std::fs::write(ctx.dir.join("lake/People/part-0.csv"), "a@x.io\n").unwrap();
    let source = PathBuf::from(format!("{}#People", path.display()));
    let out = ctx.export_of(&source, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the model ");
    assert!(
        message.contains("names the partition https://account.dfs.core.windows.net/lake/People/part-1.csv, which is not there"),
        "{message}"
    );
    "refused: the model names a partition that is not there".into()
}

fn model_not_json(ctx: &Ctx) -> String {
    let path = ctx.file("model.json", "<html><body>Sign in</body></html>");
    let source = PathBuf::from(format!("{}#People", path.display()));
    let out = ctx.export_of(&source, &[]);
    let message = out.refused("InvalidInput", "segment 'S': the model ");
    assert!(
        message.contains("is not a Common Data Model document (not valid JSON, line 1 column 1)"),
        "{message}"
    );
    "refused: the model is not JSON".into()
}

fn model_without_entity(ctx: &Ctx) -> String {
    let path = model(&ctx.dir, &["part-0.csv"]);
    let source = PathBuf::from(format!("{}#VipCustomers", path.display()));
    let out = ctx.export_of(&source, &[]);
    out.refused("InvalidInput", "segment 'S': the model ");
    let (_, message) = error_of(&out.ran);
    assert!(
        message.contains("has no entity 'VipCustomers': its entities are People"),
        "{message}"
    );
    "refused: no entity 'VipCustomers' (its entities named)".into()
}

fn folder_without_data(ctx: &Ctx) -> String {
    let folder = ctx.dir.join("unload");
    std::fs::create_dir_all(&folder).unwrap();
    for (name, text) in [("_SUCCESS", ""), ("manifest", "{}"), ("part-0.csv", "")] {
        std::fs::write(folder.join(name), text).unwrap();
    }
    let out = ctx.export_of(&PathBuf::from(format!("{}/", folder.display())), &[]);
    let message = out.refused("InvalidInput", "segment 'S': ");
    assert!(
        message.contains("unload/ holds no data file to read (3 objects under")
            && message.contains("Check the path, or wait until the unload has finished"),
        "{message}"
    );
    "refused: no data file (only _SUCCESS, a manifest and an empty part)".into()
}

fn parts_mixing_formats(ctx: &Ctx) -> String {
    let folder = ctx.dir.join("unload");
    people(&folder.join("0001_part_00"), 5);
    std::fs::write(folder.join("0000_part_00"), "email,age\na@x.io,1\n").unwrap();
    let out = ctx.export_of(&PathBuf::from(format!("{}/", folder.display())), &[]);
    let message = out.refused("InvalidInput", "segment 'S': the parts of ");
    assert!(
        message.contains(
            "mix CSV (0000_part_00) and Parquet (0001_part_00): a segment is read in one format"
        ),
        "{message}"
    );
    "refused: parts mix CSV and Parquet (told by their bytes)".into()
}

fn headerless_without_email(ctx: &Ctx) -> String {
    let sandbox = ctx.sandbox();
    ctx.connect(&sandbox.base_url());
    let folder = PathBuf::from(format!("{}/unload/", ctx.dir.display()));
    let ran = configure(ctx, &folder, &["--columns", "mail,name"]);
    assert_eq!(ran.code, Some(1));
    let message = ran.error();
    assert!(
        message.contains("reads the column 'email', which the column names of its headerless files (mail,name) do not name once"),
        "{message}"
    );
    "refused at configure: --columns does not name the email column".into()
}
