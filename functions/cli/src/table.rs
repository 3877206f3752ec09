//! Tables of counts (one row per segment) that fit the width they are printed in: the terminal's
//! when stdout is one, else `COLUMNS` when set, else 100. Columns that are zero in every row are
//! left out (the JSON document has every count); what still does not fit wraps inside its cell
//! instead of the whole line wrapping into a staircase.

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, LineStyle, Table, TableStyle, Width,
};
use std::io::IsTerminal;

/// The width of a table when stdout is not a terminal and `COLUMNS` does not say.
pub const DEFAULT_WIDTH: u16 = 100;
/// Tables are printed indented by this much (and the cells' padding), under the line that
/// introduces them.
const INDENT: &str = " ";
/// No table gets narrower than this, whatever the terminal says.
const MIN_WIDTH: u16 = 40;
/// The spaces around a cell (comfy-table's default padding, one each side).
const PADDING: usize = 2;
/// Names longer than this wrap rather than take room from the counts.
const NAME_MIN: usize = 12;

/// A column of counts: its header and one value per row.
pub struct Column<'a> {
    pub header: &'a str,
    pub values: Vec<u64>,
}

impl<'a> Column<'a> {
    pub fn new(header: &'a str, values: impl IntoIterator<Item = u64>) -> Self {
        Self {
            header,
            values: values.into_iter().collect(),
        }
    }

    fn all_zero(&self) -> bool {
        self.values.iter().all(|&v| v == 0)
    }
}

/// Where the table is printed: how wide it may be.
pub fn width() -> u16 {
    let terminal = std::io::stdout()
        .is_terminal()
        .then(|| console::Term::stdout().size_checked())
        .flatten()
        .map(|(_rows, columns)| columns);
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    terminal.or(columns).unwrap_or(DEFAULT_WIDTH).max(MIN_WIDTH)
}

/// Rows named `names` (the first column, headed `first`) with the `counts` columns, at most
/// `width` characters wide, each line indented. A column that is zero in every row is left out
/// unless its header is in `keep_zero`. When the columns' headers do not fit side by side, the
/// table is turned (a row per count, a column per name) if that fits; numbers never break, a
/// name or, as a last resort, a header wraps inside its cell.
pub fn counts(
    first: &str,
    names: &[&str],
    columns: Vec<Column>,
    keep_zero: &[&str],
    width: u16,
) -> String {
    let columns: Vec<Column> = columns
        .into_iter()
        .filter(|c| keep_zero.contains(&c.header) || !c.all_zero())
        .collect();
    let room = usize::from(width).saturating_sub(INDENT.len());
    let digits: Vec<usize> = columns
        .iter()
        .map(|c| c.values.iter().map(|&v| digit_count(v)).max().unwrap_or(1))
        .collect();
    let headed: Vec<usize> = columns
        .iter()
        .zip(&digits)
        .map(|(c, &d)| c.header.len().max(d))
        .collect();
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([first.len()])
        .max()
        .unwrap_or(0)
        .min(NAME_MIN);
    let table = if name_width + widths(&headed) <= room {
        by_name(first, names, &columns, &headed, room)
    } else {
        let label = columns
            .iter()
            .map(|c| c.header.len())
            .chain([first.len()])
            .max();
        let per_name: Vec<usize> = (0..names.len())
            .map(|i| {
                let value = columns.iter().map(|c| digit_count(value(c, i))).max();
                names[i]
                    .chars()
                    .count()
                    .min(NAME_MIN)
                    .max(value.unwrap_or(1))
            })
            .collect();
        if label.unwrap_or(0) + PADDING + widths(&per_name) <= room {
            by_count(first, names, &columns, &per_name, room)
        } else {
            by_name(first, names, &columns, &digits, room)
        }
    };
    table
        .lines()
        .map(|line| format!("{INDENT}{}", line.trim_end()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A row per name, a column per count; the count columns at least `least` wide.
fn by_name(first: &str, names: &[&str], columns: &[Column], least: &[usize], room: usize) -> Table {
    let header = std::iter::once(first).chain(columns.iter().map(|c| c.header));
    let rows = names.iter().enumerate().map(|(i, name)| {
        let values = columns.iter().map(|c| value(c, i).to_string());
        std::iter::once(name.to_string()).chain(values).collect()
    });
    grid(
        header.map(str::to_string).collect(),
        rows.collect(),
        least,
        room,
    )
}

/// A row per count, a column per name; the name columns at least `least` wide.
fn by_count(
    first: &str,
    names: &[&str],
    columns: &[Column],
    least: &[usize],
    room: usize,
) -> Table {
    let header = std::iter::once(first).chain(names.iter().copied());
    let rows = columns.iter().map(|c| {
        let values = (0..names.len()).map(|i| value(c, i).to_string());
        std::iter::once(c.header.to_string())
            .chain(values)
            .collect()
    });
    grid(
        header.map(str::to_string).collect(),
        rows.collect(),
        least,
        room,
    )
}

/// A table `room` wide with a left-aligned first column and right-aligned others, each of which
/// is at least `least` wide (without padding).
fn grid(header: Vec<String>, rows: Vec<Vec<String>>, least: &[usize], room: usize) -> Table {
    let mut table = Table::new();
    table
        .load_style(TableStyle::new().header_separator(LineStyle::none().fill('-').junction(' ')))
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(room).unwrap_or(u16::MAX))
        .set_header(header)
        .add_rows(rows);
    for (column, &least) in table.column_iter_mut().skip(1).zip(least) {
        column.set_cell_alignment(CellAlignment::Right);
        let least = u16::try_from(least + PADDING).unwrap_or(u16::MAX);
        column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(least)));
    }
    table
}

