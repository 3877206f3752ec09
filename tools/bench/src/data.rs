//! Deterministic sample segments for the benchmarks: two overlapping snapshots of `profiles`
//! distinct people (the first 55%, the last 55%: a tenth of the profiles in both, so 1,000,000
//! profiles make 1.1 M rows), optionally with a few addresses Autopilot refuses (the reserved
//! `.invalid` domain, as in `autopilot-export demo`) or with one profile in a hundred changed.

use std::io::{BufWriter, Write};
use std::path::Path;

/// The segments: list name and snapshot file.
pub const SEGMENTS: [(&str, &str); 2] = [
    ("VIP Customers", "vip-customers.csv"),
    ("Lapsed Buyers", "lapsed-buyers.csv"),
];
/// Columns of the snapshots.
pub const WIDTH: usize = 10;
/// The header (about 110 bytes a row, 1.1 M rows and 122 MB at 1M profiles); every column
/// but `city`, `address` and `customer_id` is mapped by [`crate::cli::Product::configure`].
const HEADER: &str =
    "email,first_name,last_name,company,age,tier,signup_date,city,address,customer_id\n";
const FIRST: [&str; 8] = [
    "Ann", "Bo", "Chloe", "Dev", "Eunji", "Femi", "Greta", "Hiro",
];
const LAST: [&str; 6] = ["Lee", "OBrien", "Nguyen", "Muller", "Smith", "Okafor"];
const TIERS: [&str; 3] = ["gold", "silver", "bronze"];
const CITIES: [&str; 5] = ["Lisbon", "Osaka", "Nairobi", "Toronto", "Valparaiso"];

/// What to write.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub profiles: u64,
    /// Profiles whose address Autopilot refuses, spread over the file.
    pub refused: u64,
    /// One profile in a hundred with another tier than in the unchanged snapshots.
    pub changed: bool,
}

/// What was written.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Written {
    pub bytes: u64,
    pub rows: u64,
    /// Rows whose profile differs from the unchanged snapshots.
    pub changed_rows: u64,
}

/// Profiles `from..to` of each segment.
pub fn ranges(profiles: u64) -> [(u64, u64); 2] {
    [(0, profiles * 55 / 100), (profiles * 45 / 100, profiles)]
}

fn is_changed(i: u64) -> bool {
    i % 100 == 37
}

fn refused_profiles(shape: &Shape) -> Vec<u64> {
    (0..shape.refused)
        .map(|k| (2 * k + 1) * shape.profiles / (2 * shape.refused) + 3)
        .collect()
}

/// Writes both segments' snapshots into `dir` (created when missing).
pub fn write(dir: &Path, shape: &Shape) -> std::io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let refused = refused_profiles(shape);
    let mut total = Written::default();
    for ((_, file), (from, to)) in SEGMENTS.iter().zip(ranges(shape.profiles)) {
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join(file))?);
        out.write_all(HEADER.as_bytes())?;
        total.bytes += HEADER.len() as u64;
        for i in from..to {
            let changed = shape.changed && is_changed(i);
            let mut line = profile_line(i, refused.contains(&i), changed);
            line.push('\n');
            out.write_all(line.as_bytes())?;
            total.bytes += line.len() as u64;
            total.rows += 1;
            total.changed_rows += u64::from(changed);
        }
        out.flush()?;
    }
    Ok(total)
}

/// Profile `i`'s row of the snapshots, without its line end: its address at the reserved
/// `.invalid` domain when `refused`, its tier `platinum` when `changed`.
pub fn profile_line(i: u64, refused: bool, changed: bool) -> String {
    let domain = if refused {
        "example.invalid"
    } else {
        "example.com"
    };
    format!(
        "person{i}@{domain},{},{},{},{},{},2025-{:02}-{:02},{},\"{} Harbour Road, Unit {}\",c-{i:08}",
        FIRST[(i % 8) as usize],
        LAST[(i % 6) as usize],
        if i.is_multiple_of(3) { "" } else { "Acme Corp" },
        18 + i % 60,
        if changed {
            "platinum"
        } else {
            TIERS[(i % 3) as usize]
        },
        i % 12 + 1,
        i % 28 + 1,
        CITIES[(i % 5) as usize],
        i % 997 + 1,
        i % 40 + 1,
    )
}

/// Bytes of the header and the first `rows` rows of the first segment (what a reader that stops
/// after that many distinct profiles needs to read).
pub fn bytes_of_first_rows(dir: &Path, rows: u64) -> std::io::Result<u64> {
    use std::io::BufRead;
    let file = std::fs::File::open(dir.join(SEGMENTS[0].1))?;
    let mut bytes = 0;
    for line in std::io::BufReader::new(file)
        .split(b'\n')
        .take(rows as usize + 1)
    {
        bytes += line?.len() as u64 + 1;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_overlap_by_a_tenth_and_one_profile_in_a_hundred_changes() {
        let dir = std::env::temp_dir().join(format!("bench-data-{}", std::process::id()));
        let shape = Shape {
            profiles: 1000,
            refused: 0,
            changed: false,
        };
        let plain = write(&dir, &shape).unwrap();
        assert_eq!(plain.rows, 1100);
        assert_eq!(plain.changed_rows, 0);
        let changed = write(
            &dir,
            &Shape {
                changed: true,
                ..shape
            },
        )
        .unwrap();
        // Profiles 37, 137, … 937; 537 is in both segments.
        assert_eq!(changed.changed_rows, 11);
        assert_eq!(changed.rows, plain.rows);
        let refused = write(
            &dir,
            &Shape {
                refused: 4,
                ..shape
            },
        )
        .unwrap();
        let text = std::fs::read_to_string(dir.join(SEGMENTS[0].1)).unwrap();
        assert_eq!(text.matches(".invalid").count(), 2);
        assert_eq!(refused.bytes, plain.bytes + 4 * 4);
        assert_eq!(bytes_of_first_rows(&dir, 0).unwrap(), HEADER.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
