//! The measurements, each as a user would run it: a size's plan, first export, baseline and
//! refreshes, the profile limit, bisection of refused contacts, and the time against the
//! rate-limit floor. Each writes its data under its own folder of the bench root.

use crate::cli::{light_verify_requests, total, Product};
use crate::data::{self, Shape};
use crate::measure::{BoxError, Run, Sandbox};
use crate::table::{Bound, Check, Row};
use std::path::{Path, PathBuf};

/// The high rate of the exports whose speed is not the rate limit's (the sandbox has none).
pub const UNLIMITED: f64 = 10_000.0;
/// The memory target for the plan and for refreshes.
pub const MEMORY_MB: f64 = 128.0;
/// Contacts per bulk request.
const PER_REQUEST: f64 = 100.0;

pub struct Bench {
    pub bin: PathBuf,
    pub root: PathBuf,
    pub rows: Vec<Row>,
}

pub fn measured(figure: &str, profiles: u64, run: &Run) -> Row {
    Row {
        figure: figure.into(),
        profiles,
        wall: Some(run.wall),
        cpu: Some(run.cpu),
        peak_mb: Some(run.peak_mb),
        ..Row::default()
    }
}

pub fn fresh_dir(dir: &Path) -> std::io::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)
}

impl Bench {
    /// Plan, first export, baseline, unchanged and 1%-changed refresh, over-limit refusal at
    /// `n` profiles against a sandbox of its own (no rate limit; an account with no list yet).
    /// Returns the first export's requests.
    pub fn size(&mut self, n: u64) -> Result<u64, BoxError> {
        let dir = self.root.join(format!("size-{n}"));
        fresh_dir(&dir)?;
        let sandbox = &Sandbox::start(&self.bin, 0.0, dir.join("sandbox.log"))?;
        let snapshots = dir.join("snapshots");
        let shape = Shape {
            profiles: n,
            refused: 0,
            changed: false,
        };
        let written = data::write(&snapshots, &shape)?;
        let product = Product::fresh(&self.bin, &dir)?;
        let dest = product.connect("Bench", sandbox, UNLIMITED)?;
        product.configure(&dest, &snapshots, n.max(100_000))?;
        self.plan(&product, &dest, n, written, &[])?;

        let before = sandbox.requests()?;
        let (run, report) = product.export_report(&dest, "first-export", false)?;
        let first_requests = sandbox.requests()? - before;
        self.rows.push(Row {
            requests: Some(first_requests),
            value: format!("sent {}", total(&report, "sent")),
            ..measured("first export", n, &run)
        });
        let kept = product.kept_bytes()? as f64;
        let per = kept / written.rows as f64;
        self.rows.push(Row {
            figure: "baseline size".into(),
            profiles: n,
            value: format!("{per:.1} B per profile per list ({:.1} MB)", kept / 1e6),
            target: "≤ 16 B".into(),
            checks: vec![Check::new("size", per, Bound::AtMost(16.0))],
            ..Row::default()
        });

        let before = sandbox.requests()?;
        let (run, report) = product.export_report(&dest, "unchanged-refresh", false)?;
        let requests = sandbox.requests()? - before;
        // The light verify after every export (`configure --verify-pages 0` turns it
        // off) reads a few pages of each list: counted apart from the export's own requests.
        let checked = light_verify_requests(&report);
        let own = requests.saturating_sub(checked);
        self.rows.push(Row {
            requests: Some(requests),
            value: format!(
                "sent {}; {own} request(s) + {checked} of the light verify",
                total(&report, "sent")
            ),
            target: "≤ 1.5 s, ≤ 128 MiB, ≤ 2 requests".into(),
            checks: vec![
                Check::new("wall", run.wall, Bound::AtMost(1.5)),
                Check::new("RSS", run.peak_mb, Bound::AtMost(MEMORY_MB)),
                Check::new("requests", own as f64, Bound::AtMost(2.0)),
            ],
            ..measured("unchanged refresh", n, &run)
        });

        let changed = data::write(
            &snapshots,
            &Shape {
                changed: true,
                ..shape
            },
        )?;
        let before = sandbox.requests()?;
        let (run, report) = product.export_report(&dest, "changed-refresh", false)?;
        let requests = sandbox.requests()? - before;
        let sent = total(&report, "sent");
        self.rows.push(Row {
            requests: Some(requests),
            value: format!("sent {sent} of {} changed rows", changed.changed_rows),
            target: "the changed only, ≤ 128 MiB".into(),
            checks: vec![
                Check::new(
                    "sent",
                    sent as f64,
                    Bound::Equal(changed.changed_rows as f64),
                ),
                Check::new("RSS", run.peak_mb, Bound::AtMost(MEMORY_MB)),
            ],
            ..measured("1%-changed refresh", n, &run)
        });
        self.over_limit(&product, sandbox, &snapshots, n, changed)?;
        Ok(first_requests)
    }

