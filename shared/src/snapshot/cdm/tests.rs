//! Models as Customer Insights and the CDM libraries write them, over copied folders.

use super::*;
use crate::snapshot::sources::{resolve, Kind};
use crate::snapshot::LocalFiles;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// A model.json as an export to a data lake writes it: absolute partition URLs.
const MODEL: &str = r#"{
  "name": "CustomerInsights", "version": "1.0",
  "entities": [
    {"$type": "LocalEntity", "name": "VipCustomers",
     "attributes": [{"name": "email", "dataType": "string"},
                    {"name": "first_name", "dataType": "string"},
                    {"name": "age", "dataType": "int64"}],
     "partitions": [
       {"name": "part-00001", "location": "https://acct.dfs.core.windows.net/lake/ci/VipCustomers/part-00001.csv",
        "fileFormatSettings": {"$type": "CsvFormatSettings", "columnHeaders": false, "delimiter": ","}},
       {"name": "part-00000", "location": "https://acct.dfs.core.windows.net/lake/ci/VipCustomers/part%2000000.csv"}]},
    {"$type": "LocalEntity", "name": "Lapsed", "attributes": [], "partitions": []}]}"#;

#[test]
fn a_model_json_names_the_partitions_and_their_columns() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("copy/model.json", MODEL),
            ("copy/VipCustomers/part 00000.csv", "a@x.io,A,30\n"),
            ("copy/VipCustomers/part-00001.csv", "b@x.io,B,40\n"),
        ],
    );
    let model = format!("{}/copy/model.json", dir.path().display());
    // The model was at the container's `ci/` folder: its partitions are found without it.
    let parts = resolve(&LocalFiles, &format!("{model}#vipcustomers"), None).unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["VipCustomers/part-00001.csv", "VipCustomers/part 00000.csv"]
    );
    assert_eq!(parts[0].kind, Kind::Csv);
    assert_eq!(parts[0].delimiter, Some(b','));
    assert_eq!(
        parts[1].columns.as_deref().unwrap(),
        ["email", "first_name", "age"]
    );
    assert_eq!(
        entities(&LocalFiles, &model).unwrap(),
        ["VipCustomers", "Lapsed"]
    );

    let err = resolve(&LocalFiles, &format!("{model}#Nobody"), None).unwrap_err();
    assert!(
        err.message()
            .contains("has no entity 'Nobody': its entities are VipCustomers, Lapsed"),
        "{err}"
    );
    let err = resolve(&LocalFiles, &format!("{model}#Lapsed"), None).unwrap_err();
    assert!(
        err.message()
            .contains("lists no partition of the entity 'Lapsed'"),
        "{err}"
    );
}

#[test]
fn a_partition_that_is_not_there_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("m/model.json", MODEL),
            ("m/VipCustomers/part-00001.csv", "b@x.io,B,40\n"),
        ],
    );
    let model = format!("{}/m/model.json", dir.path().display());
    let err = resolve(&LocalFiles, &format!("{model}#VipCustomers"), None).unwrap_err();
    assert!(
        err.message().contains(
            "names the partition https://acct.dfs.core.windows.net/lake/ci/VipCustomers/part%2000000.csv, which is not there"
        ),
        "{err}"
    );
}

#[test]
fn a_model_that_is_not_json_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("a/model.json", "<html>not json"),
            ("b/model.json", "[1, 2]"),
        ],
    );
    for (folder, words) in [("a", "not valid JSON"), ("b", "not the shape of one")] {
        let model = format!("{}/{folder}/model.json#Vip", dir.path().display());
        let err = resolve(&LocalFiles, &model, None).unwrap_err();
        assert!(
            err.message()
                .contains("is not a Common Data Model document")
                && err.message().contains(words),
            "{err}"
        );
    }
}

#[test]
fn a_manifest_names_partitions_patterns_and_the_entity_document() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = r#"{
      "manifestName": "default", "jsonSchemaSemanticVersion": "1.0.0",
      "entities": [{
        "type": "LocalEntity", "entityName": "VipCustomers",
        "entityPath": "VipCustomers.cdm.json/VipCustomers",
        "dataPartitions": [{
          "location": "adls:/lake/VipCustomers/first.csv",
          "exhibitsTraits": [{"traitReference": "is.partition.format.CSV",
            "arguments": [{"name": "columnHeaders", "value": "true"},
                          {"name": "delimiter", "value": ";"}]}]}],
        "dataPartitionPatterns": [{
          "name": "more", "rootLocation": "VipCustomers/more/", "globPattern": "*.csv",
          "exhibitsTraits": ["is.partition.format.CSV"]}]}]}"#;
    let document = r#"{"definitions": [{"entityName": "VipCustomers",
        "hasAttributes": [{"name": "email"}, {"name": "tier"}]}]}"#;
    write(
        dir.path(),
        &[
            ("ci/default.manifest.cdm.json", manifest),
            ("ci/VipCustomers.cdm.json", document),
            ("ci/VipCustomers/first.csv", "email;tier\na@x.io;gold\n"),
            ("ci/VipCustomers/more/b.csv", "b@x.io,silver\n"),
            ("ci/VipCustomers/more/a.csv", "c@x.io,bronze\n"),
            ("ci/VipCustomers/more/a.parquet", "PAR1"),
            ("ci/VipCustomers/more/_SUCCESS", ""),
        ],
    );
    let source = format!(
        "{}/ci/default.manifest.cdm.json#VipCustomers",
        dir.path().display()
    );
    let parts = resolve(&LocalFiles, &source, None).unwrap();
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "VipCustomers/first.csv",
            "VipCustomers/more/a.csv",
            "VipCustomers/more/b.csv"
        ]
    );
    // A header row: its names are read from the file; without, the document names them.
    assert_eq!(parts[0].columns, None);
    assert_eq!(parts[0].delimiter, Some(b';'));
    assert_eq!(parts[1].kind, Kind::Csv);
    assert_eq!(parts[1].columns.as_deref().unwrap(), ["email", "tier"]);
}

#[test]
fn lake_paths_are_found_below_the_container() {
    for (location, path) in [
        (
            "https://acct.dfs.core.windows.net/lake/ci/Vip/part-0.csv",
            "ci/Vip/part-0.csv",
        ),
        (
            "abfss://lake@acct.dfs.core.windows.net/ci/Vip/part%200.csv",
            "ci/Vip/part 0.csv",
        ),
        ("adls:/ci/Vip/part-0.csv", "ci/Vip/part-0.csv"),
        ("Vip/part-0.csv", "Vip/part-0.csv"),
    ] {
        assert_eq!(lake_path(location), path, "{location}");
    }
    assert!(is_model("s3://b/x/model.json"));
    assert!(is_model("/x/Default.Manifest.cdm.json"));
    assert!(!is_model("/x/vip.cdm.json"));
}
