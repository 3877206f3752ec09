//! The snapshot reader and data matching: any bytes, read as a snapshot (plain, gzip, UTF-16,
//! any delimiter; an input of odd length as backslash-escaped text), every row mapped as a
//! destination's data matching would map it; then read again in batches, as a reading hands rows
//! to its handler. Nothing may panic, and what comes out must keep the reader's promises: the
//! batches hold the very rows and cells read one by one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::destination::DataMatching;
use shared::email;
use shared::field_mapping::RowMapper;
use shared::snapshot::batched::{Batch, PartRows};
use shared::snapshot::csv::Layout;
use shared::snapshot::SnapshotRows;
use std::collections::BTreeMap;

/// The most columns a row may have (the reader's limit).
const MAX_COLUMNS: usize = 10_000;
const TYPES: [&str; 5] = ["string", "integer", "float", "boolean", "date"];

/// A data matching made from the header itself, so that rows are mapped, not refused for a
/// missing column: the first column is the email, the second the first name, the next ones
/// custom fields of every type.
fn matching(header: &[String]) -> DataMatching {
    let column = |i: usize| header.get(i).cloned();
    let mut custom = BTreeMap::new();
    for i in 2..header.len().min(12) {
        custom.insert(
            format!("{}--Field{i}", TYPES[i % TYPES.len()]),
            header[i].clone(),
        );
    }
    DataMatching {
        email: column(0).unwrap_or_else(|| "email".into()),
        first_name: column(1),
        last_name: None,
        fields: BTreeMap::new(),
        custom,
    }
}

fuzz_target!(|data: &[u8]| {
    let layout = Layout {
        escapes: data.len() % 2 == 1,
        ..Layout::default()
    };
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let Ok(mut rows) = SnapshotRows::open_with("fuzz.csv", input, &layout) else {
        return;
    };
    let header = rows.header().to_vec();
    assert!(header.len() <= MAX_COLUMNS);
    let mapper = RowMapper::new(&matching(&header), &header).ok();
    let mut last = 1;
    let mut one_by_one = Vec::new();
    while let Ok(Some(row)) = rows.next_row() {
        one_by_one.push((row.number, row.fields.clone()));
        assert!(row.number > last, "row numbers grow");
        last = row.number;
        assert!(row.fields.len() <= MAX_COLUMNS);
        let Some(mapper) = &mapper else { continue };
        let fields: Vec<&str> = row.fields.iter().map(String::as_str).collect();
        let _ = mapper.email_of(&fields);
        if let Ok(contact) = mapper.map(&fields) {
            // What is sent is an address the connector accepts, already in its sent form.
            let sent = contact.email();
            assert_eq!(email::check(sent), Ok(()), "{sent:?}");
            assert_eq!(email::normalise(sent).as_deref(), Ok(sent));
            let _ = email::dedupe_key(sent);
            let _ = serde_json::to_vec(&shared::autopilot::contact_json(&contact, None)).unwrap();
        }
    }
    assert_eq!(
        batched(data, &layout),
        one_by_one,
        "batches hold the rows read one by one"
    );
});

/// The rows of `data` read in batches (up to the first that cannot be read), as rows.
fn batched(data: &[u8], layout: &Layout) -> Vec<(u64, Vec<String>)> {
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    let mut rows = SnapshotRows::open_with("fuzz.csv", input, layout).unwrap();
    let mut out = Vec::new();
    let mut batch = Batch::default();
    loop {
        batch.clear();
        let more = rows.fill(&mut batch, 256);
        let _ = batch.rows().each(|number, fields| {
            out.push((number, fields.iter().map(|f| f.to_string()).collect()));
            Ok::<_, ()>(())
        });
        if !matches!(more, Ok(true)) {
            return out;
        }
    }
}
