//! The plan read from the other layouts platforms write ([`crate::layouts`]) against the same
//! rows as one CSV a segment: each layout's plan and the one CSV's run in turn, [`PAIRS`] times
//! (A B A B …), so that a busy machine slows both alike, and the ratio of their rows per second
//! is the median of the pairs'. The reading alone (`bench read`, no matching) is measured the
//! same way, to tell how much of a plan is the reading of the format. The wide table of
//! [`crate::wide`] is compared the same way, one Parquet file against one CSV a segment; its
//! rows have no target, and the bench stops if the two plans of its rows differ.

use crate::cli::Product;
use crate::data::{self, Shape};
use crate::layouts;
use crate::measure::{BoxError, Run, Sandbox};
use crate::reading::MAPPED;
use crate::suite::{fresh_dir, measured, Bench, MEMORY_MB, UNLIMITED};
use crate::table::{Bound, Check, Row};
use std::path::Path;

/// Runs of each layout, each paired with one of the one CSV.
const PAIRS: usize = 5;

impl Bench {
    /// The plan of `n` profiles from each layout, against one CSV's.
    pub fn inputs(&mut self, n: u64) -> Result<(), BoxError> {
        let dir = self.root.join(format!("inputs-{n}"));
        fresh_dir(&dir)?;
        let sandbox = &Sandbox::start(&self.bin, 0.0, dir.join("sandbox.log"))?;
        let csv = dir.join("csv");
        let shape = Shape {
            profiles: n,
            refused: 0,
            changed: false,
        };
        let rows = data::write(&csv, &shape)?.rows as f64;
        let product = Product::fresh(&self.bin, &dir)?;
        let limit = n.max(100_000);
        let one = product.connect("One CSV", sandbox, UNLIMITED)?;
        product.configure(&one, &csv, limit)?;
        // Each written by a process of its own, so that the runs after it report their own
        // peak memory, not the bench's (see `layouts`).
        let figures = [
            "Parquet, 1 file a segment",
            "8 gzip CSV parts a segment",
            "a CDM folder, 8 partitions a segment",
        ];
        let mut written = Vec::new();
        for (figure, (kind, folder)) in figures
            .into_iter()
            .zip(layouts::KINDS.into_iter().zip(["parquet", "gz", "lake"]))
        {
            written.push((
                figure,
                layouts::write_in_child(kind, &csv, &dir.join(folder))?,
            ));
        }
        for (i, (figure, layout)) in written.into_iter().enumerate() {
            let dest = product.connect(&format!("Layout {i}"), sandbox, UNLIMITED)?;
            product.configure_sources(&dest, &layout.sources, limit)?;
            let plans = paired(
                |k| dry_run(&product, &dest, &format!("plan-{dest}-{k}")),
                |k| dry_run(&product, &one, &format!("plan-one-csv-{i}-{k}")),
            )?;
            let ratio = plans.ratio();
            let (target, mut checks) = match i {
                0 => (
                    "≥ 2× one CSV's rows/s, ≤ 128 MiB",
                    vec![Check::new("rows/s ratio", ratio, Bound::AtLeast(2.0))],
                ),
                1 => (
                    "no slower than one CSV (≥ 0.95×), ≤ 128 MiB",
                    vec![Check::new("rows/s ratio", ratio, Bound::AtLeast(0.95))],
                ),
                _ => ("≤ 128 MiB", vec![]),
            };
            let run = plans.peak();
            checks.push(Check::new("RSS", run.peak_mb, Bound::AtMost(MEMORY_MB)));
            let reading = reading_alone(&dir, &layout.sources, &csv, &i.to_string())?;
            self.rows.push(Row {
                value: format!(
                    "{:.0} rows/s, {ratio:.2}× one CSV's {:.0} (median of {PAIRS} pairs; {:.1} MB read for {:.1} MB of CSV)",
                    rows / plans.wall(),
                    rows / plans.csv_wall(),
                    layout.bytes as f64 / 1e6,
                    csv_bytes(&csv)? as f64 / 1e6
                ),
                target: target.into(),
                checks,
                ..measured(&format!("plan (dry run) from {figure}"), n, run)
            });
            self.rows.push(Row {
                value: format!(
                    "{:.0} rows/s, {:.2}× one CSV's (wall), {:.2}× (CPU); no matching",
                    rows / reading.wall(),
                    reading.ratio(),
                    reading.cpu_ratio()
                ),
                ..measured(&format!("reading alone from {figure}"), n, reading.peak())
            });
        }
        Ok(())
    }

