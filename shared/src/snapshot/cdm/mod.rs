//! Common Data Model folders, as Dynamics 365 Customer Insights exports segments to a data lake:
//! a `model.json` or `*.manifest.cdm.json` naming each entity, its attributes in order and its
//! partitions (headerless CSV by default, or Parquet). A segment `…/model.json#Entity` reads
//! the entity's partitions in the order the model lists them, CSV ones with the attributes as
//! column names (unless the model says they have a header row).
//!
//! A partition's location is usually an absolute data-lake URL
//! (`https://<account>.dfs.core.windows.net/<container>/<entity>/part-00000.csv`, or
//! `abfss://<container>@<account>…/…`). Once the folder has been copied elsewhere (to S3, to a
//! disk), it is found by its path below the container, relative to the model's own folder; when
//! the model was not at the container's root, by that path without its first folders (the longest
//! such path that exists). A relative location is relative to the model's folder. A partition
//! that is nowhere is an error naming it. Models are read whole, up to [`MAX_MODEL_BYTES`].

mod documents;

use super::sources::{kind_of, Kind, Part};
use super::{Found, SnapshotError, SnapshotReader};
use documents::{EntityDocument, Manifest, ModelJson};
use std::io::Read;
use std::sync::Arc;

/// The largest model or entity document read.
pub const MAX_MODEL_BYTES: u64 = 16 << 20;
// The message below spells the limit out.
const _: () = assert!(MAX_MODEL_BYTES == 16 * 1024 * 1024);

/// Whether `path` names a model: a `model.json` or a `*.manifest.cdm.json`.
pub fn is_model(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    file == "model.json" || file.ends_with(".manifest.cdm.json")
}

/// The folder a model is in, ending in `/` (empty for a bare file name).
fn folder_of(path: &str) -> &str {
    &path[..path.rfind('/').map_or(0, |i| i + 1)]
}

/// A model's text as JSON of type `T`, or an error naming the file and what is wrong.
fn read_json<T: serde::de::DeserializeOwned>(
    reader: &dyn SnapshotReader,
    path: &str,
) -> Result<T, SnapshotError> {
    let mut text = Vec::new();
    reader
        .open(path)?
        .take(MAX_MODEL_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| SnapshotError::io(format!("the model {path} cannot be read: {e}"), &e))?;
    if text.len() as u64 > MAX_MODEL_BYTES {
        return Err(SnapshotError::invalid(format!(
            "the model {path} is larger than 16 MB, more than any data-lake model needs: check that it is the model.json of the export"
        )));
    }
    serde_json::from_slice(&text).map_err(|e| {
        SnapshotError::invalid(format!(
            "the model {path} is not a Common Data Model document ({}, line {} column {}): point the segment at the model.json or *.manifest.cdm.json the export wrote",
            match e.classify() {
                serde_json::error::Category::Data => "not the shape of one",
                _ => "not valid JSON",
            },
            e.line(),
            e.column()
        ))
    })
}

/// The names of the entities `model` describes, for a picker.
pub fn entities(reader: &dyn SnapshotReader, model: &str) -> Result<Vec<String>, SnapshotError> {
    Ok(if is_manifest(model) {
        let manifest: Manifest = read_json(reader, model)?;
        manifest.entities.into_iter().map(|e| e.name).collect()
    } else {
        let model: ModelJson = read_json(reader, model)?;
        model.entities.into_iter().map(|e| e.name).collect()
    })
}

fn is_manifest(model: &str) -> bool {
    model.to_ascii_lowercase().ends_with(".manifest.cdm.json")
}

/// Finds `wanted` among `names` (exactly, else ignoring case), or says which there are.
fn pick<'a, T>(
    model: &str,
    wanted: &str,
    items: &'a [T],
    name: impl Fn(&T) -> &str,
) -> Result<&'a T, SnapshotError> {
    let wanted = wanted.trim();
    items
        .iter()
        .find(|i| name(i) == wanted)
        .or_else(|| items.iter().find(|i| name(i).eq_ignore_ascii_case(wanted)))
        .ok_or_else(|| {
            let names: Vec<&str> = items.iter().map(&name).take(20).collect();
            SnapshotError::invalid(format!(
                "the model {model} has no entity '{wanted}': {}. Configure the segment with one of them after #",
                if names.is_empty() {
                    "it describes no entity".to_string()
                } else {
                    format!("its entities are {}", names.join(", "))
                }
            ))
        })
}