    /// A dry run (the plan alone) of `dest`; its throughput and peak memory.
    fn plan(
        &mut self,
        product: &Product,
        dest: &str,
        n: u64,
        written: data::Written,
        memory_target: &[f64],
    ) -> Result<(), BoxError> {
        let run = product.export(dest, &format!("plan-{n}"), &["--dry-run"])?;
        if run.code != 0 {
            return Err(
                format!("the dry run ended with status {}: {}", run.code, run.stdout).into(),
            );
        }
        let mb = written.bytes as f64 / 1e6;
        let speed = mb / run.wall;
        let memory = memory_target.first().copied().unwrap_or(MEMORY_MB);
        let (target, mut checks) = if memory_target.is_empty() {
            let check = Check::new("MB/s", speed, Bound::AtLeast(100.0));
            (format!("≥ 100 MB/s, ≤ {memory:.0} MiB"), vec![check])
        } else {
            (format!("≤ {memory:.0} MiB"), vec![])
        };
        checks.push(Check::new("RSS", run.peak_mb, Bound::AtMost(memory)));
        self.rows.push(Row {
            value: format!("{speed:.0} MB/s ({mb:.0} MB, {} rows)", written.rows),
            target,
            checks,
            ..measured("plan (dry run)", n, &run)
        });
        Ok(())
    }

    /// A destination whose profile limit is a tenth of the snapshots' profiles: how much of
    /// them is read before the export is refused.
    fn over_limit(
        &mut self,
        product: &Product,
        sandbox: &Sandbox,
        snapshots: &Path,
        n: u64,
        written: data::Written,
    ) -> Result<(), BoxError> {
        let limit = n / 10;
        let dest = product.connect("Bench limit", sandbox, UNLIMITED)?;
        product.configure(&dest, snapshots, limit)?;
        let run = product.export(&dest, "over-limit", &[])?;
        if run.code != 1 || !run.stdout.contains("limit") {
            return Err(format!("the over-limit export was not refused: {}", run.stdout).into());
        }
        // Enough for the first limit + 1 rows, with room for read buffers and the data folder.
        let allowed = data::bytes_of_first_rows(snapshots, limit + 1)? + (1 << 20);
        let rows = run.read_bytes as f64 / (written.bytes as f64 / written.rows as f64);
        self.rows.push(Row {
            value: format!(
                "read {:.1} of {:.1} MB (≈ {rows:.0} rows)",
                run.read_bytes as f64 / 1e6,
                written.bytes as f64 / 1e6
            ),
            // The bound is in bytes: the reading stops within its buffers of the first profile
            // past the limit, not at its row.
            target: format!(
                "≤ {:.1} MB: the first limit + 1 = {} rows, and 1 MiB of buffers",
                allowed as f64 / 1e6,
                limit + 1
            ),
            checks: vec![Check::new(
                "bytes read",
                run.read_bytes as f64,
                Bound::AtMost(allowed as f64),
            )],
            ..measured(
                &format!("over-limit refusal (limit {})", crate::table::size(limit)),
                n,
                &run,
            )
        });
        Ok(())
    }