    /// The plan and the reading alone of `n` profiles as a wide table ([`crate::wide`]): one
    /// Parquet file a segment against one CSV a segment, the same destination mapping. No
    /// target: the figure shows what reading only the mapped columns saves.
    pub fn wide(&mut self, n: u64) -> Result<(), BoxError> {
        let dir = self.root.join(format!("wide-{n}"));
        fresh_dir(&dir)?;
        let sandbox = &Sandbox::start(&self.bin, 0.0, dir.join("sandbox.log"))?;
        let csv = dir.join("csv");
        let written = crate::wide::write(&csv, n)?;
        let rows = written.rows as f64;
        let parquet = layouts::write_in_child(layouts::WIDE_PARQUET, &csv, &dir.join("parquet"))?;
        let product = Product::fresh(&self.bin, &dir)?;
        let limit = n.max(100_000);
        let one = product.connect("Wide CSV", sandbox, UNLIMITED)?;
        product.configure(&one, &csv, limit)?;
        let dest = product.connect("Wide Parquet", sandbox, UNLIMITED)?;
        product.configure_sources(&dest, &parquet.sources, limit)?;
        let plans = paired(
            |k| dry_run(&product, &dest, &format!("plan-{dest}-{k}")),
            |k| dry_run(&product, &one, &format!("plan-{one}-{k}")),
        )?;
        same_plan(plans.first())?;
        let reading = reading_alone(&dir, &parquet.sources, &csv, "wide")?;
        let figure = "from a wide table (60 columns, 7 mapped), Parquet vs one CSV";
        let (parquet_mb, csv_mb) = (parquet.bytes as f64 / 1e6, written.bytes as f64 / 1e6);
        let read_mb = |paired: &Paired| {
            let (a, b) = paired.first();
            (a.read_bytes as f64 / 1e6, b.read_bytes as f64 / 1e6)
        };
        let (plan_read, plan_csv_read) = read_mb(&plans);
        self.rows.push(Row {
            value: format!(
                "{:.0} rows/s, {:.2}× one CSV's {:.0} (median of {PAIRS} pairs; {plan_read:.1} MB read of {parquet_mb:.1} MB of Parquet, one CSV {plan_csv_read:.1} MB of {csv_mb:.1} MB)",
                rows / plans.wall(),
                plans.ratio(),
                rows / plans.csv_wall(),
            ),
            ..measured(&format!("plan (dry run) {figure}"), n, plans.peak())
        });
        let (read, csv_read) = read_mb(&reading);
        self.rows.push(Row {
            value: format!(
                "{:.0} rows/s, {:.2}× one CSV's {:.0} (wall), {:.2}× (CPU); no matching; {read:.1} MB read, one CSV {csv_read:.1} MB",
                rows / reading.wall(),
                reading.ratio(),
                rows / reading.csv_wall(),
                reading.cpu_ratio()
            ),
            ..measured(&format!("reading alone {figure}"), n, reading.peak())
        });
        Ok(())
    }
}

/// Checks that two dry runs of the same rows planned the same: contacts, distinct profiles and
/// each segment's adds, rejects and duplicates.
fn same_plan((a, b): &(Run, Run)) -> Result<(), BoxError> {
    let summary = |run: &Run| -> Result<serde_json::Value, BoxError> {
        let report: serde_json::Value = serde_json::from_str(&run.stdout)?;
        let segments: Vec<serde_json::Value> = report["preview"]
            .as_array()
            .ok_or("a dry run's report with no preview")?
            .iter()
            .map(|s| {
                let keep = ["name", "adds", "rejects", "duplicates"];
                keep.iter().map(|k| s[k].clone()).collect()
            })
            .collect();
        Ok(serde_json::json!([
            report["contacts"],
            report["distinct_profiles"],
            segments
        ]))
    };
    let (a, b) = (summary(a)?, summary(b)?);
    if a != b {
        return Err(format!("the same rows planned differently: {a} and {b}").into());
    }
    Ok(())
}

