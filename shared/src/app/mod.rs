//! The use-cases every front door calls — the command line, the console, the HTTP API — written
//! once on the jobs' ports ([`crate::Deps`]), so that each front door only translates its input
//! into these calls and their results into its output.
//!
//! - [`audit`]: the trail of who made each state-changing call, when, and what it did;
//! - [`destinations`]: list and read destinations, record who exports run as;
//! - [`exports`]: start an export, how one stands (the command's `status`, the console, the API),
//!   a dry run, the history of a destination's exports, one export's report, its refused rows;
//! - [`notify`]: a finished export's event posted to the destination's webhook (locally);
//! - [`schedule`]: the scheduled refresh;
//! - [`verify`]: the lists read back from the API and compared with the last export's baseline,
//!   missing members put back on request: one verification in steps, under one lock per
//!   destination, run to its end by the process that asks (the command, the console:
//!   `verify::foreground`) or started through the launcher (the HTTP API: `verify::runs`);
//! - [`local_export`]: an export run in this process, plan → chunk uploads → finalize.
//!
//! Exports and verifications start through the [`launcher::ExportLauncher`] port: on AWS an
//! execution of the state machine (`aws_adapters::Executions`), locally
//! [`in_process::InProcess`]. Connecting, configuring and removing are the jobs themselves
//! ([`crate::jobs::connect`], [`crate::jobs::configure`], [`crate::jobs::remove`]); the command's
//! `export` runs [`local_export::run`] in the foreground.

pub mod audit;
pub mod destinations;
pub mod exports;
pub mod in_process;
pub mod launcher;
pub mod local_export;
pub mod notify;
pub mod schedule;
pub mod verify;