/// The partitions of `entity` in `model`, as parts to read.
pub fn partitions(
    reader: &dyn SnapshotReader,
    model: &str,
    entity: &str,
) -> Result<Vec<Part>, SnapshotError> {
    let mut finder = Finder::new(reader, model);
    let parts = if is_manifest(model) {
        manifest_partitions(&mut finder, entity)?
    } else {
        let document: ModelJson = read_json(reader, model)?;
        let found = pick(model, entity, &document.entities, |e| &e.name)?;
        let columns: Arc<[String]> = found.attributes.iter().map(|a| a.name.clone()).collect();
        let mut parts = Vec::new();
        for partition in &found.partitions {
            let settings = partition.format.as_ref();
            let parquet = settings
                .and_then(|s| s.kind.as_deref())
                .is_some_and(|k| k.to_ascii_lowercase().contains("parquet"));
            let headers = settings.and_then(|s| s.column_headers).unwrap_or(false);
            let delimiter = settings.and_then(|s| s.delimiter.as_deref());
            parts.push(finder.part(&partition.location, parquet, !headers, delimiter, &columns)?);
        }
        parts
    };
    if parts.is_empty() {
        return Err(SnapshotError::invalid(format!(
            "the model {model} lists no partition of the entity '{}': nothing to read. Export the segment again, or check that the model is the export's",
            entity.trim()
        )));
    }
    Ok(parts)
}

/// The partitions of `entity` in a manifest: those it lists, then those its patterns match.
fn manifest_partitions(finder: &mut Finder, entity: &str) -> Result<Vec<Part>, SnapshotError> {
    let model = finder.model.to_string();
    let manifest: Manifest = read_json(finder.reader, &model)?;
    let found = pick(&model, entity, &manifest.entities, |e| &e.name)?;
    let columns: Arc<[String]> = attributes_of(finder, found)?.into();
    let mut parts = Vec::new();
    for partition in &found.partitions {
        let format = documents::trait_format(&partition.traits);
        let headerless = !format.column_headers.unwrap_or(false);
        let delimiter = format.delimiter.as_deref();
        parts.push(finder.part(
            &partition.location,
            format.parquet,
            headerless,
            delimiter,
            &columns,
        )?);
    }
    for pattern in &found.patterns {
        let format = documents::trait_format(&pattern.traits);
        if pattern.regex.is_some() && pattern.glob.is_none() {
            return Err(SnapshotError::invalid(format!(
                "the model {model} finds the partitions of '{}' by a regular expression, which is not read: list them, or give a globPattern",
                found.name
            )));
        }
        let root = format!(
            "{}{}",
            folder_of(&model),
            lake_path(&pattern.root).trim_start_matches('/')
        );
        let root = if root.ends_with('/') {
            root
        } else {
            format!("{root}/")
        };
        let glob = format!(
            "{root}{}",
            pattern
                .glob
                .as_deref()
                .unwrap_or("*")
                .trim_start_matches('/')
        );
        let pattern = glob::Pattern::new(&glob).map_err(|e| {
            SnapshotError::invalid(format!(
                "the model {model} has a partition pattern that is not a valid glob ({glob}): {e}"
            ))
        })?;
        for object in finder.reader.list(&root)? {
            let name = &object.source[root.len()..];
            if pattern.matches(&object.source) && super::sources::is_data_file(name, object.size) {
                let mut part = finder.found_part(&object.source, Some(object.size), format.parquet);
                part.columns = (!format.column_headers.unwrap_or(false)).then(|| columns.clone());
                part.delimiter = delimiter_of(format.delimiter.as_deref());
                parts.push(part);
            }
        }
    }
    Ok(parts)
}

/// The attribute names of a manifest's entity, from the document its `entityPath` names.
fn attributes_of(
    finder: &Finder,
    entity: &documents::ManifestEntity,
) -> Result<Vec<String>, SnapshotError> {
    let path = entity.path.as_deref().unwrap_or_default();
    // `local:/VipCustomers.cdm.json/VipCustomers`: the document, then the entity's name in it.
    let path = path
        .split_once(":/")
        .map_or(path, |(_, p)| p)
        .trim_start_matches('/');
    let (document, name) = path
        .rsplit_once('/')
        .unwrap_or((path, entity.name.as_str()));
    if !document.to_ascii_lowercase().ends_with(".cdm.json") {
        return Err(SnapshotError::invalid(format!(
            "the model {} names no definition of the entity '{}' (its entityPath should name a *.cdm.json document): its columns are unknown",
            finder.model, entity.name
        )));
    }
    let source = format!("{}{document}", folder_of(finder.model));
    let definition: EntityDocument = read_json(finder.reader, &source)?;
    documents::entity_attributes(&definition, name).ok_or_else(|| {
        SnapshotError::invalid(format!(
            "the document {source} does not define the entity '{name}' the model {} names: its columns are unknown",
            finder.model
        ))
    })
}

