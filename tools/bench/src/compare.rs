//! The plan read from the other layouts platforms write ([`crate::layouts`]) against the same
//! rows as one CSV a segment: each layout's plan and the one CSV's run in turn, [`PAIRS`] times
//! (A B A B …), so that a busy machine slows both alike, and the ratio of their rows per second
//! is the median of the pairs'. The reading alone (`bench read`, no matching) is measured the
//! same way, to tell how much of a plan is the reading of the format.

use crate::cli::Product;
use crate::data::{self, Shape};
use crate::layouts;
use crate::measure::{BoxError, Run, Sandbox};
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
            let mut pairs = Vec::new();
            for k in 0..PAIRS {
                let a = dry_run(&product, &dest, &format!("plan-{dest}-{k}"))?;
                let b = dry_run(&product, &one, &format!("plan-one-csv-{i}-{k}"))?;
                pairs.push((a, b));
            }
            let ratio = median(pairs.iter().map(|(a, b)| b.wall / a.wall).collect());
            let speed = rows / median(pairs.iter().map(|(a, _)| a.wall).collect());
            let csv_speed = rows / median(pairs.iter().map(|(_, b)| b.wall).collect());
            let run = pairs
                .into_iter()
                .map(|(a, _)| a)
                .max_by(|x, y| x.peak_mb.total_cmp(&y.peak_mb))
                .ok_or("no run")?;
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
            checks.push(Check::new("RSS", run.peak_mb, Bound::AtMost(MEMORY_MB)));
            let reading = self.reading_alone(&dir, &layout.sources, &csv, i)?;
            self.rows.push(Row {
                value: format!(
                    "{speed:.0} rows/s, {ratio:.2}× one CSV's {csv_speed:.0} (median of {PAIRS} pairs; {:.1} MB read for {:.1} MB of CSV)",
                    layout.bytes as f64 / 1e6,
                    csv_bytes(&csv)? as f64 / 1e6
                ),
                target: target.into(),
                checks,
                ..measured(&format!("plan (dry run) from {figure}"), n, &run)
            });
            self.rows.push(Row {
                value: format!(
                    "{:.0} rows/s, {:.2}× one CSV's (wall), {:.2}× (CPU); no matching",
                    rows / reading.wall,
                    reading.ratio,
                    reading.cpu_ratio
                ),
                ..measured(&format!("reading alone from {figure}"), n, &reading.run)
            });
        }
        Ok(())
    }

    /// The reading alone (`bench read`) of `sources` against the one CSV's in `csv`, in pairs.
    fn reading_alone(
        &self,
        dir: &Path,
        sources: &[(&str, String)],
        csv: &Path,
        layout: usize,
    ) -> Result<Reading, BoxError> {
        let me = std::env::current_exe()?;
        let columns = "email,first_name,last_name,company,age,tier,signup_date";
        let read = |sources: Vec<String>, label: &str| -> Result<Run, BoxError> {
            let mut command = std::process::Command::new(&me);
            command.arg("read").arg(columns).args(sources);
            let run = crate::measure::run(command, &dir.join("logs"), label)?;
            if run.code != 0 {
                return Err(format!("`{label}` failed: {}", run.stderr).into());
            }
            Ok(run)
        };
        let csv_sources: Vec<String> = data::SEGMENTS
            .iter()
            .map(|(_, f)| csv.join(f).display().to_string())
            .collect();
        let mut pairs = Vec::new();
        for k in 0..PAIRS {
            let a = read(
                sources.iter().map(|s| s.1.clone()).collect(),
                &format!("read-{layout}-{k}"),
            )?;
            let b = read(csv_sources.clone(), &format!("read-one-csv-{layout}-{k}"))?;
            pairs.push((a, b));
        }
        let ratio = median(pairs.iter().map(|(a, b)| b.wall / a.wall).collect());
        let cpu_ratio = median(pairs.iter().map(|(a, b)| b.cpu / a.cpu).collect());
        let wall = median(pairs.iter().map(|(a, _)| a.wall).collect());
        let run = pairs
            .into_iter()
            .map(|(a, _)| a)
            .max_by(|x, y| x.peak_mb.total_cmp(&y.peak_mb))
            .ok_or("no run")?;
        Ok(Reading {
            run,
            wall,
            ratio,
            cpu_ratio,
        })
    }
}

/// The middle value of `values` (of an odd count: [`PAIRS`]).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The reading alone of a layout, against one CSV's.
struct Reading {
    /// The run with the highest peak memory.
    run: Run,
    /// The median wall seconds.
    wall: f64,
    /// Medians of the pairs' ratios: one CSV's over the layout's.
    ratio: f64,
    cpu_ratio: f64,
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