    /// A few refused addresses among `n` profiles, exported to a sandbox of its own: the
    /// requests beyond a clean export's (`clean_requests`) per refused contact. The sandbox's
    /// refusals name nobody, as Autopilot promises, or with `naming` (`position`, `email`) name
    /// the contact at fault. Keeps its snapshots for [`Bench::floor`].
    pub fn bisection(
        &mut self,
        n: u64,
        clean_requests: u64,
        naming: Option<&str>,
    ) -> Result<PathBuf, BoxError> {
        let dir = self.root.join(match naming {
            None => format!("refused-{n}"),
            Some(naming) => format!("refused-{n}-named-by-{naming}"),
        });
        fresh_dir(&dir)?;
        let sandbox = &Sandbox::start(&self.bin, 0.0, dir.join("sandbox.log"))?;
        if let Some(naming) = naming {
            sandbox.name_refused(naming)?;
        }
        let snapshots = dir.join("snapshots");
        data::write(
            &snapshots,
            &Shape {
                profiles: n,
                refused: 4,
                changed: false,
            },
        )?;
        let product = Product::fresh(&self.bin, &dir)?;
        let dest = product.connect("Bench", sandbox, UNLIMITED)?;
        product.configure(&dest, &snapshots, n.max(100_000))?;
        let before = sandbox.requests()?;
        let (run, report) = product.export_report(&dest, "refused", true)?;
        let requests = sandbox.requests()? - before;
        let refused = total(&report, "rejected");
        let extra = requests.saturating_sub(clean_requests);
        let per = extra as f64 / refused.max(1) as f64;
        // Named, each refused contact costs one request: the rest of its batch, sent again.
        let (figure, most, target) = match naming {
            None => {
                let most = PER_REQUEST.log2() + 2.0;
                let target = format!("≤ log2(100) + 2 = {most:.1} each");
                ("bisection of refused contacts".to_string(), most, target)
            }
            Some(naming) => (
                format!("refused contacts, named by {naming}"),
                1.0,
                "≤ 1 each".to_string(),
            ),
        };
        self.rows.push(Row {
            requests: Some(requests),
            value: format!("{extra} extra requests for {refused} refused: {per:.1} each"),
            target,
            checks: vec![
                Check::new("refused", refused as f64, Bound::Equal(4.0)),
                Check::new("extra requests", per, Bound::AtMost(most)),
            ],
            ..measured(&figure, n, &run)
        });
        Ok(snapshots)
    }

    /// An export of `snapshots` (with refused contacts) against a sandbox limited to `rate`:
    /// its time against the rate-limit floor, both from its report. With `naming`, the sandbox's
    /// refusals name the contact at fault (see [`Bench::bisection`]).
    pub fn floor(
        &mut self,
        snapshots: &Path,
        n: u64,
        rate: f64,
        naming: Option<&str>,
    ) -> Result<(), BoxError> {
        let (dir, figure) = match naming {
            None => (
                format!("floor-{rate}"),
                format!("wall/floor at {rate} req/s"),
            ),
            Some(naming) => (
                format!("floor-{rate}-named-by-{naming}"),
                format!("wall/floor at {rate} req/s, refused named by {naming}"),
            ),
        };
        let dir = self.root.join(dir);
        fresh_dir(&dir)?;
        let sandbox = Sandbox::start(&self.bin, rate, dir.join("sandbox.log"))?;
        if let Some(naming) = naming {
            sandbox.name_refused(naming)?;
        }
        let product = Product::fresh(&self.bin, &dir)?;
        let dest = product.connect("Bench", &sandbox, rate)?;
        product.configure(&dest, snapshots, n.max(100_000))?;
        let before = sandbox.requests()?;
        let (run, report) = product.export_report(&dest, "export", true)?;
        let requests = sandbox.requests()? - before;
        let wall = report["duration_seconds"]
            .as_f64()
            .ok_or("no duration in the report")?;
        let floor = report["rate_limit_floor_seconds"]
            .as_f64()
            .ok_or("no floor in the report")?;
        let ratio = wall / floor.max(f64::EPSILON);
        // The light verify reads after the report's clock stops: its requests are not in `wall`.
        let timed = requests.saturating_sub(light_verify_requests(&report));
        let pacing = wall / (timed as f64 / rate).max(f64::EPSILON);
        let extra = timed.saturating_sub((floor * rate).round() as u64);
        self.rows.push(Row {
            wall: Some(wall),
            requests: Some(requests),
            value: format!(
                "{ratio:.3} ({wall:.1} s against {floor:.1} s; {extra} requests beyond the floor's, \
                 {pacing:.3} against the {timed} made)"
            ),
            target: "≤ 1.02, with 4 refused".into(),
            checks: vec![Check::new("wall/floor", ratio, Bound::AtMost(1.02))],
            ..measured(&figure, n, &run)
        });
        Ok(())
    }

    /// The plan alone at `n` profiles, against the export Lambda's memory.
    pub fn huge(&mut self, n: u64) -> Result<(), BoxError> {
        let dir = self.root.join(format!("huge-{n}"));
        fresh_dir(&dir)?;
        let sandbox = &Sandbox::start(&self.bin, 0.0, dir.join("sandbox.log"))?;
        let snapshots = dir.join("snapshots");
        let written = data::write(
            &snapshots,
            &Shape {
                profiles: n,
                refused: 0,
                changed: false,
            },
        )?;
        let product = Product::fresh(&self.bin, &dir)?;
        let dest = product.connect("Bench", sandbox, UNLIMITED)?;
        product.configure(&dest, &snapshots, n)?;
        self.plan(&product, &dest, n, written, &[1024.0])
    }
}