fn delimiter_of(text: Option<&str>) -> Option<u8> {
    text.and_then(|d| match d.as_bytes() {
        [b] => Some(*b),
        _ if d == "\\t" => Some(b'\t'),
        _ => None,
    })
}

/// Finds partitions where the copied folder has them; remembers how many leading folders of
/// the data-lake path the last one dropped, which holds for every partition of one model.
struct Finder<'a> {
    reader: &'a dyn SnapshotReader,
    model: &'a str,
    dropped: usize,
}

impl<'a> Finder<'a> {
    fn new(reader: &'a dyn SnapshotReader, model: &'a str) -> Self {
        Self {
            reader,
            model,
            dropped: 0,
        }
    }

    /// A part from a partition's location and what the model says of its format.
    fn part(
        &mut self,
        location: &str,
        parquet: bool,
        headerless: bool,
        delimiter: Option<&str>,
        columns: &Arc<[String]>,
    ) -> Result<Part, SnapshotError> {
        let (source, size) = self.locate(location)?;
        let mut part = self.found_part(&source, size, parquet);
        if part.kind != Kind::Parquet && headerless {
            part.columns = Some(columns.clone());
        }
        part.delimiter = delimiter_of(delimiter);
        Ok(part)
    }

    fn found_part(&self, source: &str, size: Option<u64>, parquet: bool) -> Part {
        let folder = folder_of(self.model);
        Part {
            name: source.strip_prefix(folder).unwrap_or(source).to_string(),
            source: source.to_string(),
            size,
            kind: match kind_of(source) {
                Kind::Unknown if parquet => Kind::Parquet,
                Kind::Unknown => Kind::Csv,
                kind => kind,
            },
            columns: None,
            delimiter: None,
            escapes: false,
        }
    }

    /// Where the partition at `location` is, and its size.
    fn locate(&mut self, location: &str) -> Result<(String, Option<u64>), SnapshotError> {
        let folder = folder_of(self.model);
        let below = lake_path(location);
        let segments: Vec<&str> = below.split('/').filter(|s| !s.is_empty()).collect();
        // The number of leading folders that worked last, first; then every other, longest
        // path first.
        let mut tries: Vec<usize> = vec![self.dropped];
        tries.extend((0..segments.len()).filter(|&d| d != self.dropped));
        for dropped in tries {
            if dropped >= segments.len() {
                continue;
            }
            let candidate = format!("{folder}{}", segments[dropped..].join("/"));
            if let Found::File { size } = self.reader.stat(&candidate)? {
                self.dropped = dropped;
                return Ok((candidate, size));
            }
        }
        Err(SnapshotError::invalid(format!(
            "the model {} names the partition {location}, which is not there: it was looked for as {folder}{} (and without its first folders). Copy the whole folder the model is in, partitions included",
            self.model,
            segments.join("/")
        )))
    }
}

/// The path of a partition below its data-lake container, percent-decoded: the path after the
/// container of an `https://` URL, the path of an `abfss://container@…` URL, the path of a
/// corpus path (`adls:/…`), or a relative location as it is.
fn lake_path(location: &str) -> String {
    let decoded = |path: &str| {
        percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned()
    };
    match url::Url::parse(location) {
        Ok(url) if url.has_host() => {
            let path = url.path().trim_start_matches('/');
            if url.username().is_empty() && matches!(url.scheme(), "https" | "http") {
                // https://account.dfs.core.windows.net/container/path
                decoded(path.split_once('/').map_or("", |(_, rest)| rest))
            } else {
                // abfss://container@account.dfs.core.windows.net/path
                decoded(path)
            }
        }
        _ => match location.split_once(":/") {
            Some((namespace, path)) if !namespace.contains('/') => decoded(path),
            _ => decoded(location),
        },
    }
}

#[cfg(test)]
mod tests;
