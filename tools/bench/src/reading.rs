//! `bench read COLUMNS SOURCE...`: the snapshot reading alone — sources resolved, parts fetched
//! and parsed, rows handed over in batches — with no data matching, no deduplication and
//! nothing written; prints the rows read and the bytes of their mapped fields. Run as a process
//! of its own by [`crate::compare`], so that its time and memory are measured from outside like
//! the product's, to tell how much of a plan is the reading of the format.

use shared::snapshot::{LocalFiles, PartInfo, RowHandler, SegmentRows};

/// The columns the benchmark's destinations map (see [`crate::cli::Product::configure`]).
pub const MAPPED: &str = "email,first_name,last_name,company,age,tier,signup_date";

/// Counts rows and the bytes of their `wanted` fields (so that nothing is read for nothing, and
/// two formats of the same rows give the same count).
#[derive(Default)]
struct Count {
    wanted: Vec<String>,
    /// Where the wanted fields are in the current part's rows.
    at: Vec<usize>,
    rows: u64,
    bytes: u64,
}

impl RowHandler for Count {
    type Error = String;
    fn part(&mut self, part: &PartInfo) -> Result<(), String> {
        self.at.clear();
        for name in &self.wanted {
            let at = part.header.iter().position(|c| c == name);
            self.at
                .push(at.ok_or_else(|| format!("{} has no column {name}", part.name))?);
        }
        Ok(())
    }
    fn row(&mut self, _number: u64, fields: &[&str]) -> Result<(), String> {
        self.rows += 1;
        let field = |at: &usize| fields.get(*at).map_or(0, |f| f.len() as u64);
        self.bytes += self.at.iter().map(field).sum::<u64>();
        Ok(())
    }
}

/// Reads every source with the comma-separated `columns` mapped and prints what [`count`] gives.
pub fn run(columns: &str, sources: &[String]) -> Result<(), String> {
    let (rows, bytes) = count(columns, sources)?;
    println!("{rows} rows, {bytes} bytes of fields");
    Ok(())
}

/// Reads every source with the comma-separated `columns` mapped; the rows read and the bytes of
/// their fields.
pub fn count(columns: &str, sources: &[String]) -> Result<(u64, u64), String> {
    let wanted: Vec<String> = columns.split(',').map(str::to_string).collect();
    let mut count = Count {
        wanted: wanted.clone(),
        ..Count::default()
    };
    for source in sources {
        let rows = SegmentRows::open(&LocalFiles, source, None, wanted.clone())
            .map_err(|e| e.to_string())?;
        rows.read_each(&mut count).map_err(|e| format!("{e:?}"))?;
    }
    Ok((count.rows, count.bytes))
}