/// The reading alone (`bench read`) of `sources` against the one CSV's in `csv`, in pairs;
/// `label` names the runs' logs.
fn reading_alone(
    dir: &Path,
    sources: &[(&str, String)],
    csv: &Path,
    label: &str,
) -> Result<Paired, BoxError> {
    let me = std::env::current_exe()?;
    let read = |sources: &[String], label: String| -> Result<Run, BoxError> {
        let mut command = std::process::Command::new(&me);
        command.arg("read").arg(MAPPED).args(sources);
        let run = crate::measure::run(command, &dir.join("logs"), &label)?;
        if run.code != 0 {
            return Err(format!("`{label}` failed: {}", run.stderr).into());
        }
        Ok(run)
    };
    let csv_sources: Vec<String> = data::SEGMENTS
        .iter()
        .map(|(_, f)| csv.join(f).display().to_string())
        .collect();
    let layout_sources: Vec<String> = sources.iter().map(|s| s.1.clone()).collect();
    paired(
        |k| read(&layout_sources, format!("read-{label}-{k}")),
        |k| read(&csv_sources, format!("read-one-csv-{label}-{k}")),
    )
}

/// [`PAIRS`] runs of a layout, each followed by one of the one CSV (A B A B …), so that a busy
/// machine slows both alike.
fn paired(
    mut layout: impl FnMut(usize) -> Result<Run, BoxError>,
    mut one_csv: impl FnMut(usize) -> Result<Run, BoxError>,
) -> Result<Paired, BoxError> {
    let mut pairs = Vec::with_capacity(PAIRS);
    for k in 0..PAIRS {
        pairs.push((layout(k)?, one_csv(k)?));
    }
    Ok(Paired(pairs))
}

/// Runs of a layout paired with the one CSV's: (layout, one CSV).
struct Paired(Vec<(Run, Run)>);

impl Paired {
    /// The median of the pairs' ratios of wall time, one CSV's over the layout's: how many
    /// times the layout's rows per second one CSV's are.
    fn ratio(&self) -> f64 {
        median(self.0.iter().map(|(a, b)| b.wall / a.wall))
    }

    /// The same of CPU time.
    fn cpu_ratio(&self) -> f64 {
        median(self.0.iter().map(|(a, b)| b.cpu / a.cpu))
    }

    /// The layout's median wall seconds.
    fn wall(&self) -> f64 {
        median(self.0.iter().map(|(a, _)| a.wall))
    }

    /// The one CSV's median wall seconds.
    fn csv_wall(&self) -> f64 {
        median(self.0.iter().map(|(_, b)| b.wall))
    }

    /// The layout's run with the highest peak memory.
    fn peak(&self) -> &Run {
        let runs = self.0.iter().map(|(a, _)| a);
        runs.max_by(|x, y| x.peak_mb.total_cmp(&y.peak_mb))
            .unwrap_or(&self.0[0].0)
    }

    /// The first pair.
    fn first(&self) -> &(Run, Run) {
        &self.0[0]
    }
}

/// The middle value of `values` (of an odd count: [`PAIRS`]).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A dry run of `dest`, which must succeed.
fn dry_run(product: &Product, dest: &str, label: &str) -> Result<Run, BoxError> {
    let run = product.export(dest, label, &["--dry-run"])?;
    if run.code != 0 {
        return Err(format!("`{label}` ended with status {}: {}", run.code, run.stdout).into());
    }
    Ok(run)
}

/// The bytes of the one-CSV snapshots in `dir`.
fn csv_bytes(dir: &Path) -> std::io::Result<u64> {
    data::SEGMENTS
        .iter()
        .map(|(_, file)| std::fs::metadata(dir.join(file)).map(|m| m.len()))
        .sum()
}
