//! The demo's sample segments: two overlapping ranges of numbered people with invalid, duplicate
//! and refused rows among them, written as a user's platform would write them — one CSV file per
//! segment (the VIP one gzip-compressed, the other with a BOM, CRLF line ends and quoted
//! commas), a folder of CSV parts (`--parts N`), or Parquet (`--format parquet`: one file, or a
//! folder of parts with `_SUCCESS` beside them, the sign-up date a date column).

use flate2::write::GzEncoder;
use shared::snapshot::parquet::write::{ColumnType, Compression, Writer};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

const FIRST: [&str; 8] = [
    "Ann", "Bo", "Chloé", "Dev", "Eun-ji", "Femi", "Greta", "Hiro",
];
const LAST: [&str; 6] = ["Lee, Jr.", "O'Brien", "Nguyen", "Müller", "Smith", "Okafor"];
const TIERS: [&str; 3] = ["gold", "silver", "bronze"];
const HEADER: [&str; 7] = [
    "email",
    "first_name",
    "last_name",
    "company",
    "age",
    "tier",
    "signup_date",
];
/// The Parquet columns: the age stays text, so that a sample row can hold one no field takes.
const PARQUET: [(&str, ColumnType); 7] = [
    ("email", ColumnType::Text),
    ("first_name", ColumnType::Text),
    ("last_name", ColumnType::Text),
    ("company", ColumnType::Text),
    ("age", ColumnType::Text),
    ("tier", ColumnType::Text),
    ("signup_date", ColumnType::Date),
];

/// How the samples are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

/// One sample segment: people `from..to`, and what the sandbox should end up holding for it.
pub struct SampleSegment {
    pub name: &'static str,
    /// The file (or folder of parts) name, without its extension.
    pub stem: &'static str,
    pub from: u64,
    pub to: u64,
}

/// Two overlapping segments: 0–60% and 40–100% of the profiles.
pub fn sample_segments(profiles: u64) -> [SampleSegment; 2] {
    [
        SampleSegment {
            name: "VIP Customers",
            stem: "vip-customers",
            from: 0,
            to: profiles * 6 / 10,
        },
        SampleSegment {
            name: "Lapsed Buyers",
            stem: "lapsed-buyers",
            from: profiles * 4 / 10,
            to: profiles,
        },
    ]
}

/// The profiles whose addresses Autopilot refuses (in the reserved `.invalid` domain).
pub fn refused_profiles(profiles: u64) -> HashSet<u64> {
    [profiles / 4 + 7, profiles / 2 + 7, profiles * 3 / 4 + 7]
        .into_iter()
        .collect()
}

pub fn email(i: u64, refused: &HashSet<u64>) -> String {
    if refused.contains(&i) {
        format!("person{i}@example.invalid")
    } else if i.is_multiple_of(7) {
        format!("Person{i}@Example.com")
    } else {
        format!("person{i}@example.com")
    }
}

/// The rows of people `from..to`: each person, now and then the same person again in capitals
/// (a duplicate) and a row that is refused (no @, no email, an age that is no number).
fn rows(from: u64, to: u64, refused: &HashSet<u64>) -> impl Iterator<Item = [String; 7]> + '_ {
    (from..to).flat_map(move |i| {
        let line = |email: String, age: String| {
            [
                email,
                FIRST[(i % 8) as usize].to_string(),
                LAST[(i % 6) as usize].to_string(),
                if i % 3 == 0 { "" } else { "ACME" }.to_string(),
                age,
                TIERS[(i % 3) as usize].to_string(),
                format!("2025-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
            ]
        };
        let age = (18 + i % 60).to_string();
        let mut out = vec![line(email(i, refused), age.clone())];
        if i % 400 == 1 {
            out.push(line(email(i, refused).to_uppercase(), age.clone()));
        }
        if i % 500 == 3 {
            out.push(match (i / 500) % 3 {
                0 => line(format!("person{i}.example.com"), age),
                1 => line(String::new(), age),
                _ => line(format!("extra{i}@example.com"), "forty".into()),
            });
        }
        out
    })
}

/// Writes a segment's snapshot under `dir` as `format` in `parts` parts; returns its source
/// (a file, or a folder ending in `/`) and the rows written.
pub fn write(
    dir: &Path,
    segment: &SampleSegment,
    refused: &HashSet<u64>,
    format: Format,
    parts: u64,
) -> Result<(String, u64), Box<dyn std::error::Error + Send + Sync>> {
    let gzip = segment.stem.starts_with("vip");
    let extension = match (format, gzip) {
        (Format::Parquet, _) => "parquet",
        (Format::Csv, true) => "csv.gz",
        (Format::Csv, false) => "csv",
    };
    let parts = parts.clamp(1, (segment.to - segment.from).max(1));
    let (source, folder) = if parts == 1 {
        let path = dir.join(format!("{}.{extension}", segment.stem));
        (path.display().to_string(), None)
    } else {
        let folder = dir.join(segment.stem);
        std::fs::create_dir_all(&folder)?;
        (format!("{}/", folder.display()), Some(folder))
    };
    let mut written = 0;
    for part in 0..parts {
        let span = segment.to - segment.from;
        let (from, to) = (
            segment.from + span * part / parts,
            segment.from + span * (part + 1) / parts,
        );
        let path = match &folder {
            Some(folder) => folder.join(format!("part-{part:05}.{extension}")),
            None => PathBuf::from(&source),
        };
        let rows = rows(from, to, refused);
        written += match format {
            Format::Parquet => write_parquet(&path, rows)?,
            Format::Csv => write_csv(&path, rows, gzip)?,
        };
    }
    if let Some(folder) = folder {
        std::fs::write(folder.join("_SUCCESS"), "")?;
    }
    Ok((source, written))
}

fn write_csv(
    path: &Path,
    rows: impl Iterator<Item = [String; 7]>,
    gzip: bool,
) -> std::io::Result<u64> {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut out: Box<dyn Write> = if gzip {
        Box::new(GzEncoder::new(file, flate2::Compression::fast()))
    } else {
        Box::new(file)
    };
    let eol = if gzip { "\n" } else { "\r\n" };
    if !gzip {
        out.write_all("\u{feff}".as_bytes())?;
    }
    write!(out, "{}{eol}", HEADER.join(","))?;
    let mut written = 0;
    for row in rows {
        let [email, first, last, company, age, tier, date] = row;
        write!(
            out,
            "{email},{first},\"{last}\",{company},{age},{tier},{date}{eol}"
        )?;
        written += 1;
    }
    out.flush()?;
    Ok(written)
}

fn write_parquet(
    path: &Path,
    rows: impl Iterator<Item = [String; 7]>,
) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
    let file = std::fs::File::create(path)?;
    let mut writer = Writer::new(file, &PARQUET, 64 * 1024, Compression::SNAPPY)?;
    let mut written = 0;
    for row in rows {
        writer.row(&row)?;
        written += 1;
    }
    writer.finish()?;
    Ok(written)
}
