//! Batches carry every row in order, parts announced first and numbered on across parts; either
//! side stops the reading.

use super::*;
use crate::snapshot::csv::{Layout, SnapshotRows};
use std::sync::atomic::Ordering;

/// Parts of CSV text opened in turn.
fn csv_parts(
    texts: Vec<String>,
    layout: Layout,
) -> impl FnMut(usize) -> Option<Opened<'static>> + Send {
    move |index| {
        let text = texts.get(index)?.clone();
        let rows =
            SnapshotRows::open_with("part.csv", Box::new(std::io::Cursor::new(text)), &layout);
        Some(rows.map(|rows| {
            let info = PartInfo {
                index,
                name: format!("part-{index}.csv"),
                source: format!("/u/part-{index}.csv"),
                header: rows.header().to_vec(),
                offset: 0,
                only: false,
                rows: None,
                size: None,
                after: None,
            };
            (info, Box::new(rows) as Box<dyn PartRows>)
        }))
    }
}

#[derive(Default)]
struct Seen {
    parts: Vec<(usize, u64, Vec<String>)>,
    rows: Vec<(u64, String)>,
    stop_at: Option<u64>,
}

impl RowHandler for Seen {
    type Error = &'static str;
    fn part(&mut self, part: &PartInfo) -> Result<(), Self::Error> {
        self.parts
            .push((part.index, part.offset, part.header.clone()));
        Ok(())
    }
    fn row(&mut self, number: u64, fields: &[&str]) -> Result<(), Self::Error> {
        if self.stop_at == Some(number) {
            return Err("enough");
        }
        self.rows.push((number, fields.join("|")));
        Ok(())
    }
}

#[test]
fn every_row_arrives_in_order_with_its_fields_and_its_part() {
    let mut first = String::from("a,b,c\n");
    for i in 0..(BATCH_ROWS * 3 + 7) {
        first.push_str(&format!("{i},,\"x,{i}\"\n"));
    }
    let texts = vec![first, "a,b,c\n".to_string(), "a,b,c\n1,2,3\n".to_string()];
    let mut seen = Seen::default();
    read_each(&mut csv_parts(texts, Layout::default()), &mut seen).unwrap();
    let n = BATCH_ROWS * 3 + 7;
    assert_eq!(seen.rows.len(), n + 1);
    for (i, (number, fields)) in seen.rows[..n].iter().enumerate() {
        assert_eq!(*number, i as u64 + 2);
        assert_eq!(fields, &format!("{i}||x,{i}"));
    }
    // The first part's last row is n + 1, the empty part's only row its header.
    let header = vec!["a".to_string(), "b".into(), "c".into()];
    assert_eq!(
        seen.parts,
        [
            (0, 0, header.clone()),
            (1, n as u64 + 1, header.clone()),
            (2, n as u64 + 2, header)
        ]
    );
    assert_eq!(seen.rows[n], (n as u64 + 4, "1|2|3".to_string()));
}

#[test]
fn headerless_parts_number_their_rows_from_one() {
    let layout = Layout {
        columns: Some(vec!["email".to_string(), "name".into()].into()),
        ..Layout::default()
    };
    let texts = vec!["a@x.io,A\nb@x.io,B\n".to_string(), "c@x.io,C\n".to_string()];
    let mut seen = Seen::default();
    read_each(&mut csv_parts(texts, layout), &mut seen).unwrap();
    assert_eq!(
        seen.rows,
        [
            (1, "a@x.io|A".to_string()),
            (2, "b@x.io|B".into()),
            (3, "c@x.io|C".into())
        ]
    );
    assert_eq!(seen.parts[1].1, 2);
}

#[test]
fn the_handler_stops_the_reading_and_rows_before_a_problem_are_handled() {
    let mut text = String::from("a\n");
    for i in 0..5000 {
        text.push_str(&format!("{i}\n"));
    }
    let mut seen = Seen {
        stop_at: Some(1000),
        ..Seen::default()
    };
    let stopped = read_each(&mut csv_parts(vec![text], Layout::default()), &mut seen);
    assert!(matches!(stopped, Err(Stopped::By("enough"))));
    assert_eq!(seen.rows.len(), 998);

    let broken = format!("a\n{}\"open\n", "1\n".repeat(600));
    let mut seen = Seen::default();
    let stopped = read_each(
        &mut csv_parts(vec!["a\n1\n".into(), broken], Layout::default()),
        &mut seen,
    );
    assert!(matches!(stopped, Err(Stopped::Read(_))), "{stopped:?}");
    assert_eq!(seen.rows.len(), 601);
}

/// Many parts of different sizes, parsed alongside each other, arrive as one part after another.
#[test]
fn parts_parsed_at_once_are_handled_in_their_order() {
    let sizes = [0usize, 3000, 1, 700, 0, 2500, 256, 257, 4000, 9];
    let texts: Vec<String> = sizes
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let mut text = String::from("a,b\n");
            for i in 0..n {
                text.push_str(&format!("{k},{i}\n"));
            }
            text
        })
        .collect();
    let mut seen = Seen::default();
    read_each(&mut csv_parts(texts, Layout::default()), &mut seen).unwrap();
    let mut expected = Vec::new();
    let mut offsets = Vec::new();
    let mut offset = 0;
    for (k, &n) in sizes.iter().enumerate() {
        offsets.push(offset);
        for i in 0..n {
            expected.push((offset + i as u64 + 2, format!("{k}|{i}")));
        }
        offset += n as u64 + 1;
    }
    assert_eq!(seen.rows, expected);
    let parts: Vec<(usize, u64)> = seen.parts.iter().map(|p| (p.0, p.1)).collect();
    assert_eq!(parts, offsets.into_iter().enumerate().collect::<Vec<_>>());
}

