//! Batches carry every row in order, parts announced first and numbered on across parts; either
//! side stops the reading.

use super::*;
use crate::snapshot::csv::{Layout, SnapshotRows};

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
        delimiter: None,
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
