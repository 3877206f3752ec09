//! The documents of a Common Data Model folder, as far as a segment needs them: a `model.json`
//! (entities with their attributes in order and their partitions) or a `*.manifest.cdm.json`
//! (entities with their partitions and partition patterns, their attributes in the entity's own
//! `*.cdm.json` document). Unknown fields are ignored; what is read is read leniently (a missing
//! list is empty), since several tools write these files.

use serde::Deserialize;
use serde_json::Value;

/// A `model.json`.
#[derive(Debug, Default, Deserialize)]
pub struct ModelJson {
    #[serde(default)]
    pub entities: Vec<ModelEntity>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ModelEntity {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub attributes: Vec<Named>,
    #[serde(default)]
    pub partitions: Vec<ModelPartition>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Named {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct ModelPartition {
    #[serde(default)]
    pub location: String,
    #[serde(rename = "fileFormatSettings", default)]
    pub format: Option<FormatSettings>,
}

/// A model.json partition's `fileFormatSettings` (`CsvFormatSettings`).
#[derive(Debug, Default, Deserialize)]
pub struct FormatSettings {
    #[serde(rename = "$type", default)]
    pub kind: Option<String>,
    #[serde(rename = "columnHeaders", default)]
    pub column_headers: Option<bool>,
    #[serde(default)]
    pub delimiter: Option<String>,
}

/// A `*.manifest.cdm.json`.
#[derive(Debug, Default, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub entities: Vec<ManifestEntity>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ManifestEntity {
    #[serde(rename = "entityName", default)]
    pub name: String,
    /// `VipCustomers.cdm.json/VipCustomers`: the document defining it, and its name there.
    #[serde(rename = "entityPath", default)]
    pub path: Option<String>,
    #[serde(rename = "dataPartitions", default)]
    pub partitions: Vec<DataPartition>,
    #[serde(rename = "dataPartitionPatterns", default)]
    pub patterns: Vec<PartitionPattern>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DataPartition {
    #[serde(default)]
    pub location: String,
    #[serde(rename = "exhibitsTraits", default)]
    pub traits: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct PartitionPattern {
    #[serde(rename = "rootLocation", default)]
    pub root: String,
    #[serde(rename = "globPattern", default)]
    pub glob: Option<String>,
    #[serde(rename = "regularExpression", default)]
    pub regex: Option<String>,
    #[serde(rename = "exhibitsTraits", default)]
    pub traits: Vec<Value>,
}

/// An entity's own document (`VipCustomers.cdm.json`).
#[derive(Debug, Default, Deserialize)]
pub struct EntityDocument {
    #[serde(default)]
    pub definitions: Vec<Value>,
}

/// How a partition is written, from a manifest's traits (`is.partition.format.CSV` with its
/// `columnHeaders` and `delimiter` arguments, `is.partition.format.parquet`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TraitFormat {
    pub parquet: bool,
    pub csv: bool,
    pub column_headers: Option<bool>,
    pub delimiter: Option<String>,
}

/// What a manifest's traits say of a partition's format.
pub fn trait_format(traits: &[Value]) -> TraitFormat {
    let mut format = TraitFormat::default();
    for t in traits {
        let (name, arguments) = match t {
            Value::String(name) => (name.as_str(), &Value::Null),
            Value::Object(o) => (
                o.get("traitReference")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                o.get("arguments").unwrap_or(&Value::Null),
            ),
            _ => continue,
        };
        match name.to_ascii_lowercase().as_str() {
            "is.partition.format.csv" => format.csv = true,
            "is.partition.format.parquet" => format.parquet = true,
            _ => continue,
        }
        for argument in arguments.as_array().into_iter().flatten() {
            let name = argument.get("name").and_then(Value::as_str);
            let value = argument.get("value").and_then(Value::as_str);
            match (name, value) {
                (Some("columnHeaders"), Some(v)) => {
                    format.column_headers = Some(v.eq_ignore_ascii_case("true"))
                }
                (Some("delimiter"), Some(v)) => format.delimiter = Some(v.to_string()),
                _ => {}
            }
        }
    }
    format
}

/// The attribute names of the entity `name` defined in `document`, in order; attribute groups
/// given inline are flattened. `None` when the document does not define it.
pub fn entity_attributes(document: &EntityDocument, name: &str) -> Option<Vec<String>> {
    let definition = document.definitions.iter().find(|d| {
        d.get("entityName")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })?;
    let mut names = Vec::new();
    flatten(
        definition.get("hasAttributes").unwrap_or(&Value::Null),
        &mut names,
    );
    Some(names)
}

/// Collects attribute names from a list of attributes, descending into inline groups.
fn flatten(attributes: &Value, names: &mut Vec<String>) {
    for attribute in attributes.as_array().into_iter().flatten() {
        if let Some(name) = attribute.get("name").and_then(Value::as_str) {
            names.push(name.to_string());
        } else if let Some(group) = attribute.get("attributeGroupReference") {
            let members = group.get("members").or_else(|| {
                group
                    .get("attributeGroupReference")
                    .and_then(|g| g.get("members"))
            });
            flatten(members.unwrap_or(&Value::Null), names);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traits_say_the_format_and_the_csv_settings() {
        let traits: Vec<Value> = serde_json::from_str(
            r#"[{"traitReference": "is.partition.format.CSV",
                 "arguments": [{"name": "columnHeaders", "value": "false"},
                               {"name": "delimiter", "value": ";"}]},
                "is.partition.culture"]"#,
        )
        .unwrap();
        assert_eq!(
            trait_format(&traits),
            TraitFormat {
                csv: true,
                column_headers: Some(false),
                delimiter: Some(";".into()),
                ..TraitFormat::default()
            }
        );
        let parquet = vec![Value::from("is.partition.format.parquet")];
        assert!(trait_format(&parquet).parquet);
    }

    #[test]
    fn attributes_come_in_order_with_groups_flattened() {
        let document: EntityDocument = serde_json::from_str(
            r#"{"definitions": [
                {"entityName": "Other", "hasAttributes": [{"name": "x"}]},
                {"entityName": "VipCustomers", "hasAttributes": [
                    {"name": "email", "dataFormat": "String"},
                    {"attributeGroupReference": {"attributeGroupName": "names",
                        "members": [{"name": "first"}, {"name": "last"}]}},
                    {"name": "age", "dataFormat": "Int32"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            entity_attributes(&document, "vipcustomers").unwrap(),
            ["email", "first", "last", "age"]
        );
        assert!(entity_attributes(&document, "Nope").is_none());
    }
}