/// The width of a table whose first column is left to wrap and whose others are `widths` wide:
/// each with its padding and the space that separates it from the one before.
fn widths(widths: &[usize]) -> usize {
    widths.iter().map(|w| w + PADDING + 1).sum::<usize>() + PADDING
}

fn value(column: &Column, row: usize) -> u64 {
    column.values.get(row).copied().unwrap_or(0)
}

fn digit_count(n: u64) -> usize {
    n.to_string().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(width: u16) -> String {
        let names = [
            "VIP Customers",
            "Lapsed Buyers with a much longer segment name than most",
            "total",
        ];
        let columns = vec![
            Column::new("rows", [60_210, 60_140, 120_350]),
            Column::new("added", [59_997, 59_998, 99_993]),
            Column::new("updated", [1_000_000, 2, 1_000_002]),
            Column::new("unchanged", [123_456, 0, 123_456]),
            Column::new("invalid", [120, 121, 241]),
            Column::new("duplicate", [151, 150, 301]),
            Column::new("rejected", [2, 1, 3]),
            Column::new("unsent", [10_000, 0, 10_000]),
            Column::new("removed", [5, 0, 5]),
        ];
        counts("segment", &names, columns, &["rows"], width)
    }

    #[test]
    fn a_table_with_every_column_fits_the_width() {
        for width in [80, 100, 120] {
            let table = sample(width);
            for line in table.lines() {
                assert!(
                    line.chars().count() <= width as usize,
                    "{width}: {line:?} in\n{table}"
                );
            }
            assert!(table.contains("1000000"), "{table}");
            assert!(table.contains("unchanged"), "{table}");
        }
    }

    #[test]
    fn a_column_of_zeros_is_left_out_unless_it_is_kept() {
        let table = counts(
            "segment",
            &["VIP", "total"],
            vec![
                Column::new("rows", [0, 0]),
                Column::new("added", [3, 3]),
                Column::new("removed", [0, 0]),
            ],
            &["rows"],
            100,
        );
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(
            lines[0].contains("rows") && lines[0].contains("added"),
            "{table}"
        );
        assert!(!table.contains("removed"), "{table}");
        assert!(
            lines[1].trim().chars().all(|c| c == '-' || c == ' '),
            "{table}"
        );
        assert!(lines[2].trim_start().starts_with("VIP"), "{table}");
        assert!(lines[3].trim_end().ends_with('3'), "{table}");
    }

    #[test]
    fn a_table_whose_headers_do_not_fit_side_by_side_is_turned() {
        let wide = sample(120);
        assert!(wide.lines().next().unwrap().contains("unchanged"), "{wide}");
        let turned = sample(80);
        let first = turned.lines().next().unwrap();
        assert!(
            first.contains("VIP Customers") && first.contains("total"),
            "{turned}"
        );
        let unchanged = turned
            .lines()
            .find(|l| l.trim_start().starts_with("unchanged"));
        assert!(
            unchanged.is_some_and(|l| l.trim_end().ends_with("123456")),
            "{turned}"
        );
    }

    #[test]
    fn every_line_is_indented() {
        assert!(sample(100).lines().all(|l| l.starts_with(INDENT)));
    }
}
