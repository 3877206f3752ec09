//! The use-cases every front door calls — the command line, the console, the HTTP API — written
//! once on the jobs' ports ([`crate::Deps`]), so that each front door only translates its input
//! into these calls and their results into its output.
//!
//! - [`audit`]: the trail of who made each state-changing call, when, and what it did;
//! - [`destinations`]: list and read destinations, record who exports run as;
//! - [`exports`]: start an export, its status, a dry run, the history of a destination's exports,
//!   one export's report, its refused rows;
//! - [`notify`]: a finished export's event posted to the destination's webhook (locally);
//! - [`schedule`]: the scheduled refresh;
//! - [`verify`]: the lists read back from the API and compared with the last export's baseline,
//!   missing members put back on request; in one go (the command, the console) or as an
//!   asynchronous verification in steps within a budget (`verify::runs` starts and reads one,
//!   `verify::job` runs a step), which is how the HTTP API runs it.
//!
//! Exports start through the [`launcher::ExportLauncher`] port: on AWS an execution of the state
//! machine (`aws_adapters::Executions`), locally [`in_process::InProcess`]. Connecting,
//! configuring and removing are the jobs themselves ([`crate::jobs::connect`],
//! [`crate::jobs::configure`], [`crate::jobs::remove`]); the command's `export` runs
//! [`crate::local_export::run`] in the foreground.

pub mod audit;
pub mod destinations;
pub mod exports;
pub mod in_process;
pub mod launcher;
pub mod notify;
pub mod schedule;
pub mod verify;