/// A part that cannot be read, or opened, stops the reading there even when the parts after it
/// were parsed already: no row of theirs is handled.
#[test]
fn a_problem_in_a_part_hides_the_parts_read_after_it() {
    let good = |k: usize| format!("a\n{}", format!("{k}\n").repeat(2000));
    let broken = format!("a\n{}\"open\n", "b\n".repeat(300));
    let texts = vec![good(0), broken, good(2), good(3)];
    let mut seen = Seen::default();
    let stopped = read_each(&mut csv_parts(texts, Layout::default()), &mut seen);
    assert!(matches!(stopped, Err(Stopped::Read(_))), "{stopped:?}");
    assert_eq!(seen.rows.len(), 2300);
    assert!(seen.rows.iter().all(|(_, f)| f == "0" || f == "b"));

    let mut open = csv_parts(vec![good(0), good(1), good(2)], Layout::default());
    let mut failing = move |index: usize| match index {
        2 => Some(Err(SnapshotError::invalid("the third part is gone"))),
        _ => open(index),
    };
    let mut seen = Seen::default();
    let stopped = read_each(&mut failing, &mut seen);
    assert!(matches!(stopped, Err(Stopped::Read(_))), "{stopped:?}");
    assert_eq!(seen.rows.len(), 4000);
}

/// Rows of 100 bytes without end, counted as they are made.
struct Endless {
    header: Vec<String>,
    made: Arc<std::sync::atomic::AtomicU64>,
    number: u64,
}

impl PartRows for Endless {
    fn header(&self) -> &[String] {
        &self.header
    }
    fn fill(&mut self, batch: &mut Batch, max: usize) -> Result<bool, SnapshotError> {
        for _ in 0..max {
            self.number += 1;
            batch.push_field(&"x".repeat(100));
            batch.end_row(self.number);
        }
        let made = std::sync::atomic::Ordering::SeqCst;
        self.made.fetch_add(max as u64, made);
        Ok(true)
    }
    fn last_number(&self) -> u64 {
        self.number
    }
    fn alongside(&self) -> bool {
        true
    }
}

/// Stops at the first row of the first part, once the parts after it have stopped being read.
struct Waiting(Vec<Arc<std::sync::atomic::AtomicU64>>, Vec<u64>);

impl RowHandler for Waiting {
    type Error = &'static str;
    fn part(&mut self, _: &PartInfo) -> Result<(), Self::Error> {
        Ok(())
    }
    fn row(&mut self, _: u64, _: &[&str]) -> Result<(), Self::Error> {
        let now = || -> Vec<u64> { self.0.iter().map(|m| m.load(Ordering::SeqCst)).collect() };
        let mut before = now();
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(50));
            let after = now();
            if after == before {
                break;
            }
            before = after;
        }
        self.1 = before;
        Err("enough")
    }
}

#[test]
fn parts_ahead_are_read_within_their_budget_and_only_so_many_at_once() {
    let made: Vec<_> = (0..6).map(|_| Arc::default()).collect();
    let counters = made.clone();
    let mut open = move |index: usize| {
        let made: &Arc<std::sync::atomic::AtomicU64> = counters.get(index)?;
        let rows = Endless {
            header: vec!["a".into()],
            made: made.clone(),
            number: 0,
        };
        let info = PartInfo {
            index,
            name: format!("part-{index}"),
            source: format!("/u/part-{index}"),
            header: rows.header.clone(),
            offset: 0,
            only: false,
            rows: None,
            size: None,
            after: None,
        };
        Some(Ok((info, Box::new(rows) as Box<dyn PartRows>)))
    };
    let mut waiting = Waiting(made, Vec::new());
    let stopped = read_each(&mut open, &mut waiting);
    assert!(matches!(stopped, Err(Stopped::By("enough"))));
    let rows = waiting.1;
    // The second part was parsed while the first was handled, well past a few batches but
    // within its budget (each row ~100 bytes of text, a batch's bookkeeping besides).
    let ahead = rows[1] * 100;
    assert!(ahead > 4 * reading::NEAR_BYTES, "{rows:?}");
    assert!(
        ahead <= reading::AHEAD_BYTES + 2 * (BATCH_ROWS as u64) * 100,
        "{rows:?}"
    );
    let started = rows.iter().filter(|&&n| n > 0).count();
    assert!(started <= reading::parsing_at_once(), "{rows:?}");
    assert_eq!(rows[5], 0, "{rows:?}");
}

/// A handler's view of a batch: any field of any row, empty past a short row's fields, and the
/// rows again in order, numbered within the segment.
#[test]
fn a_batchs_rows_give_each_field_by_position() {
    let mut batch = Batch::default();
    for (number, fields) in [
        (2, vec!["a", "", "c"]),
        (3, vec!["d"]),
        (5, vec![]),
        (6, vec!["e", "f"]),
    ] {
        for field in fields {
            batch.push_field(field);
        }
        batch.end_row(number);
    }
    let rows = batch.numbered(10);
    assert_eq!(rows.len(), 4);
    let grid: Vec<Vec<&str>> = (0..4)
        .map(|i| (0..4).map(|column| rows.field(i, column)).collect())
        .collect();
    assert_eq!(
        grid,
        [
            ["a", "", "c", ""],
            ["d", "", "", ""],
            ["", "", "", ""],
            ["e", "f", "", ""]
        ]
    );
    assert_eq!(rows.field(4, 0), "", "no such row");
    let mut seen = Vec::new();
    rows.each(|number, fields| {
        seen.push((number, fields.join("|")));
        Ok::<_, ()>(())
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            (12, "a||c".into()),
            (13, "d".into()),
            (15, String::new()),
            (16, "e|f".into())
        ]
    );
}
