//! `bench`: the performance table, measured on the release `autopilot-export` as a
//! user runs it (its command line, its report documents, its data folder) against the sandbox it
//! serves, a fresh one for each group of runs (a new account: no lists to read first). Run it
//! with `scripts/bench`, which builds both first.
//!
//! ```text
//! bench [--quick | --bisection | --layouts] [--wide] [--huge] [--bin PATH] [--out DIR]
//! bench layout parquet|gz|cdm|wide-parquet CSV_DIR OUT_DIR    (run by the bench itself, see `layouts`)
//! bench read COLUMNS SOURCE...                                (run by the bench itself, see `reading`)
//! ```
//!
//! Without flags: 100,000 and 1,000,000 profiles, the plan of the 1,000,000 read from Parquet, 8
//! gzip CSV parts and a CDM folder against one CSV, the same profiles as a wide table (`wide`:
//! 60 columns of which 7 are mapped, 0.7 GB of CSV) from one Parquet file against one CSV, the
//! rate-limit floor at 10 and 50 requests per second, and at 50 again with refusals that name
//! their contact (about 5 minutes). `--quick`: 10,000 profiles and 50 requests per second only
//! (named and not), to check that the tool still works.
//! `--bisection`: 100,000 profiles and the bisection rows, no rate-limit floor. `--huge`: also
//! the plan of 10,000,000 profiles. `--layouts`: only the layout rows at 1,000,000 profiles (about
//! a minute and a half after the data is written). `--wide`: only the wide-table rows at
//! 1,000,000 profiles (about 45 seconds, writing its data included; both with `--layouts --wide`).

mod cli;
mod compare;
mod data;
mod layouts;
mod measure;
mod reading;
mod suite;
mod table;
mod wide;

use measure::BoxError;
use std::path::PathBuf;
use std::process::ExitCode;

struct Options {
    quick: bool,
    bisection: bool,
    layouts: bool,
    wide: bool,
    huge: bool,
    bin: PathBuf,
    out: PathBuf,
}

const USAGE: &str =
    "usage: bench [--quick | --bisection | --layouts] [--wide] [--huge] [--bin PATH] [--out DIR]";

fn options() -> Result<Options, String> {
    let mut options = Options {
        quick: false,
        bisection: false,
        layouts: false,
        wide: false,
        huge: false,
        bin: PathBuf::from("target/release/autopilot-export"),
        out: PathBuf::from("target/bench"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--bisection" => options.bisection = true,
            "--layouts" => options.layouts = true,
            "--wide" => options.wide = true,
            "--huge" => options.huge = true,
            "--bin" => options.bin = args.next().ok_or(USAGE)?.into(),
            "--out" => options.out = args.next().ok_or(USAGE)?.into(),
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [layout, kind, csv, out] = &args[..] {
        if layout == "layout" {
            return match layouts::run_child(kind, csv.as_ref(), out.as_ref()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    if let [read, columns, sources @ ..] = &args[..] {
        if read == "read" {
            return match reading::run(columns, sources) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            };
        }
    }
    let options = match options() {
        Ok(options) => options,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let mut bench = suite::Bench {
        bin: std::path::absolute(&options.bin).unwrap_or(options.bin.clone()),
        root: std::path::absolute(&options.out).unwrap_or(options.out.clone()),
        rows: Vec::new(),
    };
    let result = run(&mut bench, &options);
    let table = table::render(&bench.rows);
    println!("\n{table}");
    if let Err(error) = std::fs::write(bench.root.join("table.md"), &table) {
        eprintln!(
            "cannot write {}: {error}",
            bench.root.join("table.md").display()
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!(
                "bench stopped: {error} (the runs' output is under {})",
                bench.root.display()
            );
            ExitCode::FAILURE
        }
    }
}

fn run(bench: &mut suite::Bench, options: &Options) -> Result<(), BoxError> {
    if !bench.bin.is_file() {
        return Err(format!("no {} (scripts/bench builds it)", bench.bin.display()).into());
    }
    std::fs::create_dir_all(&bench.root)?;
    if options.layouts || options.wide {
        if options.layouts {
            eprintln!("1M profiles as Parquet, gzip CSV parts and a CDM folder, against one CSV…");
            bench.inputs(1_000_000)?;
        }
        if options.wide {
            eprintln!("1M profiles as a wide table, Parquet against one CSV…");
            bench.wide(1_000_000)?;
        }
        return Ok(());
    }
    let (sizes, rates): (&[u64], &[f64]) = if options.quick {
        (&[10_000], &[50.0])
    } else if options.bisection {
        (&[100_000], &[])
    } else {
        (&[100_000, 1_000_000], &[10.0, 50.0])
    };
    let mut clean_requests = Vec::new();
    for &n in sizes {
        eprintln!(
            "{} profiles: plan, exports, refreshes, profile limit…",
            table::size(n)
        );
        clean_requests.push(bench.size(n)?);
    }
    // The other layouts and the wide table at the largest size (1M by default; 10k with
    // --quick).
    if !options.bisection {
        let n = *sizes.last().ok_or("no size")?;
        eprintln!(
            "{} profiles as Parquet, gzip CSV parts and a CDM folder, against one CSV…",
            table::size(n)
        );
        bench.inputs(n)?;
        eprintln!(
            "{} profiles as a wide table, Parquet against one CSV…",
            table::size(n)
        );
        bench.wide(n)?;
    }
    eprintln!("bisection of refused contacts…");
    let snapshots = bench.bisection(sizes[0], clean_requests[0], None)?;
    eprintln!("refused contacts named by the refusal…");
    bench.bisection(sizes[0], clean_requests[0], Some("position"))?;
    if options.huge {
        eprintln!("10M profiles: the plan…");
        bench.huge(10_000_000)?;
    }
    for &rate in rates {
        eprintln!("the rate-limit floor at {rate} requests/second…");
        bench.floor(&snapshots, sizes[0], rate, None)?;
    }
    // What is left above the floor when the API says which contact it refused: the export's own
    // overhead, at the rate where it weighs most.
    if let Some(&rate) = rates.last() {
        eprintln!("the rate-limit floor at {rate} requests/second, refused contacts named…");
        bench.floor(&snapshots, sizes[0], rate, Some("position"))?;
    }
    Ok(())
}
