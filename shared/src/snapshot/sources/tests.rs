//! Sources resolved into parts over a real folder: files, folders of unload parts with their
//! bookkeeping beside them, globs, and the mistakes people make with them.

use super::*;
use crate::snapshot::LocalFiles;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn names(parts: &[Part]) -> Vec<&str> {
    parts.iter().map(|p| p.name.as_str()).collect()
}

#[test]
fn forms_are_told_apart_by_their_text() {
    assert_eq!(
        form("s3://lake/ci/model.json#Vip"),
        Form::Model {
            model: "s3://lake/ci/model.json",
            entity: "Vip"
        }
    );
    assert!(matches!(
        form("/x/a.manifest.cdm.json#E"),
        Form::Model { .. }
    ));
    assert_eq!(form("/x/notes#1.csv"), Form::Plain("/x/notes#1.csv"));
    assert_eq!(
        form("s3://b/unload/vip/"),
        Form::Folder("s3://b/unload/vip/")
    );
    assert_eq!(form("/u/part-*.parquet"), Form::Glob("/u/part-*.parquet"));
    assert_eq!(form("/u/vip.csv"), Form::Plain("/u/vip.csv"));
    assert!(check_form("/x/model.json#")
        .unwrap_err()
        .contains("names a model but no entity"));
    assert!(check_form("/x/[a.csv")
        .unwrap_err()
        .contains("not a valid glob"));
    check_form("/x/model.json#Vip").unwrap();
}

#[test]
fn a_folder_reads_its_data_files_in_name_order_and_skips_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("vip/0001_part_00", "a@x.io\n"),
            ("vip/0000_part_00", "b@x.io\n"),
            ("vip/_SUCCESS", ""),
            ("vip/.0000_part_00.crc", "crc"),
            ("vip/part-3.csv.crc", "crc"),
            ("vip/_committed_123", "{}"),
            ("vip/manifest", "{}"),
            ("vip/empty.csv", ""),
            ("vip/date=2024-01-02/part-9.csv", "c@x.io\n"),
            ("vip/_delta_log/000.json", "{}"),
            ("vipers/other.csv", "z@x.io\n"),
        ],
    );
    let folder = format!("{}/vip", dir.path().display());
    let columns = vec!["email".to_string()];
    for source in [format!("{folder}/"), folder.clone()] {
        let parts = resolve(&LocalFiles, &source, Some(&columns)).unwrap();
        assert_eq!(
            names(&parts),
            ["0000_part_00", "0001_part_00", "date=2024-01-02/part-9.csv"],
            "{source}"
        );
        assert_eq!(parts[0].source, format!("{folder}/0000_part_00"));
        assert_eq!(parts[0].kind, Kind::Unknown);
        assert_eq!(parts[2].kind, Kind::Csv);
        assert_eq!(parts[0].size, Some(7));
        assert_eq!(parts[0].columns.as_deref(), Some(&columns[..]));
    }
}

#[test]
fn a_glob_matches_within_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("u/part-0.parquet", "PAR1"),
            ("u/part-1.parquet", "PAR1"),
            ("u/part-1.csv", "email\n"),
            ("u/sub/part-2.parquet", "PAR1"),
            ("u/_part-3.parquet", "PAR1"),
        ],
    );
    let glob = format!("{}/u/part-*.parquet", dir.path().display());
    let parts = resolve(&LocalFiles, &glob, None).unwrap();
    assert_eq!(names(&parts), ["part-0.parquet", "part-1.parquet"]);
    assert!(parts.iter().all(|p| p.kind == Kind::Parquet));
    let deep = format!("{}/u/**/*.parquet", dir.path().display());
    assert_eq!(
        names(&resolve(&LocalFiles, &deep, None).unwrap()),
        ["part-0.parquet", "part-1.parquet", "sub/part-2.parquet"]
    );
    let none = format!("{}/u/nothing-*.csv", dir.path().display());
    let err = resolve(&LocalFiles, &none, None).unwrap_err().to_string();
    assert!(err.contains("holds no data file to read"), "{err}");
}

#[test]
fn a_file_is_one_part_and_a_missing_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("vip.csv", "email\na@x.io\n")]);
    let file = format!("{}/vip.csv", dir.path().display());
    let parts = resolve(&LocalFiles, &file, None).unwrap();
    assert_eq!(names(&parts), ["vip.csv"]);
    assert_eq!((parts[0].kind, parts[0].size), (Kind::Csv, Some(13)));
    let err = resolve(&LocalFiles, &format!("{file}x"), None).unwrap_err();
    assert!(err.message().contains("vip.csvx does not exist"), "{err}");
}

#[test]
fn folders_without_data_and_mixed_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("done/_SUCCESS", ""),
            ("done/part-0.csv", ""),
            ("mixed/part-0.csv", "email\n"),
            ("mixed/part-1.parquet", "PAR1"),
        ],
    );
    let err = resolve(
        &LocalFiles,
        &format!("{}/done/", dir.path().display()),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("done/ holds no data file to read (2 objects under"),
        "{err}"
    );
    let err = resolve(
        &LocalFiles,
        &format!("{}/mixed/", dir.path().display()),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("mix CSV (part-0.csv) and Parquet (part-1.parquet)"),
        "{err}"
    );
}

#[test]
fn data_files_and_kinds_by_name() {
    for (name, data) in [
        ("part-00000-1a2b.snappy.parquet", true),
        ("data_0_0_0.csv.gz", true),
        ("0000_part_00", true),
        ("_SUCCESS", false),
        (".part-00000.crc", false),
        ("part-00000.crc", false),
        ("_committed_8873", false),
        ("_started_8873", false),
        ("manifest", false),
        ("vip.manifest", false),
        ("model.json", false),
        ("x/_temporary/part-0.csv", false),
    ] {
        assert_eq!(is_data_file(name, 10), data, "{name}");
    }
    assert!(!is_data_file("part-0.csv", 0));
    assert_eq!(kind_of("a/part-0.snappy.parquet"), Kind::Parquet);
    assert_eq!(kind_of("a/data_0_0_0.csv.gz"), Kind::Csv);
    assert_eq!(kind_of("0000_part_00.gz"), Kind::Csv);
    assert_eq!(kind_of("0000_part_00"), Kind::Unknown);
}
