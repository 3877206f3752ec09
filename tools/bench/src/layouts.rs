//! The benchmark's segments in the other layouts platforms write, made from the same rows as the
//! one-CSV snapshots of `data`: one Parquet file a segment (typed columns, Snappy, row groups of
//! 128 Ki rows, as pyarrow writes), 8 gzip CSV parts a segment with their header rows and
//! `_SUCCESS` (a Snowflake unload), and a Common Data Model folder (a model.json naming both
//! segments as entities, 8 headerless partitions each, at absolute data-lake URLs); and the wide
//! table of [`crate::wide`] as one Parquet file a segment, of the same writer and settings.
//!
//! Writing a layout holds a segment's rows in memory, so the bench writes each in a process of
//! its own ([`write_in_child`], `bench layout KIND CSV_DIR OUT_DIR`): a command the bench starts
//! later inherits the bench's peak resident memory at `exec`, and would report it as its own.

use crate::data::{SEGMENTS, WIDTH};
use shared::snapshot::parquet::write::{ColumnType, Compression, Writer};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Parts a segment is unloaded in.
pub const PARTS: usize = 8;
/// The columns of the one-CSV snapshots, typed as a warehouse holds them.
pub const COLUMNS: [(&str, ColumnType); WIDTH] = [
    ("email", ColumnType::Text),
    ("first_name", ColumnType::Text),
    ("last_name", ColumnType::Text),
    ("company", ColumnType::Text),
    ("age", ColumnType::Int64),
    ("tier", ColumnType::Text),
    ("signup_date", ColumnType::Date),
    ("city", ColumnType::Text),
    ("address", ColumnType::Text),
    ("customer_id", ColumnType::Text),
];

/// A layout written: each segment's source.
pub struct Written {
    pub sources: Vec<(&'static str, String)>,
    pub bytes: u64,
}

/// The header and data lines of a one-CSV snapshot.
fn lines(csv: &Path) -> std::io::Result<(String, Vec<String>)> {
    let mut lines = BufReader::new(std::fs::File::open(csv)?).lines();
    let header = lines.next().transpose()?.unwrap_or_default();
    Ok((header, lines.collect::<Result<_, _>>()?))
}

/// The `width` cells of a line the benchmark wrote (a cell holding a comma is quoted; none holds
/// a quote).
pub fn cells(line: &str, width: usize) -> Vec<String> {
    let mut cells = Vec::with_capacity(width);
    let mut rest = line;
    while !rest.is_empty() || cells.len() < width {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            cells.push(quoted[..end].to_string());
            rest = quoted.get(end + 1..).unwrap_or("");
            rest = rest.strip_prefix(',').unwrap_or(rest);
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            cells.push(rest[..end].to_string());
            rest = rest.get(end + 1..).unwrap_or("");
        }
        if cells.len() == width {
            break;
        }
    }
    cells
}

/// The layouts, by the name `bench layout` takes.
pub const KINDS: [&str; 3] = ["parquet", "gz", "cdm"];
/// `bench layout` of the wide table ([`crate::wide`]) as one Parquet file a segment.
pub const WIDE_PARQUET: &str = "wide-parquet";

/// Writes layout `kind` ([`KINDS`]) of the snapshots in `csv` into `out` by running this program
/// as `bench layout KIND CSV_DIR OUT_DIR`, which prints what [`print`] writes.
pub fn write_in_child(
    kind: &str,
    csv: &Path,
    out: &Path,
) -> Result<Written, Box<dyn std::error::Error>> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("layout")
        .arg(kind)
        .arg(csv)
        .arg(out)
        .stdin(std::process::Stdio::null())
        .output()?;
    let text = String::from_utf8(output.stdout)?;
    if !output.status.success() {
        let error = String::from_utf8_lossy(&output.stderr);
        return Err(format!("writing the {kind} layout failed: {}", error.trim()).into());
    }
    parse(&text).ok_or_else(|| format!("`bench layout {kind}` printed {text:?}").into())
}

/// `bench layout KIND CSV_DIR OUT_DIR`: writes the layout and prints it for [`write_in_child`].
pub fn run_child(kind: &str, csv: &Path, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let written = match kind {
        "parquet" => parquet(csv, out, &COLUMNS)?,
        WIDE_PARQUET => parquet(csv, out, &crate::wide::columns())?,
        "gz" => gzip_parts(csv, out)?,
        "cdm" => cdm(csv, out)?,
        _ => {
            let kinds = KINDS.join(", ");
            return Err(format!("no layout {kind}: one of {kinds}, {WIDE_PARQUET}").into());
        }
    };
    print!("{}", print(&written));
    Ok(())
}

/// The bytes written on the first line, then each segment's name and source, tab-separated.
fn print(written: &Written) -> String {
    let mut text = format!("{}\n", written.bytes);
    for (name, source) in &written.sources {
        text.push_str(&format!("{name}\t{source}\n"));
    }
    text
}

