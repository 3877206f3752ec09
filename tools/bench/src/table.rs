//! The one table: a row per figure and size, each with its target beside it and whether
//! it is met (or by how much not). Printed as Markdown, so it goes into the README as it is.

/// A bound a measured figure must keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
    Equal(f64),
}

/// One target of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: &'static str,
    pub measured: f64,
    pub bound: Bound,
}

impl Check {
    pub fn new(what: &'static str, measured: f64, bound: Bound) -> Self {
        Check {
            what,
            measured,
            bound,
        }
    }

    /// None when met, else how far off it is.
    fn miss(&self) -> Option<String> {
        let (m, what) = (self.measured, self.what);
        match self.bound {
            Bound::AtMost(limit) if m > limit => {
                let ratio = m / limit.max(f64::MIN_POSITIVE);
                Some(if ratio < 2.0 {
                    format!("{what} {:.1}% over", 100.0 * (ratio - 1.0))
                } else {
                    format!("{what} {ratio:.1}× the target")
                })
            }
            Bound::AtLeast(limit) if m < limit => {
                Some(format!("{what} {:.0}% of the target", 100.0 * m / limit))
            }
            Bound::Equal(want) if m != want => Some(format!("{what} {m} instead of {want}")),
            _ => None,
        }
    }
}

/// One line of the table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub figure: String,
    pub profiles: u64,
    pub wall: Option<f64>,
    /// CPU seconds (user and system) of the process.
    pub cpu: Option<f64>,
    pub peak_mb: Option<f64>,
    pub requests: Option<u64>,
    /// The figure itself, with its unit.
    pub value: String,
    /// The target in words; empty for rows that only give context.
    pub target: String,
    pub checks: Vec<Check>,
}

impl Row {
    pub fn verdict(&self) -> String {
        if self.target.is_empty() {
            return String::new();
        }
        let misses: Vec<String> = self.checks.iter().filter_map(Check::miss).collect();
        if misses.is_empty() {
            "met".into()
        } else {
            format!("not met: {}", misses.join("; "))
        }
    }
}

/// `1000000` → `1M`, `100000` → `100k`.
pub fn size(profiles: u64) -> String {
    match profiles {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// The table in Markdown.
pub fn render(rows: &[Row]) -> String {
    let mut text = String::from(
        "| figure | profiles | wall | CPU | peak RSS | requests | measured | target | verdict |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.figure,
            size(row.profiles),
            or_dash(row.wall.map(|w| format!("{w:.2} s"))),
            or_dash(row.cpu.map(|c| format!("{c:.2} s"))),
            or_dash(row.peak_mb.map(|m| format!("{m:.0} MiB"))),
            or_dash(row.requests.map(|r| r.to_string())),
            row.value,
            if row.target.is_empty() {
                "–"
            } else {
                &row.target
            },
            if row.target.is_empty() {
                "–".into()
            } else {
                row.verdict()
            },
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(checks: Vec<Check>) -> Row {
        Row {
            target: "t".into(),
            checks,
            ..Row::default()
        }
    }

    #[test]
    fn the_verdict_says_by_how_much_a_target_is_missed() {
        assert_eq!(
            row(vec![Check::new("wall", 1.5, Bound::AtMost(1.5))]).verdict(),
            "met"
        );
        let slow = row(vec![
            Check::new("wall", 10.5, Bound::AtMost(1.5)),
            Check::new("MB/s", 23.0, Bound::AtLeast(100.0)),
            Check::new("sent", 12.0, Bound::Equal(11.0)),
            Check::new("RSS", 100.0, Bound::AtMost(128.0)),
            Check::new("wall/floor", 1.047, Bound::AtMost(1.02)),
        ]);
        assert_eq!(
            slow.verdict(),
            "not met: wall 7.0× the target; MB/s 23% of the target; sent 12 instead of 11; \
             wall/floor 2.6% over"
        );
        assert_eq!(Row::default().verdict(), "");
    }

    #[test]
    fn sizes_are_short_and_the_table_has_a_line_per_row() {
        assert_eq!(
            (size(1_000_000), size(100_000), size(1234)),
            ("1M".into(), "100k".into(), "1234".into())
        );
        let table = render(&[
            row(vec![]),
            Row {
                figure: "context".into(),
                ..Row::default()
            },
        ]);
        assert_eq!(table.lines().count(), 4);
        assert!(table.lines().nth(2).unwrap().ends_with("| t | met |"));
        assert!(table.lines().nth(3).unwrap().ends_with("| – | – |"));
    }
}
