//! The Parquet reader: any bytes, read as a Parquet part — the footer, the projection of two
//! mapped columns, each row group fetched and its pages checked, its values decoded into text —
//! and every row mapped as a destination's data matching would map it. Nothing may panic,
//! memory stays bounded (libFuzzer's -rss_limit_mb), and the rows keep the reader's promises.
//! Read on the fuzzer's own thread (the part's reading, not the threads that fetch ahead).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use shared::destination::DataMatching;
use shared::field_mapping::RowMapper;
use shared::snapshot::batched::{Batch, PartRows};
use shared::snapshot::parquet::{self, ParquetRows};
use shared::snapshot::sources::{Kind, Part};
use shared::snapshot::{Found, SnapshotError, SnapshotReader};
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

/// The fuzzer's bytes as the one file of a storage that reads ranges.
struct OneFile(Bytes);

impl SnapshotReader for OneFile {
    fn open(&self, _source: &str) -> Result<Box<dyn Read + Send>, SnapshotError> {
        Ok(Box::new(std::io::Cursor::new(self.0.clone())))
    }

    fn stat(&self, _source: &str) -> Result<Found, SnapshotError> {
        Ok(Found::File {
            size: Some(self.0.len() as u64),
        })
    }

    fn read_range(&self, source: &str, start: u64, len: u64) -> Result<Bytes, SnapshotError> {
        let end = start.checked_add(len).filter(|e| *e <= self.0.len() as u64);
        match end {
            Some(end) => Ok(self.0.slice(start as usize..end as usize)),
            None => Err(shared::snapshot::ended_early(source, start, len)),
        }
    }
}

fn matching() -> DataMatching {
    DataMatching {
        email: "email".into(),
        first_name: None,
        last_name: None,
        fields: BTreeMap::new(),
        custom: BTreeMap::from([("integer--Age".to_string(), "age".to_string())]),
    }
}

fuzz_target!(|data: &[u8]| {
    let reader = OneFile(Bytes::copy_from_slice(data));
    let part = Part {
        source: "fuzz.parquet".into(),
        name: "fuzz.parquet".into(),
        size: Some(data.len() as u64),
        kind: Kind::Parquet,
        columns: None,
        delimiter: None,
        escapes: false,
    };
    let wanted = ["email".to_string(), "age".to_string()];
    let Ok(file) = parquet::open(&reader, &part, &wanted, None) else {
        return;
    };
    let file = Arc::new(file);
    let (fetching, reading) = (file.clone(), &reader);
    let mut group = 0;
    let next = move || {
        group += 1;
        parquet::fetch_row_group(reading, &fetching, group - 1)
    };
    let mut rows = ParquetRows::new(file, Box::new(next));
    let header = rows.header().to_vec();
    assert!(header.len() <= 2, "only the mapped columns are read");
    let mapper = RowMapper::new(&matching(), &header).ok();
    let mut batch = Batch::default();
    let mut last = 0;
    loop {
        batch.clear();
        let more = rows.fill(&mut batch, 256);
        let _ = batch.rows().each(|number, fields| {
            assert!(number > last, "row numbers grow");
            last = number;
            assert_eq!(fields.len(), header.len(), "one field per column read");
            if let Some(mapper) = &mapper {
                let _ = mapper.map(fields);
            }
            Ok::<_, ()>(())
        });
        if !matches!(more, Ok(true)) {
            break;
        }
    }
});