/// What [`print`] wrote; the names are the segments' of [`SEGMENTS`].
fn parse(text: &str) -> Option<Written> {
    let mut lines = text.lines();
    let bytes = lines.next()?.parse().ok()?;
    let sources = lines
        .map(|line| {
            let (name, source) = line.split_once('\t')?;
            let (name, _) = SEGMENTS.iter().find(|(n, _)| *n == name)?;
            Some((*name, source.to_string()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Written { sources, bytes })
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// One Parquet file a segment of `columns`, from the one-CSV snapshots in `csv`, read a line at
/// a time (the writer holds one row group).
pub fn parquet(
    csv: &Path,
    out: &Path,
    columns: &[(&str, ColumnType)],
) -> Result<Written, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(out)?;
    let mut written = Written {
        sources: Vec::new(),
        bytes: 0,
    };
    for (name, file) in SEGMENTS {
        let mut lines = BufReader::new(std::fs::File::open(csv.join(file))?).lines();
        lines.next().transpose()?;
        let path = out.join(file.replace(".csv", ".parquet"));
        let sink = BufWriter::new(std::fs::File::create(&path)?);
        let mut writer = Writer::new(sink, columns, 128 * 1024, Compression::SNAPPY)
            .map_err(|e| e.to_string())?;
        for line in lines {
            writer
                .row(&cells(&line?, columns.len()))
                .map_err(|e| e.to_string())?;
        }
        writer.finish().map_err(|e| e.to_string())?;
        written.bytes += size(&path);
        written.sources.push((name, path.display().to_string()));
    }
    Ok(written)
}

/// Writes `rows` split in [`PARTS`] files `name(k)` under `folder`, each with `header` first
/// when there is one, gzip-compressed when `gzip`.
fn parts(
    folder: &Path,
    header: Option<&str>,
    rows: &[String],
    gzip: bool,
    name: impl Fn(usize) -> String,
) -> std::io::Result<(u64, Vec<PathBuf>)> {
    std::fs::create_dir_all(folder)?;
    let (mut bytes, mut paths) = (0, Vec::new());
    for (k, chunk) in rows.chunks(rows.len().div_ceil(PARTS).max(1)).enumerate() {
        let path = folder.join(name(k));
        let file = BufWriter::new(std::fs::File::create(&path)?);
        let mut out: Box<dyn Write> = if gzip {
            Box::new(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::default(),
            ))
        } else {
            Box::new(file)
        };
        if let Some(header) = header {
            writeln!(out, "{header}")?;
        }
        for line in chunk {
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        drop(out);
        bytes += size(&path);
        paths.push(path);
    }
    Ok((bytes, paths))
}

/// [`PARTS`] gzip CSV parts a segment, each with its header row, and `_SUCCESS`.
pub fn gzip_parts(csv: &Path, out: &Path) -> Result<Written, Box<dyn std::error::Error>> {
    let mut written = Written {
        sources: Vec::new(),
        bytes: 0,
    };
    for (name, file) in SEGMENTS {
        let (header, rows) = lines(&csv.join(file))?;
        let folder = out.join(file.trim_end_matches(".csv"));
        let (bytes, _) = parts(&folder, Some(&header), &rows, true, |k| {
            format!("data_0_{k}_0.csv.gz")
        })?;
        std::fs::write(folder.join("_SUCCESS"), "")?;
        written.bytes += bytes;
        written
            .sources
            .push((name, format!("{}/", folder.display())));
    }
    Ok(written)
}

/// A data-lake folder: a model.json naming each segment as an entity with [`PARTS`] headerless
/// partitions at absolute URLs (found below the container once copied).
pub fn cdm(csv: &Path, out: &Path) -> Result<Written, Box<dyn std::error::Error>> {
    let mut written = Written {
        sources: Vec::new(),
        bytes: 0,
    };
    let mut entities = Vec::new();
    for (name, file) in SEGMENTS {
        let (header, rows) = lines(&csv.join(file))?;
        let entity: String = name.split_whitespace().collect();
        let folder = out.join(&entity);
        let (bytes, paths) = parts(&folder, None, &rows, false, |k| format!("part-{k:05}.csv"))?;
        written.bytes += bytes;
        let partitions: Vec<serde_json::Value> = paths
            .iter()
            .map(|p| {
                let file = p.file_name().unwrap_or_default().to_string_lossy();
                serde_json::json!({"name": file, "location": format!(
                    "https://account.dfs.core.windows.net/lake/ci/{entity}/{file}"),
                    "fileFormatSettings": {"$type": "CsvFormatSettings", "columnHeaders": false}})
            })
            .collect();
        let attributes: Vec<serde_json::Value> = header
            .split(',')
            .map(|a| serde_json::json!({"name": a, "dataType": "string"}))
            .collect();
        entities.push(serde_json::json!({"$type": "LocalEntity", "name": entity,
            "attributes": attributes, "partitions": partitions}));
        let model = out.join("model.json");
        written
            .sources
            .push((name, format!("{}#{entity}", model.display())));
    }
    let model = serde_json::json!({"name": "bench", "version": "1.0", "entities": entities});
    std::fs::write(out.join("model.json"), model.to_string())?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_benchmark_lines_split_into_their_cells() {
        let line = "p1@example.com,Bo,Lee,,19,silver,2025-02-02,Osaka,\"12 Harbour Road, Unit 2\",c-00000001";
        let cells = cells(line, WIDTH);
        assert_eq!(cells.len(), WIDTH);
        assert_eq!(cells[3], "");
        assert_eq!(cells[8], "12 Harbour Road, Unit 2");
        assert_eq!(cells[9], "c-00000001");
        // A quoted cell before an empty one, and an empty last cell.
        let cells = super::cells("a,\"b, c\",,d,", 5);
        assert_eq!(cells, ["a", "b, c", "", "d", ""]);
    }

    #[test]
    fn a_layout_written_by_a_child_reads_back_as_written() {
        let written = Written {
            sources: vec![
                (SEGMENTS[0].0, "/tmp/a b/vip.parquet".into()),
                (SEGMENTS[1].0, "/tmp/lake/model.json#LapsedBuyers".into()),
            ],
            bytes: 1234,
        };
        let back = parse(&print(&written)).unwrap();
        assert_eq!(back.bytes, 1234);
        assert_eq!(back.sources, written.sources);
        assert!(parse("12\nNo Such Segment\t/x\n").is_none());
    }
}
