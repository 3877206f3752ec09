//! `bench read COLUMNS SOURCE...`: the snapshot reading alone — sources resolved, parts fetched
//! and parsed, rows handed over in batches — with no data matching, no deduplication and
//! nothing written; prints the rows read. Run as a process of its own by [`crate::suite`], so
//! that its time and memory are measured from outside like the product's, to tell how much of a
//! plan is the reading of the format.

use shared::snapshot::{LocalFiles, PartInfo, RowHandler, SegmentRows};

/// Counts rows and the bytes of their fields (so that nothing is read for nothing).
#[derive(Default)]
struct Count {
    rows: u64,
    bytes: u64,
}

impl RowHandler for Count {
    type Error = ();
    fn part(&mut self, _part: &PartInfo) -> Result<(), ()> {
        Ok(())
    }
    fn row(&mut self, _number: u64, fields: &[&str]) -> Result<(), ()> {
        self.rows += 1;
        self.bytes += fields.iter().map(|f| f.len() as u64).sum::<u64>();
        Ok(())
    }
}

/// Reads every source with the comma-separated `columns` mapped; the rows read.
pub fn run(columns: &str, sources: &[String]) -> Result<u64, String> {
    let wanted: Vec<String> = columns.split(',').map(str::to_string).collect();
    let mut count = Count::default();
    for source in sources {
        let rows = SegmentRows::open(&LocalFiles, source, None, wanted.clone())
            .map_err(|e| e.to_string())?;
        rows.read_each(&mut count).map_err(|e| format!("{e:?}"))?;
    }
    println!("{} rows, {} bytes of fields", count.rows, count.bytes);
    Ok(count.rows)
}
